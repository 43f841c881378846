"""The pipeline: Source -> cleanup -> dialect -> events -> sessions -> protocol -> rules.

An input is read as a stream (smtplog/reader.py): the dialect and the cleanup
are chosen on its head, then every line flows through the dialect, the
assembler and the session splitter one at a time, and each session is
analysed as soon as it is complete. ``analyze_stream`` gives those
``SessionReport``s one by one (memory stays flat whatever the input's size);
``analyze_text`` and ``analyze_bytes`` collect them into a ``Report``.
"""

from __future__ import annotations

import io
import os
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from itertools import chain
from typing import TYPE_CHECKING, BinaryIO, Union

from smtplog import limits
from smtplog.errors import InputError, NotSmtpError
from smtplog.events import Event, ShellPrompt, Span
from smtplog.report import Report, SessionReport
from smtplog.source import Line, Source, source_from_text

if TYPE_CHECKING:
    from smtplog.reader import ByteStream, SourceReader
    from smtplog.reading import Reading

Input = Union[str, "os.PathLike[str]", bytes, BinaryIO, Iterable[bytes]]


class ReportStream:
    """The analysis of one input, a session at a time.

    What the head of the input decided is known at once: ``source``,
    ``dialect``, ``confidence``, ``runner_up``, ``forced`` and ``cleanup``.
    Iterating yields each ``SessionReport`` as its session completes, in the
    order sessions began (see smtplog/sessions.py); ``notes`` and
    ``line_count`` are final when the iteration is over. Iterate once.

    Raises (while iterating):
        NotSmtpError: the input held no SMTP session at all.
        InputError: the input could not be read to its end.
    """

    def __init__(
        self,
        *,
        source: str,
        dialect: str,
        confidence: float,
        sessions: Iterator[list[Event]],
        notes: Callable[[], list[str]],
        line_count: Callable[[], int],
        runner_up: tuple[str, float] | None = None,
        forced: bool = False,
        cleanup: list[str] | None = None,
        empty: str | Callable[[], str] = "",
    ) -> None:
        self.source = source
        self.dialect = dialect
        self.confidence = confidence
        self.runner_up = runner_up
        self.forced = forced
        self.cleanup = cleanup if cleanup is not None else []
        self.count = 0  # sessions reported so far
        self._sessions = sessions
        self._notes = notes
        self._line_count = line_count
        self._empty = empty or f"{source}: no SMTP session found in the {dialect} text"

    @property
    def notes(self) -> list[str]:
        """What reading and cleaning found, and what a limit cut (complete at the end)."""
        return self._notes()

    @property
    def line_count(self) -> int:
        return self._line_count()

    def __iter__(self) -> Iterator[SessionReport]:
        from smtplog.protocol import analyze_session
        from smtplog.rules import diagnose_session

        for events in self._sessions:
            analysis = analyze_session(events)
            findings, observations = diagnose_session(analysis)
            self.count += 1
            yield SessionReport(analysis, findings, observations)
        if not self.count:
            raise NotSmtpError(self._empty() if callable(self._empty) else self._empty)

    def header(self, sessions: list[SessionReport]) -> Report:
        """A Report of this input holding ``sessions`` (the notes known so far)."""
        return Report(
            source=self.source,
            dialect=self.dialect,
            confidence=self.confidence,
            sessions=sessions,
            notes=self.notes,
            line_count=self.line_count,
            runner_up=self.runner_up,
            forced=self.forced,
            cleanup=list(self.cleanup),
        )

    def report(self) -> Report:
        """Every session in one Report (it holds them all: for inputs of a sensible size)."""
        sessions = list(self)
        return self.header(sessions)


# -- opening an input ------------------------------------------------------------------------


def open_input(data: Input, name: str | None = None) -> ByteStream:
    """The bytes of ``data`` as a stream: a path, bytes, a binary file, or byte chunks.

    Raises:
        InputError: the file cannot be read, or is an archive or another compressor's output.
    """
    from smtplog.reader import ByteStream

    if isinstance(data, ByteStream):  # opened already (the CLI's inputs): its notes are kept
        if name:
            data.name = name
        return data
    if isinstance(data, str | os.PathLike):
        return ByteStream.open(os.fspath(data))
    if isinstance(data, bytes | bytearray | memoryview):
        return ByteStream((bytes(data),), name or "<bytes>")
    if hasattr(data, "read"):
        label = name or getattr(data, "name", None) or "<stream>"
        return ByteStream.of_file(data, str(label))  # type: ignore[arg-type]
    return ByteStream(iter(data), name or "<stream>")


