"""What the start of a transcript line can look like, for the normalisers' judgement.

Deliberately dialect-neutral: a reply code, an SMTP verb, a timestamp. The
normalisers use these to tell a quoted session from a client marker, or a
wrapped fragment from a line of its own.
"""

from __future__ import annotations

import re
from dataclasses import replace

from smtplog.smtp import KNOWN_VERBS
from smtplog.source import Line

REPLY = re.compile(r"^[1-5]\d\d(?:[ -]|$)")
_VERB = re.compile(r"^([A-Za-z]+)(?=[\s:]|$)")
# Direction markers tools put before a line (swaks, curl, msmtp, Perl...).
MARKERS = re.compile(r"^[\s<>=*~|+-]*")

_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
SYSLOG_TIME = re.compile(rf"^{_MONTH} [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)?")
ISO_TIME = re.compile(
    r"^\[?\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?: ?(?:Z|UTC|[+-]\d\d:?\d\d))?\]?"
)
CLOCK_TIME = re.compile(r"^\[?\d\d:\d\d:\d\d(?:[.,]\d+)?\]?(?=\s)")


def is_reply(text: str) -> bool:
    return bool(REPLY.match(text))


def is_command(text: str) -> bool:
    """Starts with an SMTP verb in any case ("mail from:", "Rcpt To:", "QUIT")."""
    match = _VERB.match(text)
    return bool(match) and match.group(1).upper() in KNOWN_VERBS


def has_timestamp(text: str) -> bool:
    return bool(SYSLOG_TIME.match(text) or ISO_TIME.match(text) or CLOCK_TIME.match(text))


def smtp_content(text: str) -> bool:
    """Is there a reply or a timestamp once quote levels and direction markers are gone?"""
    inner = MARKERS.sub("", text, count=1)
    return is_reply(inner) or has_timestamp(inner) or has_timestamp(text.lstrip("> "))


def retext(line: Line, text: str, flag: str, **changes: object) -> Line:
    """The line with new text, remembering which normaliser touched it."""
    return replace(line, text=text, flags=line.flags | {flag}, **changes)  # type: ignore[arg-type]


def blank(line: Line) -> bool:
    return not line.text.strip()
