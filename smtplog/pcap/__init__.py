"""Packet captures (pcap, pcapng) as SMTP sessions.

``smtplog analyze capture.pcap`` lands here (``analysis.analyze_stream``
checks the magic number): the file is read a chunk at a time with dpkt
(``reader``), TCP streams are rebuilt and each SMTP connection replayed
through the recorder's ``Tap`` (``streams``), and each connection's events go
to the analysis as soon as it and those that began before it have ended (see
``_Replay.connections_done``). Their line numbers are those
of the canonical transcript the capture stands for (a ``** session`` per
connection, in the order connections began), which ``capture_transcript``
writes, so a capture can be kept, shared or compared as text and its report
still points at the right lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from smtplog.pcap.magic import is_capture

if TYPE_CHECKING:
    from smtplog.analysis import ReportStream
    from smtplog.events import Event
    from smtplog.pcap.reader import Capture
    from smtplog.pcap.streams import Connection, Streams
    from smtplog.reader import ByteStream
    from smtplog.report import Report

__all__ = [
    "CaptureTranscript",
    "analyze_capture",
    "capture_transcript",
    "is_capture",
    "stream_capture",
]


@dataclass(slots=True)
class CaptureTranscript:
    text: str  # the canonical transcript of every SMTP connection
    sessions: int
    notes: list[str] = field(default_factory=list)


class _Replay:
    """A capture's SMTP connections as blocks of events, each as it ends."""

    def __init__(self, chunks: Iterable[bytes], name: str) -> None:
        from smtplog.pcap.reader import Capture

        self.name = name
        self.capture: Capture = Capture()
        self.streams: Streams | None = None
        self.connections = 0
        self._chunks = chunks
        self._waiting: list[tuple[int, list[Event]]] = []  # heap: ended, waiting for earlier
        self._gone: set[int] = set()  # connections that will never be reported
        self._next = 1  # the connection to report next
        self._held = 0  # events waiting

    def connections_done(self) -> Iterator[list[Event]]:
        """The events of each SMTP connection (an intro note first), in the order the
        connections began, each as soon as it and those before it have ended (or, when
        those that wait hold more than ``limits.REORDER_EVENTS`` events, at once)."""
        from smtplog.pcap.reader import stream_segments
        from smtplog.pcap.streams import Streams

        for segment in stream_segments(self._chunks, self.name, self.capture):
            if self.streams is None:
                self.streams = Streams(segment.time)
            self.streams.add(segment)
            if self.streams.done or self.streams.gone:
                yield from self._in_order(self.streams)
        if self.streams is not None:
            self.streams.finish()
            yield from self._in_order(self.streams, everything=True)

    def _in_order(self, streams: Streams, everything: bool = False) -> Iterator[list[Event]]:
        import heapq  # here, like every import below: pcap.magic loads this package each run

        from smtplog import limits

        while streams.done:
            connection = streams.done.popleft()
            block = self._take(connection)
            heapq.heappush(self._waiting, (connection.number, block))
            self._held += len(block)
        while streams.gone:
            number = streams.gone.popleft()
            if number >= self._next:  # one already overtaken is waited for by nobody
                self._gone.add(number)
        while self._waiting:
            while self._next in self._gone:
                self._gone.discard(self._next)
                self._next += 1
            number, events = self._waiting[0]
            # A number below ``_next`` was overtaken by a forced release: nothing precedes it.
            if number > self._next and not everything and self._held <= limits.REORDER_EVENTS:
                return
            heapq.heappop(self._waiting)
            self._held -= len(events)
            self._next = max(self._next, number + 1)
            yield events

    def _take(self, connection: Connection) -> list[Event]:
        from smtplog.events import Note

        self.connections += 1
        last = connection.last_packet or connection.first_packet
        first_time = next((e.time for e in connection.events if e.time is not None), 0.0)
        intro = f"TCP {connection.label}, packets {connection.first_packet}-{last} of the capture"
        stream = f"tcp-{connection.number}"
        events = [Note(text=intro, time=first_time), *connection.events]
        connection.events = []  # reported: nothing of it is kept but its tombstone
        connection.tap = None
        return [replace(event, stream=stream) for event in events]

    @property
    def notes(self) -> list[str]:
        notes = list(self.capture.notes)
        if self.capture.unsupported:
            kinds = ", ".join(str(kind) for kind in sorted(self.capture.unsupported))
            notes.append(f"packets with an unsupported link-layer type ({kinds}) were skipped")
        skipped = self.streams.left_out if self.streams is not None else 0
        if skipped:
            notes.append(
                f"{skipped} TCP connection{'s' if skipped != 1 else ''} in the capture "
                f"{'are' if skipped != 1 else 'is'} not SMTP and "
                f"{'were' if skipped != 1 else 'was'} left out"
            )
        if self.streams is not None and self.streams.cut:
            notes.append(
                f"{self.streams.cut} TCP connection{'s were' if self.streams.cut != 1 else ' was'}"
                " reported before their end: more were open at once than smtplog follows "
                "(smtplog.limits.MAX_OPEN_STREAMS)"
            )
        return notes

    def header(self) -> str:
        from datetime import datetime, timezone

        from smtplog.transcript import header

        t0 = self.streams.t0 if self.streams is not None else 0.0
        started = datetime.fromtimestamp(t0, timezone.utc)
        return header(self.name, started, tool=f"smtplog-pcap ({self.capture.format})")


