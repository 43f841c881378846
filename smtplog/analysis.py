"""The pipeline: Source -> dialect -> events -> sessions -> protocol -> rules -> Report."""

from __future__ import annotations

from smtplog import dialects
from smtplog.errors import InputError, NotSmtpError
from smtplog.events import Command, ConnectFailed, Event, Reply
from smtplog.protocol import analyze_session
from smtplog.report import Report, SessionReport
from smtplog.rules import diagnose
from smtplog.sessions import split_sessions
from smtplog.source import Source, source_from_bytes, source_from_text

_SMTP_EVENTS = (Reply, Command, ConnectFailed)


def analyze_source(source: Source, dialect: str | None = None) -> Report:
    """Analyse a decoded input.

    Raises:
        NotSmtpError: nothing in the input looks like an SMTP session.
        UnknownDialectError: ``dialect`` is not a known dialect name.
    """
    detection = dialects.forced(dialect) if dialect else dialects.detect(source)
    events = detection.dialect.events(source)
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
        reports.append(SessionReport(analysis, diagnose(analysis)))
    return Report(
        source=source.name,
        dialect=detection.dialect.name,
        confidence=detection.confidence,
        sessions=reports,
        notes=list(source.notes),
        line_count=len(source.lines),
    )


def _has_connection(events: list[Event]) -> bool:
    from smtplog.events import Closed, Connected, Timeout

    return any(isinstance(event, Connected | Closed | Timeout) for event in events)


def analyze_bytes(data: bytes, name: str = "<stdin>", dialect: str | None = None) -> Report:
    """Analyse raw input: a text transcript in any dialect, or a packet capture."""
    from smtplog.pcap.reader import is_capture

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
    return analyze_source(source_from_bytes(data, name), dialect)


def analyze_text(text: str, dialect: str | None = None, name: str = "<text>") -> Report:
    """Analyse a transcript given as a string (the Python API)."""
    return analyze_source(source_from_text(text, name), dialect)
