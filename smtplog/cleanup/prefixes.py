"""Timestamps in front of every line: removed, and kept as the line's time.

syslog ("Nov 28 20:37:52 host tag[pid]: "), ISO 8601 ("2026-11-28T20:37:52.123Z ",
"[2026-11-28 20:37:52] ", RFC 5424 with host and tag) and clock times
("20:37:52.123456 "). A dialect whose own lines start with one (Postfix
logs, PHPMailer, Exchange) reads the unstripped variant: this is stage 2.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timezone
from functools import partial

from smtplog.cleanup.shapes import blank, retext
from smtplog.source import Line

# Each kind: the timestamp, then an optional "host tag[pid]: " (syslog style; the
# pid is required, so that "250 Ok:" or "MAIL FROM:" is never taken for a tag).
_SYSLOG_TAG = r"(?: [\w.-]+ [\w./-]+\[\d+\]:)?"
KINDS: dict[str, re.Pattern[str]] = {
    "syslog": re.compile(
        r"^(?P<month>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (?P<day>[ \d]\d) "
        rf"(?P<clock>\d\d:\d\d:\d\d(?:\.\d+)?){_SYSLOG_TAG}(?:[ \t]|$)"
    ),
    "iso": re.compile(
        r"^\[?(?P<date>\d{4}-\d\d-\d\d)[T ](?P<clock>\d\d:\d\d:\d\d(?:[.,]\d+)?)"
        rf"(?P<zone> ?(?:Z|UTC|[+-]\d\d:?\d\d))?\]?{_SYSLOG_TAG}(?:[ \t]|$)"
    ),
    "clock": re.compile(r"^\[?(?P<clock>\d\d:\d\d:\d\d(?:[.,]\d+)?)\]?(?:[ \t]|$)"),
}
EVERY_LINE = 0.8  # share of non-blank lines that must carry the timestamp
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _clock_seconds(clock: str) -> float:
    hours, minutes, seconds = clock.replace(",", ".").split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def seconds(kind: str, match: re.Match[str]) -> float | None:
    """The timestamp on a clock whose differences are right (syslog has no year);
    None for a date that does not exist ("Nov 38", "2026-02-30")."""
    try:
        return _seconds(kind, match)
    except ValueError:
        return None


def _seconds(kind: str, match: re.Match[str]) -> float:
    clock = _clock_seconds(match.group("clock"))
    if kind == "clock":
        return clock
    if kind == "syslog":
        # A leap year, so that "Feb 29" exists; only differences matter.
        day = datetime(2000, _MONTHS.index(match.group("month")) + 1, int(match.group("day")))
        return day.replace(tzinfo=timezone.utc).timestamp() + clock
    day = datetime.fromisoformat(match.group("date")).replace(tzinfo=timezone.utc)
    offset = 0.0
    zone = (match.group("zone") or "").strip()
    if zone and zone not in ("Z", "UTC"):
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return day.timestamp() + clock - offset


def _kind(lines: list[Line]) -> str | None:
    content = [line for line in lines if not blank(line)]
    if not content:
        return None
    counts = Counter(
        next((kind for kind, pattern in KINDS.items() if pattern.match(line.text)), None)
        for line in content
    )
    counts.pop(None, None)
    if not counts:
        return None
    kind, count = counts.most_common(1)[0]
    return kind if count >= EVERY_LINE * len(content) else None


def timestamps(lines: list[Line]) -> list[Line] | None:
    kind = _kind(lines)
    if kind is None:
        return None
    return _strip(lines, kind)


def timestamps_as(head: list[Line]) -> Callable[[list[Line]], list[Line] | None]:
    """For the rest of a long input: the kind of timestamp the head has, on every line."""
    return partial(_strip, kind=_kind(head) or "syslog")


def _strip(lines: list[Line], kind: str) -> list[Line]:
    pattern = KINDS[kind]
    out = []
    for line in lines:
        match = pattern.match(line.text)
        if match is None:
            out.append(line)
            continue
        out.append(retext(line, line.text[match.end() :], "timestamps", time=seconds(kind, match)))
    return out
