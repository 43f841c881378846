"""Split the events of one input into sessions (one per connection), as they stream by.

Logs that interleave connections name each one (``Event.stream``): those are
grouped by name. Otherwise a new session starts where a new connection does:
a connect notice after SMTP traffic, a shell prompt after SMTP traffic (the
next run of the tool), or a greeting after the previous session ended
(several pastes one after another).

The ``Splitter`` works on a stream of events of any length and yields each
session once it is complete: when its connection's stream ends (the dialect
says so with ``StreamEnd``: Postfix "disconnect from", Exchange's "-"), when
the next connection of the same stream starts, when the stream has been
silent for ``limits.IDLE_LINES`` lines, or at the end of the input. Memory is
bounded (smtplog/limits.py): at most ``MAX_OPEN_STREAMS`` streams are open
(the one silent for longest is closed first, with a note), a session longer
than ``MAX_SESSION_EVENTS`` keeps its head and its tail, and sessions are
reported in the order they began as long as those waiting for an earlier one
to finish hold no more than ``REORDER_EVENTS`` events.
"""

from __future__ import annotations

import heapq
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from smtplog import limits
from smtplog.events import (
    Closed,
    Command,
    Connected,
    ConnectFailed,
    Connecting,
    Event,
    Note,
    Reply,
    ShellPrompt,
    StreamEnd,
    Timeout,
)

if TYPE_CHECKING:
    from smtplog.source import Line

# A failed attempt followed by another one (telnet trying ::1, then
# 127.0.0.1) is one session: only SMTP traffic or an open connection ends it.
_TRAFFIC = (Reply, Command)
# A session is reported when it holds SMTP, or at least a connection.
_REPORTED = (Reply, Command, ConnectFailed, Connected, Closed, Timeout)
_TEXT_WEIGHT = 512  # characters of text that count as one more event towards the limits

# What the splitter needs to know of an event's type, as bits: one dict look-up per
# event instead of a chain of isinstance() calls (``_kind`` says how each bit is made).
_END = 1  # StreamEnd
_REPLY = 2
_COMMAND = 4
_ENDER = 8  # Closed, ConnectFailed: the session is over
_CONNECTING = 16
_CONNECTED = 32
_PROMPT = 64  # ShellPrompt
_REPORTS = 128  # one of _REPORTED
_TEXT = 256  # may carry a text (that weighs more than one event when long)
_LINES = 512  # a Reply: its text is its lines joined, weighed without joining them
_MAY_START = _REPLY | _CONNECTING | _CONNECTED | _PROMPT  # see Connection.starts_new
_KINDS: dict[type, int] = {}

# The order sessions began: (stream, connection within the stream) as one int,
# stream << ORDER_BITS | connection, which the heaps compare a little faster than a
# tuple; the same order as the tuple's while a stream has fewer than 2**40 connections.
Order = int
ORDER_BITS = 40


def _weight(event: Event) -> int:
    """What an event costs towards the limits: 1, more for a long text (a 1 MB line)."""
    text = getattr(event, "text", None)
    if isinstance(text, str) and len(text) > _TEXT_WEIGHT:
        return 1 + len(text) // _TEXT_WEIGHT
    return 1


def _kind(cls: type) -> int:
    """The bits of ``cls`` (what isinstance() says of its events), computed once per type."""
    kind = _KINDS.get(cls)
    if kind is None:
        kind = 0
        for bit, types in (
            (_END, StreamEnd),
            (_REPLY, Reply),
            (_COMMAND, Command),
            (_ENDER, (Closed, ConnectFailed)),
            (_CONNECTING, Connecting),
            (_CONNECTED, Connected),
            (_PROMPT, ShellPrompt),
            (_REPORTS, _REPORTED),
        ):
            if issubclass(cls, types):
                kind |= bit
        # Events with slots and no ``text`` in their class have none (those of
        # smtplog.events); an event with a __dict__ may have one of its own.
        if cls.__dictoffset__:
            kind |= _TEXT
        elif issubclass(cls, Reply) and cls.text is Reply.text:  # type: ignore[attr-defined]
            kind |= _LINES
        elif hasattr(cls, "text"):
            kind |= _TEXT
        _KINDS[cls] = kind
    return kind


