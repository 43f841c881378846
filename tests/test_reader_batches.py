"""The reader's batches are the lines of the plain line-at-a-time definition.

``SourceReader`` makes the lines of a chunk of text at once (smtplog/reader.py:
``_numbered_batches``). ``OneAtATime`` below keeps the definition as it was
(smtplog/reader.py at 8ed6432: ``_all_lines`` and ``_numbered``), a line at a time:
for any text in any chunks (live with pauses or not, long lines cut, CR, CRLF,
backspaces), both give the same head, the same lines, and the same notes at each
line (a note is written when the line it is about is taken, as before).
"""

from __future__ import annotations

from collections.abc import Iterator

from hypothesis import given, settings
from hypothesis import strategies as st

from smtplog import limits, reader
from smtplog.errors import InputError
from smtplog.reader import ByteStream, SourceReader
from smtplog.source import Line, make_lines


class OneAtATime(SourceReader):
    """The definition: each line made when it is asked for."""

    def _numbered_batches(self) -> Iterator[list[Line] | None]:
        for line in self._numbered(self._all_lines()):
            yield None if line is None else [line]

    def _all_lines(self) -> Iterator[str | None]:
        """The lines of the text; None where a live input paused."""
        limit = limits.MAX_LINE_CHARS
        for chunk in self._texts:
            if chunk is None:
                yield None
                continue
            text = chunk
            if self._cr_only is None:
                self._cr_only = self._line_end(self._pending + text)
            separator = "\r" if self._cr_only else "\n"
            if self._skipping:
                end = text.find(separator)
                if end < 0:
                    self._skipping += len(text)
                    continue
                self._skipping += end
                self._note_cut()
                text = text[end + 1 :]
            parts = (self._pending + text).split(separator)
            self._pending = parts.pop()
            for part in parts:
                if len(part) > limit:  # a long line whose end came in this same chunk
                    self.cut_lines += 1
                    self._cut_at = self.line_count + 1
                    self._skipping = len(part) - limit
                    self._note_cut()
                    part = part[:limit]  # noqa: PLW2901
                yield part if self._cr_only else part.rstrip("\r")
            if len(self._pending) > limit:
                self.cut_lines += 1
                self._cut_at = self.line_count + 1
                self._skipping = len(self._pending) - limit
                cut, self._pending = self._pending[:limit], ""
                yield cut if self._cr_only else cut.rstrip("\r")
        if self._skipping:
            self._note_cut()
        last = self._pending if self._cr_only else self._pending.rstrip("\r")
        self._pending = ""
        if last:
            yield last

    def _numbered(self, texts: Iterator[str | None]) -> Iterator[Line | None]:
        number = 0
        for text in texts:
            if text is None:
                yield None
                continue
            number += 1
            self.line_count = number
            if "\b" in text or "\x7f" in text:
                yield from make_lines((text,), number)
            else:
                yield Line(number, text)


PIECES = ["a", "bc", "250 ok", " ", "\r\n", "\n", "\r", "\b", "\x7f", "é", "x" * 9, "\ufeff"]


def _read(reader_class: type[SourceReader], chunks: list[bytes], live: bool, head: int | None):  # type: ignore[no-untyped-def]
    try:
        reader = reader_class(ByteStream(iter(chunks), "t", live=live), head_lines=head)
        seen = [(list(reader.head), reader.complete, reader.paused, reader.notes)]
        while reader.read_more():
            seen.append((list(reader.head), reader.complete, reader.paused, reader.notes))
    except InputError as error:  # empty (blank lines, or backspaces that erase everything)
        return str(error)
    rest = [(line, reader.notes) for line in reader.rest_pausing()]
    return seen, rest, reader.notes, reader.line_count, reader.cut_lines


@settings(max_examples=1500, deadline=None)
@given(
    st.lists(st.sampled_from(PIECES), min_size=1, max_size=60),
    st.lists(st.integers(1, 9), min_size=1, max_size=12),  # chunk sizes, in turn
    st.booleans(),  # live: a pause (an empty chunk) after every third chunk
    st.sampled_from([None, 1, 3, 8]),  # head lines
    st.tuples(  # the longest line, the lines of a batch
        st.sampled_from([4, 7, 12, limits.MAX_LINE_CHARS]),
        st.sampled_from([1, 2, reader.BATCH_LINES]),
    ),
)
def test_any_text_is_read_as_the_definition_reads_it(
    pieces: list[str], sizes: list[int], live: bool, head: int | None, sized: tuple[int, int]
) -> None:
    data = "".join(pieces).encode("utf-8", errors="surrogateescape")
    if not data.strip():
        data = b"x" + data
    chunks, index, turn = [], 0, 0
    while index < len(data):
        size = sizes[turn % len(sizes)]
        chunks.append(data[index : index + size])
        index += size
        turn += 1
        if live and turn % 3 == 0:
            chunks.append(b"")
    saved = limits.MAX_LINE_CHARS, reader.BATCH_LINES
    limits.MAX_LINE_CHARS, reader.BATCH_LINES = sized
    try:
        assert _read(SourceReader, chunks, live, head) == _read(OneAtATime, chunks, live, head)
    finally:
        limits.MAX_LINE_CHARS, reader.BATCH_LINES = saved


def test_a_chunk_of_a_million_empty_lines_is_made_a_bounded_batch_at_a_time() -> None:
    """Memory stays flat: no more than ``BATCH_LINES`` Lines are made at once."""
    data = b"x\n" + b"\n" * 1_000_000
    lines = SourceReader(ByteStream(iter([data]), "t"), head_lines=10)
    sizes = [len(batch) for batch in lines.rest_batches() if batch is not None]
    assert sum(sizes) == 1_000_001 - 10
    assert max(sizes) <= reader.BATCH_LINES
