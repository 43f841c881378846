"""The recorder: talk SMTP to a real server and write the canonical transcript.

``wire`` is the sans-I/O codec (bytes <-> events) shared by probe, record and
proxy; ``net`` and ``tls`` own sockets and certificates; ``probe`` and
``interactive`` drive a session; ``recorder`` turns events into the transcript.
Nothing here is imported by the analyzer: sockets never leave this package.
"""