@dataclass(slots=True, init=False)
class Connection:
    """The session being built in one stream, and what deciding its end needs."""

    order: Order
    max_events: int
    tail_events: int
    events: list[Event]
    weight: int
    traffic: bool  # a Reply or Command so far
    connected: bool  # a Connected so far
    ended: bool  # the last Closed / ConnectFailed / Reply said the session is over
    replies: int
    first_reply: int | None  # its code
    last_command: Command | None
    reportable: bool
    # Cut sessions (see ``limits.MAX_SESSION_EVENTS``): the tail, and what was left out.
    tail: deque[Event] | None
    tail_weight: int
    dropped: int
    dropped_lines: list[int] | None  # first and last line left out

    def __init__(
        self,
        order: Order,
        max_events: int = limits.MAX_SESSION_EVENTS,
        tail_events: int = limits.SESSION_TAIL_EVENTS,
    ) -> None:
        # Written out (one per session): the generated __init__, with a parameter per
        # field and two default factories, cost twice as much.
        self.order = order
        self.max_events = max_events
        self.tail_events = tail_events
        self.events = []
        self.weight = self.replies = self.tail_weight = self.dropped = 0
        self.traffic = self.connected = self.ended = self.reportable = False
        self.first_reply = self.last_command = self.tail = self.dropped_lines = None

    def starts_new(self, event: Event) -> bool:
        """Does ``event`` begin the next connection (this one being complete)?"""
        if not self.events:
            return False
        if isinstance(event, (Connecting, Connected)) and (self.traffic or self.connected):
            # A Connected right after its own Connecting belongs to the same attempt.
            last = self.tail[-1] if self.tail else self.events[-1]
            return not (isinstance(event, Connected) and isinstance(last, Connecting))
        if isinstance(event, Reply) and event.code == 220:
            return self.ended or self._new_greeting(event)
        return isinstance(event, ShellPrompt) and self.traffic

    def _new_greeting(self, event: Reply) -> bool:
        """A 220 greeting after SMTP traffic that no STARTTLS asked for: the next paste.

        (Replies to STARTTLS carry an enhanced code or speak of TLS; a greeting
        names the host or the service: "220 mx.example.test ESMTP Postfix".)
        """
        if not self.traffic:
            return False
        if not self.replies or (self.replies == 1 and self.first_reply == 220):
            # The client spoke before this greeting, or during a multi-line one
            # (postscreen's "220-" teaser): the same connection.
            return False
        if event.enhanced or "TLS" in event.text.upper():
            return False
        if self.last_command is not None and self.last_command.verb == "STARTTLS":
            return False
        first = event.text.split(None, 1)[0] if event.text.strip() else ""
        return "." in first or "SMTP" in event.text.upper()

    def add(self, event: Event, weight: int) -> None:
        """Keep ``event`` (or, in a session beyond the limit, its tail)."""
        self.track(event)
        if self.tail is None and self.weight + weight <= self.max_events - self.tail_events:
            self.events.append(event)
            self.weight += weight
            return
        self._add_to_tail(event, weight)

    def track(self, event: Event) -> None:
        """What deciding the session's end needs to know about ``event``."""
        if isinstance(event, Reply):
            self.traffic = True
            self.replies += 1
            if self.first_reply is None:
                self.first_reply = event.code
            self.ended = event.code in (221, 421)
        elif isinstance(event, Command):
            self.traffic = True
            self.last_command = event
        elif isinstance(event, (Closed, ConnectFailed)):
            self.ended = True
        if isinstance(event, Connected):
            self.connected = True
        if not self.reportable and isinstance(event, _REPORTED):
            self.reportable = True

    def _add_to_tail(self, event: Event, weight: int) -> None:
        if self.tail is None:
            self.tail = deque()
        self.tail.append(event)
        self.tail_weight += weight
        while self.tail_weight > self.tail_events and len(self.tail) > 1:
            old = self.tail.popleft()
            self.tail_weight -= _weight(old)
            self.dropped += 1
            if old.span is not None:
                if not self.dropped_lines:
                    self.dropped_lines = [old.span.first, old.span.last]
                self.dropped_lines[1] = max(self.dropped_lines[1], old.span.last)

    @property
    def size(self) -> int:
        return self.weight + self.tail_weight

    def finish(self) -> tuple[list[Event], str | None]:
        """The session's events, and a note when the middle of it had to be left out."""
        if self.tail is None:
            return self.events, None
        tail = list(self.tail)
        if not self.dropped:  # the session fits: nothing is missing between head and tail
            return [*self.events, *tail], None
        # Resume at a command, so that every reply kept has its request.
        start = next((i for i, e in enumerate(tail) if isinstance(e, Command)), 0)
        for event in tail[:start]:
            self.dropped += 1
            if event.span is not None:
                if not self.dropped_lines:
                    self.dropped_lines = [event.span.first, event.span.last]
                self.dropped_lines[1] = max(self.dropped_lines[1], event.span.last)
        where = ""
        if self.dropped_lines:
            first, last = self.dropped_lines
            where = f" (lines {first:,}-{last:,})"
        note = (
            f"{self.dropped:,} events{where} of this session were left out: a session this "
            f"long keeps its first and last events (a limit: smtplog.limits.MAX_SESSION_EVENTS "
            f"= {self.max_events:,})"
        )
        cut = Note(text=note, stream=self.events[-1].stream if self.events else None)
        return [*self.events, cut, *tail[start:]], note


