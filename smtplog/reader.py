"""Reading an input as a stream: bytes in chunks, lines out, memory flat.

``ByteStream`` reads a file (or any iterable of byte chunks) a chunk at a
time, undoes gzip on the way (bounded output per step: a gzip bomb is read
like any large file) and refuses other compressors and archives with the
command that unpacks them. ``SourceReader`` turns those bytes into ``Line``s
exactly as ``source.source_from_bytes`` always has — telnet IAC removed,
UTF-8 with surrogateescape, CRLF / LF (or lone CR), backspaces applied,
original line numbers kept — but incrementally: it reads the head of the
input eagerly (detection and cleanup decide on it) and the rest as the
analysis asks for it. A line longer than ``limits.MAX_LINE_CHARS`` is cut, and
the cut noted.

A live input (a pipe, a terminal, a socket: ``tail -f mail.log | smtplog
analyze``) may pause for as long as it likes. When nothing has arrived for
``limits.HEAD_PAUSE`` seconds, what has arrived is all there is for now: the
head ends there, and the rest's cleanup windows are cut there, so sessions are
reported as they happen. A regular file or bytes never pause: their reading
does not depend on timing.
"""

from __future__ import annotations

import codecs
import os
import re
import select
import stat
import zlib
from collections.abc import Generator, Iterable, Iterator
from itertools import chain
from typing import BinaryIO

from smtplog import limits
from smtplog.containers import GZIP_MAGIC, identify, refusal
from smtplog.errors import InputError
from smtplog.source import Line, looks_binary, make_lines

PEEK_BYTES = 64 * 1024  # what identifying a file looks at
BATCH_LINES = 4096  # lines made at once (SourceReader.rest_batches)
BINARY_SAMPLE = 8192  # what judging "binary or text" looks at (source.looks_binary)
_UNDECODABLE = re.compile("[\udc80-\udcff]")
_IAC, _SB, _SE = 0xFF, 0xFA, 0xF0
_OPTION_COMMANDS = frozenset({0xFB, 0xFC, 0xFD, 0xFE})


def file_chunks(
    file: BinaryIO, name: str, size: int = limits.READ_CHUNK, *, pause: float | None = None
) -> Iterator[bytes]:
    """The bytes of an open binary file, at most ``size`` at a time.

    A buffered stream (stdin, a pipe) gives what has arrived (``read1``) rather
    than waiting for ``size`` bytes: a slow writer's sessions are not held back.
    With ``pause`` (a live file, see ``is_live``), an empty chunk says that
    nothing more arrived for that many seconds (once per quiet spell)."""
    read = getattr(file, "read1", file.read)
    fd = file.fileno() if pause is not None else -1
    quiet = True  # nothing arrived since the last pause was said (or ever)
    while True:
        if pause is not None and not quiet and not _readable(fd, pause):
            quiet = True
            yield b""
        try:
            chunk = read(size)
        except OSError as exc:
            raise InputError(f"{name}: cannot read ({exc.strerror or exc})") from exc
        if not chunk:
            return
        quiet = False
        yield chunk


def is_live(file: object) -> bool:
    """Is ``file`` a pipe, a terminal or a socket, whose writer may pause (not a file on disk)?"""
    try:
        mode = os.fstat(file.fileno()).st_mode  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):  # io.BytesIO has no fileno()
        return False
    return _live_mode(mode)


def may_pause(mode: int) -> bool:
    """Is ``mode`` (``st_mode``) a pipe, a socket or a terminal, whose writer may pause?"""
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISCHR(mode)


def _live_mode(mode: int) -> bool:
    # Windows' select() takes sockets only: its pipes are read as before, without pauses.
    return may_pause(mode) and os.name != "nt"


def _readable(fd: int, timeout: float) -> bool:
    """Does ``fd`` have bytes (or its end) within ``timeout`` seconds?"""
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(timeout * 1000))
    return bool(select.select([fd], [], [], timeout)[0])


