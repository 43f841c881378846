"""One TCP connection watched from the middle, as events (sans I/O).

The proxy relays a connection and the packet-capture reader replays one; both
see the same things: bytes from each side with the time they passed, and how
the connection opened and ended. ``Tap`` turns those into the event model,
with the wire codec for the SMTP itself (so secrets are masked here, at
capture) and ``HandshakeView`` for TLS it cannot decrypt:

- after a 220 to STARTTLS the bytes of both sides are TLS: the handshake's
  outcome becomes ``TlsStarted`` or ``TlsFailed``, and what follows is counted,
  not read, and written as one ``Encrypted`` event when the connection ends;
- a client that starts with a TLS record is using implicit TLS (port 465);
- a side that closes while the other waits is recorded with what was awaited.

A proxy that terminates TLS itself says so (``decrypting=True``) and reports
the handshakes; the bytes it then feeds are plaintext.
"""

from __future__ import annotations

from typing import Literal

from smtplog.events import (
    AuthResponse,
    Closed,
    Command,
    Connected,
    ConnectFailed,
    ConnectFailure,
    DataEnd,
    Encrypted,
    Event,
    Note,
    Reply,
    Timeout,
    TlsFailed,
    TlsStarted,
)
from smtplog.record.handshake import HandshakeView, looks_like_tls
from smtplog.record.wire import WireSession

Side = Literal["client", "server"]

# A client that waited this long before hanging up gave up waiting (its
# timeout); a quicker hang-up is a program closing on purpose.
GAVE_UP_AFTER = 1.0


