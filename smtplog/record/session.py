"""One live SMTP connection: a Channel, the wire codec and the recorder, driven step by step.

The probe and the interactive client both talk through this class, so the
transcript of either reads the same and every failure is recorded the same
way: a timeout as ``Timeout``, the server closing as ``Closed(by=server)``, a
reset with its detail, a failed TLS handshake as ``TlsFailed`` with its reason.
"""

from __future__ import annotations

import ssl

from smtplog.events import Closed, Event, Reply, Timeout, TlsFailed, TlsStarted
from smtplog.record import tls
from smtplog.record.net import Channel, HandshakeFailure, PeerClosed, ReadTimeout
from smtplog.record.recorder import Recorder
from smtplog.record.wire import WireSession


class SessionEnded(Exception):
    """The connection is gone (closed, reset, timed out); the recorder has the event."""


class Conversation:
    def __init__(self, channel: Channel, recorder: Recorder, stream: str | None = None) -> None:
        self.channel = channel
        self.recorder = recorder
        self.wire = WireSession(stream)
        self.stream = stream
        self.open = True

    # -- reading ------------------------------------------------------------------

    def poll(self, timeout: float | None) -> list[Event]:
        """Read what arrives within ``timeout`` and record it; [] when nothing came.

        Raises SessionEnded when the server closed or reset the connection.
        """
        try:
            data = self.channel.recv(timeout)
        except ReadTimeout:
            return []
        except PeerClosed as exc:
            self._ended(Closed(by="server", unexpected=True, detail=exc.detail))
            raise SessionEnded from exc
        at = self.recorder.now()
        if not data:
            events = self.wire.server_closed(at)
            self.recorder.add(*events)
            self._ended(
                Closed(by="server", unexpected=True, detail="the server closed the connection")
            )
            raise SessionEnded
        events = self.wire.server_bytes(data, at)
        self.recorder.add(*events)
        return events

    def reply(self, timeout: float, waiting_for: str) -> Reply:
        """The next complete reply. Raises SessionEnded (recorded) when none comes."""
        import time

        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                # The timeout ends the session (the client hangs up after it); a
                # Closed event after it would hide why the session ended.
                banner = waiting_for == "banner"
                what = "no greeting" if banner else f"no reply {waiting_for}"
                self._ended(
                    Timeout(
                        waiting_for="banner" if banner else "reply",
                        detail=f"{what} within {timeout:g}s; the client gave up",
                    )
                )
                raise SessionEnded
            for event in self.poll(remaining):
                if isinstance(event, Reply):
                    return event

    # -- writing --------------------------------------------------------------------

    def send(self, text: str) -> None:
        data, events = self.wire.command(text, self.recorder.now())
        self._write(data, events)

    def send_auth(self, value: bytes, *, secret: bool) -> None:
        data, events = self.wire.auth_response(value, self.recorder.now(), secret=secret)
        self._write(data, events)

    def send_message(self, content: bytes) -> None:
        data, events = self.wire.message(content, self.recorder.now())
        self._write(data, events)

    def send_raw_line(self, text: str) -> None:
        """A line typed by a person: sent as typed plus CRLF, decoded like any client line."""
        data = text.encode("utf-8", "surrogateescape") + b"\r\n"
        self._write(data, self.wire.client_bytes(data, self.recorder.now()))

    def _write(self, data: bytes, events: list[Event]) -> None:
        self.recorder.add(*events)
        try:
            self.channel.send(data)
        except (PeerClosed, OSError) as exc:
            detail = exc.detail if isinstance(exc, PeerClosed) else str(exc)
            self._ended(Closed(by="server", unexpected=True, detail=detail))
            raise SessionEnded from exc

    # -- TLS ------------------------------------------------------------------------

    def start_tls(
        self,
        context: ssl.SSLContext,
        hostname: str | None,
        timeout: float,
        *,
        verified: bool | None,
        why: str = "",
    ) -> TlsStarted:
        """Handshake now; records TlsStarted, or TlsFailed and raises SessionEnded."""
        leftover = self.wire.discard_server_buffer()
        if leftover:
            from smtplog.events import Note

            self.recorder.add(
                Note(
                    text=f"the server sent {len(leftover)} bytes after its 220 to STARTTLS, "
                    "before the handshake; they were discarded (RFC 3207 §6)",
                    time=self.recorder.now(),
                )
            )
        try:
            obj = self.channel.start_tls(context, hostname, timeout)
        except (HandshakeFailure, ReadTimeout) as exc:
            reason = tls.failure_reason(exc, timeout)
            self.failure = exc
            self._ended(
                TlsFailed(reason=reason, time=self.recorder.now(), stream=self.stream),
                Closed(by="client", detail="after the failed TLS handshake"),
            )
            raise SessionEnded from exc
        event = tls.started(obj, verified=verified, why=why, at=self.recorder.now())
        self.recorder.add(event)
        return event

    # -- ending ---------------------------------------------------------------------

    def _ended(self, *events: Event) -> None:
        stamped = [
            event if event.time is not None else _at(event, self.recorder.now()) for event in events
        ]
        self.recorder.add(*stamped)
        self.close()

    def close(self, by_client: bool = False) -> None:
        if self.open:
            self.open = False
            if by_client:
                self.recorder.add(Closed(by="client", time=self.recorder.now()))
            self.channel.close()


def _at(event: Event, time: float) -> Event:
    from dataclasses import replace

    return replace(event, time=time)
