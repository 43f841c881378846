"""One input rendered while it is analysed: a large log is written as it is read.

``render_stream`` yields pieces of text whose concatenation is the input's
output in ``options.fmt``:

- ``jsonl``: one line per session, written as each session completes. Each
  line is a ``smtplog/1`` report of its file holding that one session
  (``sessions`` has one element) plus ``session_number``; the file's fields
  (``source``, ``dialect``, ``cleanup``, ``notes`` as known at that moment)
  are repeated on every line, so a 40,000-session mail.log is 40,000 lines
  that ``jq`` or ``grep`` read one at a time.
- ``text``, ``terminal``, ``quiet``, ``json``: the sessions are held until
  ``limits.HELD_SESSIONS``; an input with no more is written exactly as a
  whole report. A longer one is then written a session at a time: the header
  says so, and the session count and the notes found meanwhile come at the end.
- ``markdown`` and ``html`` are documents: they show the first
  ``limits.MAX_DOCUMENT_SESSIONS`` sessions in full and say how many more the
  summary counts.

``Tally`` collects what the batch writer needs besides the text: the exit
code (``--fail-on``) and the summary rows.
"""

# No `from __future__ import annotations` here: typing.NamedTuple would compile every
# string annotation at import (~2 ms); real annotations cost nothing.

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from smtplog import limits
from smtplog.cli.output import Options, console, json_text, render
from smtplog.errors import ExitCode

if TYPE_CHECKING:
    from smtplog.analysis import ReportStream
    from smtplog.render.summary import Counts, SummaryRow
    from smtplog.report import Report, SessionReport

STREAMED = ("text", "terminal", "quiet", "json")


class Tally:
    """The exit code and summary rows of one input, gathered session by session."""

    def __init__(self, options: Options) -> None:
        self.code = ExitCode.OK
        self.rows: list[SummaryRow] = []  # the first MAX_SUMMARY_ROWS sessions
        self.counts: Counts | None = None  # every session
        self.sessions = 0
        # Closes the output of an input that fails after part of it was written (the
        # streamed json report object), given the error; None when nothing is open.
        self.cut_short: Callable[[str], str] | None = None
        self._failing = (
            set()
            if options.fail_on == "never"
            else ({"error"} if options.fail_on == "error" else {"error", "warning"})
        )
        self._want_rows = options.summary or options.fmt not in ("jsonl", "quiet")

    def add(self, stream: "ReportStream", session: "SessionReport") -> None:
        self.sessions += 1
        failing = self._failing
        for finding in session.findings:
            if finding.severity in failing:
                self.code = ExitCode.FAILURE
                break
        if self._want_rows:
            from smtplog.render.summary import Counts, session_row

            row = session_row(stream.source, stream.dialect, session, self.sessions)
            if self.counts is None:
                self.counts = Counts()
            self.counts.add(row)
            if len(self.rows) < limits.MAX_SUMMARY_ROWS:
                self.rows.append(row)

    def finish(self) -> tuple["SummaryRow", ...]:
        """The rows, numbered "i of n" now that n is known."""
        count = self.sessions
        return tuple(row._replace(sessions=count) for row in self.rows)


def render_stream(
    stream: "ReportStream", options: Options, number: int, tally: Tally
) -> Iterator[str]:
    """The output of one input, piece by piece (see the module docstring)."""
    if options.fmt == "jsonl":
        # Its generator itself, not one wrapped in this one: a level less to resume per line.
        return _jsonl(stream, tally)
    return _held(stream, options, number, tally)


def _held(stream: "ReportStream", options: Options, number: int, tally: Tally) -> Iterator[str]:
    """Every format but jsonl: the sessions held up to a limit (see the module docstring)."""
    fmt = options.fmt
    sessions = iter(stream)
    held: list[SessionReport] = []
    limit = limits.HELD_SESSIONS if fmt in STREAMED else limits.MAX_DOCUMENT_SESSIONS
    more = 0
    for session in sessions:
        tally.add(stream, session)
        if len(held) < limit:
            held.append(session)
            continue
        if fmt not in STREAMED:
            more += 1  # a document shows the first sessions; the summary counts them all
            continue
        yield from _streamed(stream, options, held, session, sessions, tally)
        return
    report = stream.header(held)
    if more:
        report.notes.append(
            f"this document shows the first {len(held):,} of {len(held) + more:,} sessions "
            f"(a limit: smtplog.limits.MAX_DOCUMENT_SESSIONS); the summary counts all of them; "
            "--format jsonl writes every session"
        )
    yield render(report, options, number)


