"""How events read as evidence: their text and line, and the port a session went to."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from smtplog.events import (
    AuthResponse,
    ClientError,
    Closed,
    Command,
    ConnectFailed,
    DataEnd,
    Encrypted,
    Event,
    Note,
    Reply,
    Timeout,
    TlsFailed,
)
from smtplog.protocol import SessionAnalysis
from smtplog.report import Evidence


def event_text(event: Event | None) -> str:
    """How an event reads in evidence (secrets are already masked in events)."""
    if event is None:
        return ""
    read = _READERS.get(type(event))
    if read is not None:  # (by its exact class: one look-up instead of a row of tests)
        return read(event)
    return _event_text(event)


def _event_text(event: Event) -> str:
    """``event_text``, asked class by class (the definition; subclasses included)."""
    if isinstance(event, Reply):
        return reply_wire_text(event)
    if isinstance(event, Command):
        return event.display
    if isinstance(event, AuthResponse):
        return event.text
    if isinstance(event, DataEnd):
        return "."
    if isinstance(event, (ConnectFailed, Closed, Timeout)):
        return event.detail or event.kind
    if isinstance(event, TlsFailed):
        return event.reason
    if isinstance(event, Encrypted):
        return event.text
    if isinstance(event, ClientError):
        return event.text
    return getattr(event, "text", event.kind)


def reply_wire_text(reply: Reply, separator: str = "\n") -> str:
    """``separator.join(reply.wire_lines())``, without the list for a one-line reply
    (most are: tests/rules/test_fast_paths.py)."""
    lines = reply.lines
    if len(lines) == 1:
        return f"{reply.code} {lines[0]}".rstrip()
    return separator.join(reply.wire_lines())


def _text(event: Event) -> str:
    return event.text  # type: ignore[attr-defined, no-any-return]


def _detail_or_kind(event: Event) -> str:
    return event.detail or event.kind  # type: ignore[attr-defined, no-any-return]


# What ``_event_text`` gives for an event of exactly these classes (none has a subclass but
# Note, whose ShellPrompt takes the long way: tests/rules/test_fast_paths.py).
_READERS: dict[type[Event], Callable[[Any], str]] = {
    Reply: reply_wire_text,
    Command: lambda event: event.display,
    AuthResponse: _text,
    DataEnd: lambda event: ".",
    ConnectFailed: _detail_or_kind,
    Closed: _detail_or_kind,
    Timeout: _detail_or_kind,
    TlsFailed: lambda event: event.reason,
    Encrypted: _text,
    ClientError: _text,
    Note: _text,
}


def evidence_of(event: Event | None) -> Evidence:
    return Evidence(event.span.first if event and event.span else None, event_text(event))


_PORT = re.compile(r"(?::|\bport\s+)(\d{1,5})\b(?!.*:\d)")


def target_port(analysis: SessionAnalysis) -> int | None:
    """The TCP port the session went to, when the transcript says."""
    target = analysis.target
    return _port_of(target) if target else None


@lru_cache(maxsize=1024)  # a log names the same few servers over and over
def _port_of(target: str) -> int | None:
    match = _PORT.search(target)
    return int(match.group(1)) if match else None