class Numbering:
    """Line numbers of events in the canonical transcript they stand for.

    Line 1 is the transcript's header; a ``** session`` line comes whenever the
    connection changes; each event takes as many lines as ``transcript.entries``
    writes for it (an event it writes nothing for is left out, as reading the
    transcript back would), and keeps the transcript's millisecond times.
    """

    def __init__(self) -> None:
        self.line = 1
        self.stream: str | None = None

    def place(self, events: Iterable[Event]) -> Iterator[Event]:
        from smtplog.events import DataBody, Reply, Span
        from smtplog.transcript import entries

        for event in events:
            count = len(entries(event))
            if not count:
                continue
            if event.stream != self.stream:
                self.stream = event.stream
                self.line += 1
            first, self.line = self.line + 1, self.line + count
            changes: dict[str, object] = {"span": Span(first, self.line)}
            if event.time is not None:
                changes["time"] = round(event.time, 3)
            if isinstance(event, Reply):
                changes["line_numbers"] = tuple(range(first, self.line + 1))
            elif isinstance(event, DataBody) and event.lines:
                changes["line_numbers"] = tuple(range(first, first + len(event.lines)))
            yield replace(event, **changes)  # type: ignore[arg-type]


def capture_transcript(data: bytes, name: str = "<capture>") -> CaptureTranscript:
    """The SMTP connections of a capture as one canonical transcript.

    Raises:
        InputError: the file is not a capture smtplog can read (damaged header).
    """
    from smtplog.transcript import format_events

    replay = _Replay((data,), name)
    blocks = list(replay.connections_done())
    if replay.streams is None:
        return CaptureTranscript("", 0, replay.notes)
    lines = [replay.header()]
    for block in blocks:
        lines.extend(format_events(block))
    return CaptureTranscript("".join(line + "\n" for line in lines), len(blocks), replay.notes)


def stream_capture(stream: ByteStream, name: str) -> ReportStream:
    """Every SMTP session of a capture, analysed as its connection ends.

    Raises (while iterating):
        InputError: the capture cannot be read.
        NotSmtpError: it holds no SMTP session.
    """
    from smtplog.analysis import ReportStream
    from smtplog.events import StreamEnd
    from smtplog.sessions import Splitter

    replay = _Replay(stream, name)
    numbering = Numbering()

    def events() -> Iterator[Event]:
        for block in replay.connections_done():
            yield from numbering.place(block)
            yield StreamEnd(stream=block[0].stream)

    splitter = Splitter()

    def nothing_found() -> str:
        detail = "; ".join(replay.notes)
        return f"{name}: no SMTP session found in the packet capture" + (
            f" ({detail})" if detail else ""
        )

    return ReportStream(
        source=name,
        dialect="pcap",  # known by the file's magic number
        confidence=1.0,
        sessions=splitter.split(events()),
        notes=lambda: [*replay.notes, *splitter.notes],
        line_count=lambda: numbering.line,
        empty=nothing_found,
    )


def analyze_capture(data: bytes, name: str = "<capture>") -> Report:
    """Analyse every SMTP session of a capture (held whole in memory).

    Raises:
        InputError: the capture cannot be read.
        NotSmtpError: it holds no SMTP session.
    """
    from smtplog.reader import ByteStream

    return stream_capture(ByteStream((data,), name), name).report()
