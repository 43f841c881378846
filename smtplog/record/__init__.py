"""The recorder: talk SMTP to a real server and write the canonical transcript.

``wire`` is the sans-I/O codec (bytes <-> events) shared by probe, record and
proxy; ``net`` and ``tls`` own sockets and certificates; ``probe`` and
``interactive`` drive a session; ``recorder`` turns events into the transcript.
The analysis of text never imports this package; packet captures (smtplog/pcap/)
replay their TCP streams through ``tap``, ``handshake`` and ``wire``, which open
no socket: sockets never leave ``net``, ``tls``, ``probe``, ``interactive`` and
``proxy``.
"""