class ByteStream:
    """The bytes of one input, in chunks, with gzip undone.

    ``head`` holds the first bytes (at least PEEK_BYTES when the input is that
    long, or what came before a pause) for identifying the content; iterating
    yields every byte, head included, once. ``notes`` say what reading found (a
    gzip file cut short). ``live``: an empty chunk is a pause (see ``file_chunks``).

    Raises (when created):
        InputError: the input is another compressor's output or an archive.
    """

    def __init__(
        self,
        chunks: Iterable[bytes],
        name: str,
        *,
        expected_size: int | None = None,
        live: bool = False,
    ):
        self.name = name
        self.live = live
        self.notes: list[str] = []
        self.size = 0  # bytes delivered so far (after decompression)
        self.compression: str | None = None
        self.expected_size = expected_size  # of a regular file when opened: shrinking is noted
        self._raw_size = 0
        self._raw_read = False  # every raw chunk was read (a gzip file may end early)
        raw = self._counting(iter(chunks))
        head, raw = _peek(raw, PEEK_BYTES, live)
        if head.startswith(GZIP_MAGIC):
            self.compression = "gzip"
            raw = self._gunzip(_chain(head, raw))
            head, raw = _peek(raw, PEEK_BYTES, live)
            kind = identify(head)
            if kind is not None:
                raise InputError(refusal(name, kind, inside="a gzip file"))
        else:
            kind = identify(head)
            if kind is not None:
                raise InputError(refusal(name, kind))
        self.head = head
        self._chunks = _chain(head, raw)

    @classmethod
    def open(cls, path: str) -> ByteStream:
        """A file by name; errors are one line each (missing, a folder, no permission...)."""
        try:
            file = open(path, "rb", buffering=0)  # noqa: SIM115 (closed when the stream ends)
        except FileNotFoundError as exc:
            raise InputError(f"{path}: no such file") from exc
        except IsADirectoryError as exc:
            raise InputError(f"{path}: is a directory (give the files in it)") from exc
        except PermissionError as exc:
            raise InputError(f"{path}: permission denied") from exc
        except OSError as exc:
            raise InputError(f"{path}: cannot open ({exc.strerror or exc})") from exc
        try:
            status = os.fstat(file.fileno())
            if _live_mode(status.st_mode):  # a named pipe: <(tail -f mail.log)
                return cls.of_file(file, path, closing=True)
            expected = status.st_size if stat.S_ISREG(status.st_mode) else None
            return cls(_closing(file, file_chunks(file, path)), path, expected_size=expected)
        except BaseException:
            file.close()
            raise

    @classmethod
    def of_file(cls, file: BinaryIO, name: str, *, closing: bool = False) -> ByteStream:
        """An open binary file (stdin, a socket's ``makefile("rb")``...); a live one pauses."""
        if not is_live(file):
            return cls(file_chunks(file, name), name)
        chunks = file_chunks(file, name, pause=limits.HEAD_PAUSE)
        return cls(_closing(file, chunks) if closing else chunks, name, live=True)

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            self.size += len(chunk)
            yield chunk
        self._check_shrunk()

    def _counting(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            self._raw_size += len(chunk)
            yield chunk
        self._raw_read = True

    def _check_shrunk(self) -> None:
        if (
            self.expected_size is not None
            and self._raw_read
            and self._raw_size < self.expected_size
        ):
            self.notes.append(
                f"the file shrank while it was read ({self.expected_size:,} bytes when opened, "
                f"{self._raw_size:,} read): it was truncated or rotated; this report covers "
                "what was read"
            )
            self.expected_size = None

    def _gunzip(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        """gzip members one after another (``cat a.gz b.gz`` is valid gzip), bounded output."""
        decompressor = zlib.decompressobj(wbits=31)
        fed = False  # the current member has been given bytes
        between = False  # a member has ended: what follows must be the next one
        produced = 0  # bytes of text so far (self.size lags: the head is peeked ahead)
        carry = b""  # the start of the next member's magic, cut by the end of a chunk
        for chunk in chunks:
            if not chunk:
                yield chunk  # a pause of a live input (everything before it was given)
                continue
            data, carry = (carry + chunk if carry else chunk), b""
            while data:
                if between:
                    if len(data) < len(GZIP_MAGIC) and GZIP_MAGIC.startswith(data):
                        carry = data  # the rest of the magic is in the next chunk
                        break
                    if not data.startswith(GZIP_MAGIC):
                        if data.strip(b"\0"):
                            self.notes.append("bytes after the end of the gzip data were ignored")
                        return
                    between = False
                fed = True
                try:
                    out = decompressor.decompress(data, limits.READ_CHUNK)
                except zlib.error as exc:
                    if not produced:
                        raise InputError(f"{self.name}: damaged gzip file ({exc})") from exc
                    self.notes.append(
                        f"the gzip file is damaged after {produced:,} bytes of text "
                        f"({exc}); the rest was left out"
                    )
                    return
                if out:
                    produced += len(out)
                    yield out
                if decompressor.eof:
                    data = decompressor.unused_data
                    decompressor, fed, between = zlib.decompressobj(wbits=31), False, True
                else:
                    data = decompressor.unconsumed_tail
        if carry:
            self.notes.append("bytes after the end of the gzip data were ignored")
            return
        if not fed:
            return
        if not produced:
            raise InputError(f"{self.name}: damaged gzip file (it ends before any text)")
        self.notes.append(
            f"the gzip file is cut short after {produced:,} bytes of text (was it still "
            "being written?); what was there was read"
        )


def _closing(file: BinaryIO, chunks: Iterator[bytes]) -> Iterator[bytes]:
    try:
        yield from chunks
    finally:
        file.close()


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from rest


def _peek(chunks: Iterator[bytes], size: int, live: bool) -> tuple[bytes, Iterator[bytes]]:
    """At least ``size`` bytes from the front of ``chunks`` (fewer at the end, or before a
    pause of a live input: the pause stays in the rest), and the rest."""
    parts: list[bytes] = []
    have = 0
    for chunk in chunks:
        if live and not chunk and have:
            return b"".join(parts), chain((chunk,), chunks)
        parts.append(chunk)
        have += len(chunk)
        if have >= size:
            break
    return b"".join(parts), chunks


class TelnetStripper:
    """Removes telnet IAC negotiation from bytes that arrive in pieces (RFC 854)."""

    def __init__(self) -> None:
        self.found = False
        self._tail = b""  # an IAC sequence cut by the end of the last piece

    def feed(self, data: bytes, final: bool = False) -> bytes:
        if self._tail:
            data, self._tail = self._tail + data, b""
        if b"\xff" not in data:
            return data
        out = bytearray()
        i, n = 0, len(data)
        while i < n:
            index = data.find(b"\xff", i)
            if index < 0:
                out += data[i:]
                break
            out += data[i:index]
            i = index
            command = data[i + 1] if i + 1 < n else None
            if command is None or (command in _OPTION_COMMANDS and i + 2 >= n):
                if final:
                    self.found = True
                    break
                self._tail = data[i:]
                break
            self.found = True
            if command == _IAC:  # escaped literal 0xFF
                out.append(_IAC)
                i += 2
            elif command in _OPTION_COMMANDS:
                i += 3
            elif command == _SB:
                end = data.find(bytes((_IAC, _SE)), i + 2)
                if end < 0:
                    if not final and n - i < limits.READ_CHUNK:
                        self._tail = data[i:]  # the subnegotiation goes on in the next piece
                    break
                i = end + 2
            else:
                i += 2
        return bytes(out)


class SourceReader:
    """Lines of a ``ByteStream``: the head read now, the rest when asked for.

    ``head`` is the first ``head_lines`` lines (or ``head_bytes`` bytes of
    text, whichever comes first; ``None``: the whole input), or those that came
    before a live input paused (``paused``; ``read_more`` goes on). ``complete``
    says whether the head is the whole input. ``lines()`` yields every line,
    head first, once. ``notes`` grow while reading (telnet bytes removed,
    invalid UTF-8, lines cut); ``line_count`` and ``size`` count what was read.

    Raises (when created):
        InputError: the input is empty or binary.
    """

    def __init__(
        self,
        stream: ByteStream,
        *,
        head_lines: int | None = limits.HEAD_LINES,
        head_bytes: int = limits.HEAD_BYTES,
    ) -> None:
        self.name = stream.name
        self.stream = stream
        self._notes: list[str] = []
        self.line_count = 0
        self.cut_lines = 0
        self._telnet = TelnetStripper()
        self._telnet_noted = False
        self._valid_utf8 = True
        self._cr_only: bool | None = None  # decided on the first text: "\r" ends lines
        self._pending = ""  # the start of a line whose end has not arrived
        self._skipping = 0  # characters skipped of a line cut at MAX_LINE_CHARS (0: none)
        self._cut_at = 0  # the number of that line
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
        self._started = False
        self._bytes_in = 0  # text bytes after telnet stripping
        self._texts = self._text_chunks()
        self._batches = self._numbered_batches()
        self._leftover: list[Line] = []  # the rest of the batch the head ended in
        self._head_lines, self._head_bytes = head_lines, head_bytes
        self.head: list[Line] = []
        self.complete = False
        self.paused = False  # the head ended where a live input paused
        self._collect_head()
        self._taken = False

    def _collect_head(self) -> None:
        self.paused = False
        limit = self._head_lines
        for batch in self._pulled():
            if batch is None:  # a pause (live input only): what has come is the head
                if self.head and limit is not None:
                    self.paused = True
                    break
                continue
            for index, line in enumerate(batch):
                self.head.append(line)
                if limit is not None and (
                    len(self.head) >= limit or self._bytes_in >= self._head_bytes
                ):
                    self._leftover = batch[index + 1 :]
                    break
            else:
                continue
            break
        else:
            self.complete = True
        if self.complete and not any(line.text.strip() for line in self.head):
            raise InputError(f"{self.name}: empty input", not_smtp=True)

    def read_more(self) -> bool:
        """Go on reading a head that a pause ended (to the next pause, its limits or the end).

        False: the head cannot grow (it is full or the whole input)."""
        if not self.paused:
            return False
        self._collect_head()
        return True

    @property
    def notes(self) -> list[str]:
        return [*self._notes, *self.stream.notes]

    @property
    def size(self) -> int:
        return self._bytes_in

    def lines(self) -> Iterator[Line]:
        """Every line, from the first; only once."""
        head = self.head
        rest = self.rest()
        yield from head
        yield from rest

    def rest(self) -> Iterator[Line]:
        """The lines after the head; only once."""
        return (line for line in self.rest_pausing() if line is not None)

    def rest_pausing(self) -> Iterator[Line | None]:
        """The lines after the head, and None where a live input paused (the pause that
        ended the head first): nothing more has come for now. Only once."""
        for batch in self.rest_batches():
            if batch is None:
                yield None
            else:
                yield from batch

    def rest_batches(self) -> Iterator[list[Line] | None]:
        """``rest_pausing`` a run of lines at a time (for a regular file, a chunk's worth;
        a line whose note a limit wrote begins a run, so that the note comes with it)."""
        if self._taken:
            raise RuntimeError("the lines of a SourceReader can be read only once")
        self._taken = True
        if self.paused:
            yield None
        if not self.complete:
            yield from self._pulled()

    def _pulled(self) -> Iterator[list[Line] | None]:
        """The batches not taken yet: what is left of the one the head ended in first.
        (Not a generator: leaving a loop over it must not close ``_batches``.)"""
        if not self._leftover:
            return self._batches
        leftover, self._leftover = self._leftover, []
        return chain((leftover,), self._batches)

    # -- bytes -> text -------------------------------------------------------------------------

    def _text_chunks(self) -> Iterator[str | None]:
        """The text, decoded as it comes; None where a live input paused."""
        sample = b""  # the first bytes, until there are enough to judge "binary or text"
        judged = False
        chunks = iter(self.stream)
        while True:
            chunk = next(chunks, None)
            paused = self.stream.live and chunk == b""
            data = self._telnet.feed(chunk or b"", final=chunk is None)
            if not judged:
                sample += data
                if len(sample) < BINARY_SAMPLE and chunk is not None and not (paused and sample):
                    continue
                judged = True
                self._judge(sample)
                data, sample = sample, b""
            elif self._telnet.found and not self._telnet_noted:
                self._note_telnet()
            if data:
                yield self._decode(data)
            if paused:
                yield None
            if chunk is None:
                break
        tail = self._decoder.decode(b"", final=True)
        if tail:
            yield self._checked(tail)

    def _note_telnet(self) -> None:
        self._telnet_noted = True
        self._notes.append("telnet option negotiation bytes were removed")

    def _judge(self, sample: bytes) -> None:
        if self._telnet.found:
            self._note_telnet()
        what = looks_binary(sample)
        if what is not None:
            raise InputError(f"{self.name}: this is {what}, not a text transcript")

    def _decode(self, data: bytes) -> str:
        self._bytes_in += len(data)
        return self._checked(self._decoder.decode(data))

    def _checked(self, text: str) -> str:
        if self._valid_utf8 and not text.isascii() and _UNDECODABLE.search(text):
            self._valid_utf8 = False
            self._notes.append("the input is not valid UTF-8; undecodable bytes are shown as \\xNN")
        if not self._started and text:
            self._started = True
            if text.startswith("\ufeff"):
                text = text[1:]
        return text

    # -- text -> lines ---------------------------------------------------------------------------

    def _numbered_batches(self) -> Iterator[list[Line] | None]:
        """The lines of the text, numbered, a chunk's worth at a time; None where a live
        input paused. (tests/test_reader_batches.py proves them the lines, and the notes,
        of the plain line-at-a-time definition.)"""
        limit = limits.MAX_LINE_CHARS
        number = 0  # of the last line made
        for chunk in self._texts:
            if chunk is None:
                yield None
                continue
            text = chunk
            if self._cr_only is None:
                self._cr_only = self._line_end(self._pending + text)
            cr_only = self._cr_only
            separator = "\r" if cr_only else "\n"
            if self._skipping:
                text = self._skip(text, separator)
                if text is None:
                    continue
            text = self._pending + text
            parts = text.split(separator)
            self._pending = parts.pop()
            batch: list[Line] = []
            if len(text) <= limit or max(map(len, parts), default=0) <= limit:
                if not cr_only and "\r" in text:
                    parts = [part.rstrip("\r") for part in parts]
                edited = "\b" in text or "\x7f" in text
                first = 0  # at most BATCH_LINES at a time: a chunk of empty lines is a million
                while len(parts) - first > BATCH_LINES:
                    batch = _lines(parts[first : first + BATCH_LINES], number + 1, edited)
                    first += BATCH_LINES
                    number = self.line_count = number + BATCH_LINES
                    yield batch
                batch = _lines(parts[first:] if first else parts, number + 1, edited)
                number += len(parts) - first
            else:
                batch = yield from self._cutting(parts, number)
                number += len(parts)
            if len(self._pending) > limit:
                number += 1
                batch += self._cut_pending(number)
            if batch:
                self.line_count = number
                yield batch
        if self._skipping:
            self._note_cut()
        last = self._pending if self._cr_only else self._pending.rstrip("\r")
        self._pending = ""
        if last:
            number += 1
            self.line_count = number
            yield _lines([last], number)

    def _cutting(self, parts: list[str], number: int) -> Generator[list[Line], None, list[Line]]:
        """Lines ``number`` + 1... of ``parts``, some longer than the limit: each of those
        begins a batch, its note written when the batch is taken. Returns the last batch."""
        limit = limits.MAX_LINE_CHARS
        batch: list[Line] = []
        for part in parts:
            if batch and (len(part) > limit or len(batch) >= BATCH_LINES):
                self.line_count = number
                yield batch
                batch = []
            if len(part) > limit:  # a long line whose end came in this same chunk
                self.cut_lines += 1
                self._cut_at = number + 1
                self._skipping = len(part) - limit
                self._note_cut()
                part = part[:limit]  # noqa: PLW2901
            number += 1
            batch += _lines([part if self._cr_only else part.rstrip("\r")], number)
        return batch

    def _skip(self, text: str, separator: str) -> str | None:
        """What follows the end of a line being cut, in ``text``; None: it does not end here."""
        end = text.find(separator)
        if end < 0:
            self._skipping += len(text)
            return None
        self._skipping += end
        self._note_cut()
        return text[end + 1 :]

    def _cut_pending(self, number: int) -> list[Line]:
        """Line ``number``, longer than the limit, its end still to come: cut (the note
        says how long it was once its end has come)."""
        limit = limits.MAX_LINE_CHARS
        self.cut_lines += 1
        self._cut_at = number
        self._skipping = len(self._pending) - limit
        cut, self._pending = self._pending[:limit], ""
        return _lines([cut if self._cr_only else cut.rstrip("\r")], number)

    def _line_end(self, text: str) -> bool | None:
        """Does "\r" alone end lines? Decided on the first text; a live input's first
        text may stop anywhere ("220 mx\r" before its "\n"): None, not yet told."""
        if self.stream.live and "\n" not in text and "\r" not in text[:-1]:
            return None
        return "\n" not in text and "\r" in text

    def _note_cut(self) -> None:
        total = limits.MAX_LINE_CHARS + self._skipping
        if self.cut_lines <= limits.MAX_NOTES:
            self._notes.append(
                f"line {self._cut_at} is {total:,} characters long; only its first "
                f"{limits.MAX_LINE_CHARS:,} were read (a limit: smtplog.limits.MAX_LINE_CHARS)"
            )
        elif self.cut_lines == limits.MAX_NOTES + 1:
            self._notes.append("more lines were cut the same way (not listed)")
        self._skipping = 0


def _lines(texts: list[str], first: int, edited: bool = True) -> list[Line]:
    """``texts`` as Lines numbered from ``first``; ``edited``: some may hold backspaces."""
    if edited:
        return list(make_lines(texts, first))
    return list(map(Line, range(first, first + len(texts)), texts))


def read_source(
    chunks: Iterable[bytes], name: str, *, head_lines: int | None = limits.HEAD_LINES
) -> SourceReader:
    """A SourceReader over byte chunks (see ``ByteStream`` and ``SourceReader``)."""
    return SourceReader(ByteStream(chunks, name), head_lines=head_lines)
