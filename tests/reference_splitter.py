"""The Splitter's per-event methods as they were defined before their fast paths
(smtplog/sessions.py at 8ed6432): the definition tests/test_sessions.py compares the fast
``Splitter`` with.

Only these changed: ``add`` (now ``_take``, with ``Connection.add``/``track`` inlined and
``starts_new`` asked only of the events that can start a connection), ``split`` (which now
places shell prompts itself and releases sessions inline, only after one completed) and
``_complete``. ``Connection``, ``_release`` (the definition ``split`` inlines) and the rest
of the ``Splitter`` are smtplog's own, so the test compares exactly what the fast paths
replaced. Not used by smtplog."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator

from smtplog.events import Event, StreamEnd
from smtplog.sessions import Connection, _Stream, _weight
from smtplog.sessions import Splitter as _Fast


class Splitter(_Fast):
    def split(self, events: Iterable[Event]) -> Iterator[list[Event]]:
        for event in events:
            yield from self.add(event)
        yield from self.finish()

    def add(self, event: Event) -> Iterator[list[Event]]:
        if event.span is not None and event.span.last > self.line:
            self.line = event.span.last
        if isinstance(event, StreamEnd):
            stream = self.streams.get(event.stream)
            if self.ending is not None and self.ending is not stream:
                self._close(self.ending)
            if stream is not None:
                stream.ending = True
                self.ending = stream
            self.last_key = event.stream
            return self._release() if self.ready else ()
        key = event.stream if event.stream is not None else self.last_key
        self.last_key = key
        if self.ending is not None:
            if self.ending.key == key:
                self.ending.ending = event.stream is None  # the same stream goes on
                if not self.ending.ending:
                    self.ending = None
            else:
                self._close(self.ending)
        stream = self.streams.get(key)
        if stream is None:
            stream = self.streams[key] = _Stream(key, self.count)
            self.count += 1
            if len(self.streams) > self.max_streams:
                self._cut(next(iter(self.streams.values())), "open streams", "MAX_OPEN_STREAMS")
        else:
            self.streams.move_to_end(key)
        stream.last_line = self.line
        current = stream.current
        if current is None or current.starts_new(event):
            if current is not None:
                self._complete(current)
            current = stream.current = Connection(
                (stream.number, stream.connections), self.max_events, self.tail_events
            )
            stream.connections += 1
        was_reportable = current.reportable or (self.everything and bool(current.events))
        weight = _weight(event)
        if current.tail is None and current.weight + weight <= self.max_events - self.tail_events:
            current.add(event, weight)
            self.held += weight
        else:  # a session being cut: what its tail drops is no longer held
            before = current.size
            current.add(event, weight)
            self.held += current.size - before
        if not was_reportable and (current.reportable or self.everything):
            heapq.heappush(self.open, current.order)
        self.added += 1
        if self.added % 64 == 0 or self.held > self.max_held:
            self._expire()
        return self._release() if self.ready else ()

    def _complete(self, connection: Connection) -> None:
        self.held -= connection.size
        if not (connection.reportable or self.everything):
            return  # no SMTP in it (a daemon's notes in a shared log): nothing to report
        self.closed.add(connection.order)
        events, note = connection.finish()
        if note is not None:
            self._note(note)
        heapq.heappush(self.ready, (connection.order, events, connection.size))
        self.waiting += connection.size
