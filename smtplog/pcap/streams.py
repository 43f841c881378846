"""TCP connections rebuilt from segments, each SMTP one replayed through a ``Tap``.

Reassembly follows each direction's sequence numbers (RFC 9293 §3.4): a
retransmitted segment is dropped, an overlapping one trimmed to the bytes not
yet delivered (the first copy wins), an early one held until the gap before
it is filled. Bytes reach the tap the moment they become contiguous, with the
time of the packet that made them so, and both directions in packet order: the
wire codec sees the conversation as the endpoints did. A gap the capture never
fills (a packet tcpdump dropped) is skipped once the receiver acknowledges
past it, and noted.

A connection is SMTP by its content, on any port: a 220/421/554 greeting from
the side that did not open it, or an EHLO/HELO from the side that did; a TLS
ClientHello first is implicit TLS, kept when the port is an SMTP port. Without
any payload (a SYN nobody answered, a reset, a server that never spoke) the
port decides: one where SMTP was seen, a well-known mail port, or any port
when the capture holds nothing but such connections.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from smtplog.events import Event, Note
from smtplog.pcap.reader import Segment
from smtplog.record.handshake import looks_like_tls
from smtplog.record.tap import Tap

FIN, SYN, RST, ACK = 0x01, 0x02, 0x04, 0x10
MOD = 1 << 32
HALF = 1 << 31
MAIL_PORTS = frozenset({25, 465, 587, 2525})
IMPLICIT_TLS_PORTS = frozenset({465})
MAX_HELD = 4 * 1024 * 1024  # early segments held per direction before the gap is given up

_GREETING = re.compile(rb"^(220|421|554)[ -]")
_REPLY = re.compile(rb"^[2-5][0-9][0-9][ -][^\r\n]*\r?\n")
_COMMAND = re.compile(
    rb"^((EHLO|HELO|LHLO|DATA|BDAT|RSET|NOOP|QUIT|AUTH|STARTTLS|VRFY)\b|(MAIL FROM|RCPT TO):)",
    re.IGNORECASE,
)

Kind = Literal["unknown", "smtp", "tls", "other"]


@dataclass(slots=True)
class Direction:
    """The bytes one endpoint sent, put back in order."""

    base: int | None = None  # sequence number of the first data byte
    next: int = 0  # offset (from base) of the next byte expected
    held: dict[int, bytes] = field(default_factory=dict)
    held_bytes: int = 0
    missing: int = 0  # bytes the capture never had
    fin: bool = False

    def start(self, seq: int) -> None:
        if self.base is None:
            self.base = seq

    def accept(self, seq: int, payload: bytes) -> bytes:
        """The bytes that became contiguous with this segment (b"" if none)."""
        if self.base is None:
            self.base = seq
        offset = (seq - self.base) % MOD
        if offset >= HALF:
            offset -= MOD  # before the start: an old retransmission
        end = offset + len(payload)
        if end <= self.next:
            return b""  # retransmitted
        if offset > self.next:
            if offset not in self.held or len(self.held[offset]) < len(payload):
                self.held_bytes += len(payload) - len(self.held.get(offset, b""))
                self.held[offset] = payload
            if self.held_bytes > MAX_HELD:
                return self.skip_gap()
            return b""
        data = payload[self.next - offset :]
        self.next = end
        return data + self._drain()

    def _drain(self) -> bytes:
        out = bytearray()
        while self.held:
            first = min(self.held)
            if first > self.next:
                break
            chunk = self.held.pop(first)
            self.held_bytes -= len(chunk)
            if first + len(chunk) > self.next:
                out += chunk[self.next - first :]
                self.next = first + len(chunk)
        return bytes(out)

    def acknowledged(self, ack: int) -> bytes:
        """The peer acknowledged up to ``ack``: a gap before it was lost by the capture."""
        if self.base is None or not self.held:
            return b""
        offset = (ack - self.base) % MOD
        if offset >= HALF or offset <= self.next:
            return b""
        return self.skip_gap()

    def skip_gap(self) -> bytes:
        if not self.held:
            return b""
        first = min(self.held)
        self.missing += first - self.next
        self.next = first
        return self._drain()


@dataclass(slots=True)
class Connection:
    number: int
    client: tuple[str, int]
    server: tuple[str, int]
    first_packet: int
    syn_at: float | None
    last_packet: int = 0
    syns: int = 0
    last_syn_at: float | None = None
    syn_ack_at: float | None = None
    kind: Kind = "unknown"
    to_server: Direction = field(default_factory=Direction)
    to_client: Direction = field(default_factory=Direction)
    tap: Tap | None = None
    events: list[Event] = field(default_factory=list)
    ended: bool = False
    gap_noted: int = 0

    @property
    def label(self) -> str:
        return f"{_endpoint(*self.client)} > {_endpoint(*self.server)}"

    @property
    def server_port(self) -> int:
        return self.server[1]


def _endpoint(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


class Streams:
    """All TCP connections of a capture; times are seconds since ``t0``."""

    def __init__(self, t0: float) -> None:
        self.t0 = t0
        self.open: dict[tuple[str, int, str, int], Connection] = {}
        self.connections: list[Connection] = []
        self.last_time = t0

    # -- packets -------------------------------------------------------------------------

    def add(self, segment: Segment) -> None:
        self.last_time = segment.time
        at = round(segment.time - self.t0, 6)
        forward = (segment.src, segment.sport, segment.dst, segment.dport)
        backward = (segment.dst, segment.dport, segment.src, segment.sport)
        flags = segment.flags
        connection = self.open.get(forward) or self.open.get(backward)
        if flags & SYN and not flags & ACK:
            reused = (
                connection is not None
                and connection.syn_ack_at is not None
                and connection.to_server.base != (segment.seq + 1) % MOD
            )  # a new ISN on the same ports: the capture missed the old connection's end
            if connection is not None and (
                connection.ended or connection.client != forward[:2] or reused
            ):
                self._forget(connection)
                connection = None
            if connection is None:
                connection = self._new(segment, forward, at)
            connection.syns += 1
            connection.last_syn_at = at
            connection.to_server.base = (segment.seq + 1) % MOD
            connection.last_packet = segment.number
            return
        if connection is None:
            connection = self._new(segment, forward, None)
        connection.last_packet = segment.number
        from_client = (segment.src, segment.sport) == connection.client
        if flags & SYN:  # SYN-ACK
            connection.syn_ack_at = at if connection.syn_ack_at is None else connection.syn_ack_at
            connection.to_client.base = (segment.seq + 1) % MOD
            return
        if connection.ended:
            return
        if connection.kind == "other":  # not SMTP: only its end matters
            if flags & (FIN | RST):
                connection.ended = True
            return
        sending = connection.to_server if from_client else connection.to_client
        receiving = connection.to_client if from_client else connection.to_server
        side = "client" if from_client else "server"
        other = "server" if from_client else "client"
        if flags & ACK:
            late = receiving.acknowledged(segment.ack)
            if late:
                self._deliver(connection, other, late, at)
        if segment.payload:
            data = sending.accept(segment.seq, segment.payload)
            if data:
                self._deliver(connection, side, data, at)
        if flags & (FIN | RST):
            rest = sending.skip_gap()
            if rest:
                self._deliver(connection, side, rest, at)
            self._close(connection, side, at, reset=bool(flags & RST))

    def _new(self, segment: Segment, forward: tuple[str, int, str, int], at: float | None):
        client, server = forward[:2], forward[2:]
        if at is None and not self._client_side_guess(segment):
            client, server = server, client  # joined mid-stream: the server sent this one
        connection = Connection(
            number=len(self.connections) + 1,
            client=client,  # type: ignore[arg-type]
            server=server,  # type: ignore[arg-type]
            first_packet=segment.number,
            syn_at=at,
        )
        self.connections.append(connection)
        self.open[(*connection.client, *connection.server)] = connection
        if at is None:
            connection.events.append(
                Note(
                    text="the capture starts in the middle of this connection (no SYN seen)",
                    time=round(segment.time - self.t0, 6),
                )
            )
        return connection

    @staticmethod
    def _client_side_guess(segment: Segment) -> bool:
        """Without a SYN: does this segment come from the client?"""
        if _GREETING.match(segment.payload) or segment.sport in MAIL_PORTS:
            return False
        return not (segment.dport not in MAIL_PORTS and segment.sport < segment.dport)

    def _forget(self, connection: Connection) -> None:
        self.open.pop((*connection.client, *connection.server), None)

    # -- what the tap sees ----------------------------------------------------------------

    def _tap(self, connection: Connection, at: float) -> Tap:
        if connection.tap is None:
            tap = Tap()
            connection.tap = tap
            opened = connection.syn_ack_at if connection.syn_ack_at is not None else at
            connection.events.extend(tap.opened(_endpoint(*connection.server), None, opened))
        return connection.tap

    def _deliver(self, connection: Connection, side: str, data: bytes, at: float) -> None:
        if connection.kind == "unknown":
            connection.kind = _kind(side, data, joined_late=connection.syn_at is None)
        if connection.kind == "other":
            return
        tap = self._tap(connection, at)
        missing = connection.to_server.missing + connection.to_client.missing
        if missing > connection.gap_noted:
            connection.events.append(
                Note(
                    text=f"{missing - connection.gap_noted} bytes of this connection are "
                    "missing from the capture (packets dropped while capturing)",
                    time=at,
                )
            )
            connection.gap_noted = missing
        if side == "client":
            connection.events.extend(tap.client(data, at))
        else:
            connection.events.extend(tap.server(data, at))

    def _close(self, connection: Connection, side: str, at: float, *, reset: bool) -> None:
        if connection.kind == "other":
            connection.ended = True
            return
        if connection.syn_ack_at is None and connection.tap is None and side == "server":
            # The answer to the SYN was a reset: nothing listens there.
            tap = Tap()
            connection.tap = tap
            connection.events.extend(
                tap.connect_failed(
                    "refused",
                    f"{_endpoint(*connection.server)} answered the connection attempt with a "
                    "reset (TCP RST): nothing listens on that port, or a firewall rejects it",
                    at,
                )
            )
            connection.ended = True
            return
        tap = self._tap(connection, at)
        connection.events.extend(
            tap.closed(side, at, reset=reset)  # type: ignore[arg-type]
        )
        sending = connection.to_server if side == "client" else connection.to_client
        sending.fin = True
        if (connection.to_server.fin and connection.to_client.fin) or reset:
            connection.ended = True  # kept until a new SYN reuses the ports: late ACKs land here

    # -- the end of the capture ----------------------------------------------------------------

    def finish(self) -> None:
        end = round(self.last_time - self.t0, 6)
        for connection in self.connections:
            if connection.kind == "other":
                continue
            if connection.tap is None and connection.syn_ack_at is None:
                first = connection.syn_at if connection.syn_at is not None else end
                last = connection.last_syn_at if connection.last_syn_at is not None else first
                tap = Tap()
                connection.tap = tap
                if connection.syns > 1 or end - first >= 1.0:
                    tries = (
                        f"the SYN was sent {connection.syns} times over {last - first:.1f}s"
                        if connection.syns > 1
                        else f"the SYN was not answered in {end - first:.1f}s"
                    )
                    connection.events.extend(
                        tap.connect_failed(
                            "timeout",
                            f"no answer from {_endpoint(*connection.server)} to the connection "
                            f"attempt ({tries}): packets dropped by a firewall, or a server "
                            "too busy to accept",
                            last,
                        )
                    )
                else:
                    connection.events.append(
                        Note(text="the capture ended while the client was connecting", time=end)
                    )
                continue
            if connection.ended:
                continue
            tap = self._tap(connection, end)
            if not connection.to_server.fin and not connection.to_client.fin:
                connection.events.extend(
                    tap.finish(end, "the capture ended while the connection was still open")
                )

    def sessions(self) -> list[Connection]:
        """The connections to report, in the order they began."""
        smtp_ports = {c.server_port for c in self.connections if c.kind == "smtp"}
        smtp_ports |= MAIL_PORTS
        only_mail = not any(c.kind == "other" for c in self.connections)
        chosen = []
        for connection in self.connections:
            if connection.kind == "smtp" or (
                connection.kind in ("tls", "unknown")
                and (connection.server_port in smtp_ports | IMPLICIT_TLS_PORTS or only_mail)
            ):
                chosen.append(connection)
        return chosen


def _kind(side: str, data: bytes, *, joined_late: bool = False) -> Kind:
    """What a connection carries, from the first bytes seen (and who sent them)."""
    if side == "server" and (_REPLY if joined_late else _GREETING).match(data):
        return "smtp"
    if side == "client" and _COMMAND.match(data):
        return "smtp"  # EHLO first, or QUIT from a client that gave up on the greeting
    if side == "client" and looks_like_tls(data):
        return "tls"
    return "other"
