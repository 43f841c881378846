"""Split the events of one input into sessions (one per connection).

Logs that interleave connections name each one (``Event.stream``): those are
grouped by name. Otherwise a new session starts where a new connection does:
a connect notice after SMTP traffic, a shell prompt after SMTP traffic (the
next run of the tool), or a greeting after the previous session ended
(several pastes one after another).
"""

from __future__ import annotations

from collections.abc import Iterable

from smtplog.events import (
    Closed,
    Command,
    Connected,
    ConnectFailed,
    Connecting,
    Event,
    Reply,
    ShellPrompt,
)

# A failed attempt followed by another one (telnet trying ::1, then
# 127.0.0.1) is one session: only SMTP traffic or an open connection ends it.
_TRAFFIC = (Reply, Command)


def _has_traffic(events: list[Event]) -> bool:
    return any(isinstance(event, _TRAFFIC) for event in events)


def _ended(events: list[Event]) -> bool:
    for event in reversed(events):
        if isinstance(event, Closed | ConnectFailed):
            return True
        if isinstance(event, Reply):
            return event.code in (221, 421)
    return False


def _new_greeting(event: Event, current: list[Event]) -> bool:
    """A 220 greeting after SMTP traffic that no STARTTLS asked for: the next paste.

    (Replies to STARTTLS carry an enhanced code or speak of TLS; a greeting
    names the host or the service: "220 mx.example.test ESMTP Postfix".)
    """
    if not (isinstance(event, Reply) and event.code == 220 and _has_traffic(current)):
        return False
    replies = [e for e in current if isinstance(e, Reply)]
    if not replies or (len(replies) == 1 and replies[0].code == 220):
        # The client spoke before this greeting, or during a multi-line one
        # (postscreen's "220-" teaser): the same connection.
        return False
    if event.enhanced or "TLS" in event.text.upper():
        return False
    asked = next((e for e in reversed(current) if isinstance(e, Command)), None)
    if asked is not None and asked.verb == "STARTTLS":
        return False
    first = event.text.split(None, 1)[0] if event.text.strip() else ""
    return "." in first or "SMTP" in event.text.upper()


def split_connections(events: Iterable[Event]) -> list[list[Event]]:
    sessions: list[list[Event]] = [[]]
    for event in events:
        current = sessions[-1]
        starts_connection = isinstance(event, Connecting | Connected) and (
            _has_traffic(current) or any(isinstance(e, Connected) for e in current)
        )
        # A Connected right after its own Connecting belongs to the same attempt.
        if isinstance(event, Connected) and current and isinstance(current[-1], Connecting):
            starts_connection = False
        greeting_after_end = isinstance(event, Reply) and event.code == 220 and _ended(current)
        greeting_after_end = greeting_after_end or _new_greeting(event, current)
        next_run = isinstance(event, ShellPrompt) and _has_traffic(current)
        if starts_connection or greeting_after_end or next_run:
            sessions.append([])
        sessions[-1].append(event)
    return [session for session in sessions if session]


def split_sessions(events: Iterable[Event]) -> list[list[Event]]:
    events = list(events)
    if not any(event.stream for event in events):
        return split_connections(events)
    groups: dict[str | None, list[Event]] = {}
    last: str | None = None
    for event in events:
        key = event.stream if event.stream is not None else last
        groups.setdefault(key, []).append(event)
        last = key
    sessions: list[list[Event]] = []
    for group in groups.values():
        sessions.extend(split_connections(group))
    return sessions
