"""Find every AUTH secret in a transcript, and what to write in its place.

The analyzer already knows which events are secret (events.py: AuthResponse
and AUTH commands with ``secret=True``) and which input line each came from
(``span``). The dialect's records say what the client sent on that line,
without the dialect's own prefix; that text, found in the original line, is
what gets replaced. So every dialect, present and future, is redacted by the
same code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from smtplog.assemble import ClientLine, UnmarkedLine, assemble
from smtplog.auth import already_masked, hidden_by_tool
from smtplog.events import (
    AuthResponse,
    Closed,
    Command,
    Connected,
    ConnectFailed,
    Reply,
    Timeout,
    Unparsed,
)
from smtplog.smtp import b64decode_text, split_command

# What makes a session for `analyze` (analysis.py): without any, a dialect read nothing.
SMTP_EVENTS = (Reply, Command, ConnectFailed, Connected, Closed, Timeout)
MIN_PLAIN_SECRET = 6  # a decoded password shorter than this is only replaced where it was sent


@dataclass(frozen=True, slots=True)
class Secret:
    line: int  # 1-based input line
    sent: str  # what the client sent (base64, or typed in clear)
    mask: str  # what to write instead
    role: str


@dataclass(slots=True)
class Findings:
    secrets: list[Secret] = field(default_factory=list)
    values: set[str] = field(default_factory=set)  # decoded passwords and tokens
    logins: list[tuple[int, str]] = field(default_factory=list)  # (line, decoded user name)
    helo_names: list[str] = field(default_factory=list)
    smtp: bool = False  # the dialect read an SMTP session (else nothing can be found)


def standing_alone(value: str) -> re.Pattern[str]:
    """A decoded secret as a word of its own: "S3cr3t-Pa55" in a line, not "test" in
    "example.test" (clear-text values are only ever replaced where they stand alone)."""
    from smtplog.recache import private

    with private():  # a secret: never in the user cache's compiled expressions
        return re.compile(rf"(?<![^\s'\"<>:=]){re.escape(value)}(?![^\s'\">,;])")


def dialect_safe(mask: str) -> str:
    """The analyzer's mask without commas or quotes, which CSV-like logs would split on."""
    return mask.replace(", ", "; ").replace(",", ";").replace('"', "'")


def client_texts(records: Iterable[object]) -> dict[int, str]:
    """What the client sent, per input line, as the dialect read it (a line the
    dialect did not understand may be credentials too: assemble.py masks those)."""
    texts: dict[int, str] = {}
    for record in records:
        if isinstance(record, (ClientLine, Unparsed)) or (
            isinstance(record, UnmarkedLine) and record.reply is None
        ):
            texts.setdefault(record.span.first, record.text)
    return texts


def find(dialect: object, source: object) -> Findings:
    """Events and AUTH secrets of ``source`` (as cleanup left it) read as ``dialect``."""
    from smtplog.dialects.base import Dialect

    assert isinstance(dialect, Dialect)
    try:
        records = list(dialect.records(source))  # type: ignore[arg-type]
    except NotImplementedError:  # a dialect that builds events itself
        records = []
    if records and type(dialect).events is Dialect.events:
        events = assemble(records)  # type: ignore[arg-type]
    else:
        events = dialect.events(source)  # type: ignore[arg-type]
    texts = client_texts(records)
    found = Findings(smtp=any(isinstance(event, SMTP_EVENTS) for event in events))
    for event in events:
        if event.span is None:
            continue
        line = event.span.first
        sent = texts.get(line)
        if isinstance(event, AuthResponse):
            _auth_response(found, event, line, sent)
        elif isinstance(event, Command):
            _command(found, event, line, sent)
    return found


def _auth_response(found: Findings, event: AuthResponse, line: int, sent: str | None) -> None:
    if event.role == "username" and event.decoded:
        found.logins.append((line, event.decoded))
    if not event.secret:
        return
    sent = (sent or "").strip()
    if sent and (already_masked(sent) or hidden_by_tool(sent)):
        return  # the tool or smtplog hid it already
    found.secrets.append(Secret(line, sent, dialect_safe(event.text), event.role))
    _remember_values(found, sent, event.role)


def _command(found: Findings, event: Command, line: int, sent: str | None) -> None:
    if event.verb in ("EHLO", "HELO", "LHLO") and event.argument:
        found.helo_names.append(event.argument.split()[0])
    if event.verb != "AUTH" or not event.secret:
        return
    initial = ""
    if sent:
        _verb, argument = split_command(sent)
        initial = argument.partition(" ")[2].strip()
    masked = event.argument.partition(" ")[2].strip()
    if initial and (already_masked(initial) or hidden_by_tool(initial)):
        return
    found.secrets.append(Secret(line, initial, dialect_safe(masked), "credentials"))
    _remember_values(found, initial, "credentials")


def _remember_values(found: Findings, sent: str, role: str) -> None:
    """The secret as sent and every clear-text form of it, to scrub wherever it recurs."""
    if not sent:
        return
    found.values.add(sent)
    decoded = b64decode_text(sent)
    if decoded is None:
        return
    parts = decoded.split("\x00")
    if len(parts) == 3:  # PLAIN: authzid NUL user NUL password
        candidates = [parts[2]]
    elif "auth=Bearer " in decoded:  # XOAUTH2 / OAUTHBEARER
        candidates = [decoded.split("auth=Bearer ", 1)[1].split("\x01", 1)[0]]
    elif role == "password":
        candidates = [decoded]
    else:
        candidates = []
    found.values.update(c for c in candidates if len(c) >= MIN_PLAIN_SECRET)
