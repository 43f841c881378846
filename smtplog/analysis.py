"""The pipeline: Source -> cleanup -> dialect -> events -> sessions -> protocol -> rules."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace

from smtplog.errors import InputError, NotSmtpError
from smtplog.events import (
    Closed,
    Command,
    Connected,
    ConnectFailed,
    Event,
    Reply,
    ShellPrompt,
    Span,
    Timeout,
)
from smtplog.protocol import analyze_session
from smtplog.reading import read
from smtplog.report import Report, SessionReport
from smtplog.rules import diagnose_session
from smtplog.sessions import split_sessions
from smtplog.source import Line, Source, source_from_bytes, source_from_text

_SMTP_EVENTS = (Reply, Command, ConnectFailed)


def analyze_source(source: Source, dialect: str | None = None, cleanup: bool = True) -> Report:
    """Analyse a decoded input.

    ``cleanup=False`` reads the text exactly as given (no HTML unescaping,
    unquoting, unwrapping...).

    Raises:
        NotSmtpError: nothing in the input looks like an SMTP session.
        UnknownDialectError: ``dialect`` is not a known dialect name.
    """
    reading = read(source, dialect, cleanup)
    detection, cleaned = reading.detection, reading.source
    events = reading.events if reading.events is not None else detection.dialect.events(cleaned)
    events = list(with_prompts(stamp_times(events, cleaned.lines), reading.cleaning.aside))
    sessions = [
        session
        for session in split_sessions(events)
        if any(isinstance(event, _SMTP_EVENTS) for event in session) or _has_connection(session)
    ]
    if not sessions:
        raise NotSmtpError(
            f"{source.name}: no SMTP session found in the {detection.dialect.name} text"
        )
    reports = []
    for session in sessions:
        analysis = analyze_session(session)
        findings, observations = diagnose_session(analysis)
        reports.append(SessionReport(analysis, findings, observations))
    return Report(
        source=source.name,
        dialect=detection.dialect.name,
        confidence=detection.confidence,
        sessions=reports,
        notes=[*source.notes, *reading.cleaning.notes],
        line_count=len(source.lines),
        runner_up=None if detection.forced else detection.runner_up,
        forced=detection.forced,
        cleanup=list(reading.cleaning.applied),
    )


def stamp_times(events: Iterable[Event], lines: list[Line]) -> Iterator[Event]:
    """Give events the time cleanup took off the front of their first line."""
    times = {}
    for line in lines:
        if line.time is not None:
            times.setdefault(line.number, line.time)
    for event in events:
        time = times.get(event.span.first) if event.span is not None else None
        yield replace(event, time=time) if time is not None and event.time is None else event


def with_prompts(events: Iterable[Event], aside: list[Line]) -> Iterator[Event]:
    """Put the shell prompts cleanup set aside back among the events, in line order."""
    prompts = [
        ShellPrompt(text=line.text, span=Span(line.number, line.last), time=line.time)
        for line in aside
    ]
    for event in events:
        while prompts and event.span is not None and prompts[0].span.first <= event.span.first:  # type: ignore[union-attr]
            yield prompts.pop(0)
        yield event
    yield from prompts


def _has_connection(events: list[Event]) -> bool:
    return any(isinstance(event, Connected | Closed | Timeout) for event in events)


def analyze_bytes(
    data: bytes, name: str = "<stdin>", dialect: str | None = None, cleanup: bool = True
) -> Report:
    """Analyse raw input: a text transcript in any dialect, or a packet capture."""
    from smtplog.pcap.magic import is_capture

    if data[:2] == b"\x1f\x8b":  # capture.pcap.gz: look inside before judging
        import gzip
        import zlib

        try:
            inner = gzip.decompress(data)
        except (OSError, EOFError, zlib.error):
            inner = b""
        if is_capture(inner):
            data = inner
    if is_capture(data):
        if dialect:
            raise InputError(f"{name}: a packet capture is read as is; --dialect is for text")
        from smtplog.pcap import analyze_capture

        return analyze_capture(data, name)
    return analyze_source(source_from_bytes(data, name), dialect, cleanup)


def analyze_text(
    text: str, dialect: str | None = None, name: str = "<text>", cleanup: bool = True
) -> Report:
    """Analyse a transcript given as a string (the Python API).

    Raises:
        InputError: the text is empty or binary.
        NotSmtpError: nothing in it looks like an SMTP session.
        UnknownDialectError: ``dialect`` is not a known dialect name.
    """
    if not isinstance(text, str):
        kind = type(text).__name__
        raise TypeError(f"analyze_text() takes a str, not {kind} (bytes: use analyze_bytes)")
    return analyze_source(source_from_text(text, name), dialect, cleanup)
