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

A capture is read as a stream: a connection is handed over (``done``) as
soon as it has ended and is known to be SMTP, and then forgotten but for a
tombstone that catches its late ACKs. At most ``limits.MAX_OPEN_STREAMS``
connections are followed at once (the one silent for longest is reported as
it stands); a connection whose SMTP-ness only the end of the capture can
settle (a TLS connection on an unusual port) waits for it, ``MAX_UNDECIDED``
at most.
"""

from __future__ import annotations

import re
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Literal

from smtplog import limits
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
MAX_UNDECIDED = 1000  # ended connections waiting for the end of the capture to be judged
MAX_TOMBSTONES = 50_000  # forgotten connections whose late packets are still recognised

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
        # Followed connections, least recently active first (ended ones stay until a new
        # SYN reuses their ports or they are pushed out: late ACKs land there).
        self.open: OrderedDict[tuple[str, int, str, int], Connection] = OrderedDict()
        self.count = 0  # connections seen
        self.done: deque[Connection] = deque()  # ended SMTP connections, to report
        self.undecided: list[Connection] = []  # ended, judged at the end of the capture
        self.smtp_ports: set[int] = set()
        self.saw_other = False
        self.reported = 0
        self.left_out = 0  # connections that are not SMTP
        self.gone: deque[int] = deque()  # numbers of connections that will not be reported
        # Ended SMTP connections whose last ACKs may still come: handed over (``done``) when
        # a packet of another connection arrives (their packet range is then complete).
        self.settling: list[Connection] = []
        self.cut = 0  # connections reported before their end (too many open at once)
        self.tombstones: OrderedDict[tuple[str, int, str, int], None] = OrderedDict()
        self.last_time = t0

    # -- packets -------------------------------------------------------------------------

    def add(self, segment: Segment) -> None:
        if self.settling:
            self._settle(segment)
        self.last_time = segment.time
        at = round(segment.time - self.t0, 6)
        forward = (segment.src, segment.sport, segment.dst, segment.dport)
        backward = (segment.dst, segment.dport, segment.src, segment.sport)
        flags = segment.flags
        connection = self.open.get(forward) or self.open.get(backward)
        if connection is not None:
            self.open.move_to_end((*connection.client, *connection.server))
        elif (
            not flags & SYN
            and not segment.payload
            and (forward in self.tombstones or backward in self.tombstones)
        ):
            return  # a late ACK or FIN of a connection already reported and forgotten
        if flags & SYN and not flags & ACK:
            reused = (
                connection is not None
                and connection.syn_ack_at is not None
                and connection.to_server.base != (segment.seq + 1) % MOD
            )  # a new ISN on the same ports: the capture missed the old connection's end
            if connection is not None and (
                connection.ended or connection.client != forward[:2] or reused
            ):
                self._superseded(connection, at)
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
        self.count += 1
        connection = Connection(
            number=self.count,
            client=client,  # type: ignore[arg-type]
            server=server,  # type: ignore[arg-type]
            first_packet=segment.number,
            syn_at=at,
        )
        self.open[(*connection.client, *connection.server)] = connection
        if len(self.open) > limits.MAX_OPEN_STREAMS:
            self._push_out(next(iter(self.open.values())))
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
        key = (*connection.client, *connection.server)
        if self.open.get(key) is connection:
            del self.open[key]
            if any(waiting is connection for waiting in self.settling):
                # No later packet can be its own: its packet range is complete.
                self.settling = [c for c in self.settling if c is not connection]
                self.done.append(connection)
            self.tombstones[key] = None
            if len(self.tombstones) > MAX_TOMBSTONES:
                self.tombstones.popitem(last=False)

    def _superseded(self, connection: Connection, at: float) -> None:
        """A new connection takes the ports: the old one is over (here, if the capture
        missed its end)."""
        if not connection.ended:
            self._end_at_capture_end(connection, at, why="a new connection on the same ports began")
        self._forget(connection)

    def _push_out(self, connection: Connection) -> None:
        """Too many connections at once: the least recently active one goes."""
        if not connection.ended:
            if connection.kind != "other":
                self.cut += 1
            self._end_at_capture_end(connection, self.last_time - self.t0, cut=True)
        self._forget(connection)

    # -- what is reported --------------------------------------------------------------

    def _ended(self, connection: Connection) -> None:
        """The connection is over: report it if it is SMTP (or wait to know), then drop
        everything but its tombstone."""
        connection.ended = True
        kind = connection.kind
        if kind == "smtp" or (
            kind in ("tls", "unknown")
            and connection.server_port in self.smtp_ports | MAIL_PORTS | IMPLICIT_TLS_PORTS
        ):
            self.settling.append(connection)
            self.reported += 1
        elif kind == "other":
            self.left_out += 1
            self.gone.append(connection.number)
        else:
            self.undecided.append(connection)
            if len(self.undecided) > MAX_UNDECIDED:
                self._decide(self.undecided.pop(0))

    def _settle(self, segment: Segment | None) -> None:
        """Hand over the ended connections this packet does not belong to (all: None)."""
        keep = []
        for connection in self.settling:
            ends = (connection.client, connection.server)
            mine = segment is not None and {
                (segment.src, segment.sport),
                (segment.dst, segment.dport),
            } == set(ends)
            (keep if mine else self.done).append(connection)
        self.settling = keep

    def _decide(self, connection: Connection) -> None:
        """A TLS or silent connection on a port SMTP was not seen on: SMTP when the
        capture holds nothing else (the decision the end of the capture makes)."""
        if connection.server_port in self.smtp_ports or not self.saw_other:
            self.done.append(connection)
            self.reported += 1
        else:
            self.left_out += 1
            self.gone.append(connection.number)

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
            if connection.kind == "smtp":
                self.smtp_ports.add(connection.server_port)
            elif connection.kind == "other":
                self.saw_other = True
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
            self._ended(connection)
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
            self._ended(connection)
            return
        tap = self._tap(connection, at)
        connection.events.extend(
            tap.closed(side, at, reset=reset)  # type: ignore[arg-type]
        )
        sending = connection.to_server if side == "client" else connection.to_client
        sending.fin = True
        if (connection.to_server.fin and connection.to_client.fin) or reset:
            self._ended(connection)  # kept until a new SYN reuses the ports: late ACKs land here

    # -- the end of the capture ----------------------------------------------------------------

    def finish(self) -> None:
        """The end of the capture: every connection still open is ended as it stands, and
        the undecided ones are judged."""
        end = round(self.last_time - self.t0, 6)
        for connection in sorted(self.open.values(), key=lambda c: c.number):
            if not connection.ended:
                self._end_at_capture_end(connection, end)
        self.open.clear()
        self._settle(None)
        for connection in self.undecided:
            self._decide(connection)
        self.undecided = []

    def _end_at_capture_end(
        self,
        connection: Connection,
        end: float,
        cut: bool = False,
        why: str = "the capture ended",
    ) -> None:
        if connection.kind == "other":
            self._ended(connection)
            return
        if cut:
            connection.events.append(
                Note(
                    text="more TCP connections were open at once than smtplog follows "
                    "(smtplog.limits.MAX_OPEN_STREAMS): this one is reported as it stood; "
                    "what followed it in the capture is left out",
                    time=end,
                )
            )
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
                    Note(text=f"{why} while the client was connecting", time=end)
                )
            self._ended(connection)
            return
        tap = self._tap(connection, end)
        if not connection.to_server.fin and not connection.to_client.fin:
            connection.events.extend(tap.finish(end, f"{why} while the connection was still open"))
        self._ended(connection)


def _kind(side: str, data: bytes, *, joined_late: bool = False) -> Kind:
    """What a connection carries, from the first bytes seen (and who sent them)."""
    if side == "server" and (_REPLY if joined_late else _GREETING).match(data):
        return "smtp"
    if side == "client" and _COMMAND.match(data):
        return "smtp"  # EHLO first, or QUIT from a client that gave up on the greeting
    if side == "client" and looks_like_tls(data):
        return "tls"
    return "other"
