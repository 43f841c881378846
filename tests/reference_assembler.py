"""The assembler's ``feed`` as it was defined before its fast paths (smtplog/assemble.py at
8ed6432): the definition that tests/test_assemble_fast.py compares the fast ``Assembler`` with.

Only ``feed`` changed: the fast one picks a record's handler by one look-up of its type, and
builds one-line replies and passes events on without a generator each. Everything it calls
here (``_server_line``, ``_client_line``, ``_flush``, ``_unparsed``...) is smtplog's own, so
the test compares exactly what the fast paths replaced. Not used by smtplog."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from smtplog.assemble import Assembler as _Fast
from smtplog.assemble import ClientLine, Record, ServerLine, UnmarkedLine
from smtplog.events import Event, Note, StreamEnd, Unparsed


class Assembler(_Fast):
    def feed(self, records: Iterable[Record]) -> Iterator[Event]:
        for record in records:
            if isinstance(record, ServerLine):
                yield from self._server_line(record)
            elif isinstance(record, ClientLine):
                yield from self._client_line(record)
            elif isinstance(record, UnmarkedLine):
                yield from self._unmarked_line(record)
            elif isinstance(record, StreamEnd):
                state = self._streams.pop(record.stream, None)
                if state is not None:
                    yield from self._flush(state, record.stream)
                yield record
            else:
                state = self._stream(record.stream)
                # An event between reply lines ends a dangling multi-line reply.
                if state.pending and not isinstance(record, Unparsed):
                    yield self._flush_reply(state)
                yield self._unparsed(state, record) if type(record) in (Unparsed, Note) else record
            if self._notes:
                yield from self._notes
                self._notes.clear()
            if len(self._streams) > self._max_streams:
                key, state = self._streams.popitem(last=False)
                yield from self._flush(state, key)
        yield from self.finish()