def analyze_stream(
    data: Input,
    name: str | None = None,
    dialect: str | None = None,
    cleanup: bool = True,
) -> ReportStream:
    """Analyse an input of any size, a session at a time (the streaming API).

    ``data`` is a file name, a binary file (``sys.stdin.buffer``, an open
    file, a socket's ``makefile("rb")``), bytes, or an iterable of byte
    chunks; gzip is read transparently and packet captures (pcap, pcapng) are
    recognised. Reading the head of the input happens here; the rest is read
    while the returned ``ReportStream`` is iterated::

        stream = analyze_stream("/var/log/mail.log")
        for session in stream:
            print(session.outcome, session.main.id if session.main else "")

    Raises:
        InputError: the input cannot be read, is empty, binary or an archive.
        NotSmtpError: no dialect recognises the head of the input.
        UnknownDialectError: ``dialect`` is not a known dialect name.
    """
    from smtplog.pcap.magic import is_capture

    if dialect is not None:
        from smtplog import dialects

        dialects.get(dialect)  # a bad name fails before any reading
    stream = open_input(data, name)
    label = name or stream.name
    stream.name = label
    if is_capture(stream.head):
        if dialect:
            raise InputError(f"{label}: a packet capture is read as is; --dialect is for text")
        from smtplog.pcap import stream_capture

        return stream_capture(stream, label)
    from smtplog.reader import SourceReader

    reader = SourceReader(stream)
    head, reading = _read_head(reader, label, dialect, cleanup)
    rest = None if reader.complete else reader.rest_batches()
    return _text_stream(
        head,
        rest,
        dialect,
        cleanup,
        notes=lambda: reader.notes,
        line_count=lambda: reader.line_count,
        reading=reading,
    )


def _read_head(
    reader: SourceReader, name: str, dialect: str | None, use_cleanup: bool
) -> tuple[Source, Reading]:
    """The head and what it is read as. A head that a pause of a live input ended
    grows (to the next pause) until a dialect recognises it."""
    from smtplog.reading import read

    while True:
        head = Source(name=name, lines=reader.head, notes=reader.notes, size=reader.size)
        try:
            return head, read(head, dialect, use_cleanup)
        except NotSmtpError:
            if not reader.read_more():
                raise


def analyze_source(source: Source, dialect: str | None = None, cleanup: bool = True) -> Report:
    """Analyse a decoded input held whole in memory.

    ``cleanup=False`` reads the text exactly as given (no HTML unescaping,
    unquoting, unwrapping...).

    Raises:
        NotSmtpError: nothing in the input looks like an SMTP session.
        UnknownDialectError: ``dialect`` is not a known dialect name.
    """
    return _text_stream(
        source,
        None,
        dialect,
        cleanup,
        notes=lambda: list(source.notes),
        line_count=lambda: len(source.lines),
    ).report()


