"""Sockets: connect with a deadline, name every failure, switch to TLS mid-stream.

``Channel`` is a TCP connection that can turn into TLS at any moment (after a
220 to STARTTLS, or right away for implicit TLS). TLS runs over memory BIOs so
that the recorder sees the raw bytes a server sent when a handshake fails: a
"220 ..." greeting where a TLS record was expected means TLS was used on a
plaintext port, which a socket-level SSL error would only call "wrong version
number".
"""

from __future__ import annotations

import errno
import select
import socket
import ssl
import time
from dataclasses import dataclass

from smtplog.events import ConnectFailure

RECV_SIZE = 65536


@dataclass(frozen=True, slots=True)
class ConnectError(Exception):
    """A connection attempt failed; ``reason`` is the event model's ConnectFailure."""

    reason: ConnectFailure
    detail: str

    def __str__(self) -> str:
        return self.detail


class ReadTimeout(Exception):
    """Nothing arrived before the deadline."""


class PeerClosed(Exception):
    """The connection was reset (not a clean close: that is an empty read)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


_UNREACHABLE = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL, errno.ENETDOWN}


def classify_connect_error(exc: BaseException, where: str) -> ConnectError:
    """The ConnectFailed reason for an exception from getaddrinfo / connect."""
    if isinstance(exc, socket.gaierror):
        return ConnectError("dns", f"cannot resolve {where}: {exc.strerror or exc}")
    if isinstance(exc, TimeoutError | socket.timeout):
        return ConnectError("timeout", f"no answer from {where}: the connection attempt timed out")
    if isinstance(exc, ConnectionRefusedError):
        return ConnectError("refused", f"{where} refused the connection (nothing listens there)")
    if isinstance(exc, ConnectionResetError):
        return ConnectError("reset", f"{where} reset the connection")
    if isinstance(exc, OSError) and exc.errno in _UNREACHABLE:
        return ConnectError("unreachable", f"no route to {where}: {exc.strerror}")
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return ConnectError("other", f"cannot connect to {where}: {text}")


def resolve(host: str, port: int) -> list[tuple[int, str]]:
    """(family, address) pairs for host, IPv6 and IPv4 in the resolver's order."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        if isinstance(exc, UnicodeError):
            raise ConnectError("dns", f"cannot resolve {host}: not a valid host name") from exc
        raise classify_connect_error(exc, host) from exc
    seen: list[tuple[int, str]] = []
    for family, _type, _proto, _name, sockaddr in infos:
        entry = (family, str(sockaddr[0]))
        if entry not in seen:
            seen.append(entry)
    return seen


def connect(family: int, address: str, port: int, timeout: float) -> socket.socket:
    where = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect((address, port))
    except OSError as exc:
        sock.close()
        raise classify_connect_error(exc, where) from exc
    sock.settimeout(None)
    return sock


@dataclass(slots=True)
class HandshakeFailure(Exception):
    """A TLS handshake failed; ``raw`` is what the server sent instead of TLS."""

    error: BaseException
    raw: bytes
    obj: ssl.SSLObject | None


class Channel:
    """One connection, plaintext or TLS; reads honour a deadline."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.tls: ssl.SSLObject | None = None
        self._incoming: ssl.MemoryBIO | None = None
        self._outgoing: ssl.MemoryBIO | None = None

    def fileno(self) -> int:
        return self.sock.fileno()

    @property
    def has_buffered(self) -> bool:
        """Decrypted bytes are waiting (select() on the socket would not show them)."""
        return self.tls is not None and self.tls.pending() > 0

    def send(self, data: bytes) -> None:
        try:
            if self.tls is None:
                self.sock.sendall(data)
            else:
                self.tls.write(data)
                self._flush()
        except (ConnectionResetError, BrokenPipeError) as exc:
            raise PeerClosed(f"the connection was reset while sending ({exc.strerror})") from exc

    def recv(self, timeout: float | None) -> bytes:
        """Bytes from the peer; b"" when it closed. Raises ReadTimeout, PeerClosed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if self.tls is None:
            return self._raw_recv(deadline)
        while True:
            try:
                return self.tls.read(RECV_SIZE)
            except ssl.SSLWantReadError:
                self._flush()
                raw = self._raw_recv(deadline)
                if raw:
                    self._incoming.write(raw)  # type: ignore[union-attr]
                else:
                    self._incoming.write_eof()  # type: ignore[union-attr]
            except ssl.SSLZeroReturnError:
                return b""
            except ssl.SSLEOFError:
                return b""
            except ssl.SSLError as exc:
                raise PeerClosed(f"TLS error: {exc.reason or exc}") from exc

    def _raw_recv(self, deadline: float | None) -> bytes:
        while True:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise ReadTimeout
            try:
                ready, _w, _x = select.select([self.sock], [], [], remaining)
            except InterruptedError:  # pragma: no cover - PEP 475 retries on its own
                continue
            if not ready:
                raise ReadTimeout
            try:
                return self.sock.recv(RECV_SIZE)
            except ConnectionResetError as exc:
                raise PeerClosed("the connection was reset (TCP RST)") from exc
            except OSError as exc:
                raise PeerClosed(f"the connection failed: {exc.strerror or exc}") from exc

    def _flush(self) -> None:
        if self._outgoing is not None and self._outgoing.pending:
            self.sock.sendall(self._outgoing.read())

    def start_tls(self, context: ssl.SSLContext, server_hostname: str | None, timeout: float):
        """Run the TLS handshake; raises HandshakeFailure or ReadTimeout."""
        self._incoming, self._outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = context.wrap_bio(self._incoming, self._outgoing, server_hostname=server_hostname)
        deadline = time.monotonic() + timeout
        raw = bytearray()
        while True:
            try:
                obj.do_handshake()
                self._flush()
                break
            except ssl.SSLWantReadError:
                try:
                    self._flush()
                    data = self._raw_recv(deadline)
                except (OSError, PeerClosed) as exc:
                    raise HandshakeFailure(exc, bytes(raw), obj) from exc
                raw += data[: 4096 - len(raw)] if len(raw) < 4096 else b""
                if data:
                    self._incoming.write(data)
                else:
                    self._incoming.write_eof()
            except (ssl.SSLError, OSError) as exc:
                raise HandshakeFailure(exc, bytes(raw), obj) from exc
        self.tls = obj
        return obj

    def close(self) -> None:
        try:
            if self.tls is not None:
                try:
                    self.tls.unwrap()
                    self._flush()
                except (ssl.SSLError, OSError, ValueError):
                    pass
            self.sock.close()
        except OSError:
            pass
