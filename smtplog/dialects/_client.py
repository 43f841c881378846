"""Helpers shared by the dialects of client programs and libraries (curl, PHPMailer, ...).

Client debug logs have more in common than their markers: a clock in front of
every line, an exception or stack trace printed by the application after the
log, a block of lines that belongs to the line above it. The pieces here keep
each dialect module down to what is particular to its tool.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from smtplog.assemble import ServerLine
from smtplog.events import Span

if TYPE_CHECKING:
    pass

_TIME_OF_DAY = re.compile(r"(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?")
_DATE_TIME = re.compile(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?")
_REPLY = re.compile(r"^([1-5]\d\d)(?:([ -])(.*))?$", re.DOTALL)


def time_of_day(text: str) -> float | None:
    """``HH:MM:SS[.ffffff]`` (local time, no date) as seconds since midnight."""
    match = _TIME_OF_DAY.fullmatch(text.strip())
    if not match:
        return None
    hours, minutes, seconds, fraction = match.groups()
    value = int(hours) * 3600 + int(minutes) * 60 + int(seconds)
    return value + (float(f"0.{fraction}") if fraction else 0.0)


def date_time(text: str) -> float | None:
    """``YYYY-MM-DD HH:MM:SS`` (or with ``T`` / fraction / ``Z``), read as UTC, as POSIX seconds."""
    match = _DATE_TIME.search(text)
    if not match:
        return None
    year, month, day, hours, minutes, seconds, fraction = match.groups()
    try:
        value = calendar.timegm(
            (int(year), int(month), int(day), int(hours), int(minutes), int(seconds), 0, 0, 0)
        )
    except (ValueError, OverflowError):
        return None
    return value + (float(f"0.{fraction}") if fraction else 0.0)


def reply_of(text: str, span: Span, **kwargs: Any) -> ServerLine | None:
    """A ServerLine when ``text`` is shaped like a reply line ("250-PIPELINING")."""
    match = _REPLY.match(text)
    if not match:
        return None
    code, sep, rest = match.groups()
    return ServerLine(int(code), sep or "", rest or "", span, **kwargs)


def widen(record: Any, span: Span | None) -> Any:
    """The record with its span extended to cover ``span`` too."""
    if span is None or record.span is None:
        return record
    return replace(
        record, span=Span(min(record.span.first, span.first), max(record.span.last, span.last))
    )


@dataclass(frozen=True, slots=True)
class Continuation:
    """A line that only continues the record before it (a stack frame, an indented line)."""

    text: str
    span: Span