@dataclass(slots=True, init=False)
class _Stream:
    key: str | None
    number: int
    connections: int
    current: Connection | None
    last_line: int
    ending: bool  # the dialect said the stream is over

    def __init__(self, key: str | None, number: int) -> None:  # (one per stream: written out)
        self.key = key
        self.number = number
        self.connections = self.last_line = 0
        self.current = None
        self.ending = False


# A complete session waiting for earlier ones: (order, events, weight). Orders are
# unique, so the heap compares tuples by order alone, in C.
_Ready = tuple[Order, list[Event], int]


class Splitter:
    """Events in, complete sessions out (see the module docstring).

    ``notes`` collects what the limits cut, for the report.
    """

    def __init__(
        self,
        *,
        everything: bool = False,
        reorder_events: int = limits.REORDER_EVENTS,
        max_events: int = limits.MAX_SESSION_EVENTS,
        tail_events: int = limits.SESSION_TAIL_EVENTS,
        max_streams: int = limits.MAX_OPEN_STREAMS,
        max_held: int = limits.MAX_HELD_EVENTS,
        idle_lines: int = limits.IDLE_LINES,
    ) -> None:
        self.everything = everything  # report sessions without SMTP too
        self.max_events, self.tail_events = max_events, tail_events
        self.head_room = max_events - tail_events  # what a session keeps before its tail
        self.max_streams, self.max_held, self.idle_lines = max_streams, max_held, idle_lines
        self.added = 0  # events seen
        self.streams: OrderedDict[str | None, _Stream] = OrderedDict()  # least recent first
        self.last_key: str | None = None
        self.ending: _Stream | None = None
        self.count = 0  # streams seen
        self.line = 0  # the furthest input line seen
        self.held = 0  # weight of the events in open sessions
        self.open: list[Order] = []  # heap of open sessions that will be reported
        self.closed: set[Order] = set()  # ... that have since completed (lazy deletion)
        self.ready: list[_Ready] = []  # heap of complete sessions waiting for earlier ones
        self.waiting = 0  # their weight
        self.reorder_events = reorder_events
        self.notes: list[str] = []
        self.cut_streams = 0
        self.cut_by: set[str] = set()  # the limits that cut a stream (each noted once)
        # A session completed since ``_release`` last looked: until one does, the
        # sessions waiting stay blocked by the same open one.
        self.fresh = False

    def split(
        self,
        events: Iterable[Event],
        aside: list[Line] | None = None,
        prompt: Callable[[Line], Event] | None = None,
    ) -> Iterator[list[Event]]:
        """The sessions of ``events``, each once it is complete.

        ``aside``: lines that cleanup set aside (shell prompts), in line order; the list
        may grow while ``events`` are read. Each goes among the events as ``prompt(line)``,
        before the first event from a later line (``analysis.with_prompts``, done here:
        one generator less per event; tests/test_sessions.py proves them the same).
        """
        take = self._take
        ready, opened, closed, heappop = self.ready, self.open, self.closed, heapq.heappop
        if aside is None or prompt is None:
            aside, prompt = [], _no_prompt
        taken = 0
        for event in events:
            if taken < len(aside) and event.span is not None:
                first = event.span.first
                while taken < len(aside) and aside[taken].number <= first:
                    taken += 1
                    if take(prompt(aside[taken - 1])):
                        yield from self._release()
                if taken > 1024:  # what was placed is not needed again
                    del aside[:taken]
                    taken = 0
            if take(event):
                # self._release(), inlined: a generator less per session completed.
                self.fresh = False
                while ready:
                    while opened and opened[0] in closed:
                        closed.discard(heappop(opened))
                    oldest = ready[0]  # (order, events, weight)
                    if opened and opened[0] < oldest[0] and self.waiting <= self.reorder_events:
                        break
                    heappop(ready)
                    self.waiting -= oldest[2]
                    yield oldest[1]
        for line in aside[taken:]:
            if take(prompt(line)):
                yield from self._release()
        yield from self.finish()

    def add(self, event: Event) -> Iterator[list[Event]]:
        """Take ``event``; the sessions it lets go."""
        return self._release() if self._take(event) else ()

    def _take(self, event: Event) -> bool:  # noqa: PLR0915 (one call per event)
        """Take ``event``: may a complete session be reported now?

        (The hottest code of a long log: ``Connection.add`` and ``track`` inlined,
        ``starts_new`` asked only of the events that can start a connection;
        tests/test_sessions.py proves the sessions equal to those of the plain
        definition, tests/reference_splitter.py.)
        """
        span = event.span
        if span is not None and (last := span.last) > self.line:
            self.line = last
        cls = type(event)
        kind = _KINDS.get(cls)
        if kind is None:
            kind = _kind(cls)
        if kind & _END:
            stream = self.streams.get(event.stream)
            if self.ending is not None and self.ending is not stream:
                self._close(self.ending)
            if stream is not None:
                stream.ending = True
                self.ending = stream
            self.last_key = event.stream
            return self.fresh
        key = event.stream
        unnamed = key is None
        if unnamed:
            key = self.last_key
        else:
            self.last_key = key
        streams = self.streams
        ending = self.ending
        if ending is not None:
            if ending.key == key:
                ending.ending = unnamed  # the same stream goes on
                if not unnamed:
                    self.ending = None
            else:  # self._close(ending): the next connection's first event (once per session)
                self.ending = None
                if streams.get(ending.key) is ending:
                    del streams[ending.key]
                if ending.current is not None:
                    self._complete(ending.current)
                    ending.current = None
        stream = streams.get(key)
        if stream is None:
            stream = streams[key] = _Stream(key, self.count)
            self.count += 1
            if len(streams) > self.max_streams:
                self._cut(next(iter(streams.values())), "open streams", "MAX_OPEN_STREAMS")
        else:
            streams.move_to_end(key)
        stream.last_line = self.line
        current = stream.current
        if current is None or (
            kind & _MAY_START
            # (of replies, only a greeting may start one: starts_new's answer for the rest)
            and (not kind & _REPLY or event.code == 220)  # type: ignore[attr-defined]
            and current.starts_new(event)
        ):
            if current is not None:
                self._complete(current)
            current = stream.current = Connection(
                stream.number << ORDER_BITS | stream.connections,
                self.max_events,
                self.tail_events,
            )
            stream.connections += 1
        # A session to report from now on: it waits for no later one.
        if not current.reportable and (not current.events if self.everything else kind & _REPORTS):
            heapq.heappush(self.open, current.order)
        weight = 1
        if kind & _TEXT:  # _weight(event)
            text = getattr(event, "text", None)
            if isinstance(text, str) and len(text) > _TEXT_WEIGHT:
                weight = 1 + len(text) // _TEXT_WEIGHT
        elif kind & _LINES:  # one short line (most replies) weighs 1 without Reply.text
            lines = event.lines  # type: ignore[attr-defined]
            if len(lines) != 1 or len(lines[0]) > _TEXT_WEIGHT:
                weight = _weight(event)
        # current.track(event) (an event is of one of these types at most: their slots clash;
        # each of them is one of _REPORTS: the rest, notes mostly, change nothing)
        if kind & _REPORTS:
            if kind & _REPLY:
                current.traffic = current.reportable = True
                current.replies += 1
                if current.first_reply is None:
                    current.first_reply = event.code  # type: ignore[attr-defined]
                current.ended = event.code in (221, 421)  # type: ignore[attr-defined]
            elif kind & _COMMAND:
                current.traffic = current.reportable = True
                current.last_command = event  # type: ignore[assignment]
            elif kind & _ENDER:
                current.ended = current.reportable = True
            elif kind & _CONNECTED:
                current.connected = current.reportable = True
            else:
                current.reportable = True
        # the rest of current.add(event, weight)
        if current.tail is None and current.weight + weight <= self.head_room:
            current.events.append(event)
            current.weight += weight
            self.held += weight
        else:  # a session being cut: what its tail drops is no longer held
            before = current.weight + current.tail_weight
            current._add_to_tail(event, weight)
            self.held += current.weight + current.tail_weight - before
        self.added += 1
        if self.added % 64 == 0 or self.held > self.max_held:
            self._expire()
        return self.fresh

    def finish(self) -> Iterator[list[Event]]:
        for stream in list(self.streams.values()):
            self._close(stream)
        self.ending = None
        self.reorder_events = -1  # nothing is open any more: everything goes
        yield from self._release()

    # -- completing sessions ------------------------------------------------------------------

    def _close(self, stream: _Stream) -> None:
        """The stream is over: its session is complete and the stream forgotten."""
        if self.ending is stream:
            self.ending = None
        if self.streams.get(stream.key) is stream:
            del self.streams[stream.key]
        if stream.current is not None:
            self._complete(stream.current)
            stream.current = None

    def _complete(self, connection: Connection) -> None:
        size = connection.weight + connection.tail_weight
        self.held -= size
        if not (connection.reportable or self.everything):
            return  # no SMTP in it (a daemon's notes in a shared log): nothing to report
        self.closed.add(connection.order)
        if connection.tail is None:  # connection.finish() of a session that was not cut
            events = connection.events
        else:
            events, note = connection.finish()
            if note is not None:
                self._note(note)
        heapq.heappush(self.ready, (connection.order, events, size))
        self.waiting += size
        self.fresh = True

    def _expire(self) -> None:
        """Close streams silent for too long, and the least recent ones while too much is held."""
        while self.streams:
            oldest = next(iter(self.streams.values()))
            if oldest.last_line < self.line - self.idle_lines:
                self._close(oldest)
            elif self.held > self.max_held and len(self.streams) > 1:
                self._cut(oldest, "events held in open sessions", "MAX_HELD_EVENTS")
            else:
                break

    def _cut(self, stream: _Stream, what: str, limit: str) -> None:
        self.cut_streams += 1
        if limit not in self.cut_by:  # said once per limit
            self.cut_by.add(limit)
            self._note(
                f"more connections were open at once than smtplog follows ({what}); "
                "the one silent for longest was reported as it stood (a limit: "
                f"smtplog.limits.{limit}); what followed it is reported separately"
            )
        self._close(stream)

    def _note(self, text: str) -> None:
        if len(self.notes) < limits.MAX_NOTES:
            self.notes.append(text)
        elif len(self.notes) == limits.MAX_NOTES:
            self.notes.append("more sessions were cut the same way (not listed)")

    def _release(self) -> Iterator[list[Event]]:
        """Complete sessions, in the order they began, while none before them is open."""
        self.fresh = False
        while self.ready:
            while self.open and self.open[0] in self.closed:
                self.closed.discard(heapq.heappop(self.open))
            order, events, weight = self.ready[0]
            if self.open and self.open[0] < order and self.waiting <= self.reorder_events:
                return
            heapq.heappop(self.ready)
            self.waiting -= weight
            yield events


def _no_prompt(line: Line) -> Event:
    raise AssertionError("no line is set aside")  # (aside is empty)


def split_connections(events: Iterable[Event]) -> list[list[Event]]:
    """One stream's events as sessions, one per connection (no limits apply)."""
    sessions: list[list[Event]] = []
    current: Connection | None = None
    for event in events:
        if current is None or current.starts_new(event):
            current = Connection((0, len(sessions)))
            sessions.append(current.events)
        current.events.append(event)
        current.track(event)
    return sessions


def split_sessions(events: Iterable[Event]) -> list[list[Event]]:
    """Every session of a whole input (with SMTP or not), in the order they began.

    No limits apply: the caller holds the whole input already.
    """
    unlimited = 1 << 62
    splitter = Splitter(
        everything=True,
        reorder_events=unlimited,
        max_events=unlimited,
        tail_events=0,
        max_streams=unlimited,
        max_held=unlimited,
        idle_lines=unlimited,
    )
    return list(splitter.split(e for e in events if not isinstance(e, StreamEnd)))