def _text_stream(
    head: Source,
    rest: Iterator[list[Line] | None] | None,
    dialect: str | None,
    use_cleanup: bool,
    *,
    notes: Callable[[], list[str]],
    line_count: Callable[[], int],
    reading: Reading | None = None,
) -> ReportStream:
    """The text pipeline over ``head`` and, for a long input, the ``rest`` of its lines
    in batches (a None in them: a live input paused). ``reading``: of the head, when it
    was read already."""
    from smtplog import cleanup as cleaning
    from smtplog.assemble import Assembler
    from smtplog.reading import read
    from smtplog.sessions import Splitter

    if reading is None:
        reading = read(head, dialect, use_cleanup)
    chosen, detection = reading.cleaning, reading.detection
    if rest is not None and use_cleanup:
        # The head's last lines are cleaned again with the rest: damage that the end
        # of the head cuts in two (a quote run, a wrapped line) is judged whole.
        rest = chain((cleaning.hold_back(chosen, head.lines),), rest)
    aside = list(chosen.aside)
    lines: Iterable[Line] = chosen.source.lines
    if rest is not None:  # without cleanup, the rest is read as is, like the head
        batches = (
            cleaning.stream_batches(chosen, rest, aside) if use_cleanup else filter(None, rest)
        )
        lines = chain(lines, chain.from_iterable(batches))
    times: OrderedDict[int, float] = OrderedDict()
    if "timestamps" in chosen.applied:  # the only normaliser that gives lines a time
        lines = _remember_times(lines, times)
    stamps: dict[int, float] | list[Line] = times
    if reading.events is not None and rest is None:
        events: Iterable[Event] = reading.events  # parsed already, while choosing the variant
        stamps = chosen.source.lines  # ``lines`` are not read: the times are on these
    else:
        events = Assembler().feed(detection.dialect.stream(lines))
    if "timestamps" in chosen.applied:
        events = stamp_times(events, stamps)
    splitter = Splitter()
    sessions = splitter.split(events, aside, _prompt)  # with_prompts(events, aside), inlined
    return ReportStream(
        source=head.name,
        dialect=detection.dialect.name,
        confidence=detection.confidence,
        sessions=sessions,
        notes=lambda: [*notes(), *chosen.notes, *splitter.notes],
        line_count=line_count,
        runner_up=None if detection.forced else detection.runner_up,
        forced=detection.forced,
        cleanup=chosen.applied,
    )


def _remember_times(lines: Iterable[Line], times: OrderedDict[int, float]) -> Iterator[Line]:
    """Keep the time cleanup took off each line (of the last STAMP_WINDOW lines)."""
    for line in lines:
        if line.time is not None:
            times.setdefault(line.number, line.time)
            if len(times) > limits.STAMP_WINDOW:
                times.popitem(last=False)
        yield line


def stamp_times(events: Iterable[Event], times: dict[int, float] | list[Line]) -> Iterator[Event]:
    """Give events the time cleanup took off the front of their first line."""
    if isinstance(times, list):
        times = {line.number: line.time for line in reversed(times) if line.time is not None}
    for event in events:
        if times and event.time is None and event.span is not None:
            time = times.get(event.span.first)
            if time is not None:
                event = replace(event, time=time)  # noqa: PLW2901
        yield event


def with_prompts(events: Iterable[Event], aside: list[Line]) -> Iterator[Event]:
    """Put the shell prompts cleanup set aside back among the events, in line order.
    (The definition: ``Splitter.split`` does it as it takes the events.)

    ``aside`` may grow while the events are read (a long input is cleaned as it
    streams): a prompt is placed before the first event from a later line.
    """
    taken = 0
    for event in events:
        while taken < len(aside) and event.span is not None:
            line = aside[taken]
            if line.number > event.span.first:
                break
            taken += 1
            yield _prompt(line)
        if taken > 1024:  # what was placed is not needed again
            del aside[:taken]
            taken = 0
        yield event
    for line in aside[taken:]:
        yield _prompt(line)


def _prompt(line: Line) -> ShellPrompt:
    from smtplog.auth import mask_command_line  # "$ swaks ... --auth-password X"

    text = mask_command_line(line.text)
    return ShellPrompt(text=text, span=Span(line.number, line.last), time=line.time)


def analyze_bytes(
    data: bytes, name: str = "<stdin>", dialect: str | None = None, cleanup: bool = True
) -> Report:
    """Analyse raw input: a text transcript in any dialect, or a packet capture."""
    return analyze_stream(io.BytesIO(data), name, dialect, cleanup).report()


def analyze_text(
    text: str, dialect: str | None = None, name: str = "<text>", cleanup: bool = True
) -> Report:
    """Analyse a transcript given as a string (the Python API).

    Raises:
        InputError: the text is empty or binary.
        NotSmtpError: nothing in it looks like an SMTP session.
        UnknownDialectError: ``dialect`` is not a known dialect name.
    """
    if not isinstance(text, str):
        kind = type(text).__name__
        raise TypeError(f"analyze_text() takes a str, not {kind} (bytes: use analyze_bytes)")
    return analyze_source(source_from_text(text, name), dialect, cleanup)