class Tap:
    def __init__(self, stream: str | None = None, *, decrypting: bool = False) -> None:
        self.stream = stream
        self.decrypting = decrypting
        self.wire = WireSession(stream)
        self.mode: Literal["smtp", "starttls", "tls", "gone"] = "smtp"
        self.held = bytearray()  # client bytes after STARTTLS, until its reply
        self.view: HandshakeView | None = None
        self.tls_detail = ""  # "after STARTTLS" / "from the first byte (implicit TLS)"
        self.opened_at: float | None = None
        self.last_at: float | None = None
        self.last_encrypted_at: float | None = None
        self.client_spoke_at: float | None = None  # a client line still awaiting its reply
        self.last_command: Command | None = None
        self.server_spoke = False
        self.greeting_missed = False  # the client spoke after waiting in vain for the greeting
        self.ended = False

    # -- the connection ---------------------------------------------------------------

    def opened(self, target: str, address: str | None, at: float) -> list[Event]:
        self.opened_at = self.last_at = at
        return [Connected(target=target, address=address, time=at, stream=self.stream)]

    def connect_failed(self, reason: ConnectFailure, detail: str, at: float) -> list[Event]:
        self.ended = True
        return [ConnectFailed(reason=reason, detail=detail, time=at, stream=self.stream)]

    # -- bytes ------------------------------------------------------------------------

    def client(self, data: bytes, at: float) -> list[Event]:
        """Bytes the client sent."""
        self.last_at = at
        if not data:
            return []
        if self.mode == "smtp" and not self.decrypting and looks_like_tls(data):
            return self._client_starts_tls(data, at)
        if self.mode in ("tls", "gone"):
            return self._tls_bytes("client", data, at)
        if self.mode == "starttls":
            self.held += data
            return []
        events: list[Event] = []
        waited = at - self.opened_at if self.opened_at is not None else 0.0
        if not self.server_spoke and not self.greeting_missed and waited >= GAVE_UP_AFTER:
            self.greeting_missed = True
            events.append(
                Timeout(
                    waiting_for="banner",
                    detail=f"no greeting after {waited:.1f}s: the client went on without it",
                    time=at,
                    stream=self.stream,
                )
            )
        return events + self._client_smtp(data, at)

    def server(self, data: bytes, at: float) -> list[Event]:
        """Bytes the server sent."""
        self.last_at = at
        if not data:
            return []
        if self.mode in ("tls", "gone"):
            return self._tls_bytes("server", data, at)
        self.server_spoke = True
        if self.mode == "starttls":
            return self._starttls_reply(data, at)
        return self._server_smtp(data, at)

    def _client_smtp(self, data: bytes, at: float) -> list[Event]:
        events: list[Event] = []
        # Split where STARTTLS may end the plaintext (only then: DATA content is large).
        pieces = _lines(data) if b"starttls" in data.lower() else [data]
        for index, piece in enumerate(pieces):
            new = self.wire.client_bytes(piece, at)
            events.extend(new)
            for event in new:
                if isinstance(event, Command):
                    self.last_command = event
                if isinstance(event, Command | AuthResponse | DataEnd):
                    self.client_spoke_at = at  # a reply is due
            if not self.decrypting and any(
                isinstance(e, Command) and e.verb == "STARTTLS" for e in new
            ):
                self.mode = "starttls"
                self.held += b"".join(pieces[index + 1 :])
                break
        return events

    def _server_smtp(self, data: bytes, at: float) -> list[Event]:
        events = self.wire.server_bytes(data, at)
        if any(isinstance(event, Reply) for event in events):
            self.client_spoke_at = None
        return events

    def _starttls_reply(self, data: bytes, at: float) -> list[Event]:
        """The reply to STARTTLS: 220 means the bytes after it are TLS (RFC 3207 §4)."""
        events: list[Event] = []
        pieces = _lines(data)
        for index, piece in enumerate(pieces):
            new = self.wire.server_bytes(piece, at)
            events.extend(new)
            reply = next((e for e in new if isinstance(e, Reply)), None)
            if reply is None:
                continue
            self.client_spoke_at = None
            rest = b"".join(pieces[index + 1 :])
            held, self.held = bytes(self.held), bytearray()
            if reply.code == 220:
                self.mode = "tls"
                self.view = HandshakeView()
                self.tls_detail = "after STARTTLS"
                if held and not looks_like_tls(held):
                    events.extend(self._no_tls_after_all(held, at))
                    events.extend(self.server(rest, at))
                    return events
                events.extend(self._tls_bytes("client", held, at))
                events.extend(self._tls_bytes("server", rest, at))
            else:
                self.mode = "smtp"  # refused: the session goes on in plaintext
                events.extend(self._client_smtp(held, at))
                events.extend(self._server_smtp(rest, at))
            return events
        return events

    def _no_tls_after_all(self, data: bytes, at: float) -> list[Event]:
        """After a 220 to STARTTLS the client went on in plaintext (a broken client)."""
        self.mode = "smtp"
        self.view = None
        note = Note(
            text="the client went on in plaintext after the 220 to STARTTLS",
            time=at,
            stream=self.stream,
        )
        return [note, *self._client_smtp(data, at)]

    def _client_starts_tls(self, data: bytes, at: float) -> list[Event]:
        self.mode = "tls"
        self.view = HandshakeView()
        self.tls_detail = "from the first byte (implicit TLS)"
        if self.server_spoke:
            # The server greeted in plaintext and the client answered with TLS.
            self.mode = "gone"
            first = self.wire.last_reply.wire_lines()[0] if self.wire.last_reply else "220"
            reason = (
                "TLS on a plaintext port: the client started a TLS handshake, but the server "
                f'had greeted in plaintext ("{first[:120]}"); this port expects STARTTLS, '
                "not implicit TLS"
            )
            self.view.failure = reason
            return [TlsFailed(reason=reason, time=at, stream=self.stream)]
        return self._tls_bytes("client", data, at)

    def _tls_bytes(self, side: Side, data: bytes, at: float) -> list[Event]:
        view = self.view
        if view is None or not data:
            return []
        if side == "client" and not view.client.bytes and not looks_like_tls(data):
            return self._no_tls_after_all(data, at)
        before = view.done
        view.feed(side, data)
        if view.established:
            self.last_encrypted_at = at
        if before or not view.done:
            return []
        return self._handshake_outcome(at)

    def _handshake_outcome(self, at: float) -> list[Event]:
        view = self.view
        assert view is not None
        if view.failure is not None:
            self.mode = "gone"
            return [TlsFailed(reason=view.failure, time=at, stream=self.stream)]
        return [
            TlsStarted(
                version=view.version,
                cipher=view.cipher,
                detail=view.describe(),
                time=at,
                stream=self.stream,
            )
        ]

    # -- TLS the proxy terminates itself -------------------------------------------------

    def tls_started(self, event: TlsStarted) -> list[Event]:
        """The proxy finished both handshakes: what follows is plaintext again."""
        self.wire.discard_server_buffer()
        return [event]

    # -- the end ------------------------------------------------------------------------

    def closed(self, by: Side, at: float, *, reset: bool = False, detail: str = "") -> list[Event]:
        """One side closed (FIN) or reset (RST) the connection; recorded once."""
        if self.ended:
            return []
        self.ended = True
        events: list[Event] = []
        if by == "server":
            events.extend(self.wire.server_closed(at))
        events.extend(self._tls_end(by, at))
        how = "reset the connection (TCP RST)" if reset else "closed the connection"
        if by == "client" and self.view is None:
            waited = self.waiting(at)
            if waited is not None:
                return [*events, *self._client_gave_up(waited, at, how)]
        # Inside TLS nobody here knows whether QUIT was said: only a reset is abnormal.
        readable = self.view is None or not self.view.established
        unexpected = reset or (readable and by == "server" and not self._server_said_goodbye())
        text = detail or (f"the {by} {how}" if unexpected else "")
        events.append(
            Closed(by=by, unexpected=unexpected, detail=text, time=at, stream=self.stream)
        )
        return events

    def finish(self, at: float, why: str) -> list[Event]:
        """The recording stops with the connection still open (capture end, proxy stop)."""
        if self.ended:
            return []
        self.ended = True
        events = self._tls_end(None, at)
        events.append(Note(text=why, time=at, stream=self.stream))
        return events

    def _tls_end(self, by: Side | None, at: float) -> list[Event]:
        view = self.view
        if view is None:
            return []
        events: list[Event] = []
        if not view.done and by is not None:
            view.closed(by)
            events.extend(self._handshake_outcome(at))
        if view.established:
            events.append(
                Encrypted(
                    client_bytes=view.client.bytes,
                    server_bytes=view.server.bytes,
                    detail=self.tls_detail,
                    time=self.last_encrypted_at if self.last_encrypted_at is not None else at,
                    stream=self.stream,
                )
            )
        return events

    def waiting(self, at: float) -> float | None:
        """Seconds the client had been waiting for the server (None: it was not)."""
        if not self.server_spoke and self.opened_at is not None:
            return at - self.opened_at
        if self.client_spoke_at is not None and not self._quit_sent():
            return at - self.client_spoke_at
        return None

    def _client_gave_up(self, waited: float, at: float, how: str) -> list[Event]:
        greeting = not self.server_spoke
        what = "no greeting" if greeting else "no reply"
        if greeting and self.greeting_missed:  # already recorded when the client went on
            detail = f"the client {how} after {waited:.1f}s, still without a greeting"
            return [Closed(by="client", detail=detail, time=at, stream=self.stream)]
        if waited >= GAVE_UP_AFTER:
            return [
                Timeout(
                    waiting_for="banner" if greeting else "reply",
                    detail=f"{what} after {waited:.1f}s: the client {how} (it gave up waiting)",
                    time=at,
                    stream=self.stream,
                ),
                Closed(by="client", time=at, stream=self.stream),
            ]
        return [
            Closed(
                by="client",
                unexpected=True,
                detail=f"the client {how} after {waited:.1f}s, with {what} yet",
                time=at,
                stream=self.stream,
            )
        ]

    def _quit_sent(self) -> bool:
        return self.last_command is not None and self.last_command.verb == "QUIT"

    def _server_said_goodbye(self) -> bool:
        reply = self.wire.last_reply
        return reply is not None and reply.code in (221, 421)


def _lines(data: bytes) -> list[bytes]:
    """``data`` cut after each LF (the pieces join back to ``data``)."""
    pieces = data.split(b"\n")
    out = [piece + b"\n" for piece in pieces[:-1]]
    if pieces[-1]:
        out.append(pieces[-1])
    return out