def _jsonl(stream: "ReportStream", tally: Tally) -> Iterator[str]:
    from smtplog.render.jsonl import StreamLines

    lines = StreamLines(stream)  # report_line(stream.header([session]), number) + "\n"
    for session in stream:
        tally.add(stream, session)
        yield lines.line(session, tally.sessions)


def _streamed(  # noqa: PLR0917 (the state of render_stream, handed over)
    stream: "ReportStream",
    options: Options,
    held: list["SessionReport"],
    session: "SessionReport",
    rest: Iterator["SessionReport"],
    tally: Tally,
) -> Iterator[str]:
    """More sessions than are held: the header now, then each session as it completes."""
    fmt = options.fmt
    head = stream.header([])
    known = list(head.notes)

    def later() -> list[str]:
        return [note for note in stream.notes if note not in known]

    def everything() -> Iterator["SessionReport"]:
        yield from held
        held.clear()
        yield session
        for more in rest:
            tally.add(stream, more)
            yield more

    if fmt == "quiet":
        yield from _quiet(stream, everything(), options)
    elif fmt == "text":
        yield from _text(head, everything(), later, tally)
    elif fmt == "terminal":
        yield from _terminal(head, everything(), later, options, tally)
    else:
        yield from _json(head, everything(), later, tally)


def _quiet(stream: "ReportStream", sessions: Iterator["SessionReport"], options: Options):  # type: ignore[no-untyped-def]
    from smtplog.render.lines import verdict_text
    from smtplog.render.safe import safe

    prefix = safe(stream.source) if options.label else ""
    for index, session in enumerate(sessions, 1):
        main = session.main
        verdict = verdict_text(
            session.outcome,
            session.failed_at,
            main.title if main else None,
            main.id if main else None,
        )
        yield f"{f'{prefix} [{index}]'.strip()}: {verdict}\n"


def _text(head: "Report", sessions, later, tally: Tally):  # type: ignore[no-untyped-def]
    from smtplog.render.text import footer, header, session_lines

    yield "\n".join(header(head, None)) + "\n"
    for index, session in enumerate(sessions, 1):
        yield "\n".join([*session_lines(session, index, None), ""]) + "\n"
    yield "\n".join(footer(head.source, tally.sessions, later())) + "\n"


def _terminal(head: "Report", sessions, later, options: Options, tally: Tally):  # type: ignore[no-untyped-def]
    import io

    from smtplog.render.terminal import render_footer, render_header, render_session

    buffer = io.StringIO()
    out = console(options, buffer)

    def take() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    render_header(out, head, None)
    yield take()
    for index, session in enumerate(sessions, 1):
        render_session(out, session, index, None)
        yield take()
    render_footer(out, head.source, tally.sessions, later())
    yield take()


def _json(head: "Report", sessions, later, tally: Tally):  # type: ignore[no-untyped-def]
    """The report object of ``--format json``, its sessions written one by one."""
    from smtplog.render.data import report_to_dict, session_to_dict

    data = report_to_dict(head)
    del data["notes"], data["sessions"]
    opening = json_text(data, indent=2)[:-2]  # without "\n}"

    def closing(error: str | None = None) -> str:
        notes = json_text([*head.notes, *later()], indent=2).replace("\n", "\n  ")
        failed = "" if error is None else f',\n  "error": {json_text(error)}'
        return f'\n  ],\n  "notes": {notes},\n  "session_count": {tally.sessions}{failed}\n}}'

    tally.cut_short = closing  # an error now still ends the object: the output stays JSON
    yield opening + ',\n  "sessions": ['
    for index, session in enumerate(sessions):
        text = json_text(session_to_dict(session), indent=2).replace("\n", "\n    ")
        yield ("," if index else "") + "\n    " + text
    tally.cut_short = None
    yield closing()
