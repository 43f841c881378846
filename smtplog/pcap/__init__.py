"""Packet captures (pcap, pcapng) as SMTP sessions.

``smtplog analyze capture.pcap`` lands here (``analysis.analyze_bytes`` checks
the magic number): the file is read with dpkt (``reader``), TCP streams are
rebuilt and each SMTP connection replayed through the recorder's ``Tap``
(``streams``), and the events are written as one canonical transcript, a
``** session`` per connection, which the analyzer reads like any recording.
The transcript is also what ``capture_transcript`` returns, so a capture can
be kept, shared or compared as text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from smtplog.pcap.reader import is_capture

if TYPE_CHECKING:
    from smtplog.analysis import ReportStream
    from smtplog.reader import ByteStream
    from smtplog.report import Report

__all__ = ["CaptureTranscript", "analyze_capture", "capture_transcript", "is_capture"]


@dataclass(slots=True)
class CaptureTranscript:
    text: str  # the canonical transcript of every SMTP connection
    sessions: int
    notes: list[str] = field(default_factory=list)


def capture_transcript(data: bytes, name: str = "<capture>") -> CaptureTranscript:
    """The SMTP connections of a capture as one canonical transcript.

    Raises:
        InputError: the file is not a capture smtplog can read (damaged header).
    """
    from smtplog.pcap.reader import Capture, read_segments
    from smtplog.pcap.streams import Streams
    from smtplog.transcript import format_events, header

    capture = Capture()
    streams: Streams | None = None
    for segment in read_segments(data, name, capture):
        if streams is None:
            streams = Streams(segment.time)
        streams.add(segment)
    notes = list(capture.notes)
    if capture.unsupported:
        kinds = ", ".join(str(kind) for kind in sorted(capture.unsupported))
        notes.append(f"packets with an unsupported link-layer type ({kinds}) were skipped")
    if streams is None:
        return CaptureTranscript("", 0, notes)
    streams.finish()
    started = datetime.fromtimestamp(streams.t0, timezone.utc)
    lines = [header(name, started, tool=f"smtplog-pcap ({capture.format})")]
    chosen = streams.sessions()
    for connection in chosen:
        last = connection.last_packet or connection.first_packet
        first_time = next((e.time for e in connection.events if e.time is not None), 0.0)
        intro = f"TCP {connection.label}, packets {connection.first_packet}-{last} of the capture"
        from dataclasses import replace

        from smtplog.events import Note

        events = [Note(text=intro, time=first_time), *connection.events]
        stream = f"tcp-{connection.number}"
        lines.extend(format_events(replace(e, stream=stream) for e in events))
    skipped = len(streams.connections) - len(chosen)
    if skipped:
        notes.append(
            f"{skipped} TCP connection{'s' if skipped != 1 else ''} in the capture "
            f"{'are' if skipped != 1 else 'is'} not SMTP and {'were' if skipped != 1 else 'was'} "
            "left out"
        )
    return CaptureTranscript("".join(line + "\n" for line in lines), len(chosen), notes)


def stream_capture(stream: ByteStream, name: str) -> ReportStream:
    """Every SMTP session of a capture, as a ReportStream."""
    from smtplog.analysis import ReportStream

    report = analyze_capture(b"".join(stream), name)
    return ReportStream(
        source=name,
        dialect=report.dialect,
        confidence=report.confidence,
        sessions=iter([s.analysis.events for s in report.sessions]),
        notes=lambda: report.notes,
        line_count=lambda: report.line_count,
    )


def analyze_capture(data: bytes, name: str = "<capture>") -> Report:
    """Analyse every SMTP session of a capture.

    Raises:
        InputError: the capture cannot be read.
        NotSmtpError: it holds no SMTP session.
    """
    from smtplog.analysis import analyze_source
    from smtplog.errors import NotSmtpError
    from smtplog.source import source_from_text

    result = capture_transcript(data, name)
    if not result.sessions:
        detail = "; ".join(result.notes)
        raise NotSmtpError(
            f"{name}: no SMTP session found in the packet capture"
            + (f" ({detail})" if detail else "")
        )
    # The transcript is ours: read it as written (no cleanup), as its dialect.
    report = analyze_source(source_from_text(result.text, name), dialect="smtplog", cleanup=False)
    report.dialect = "pcap"
    report.forced = False  # known by the file's magic number
    report.notes = [*result.notes, *report.notes]
    return report
