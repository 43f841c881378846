"""Output: choosing the format and colours, rendering one report, writing the whole.

Rendering one report is a pure function of the report and ``Options`` (plain,
picklable data), so a batch renders in its worker processes; the ``Writer``
in the main process only puts the pieces in order, adds the batch summary and
decides what goes where.
"""

# No `from __future__ import annotations` here: typing.NamedTuple would compile every
# string annotation at import (~2 ms); real annotations cost nothing.

import functools
import os
import sys
from typing import TYPE_CHECKING, NamedTuple, TextIO

from smtplog.errors import ExitCode

if TYPE_CHECKING:
    import json
    from collections.abc import Callable

    from smtplog.render.summary import SummaryRow, Totals
    from smtplog.report import Report

EXTENSIONS = {
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
}
DEFAULT_WIDTH = 100  # when the output is not a terminal and COLUMNS is not set


# NamedTuple, not a frozen dataclass: these modules load on every run, and a
# dataclass costs ~0.7 ms to create at import (start-up matters in pipes).
class Options(NamedTuple):
    """Everything that decides how one input is analysed and rendered."""

    fmt: str  # terminal | text | json | jsonl | markdown | html | quiet
    color_system: str | None = None  # rich colour system; None: no colour
    width: int = DEFAULT_WIDTH
    details: bool = True  # render each report (False: the batch summary only)
    label: bool = False  # start quiet verdict lines with the file name
    summary: bool = False  # a batch summary will be shown: compute its rows
    fail_on: str = "error"  # error | warning | never
    dialect: str | None = None
    cleanup: bool = True  # undo what pasting did to the text (smtplog/cleanup)


def resolve_format(name: str, output: str | None = None, color: str = "auto") -> str:
    """``auto`` is terminal on a TTY (or with --color always), else from --output's suffix."""
    if name != "auto":
        return name
    if output is None:
        return "terminal" if sys.stdout.isatty() or color == "always" else "text"
    suffix = os.path.splitext(output)[1].lower()
    return EXTENSIONS.get(suffix, "terminal" if color == "always" else "text")


def color_system(choice: str, isatty: bool) -> str | None:
    """The colour system for ``--color``; auto honours NO_COLOR, FORCE_COLOR and TERM=dumb."""
    environ = os.environ
    if choice == "never":
        return None
    if choice == "auto":
        if environ.get("NO_COLOR"):
            return None
        if not environ.get("FORCE_COLOR") and (not isatty or environ.get("TERM") == "dumb"):
            return None
    if environ.get("COLORTERM", "").lower() in ("truecolor", "24bit"):
        return "truecolor"
    return "256" if "256" in environ.get("TERM", "") else "standard"


def terminal_width(isatty: bool) -> int:
    """The terminal's width (COLUMNS wins), or DEFAULT_WIDTH for files and pipes."""
    if os.environ.get("COLUMNS", "").isdigit():
        return max(40, int(os.environ["COLUMNS"]))
    if isatty:
        import shutil

        return max(40, shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns)
    return DEFAULT_WIDTH


def console(options: Options, file: TextIO):  # type: ignore[no-untyped-def]
    """A rich Console that renders exactly as ``options`` say, whatever the environment."""
    from rich.console import Console

    return Console(
        file=file,
        width=options.width,
        color_system=options.color_system,  # type: ignore[arg-type]
        force_terminal=options.color_system is not None,
        no_color=False,
        highlight=False,
        emoji=False,
        markup=False,
        legacy_windows=False,
        soft_wrap=False,
    )


def quiet_lines(report: "Report", label: bool) -> list[str]:
    from smtplog.render.lines import verdict_text
    from smtplog.render.safe import safe

    lines = []
    count = len(report.sessions)
    for index, session in enumerate(report.sessions, 1):
        main = session.main
        verdict = verdict_text(
            session.outcome,
            session.failed_at,
            main.title if main else None,
            main.id if main else None,
        )
        prefix = safe(report.source) if label else ""
        if count > 1:
            prefix += f" [{index}/{count}]"
        lines.append(f"{prefix.strip()}: {verdict}" if prefix.strip() else verdict)
    return lines


def json_text(data: object, indent: int | None = None) -> str:
    """JSON that is safe on a terminal: ASCII only (every other character is a \\uXXXX
    escape, RFC 8259 §7), and render/safe.py's json_safe for the rest: DEL escaped, and
    a byte that was not UTF-8 shown as "\\xNN", the way every other format shows it.
    ASCII is also the fastest way: json_safe has nothing to look for beyond it."""
    from smtplog.render.safe import json_safe

    return json_safe(_encoder(indent).encode(data))


@functools.cache
def _encoder(indent: int | None) -> "json.JSONEncoder":
    import json

    # Reports are trees: no cycles to look for (check_circular costs 10% of encoding).
    return json.JSONEncoder(indent=indent, check_circular=False)


def render(report: "Report", options: Options, number: int = 1) -> str:
    """One report in ``options.fmt``; ``number`` is its position in a batch."""
    fmt = options.fmt
    if fmt == "quiet":
        return "\n".join(quiet_lines(report, options.label)) + "\n"
    if not options.details:
        return ""
    if fmt == "text":
        from smtplog.render.text import render as render_text

        return render_text([report]) + "\n"
    if fmt == "terminal":
        import io

        from smtplog.render.terminal import render as render_terminal

        buffer = io.StringIO()
        render_terminal(console(options, buffer), [report])
        return buffer.getvalue()
    if fmt == "jsonl":
        from smtplog.render.jsonl import report_line

        return report_line(report) + "\n"
    if fmt == "json":
        from smtplog.render.data import report_to_dict

        return json_text(report_to_dict(report), indent=2)
    if fmt == "markdown":
        from smtplog.render.markdown import render_report

        return render_report(report)
    if fmt == "html":
        from smtplog.render.html import render_report as render_html

        return render_html(report, number)
    raise ValueError(f"unknown format {fmt!r}")


class Blocks:
    """Writes to ``out`` in blocks of about ``size`` characters: one call (and one
    system call, even under PYTHONUNBUFFERED, common in containers) per block, not
    per session. ``flush`` writes what is held and flushes ``out``."""

    def __init__(self, out: TextIO, size: int = 1 << 16) -> None:
        self.out = out
        self.size = size
        self._held: list[str] = []
        self._length = 0

    def write(self, text: str) -> int:
        self._held.append(text)
        self._length += len(text)
        if self._length >= self.size:
            self._write_held()
        return len(text)

    def _write_held(self) -> None:
        if self._held:
            self.out.write("".join(self._held))
            self._held.clear()
            self._length = 0

    def flush(self) -> None:
        self._write_held()
        self.out.flush()


class Writer:
    """Writes results in input order: streams what can be streamed, then the summary.

    Nothing is written when nothing could be analysed: the errors on stderr
    and the exit code say it all.

    ``flush_each``: flush after every piece, for an input that may pause
    (``tail -f mail.log | smtplog analyze``), whose reader waits for each
    session. Otherwise the output is written in blocks (``Blocks``): a flush
    per session costs a system call each, about 10% of a summary-only log's
    time into a pipe (bench/throughput.py).
    """

    def __init__(
        self, out: TextIO, options: Options, summary: bool, *, flush_each: bool = True
    ) -> None:
        self.stream = out
        self.out: TextIO = out if flush_each else Blocks(out)  # type: ignore[assignment]
        self.flush_each = flush_each
        self.options = options
        self.summary = summary  # add the batch summary (several inputs or sessions)
        self.rows: list[SummaryRow] = []  # listed in the summary (at most MAX_SUMMARY_ROWS)
        self.row_count = 0  # every session and unreadable input, listed or not
        self.counts = None  # render.summary.Counts over all of them
        self.sections: list[str] = []
        self.links: dict[str, int] = {}
        self.errors: list[dict[str, object]] = []
        self.reports = 0
        self.inputs = 0
        self._open = False  # a report is being written piece by piece
        self._separate = False  # a blank line is due before the next text report

    def _tally(self, rows: tuple["SummaryRow", ...], counts: object = None) -> None:
        from smtplog import limits

        if not rows and counts is None:
            return
        from smtplog.render.summary import Counts

        if self.counts is None:
            self.counts = Counts()
        if counts is None:
            counts = Counts()
            for row in rows:
                counts.add(row)  # type: ignore[attr-defined]
        self.counts.sessions += counts.sessions  # type: ignore[attr-defined]
        self.counts.outcomes.update(counts.outcomes)  # type: ignore[attr-defined]
        self.counts.diagnoses.update(counts.diagnoses)  # type: ignore[attr-defined]
        self.row_count += sum(counts.outcomes.values())  # type: ignore[attr-defined]
        room = limits.MAX_SUMMARY_ROWS - len(self.rows)
        self.rows.extend(rows[: max(0, room)])

    def add(
        self,
        number: int,
        source: str,
        output: str,
        rows: tuple["SummaryRow", ...],
        counts: object = None,
    ) -> None:
        """A report rendered by ``render()``."""
        self.begin(number, source)
        self.write(output)
        self.end(rows, counts)

    def begin(self, number: int, source: str) -> None:
        """The start of a report written in pieces (``write``), then ``end``."""
        self.inputs += 1
        first = self.reports == 0
        self.reports += 1
        self._open = True
        fmt = self.options.fmt
        if fmt == "json":
            if first:
                self.out.write('{\n  "schema": "smtplog/1",\n  "reports": [\n')
            else:
                self.out.write(",\n")
            self.out.write("    ")
        elif fmt in ("markdown", "html"):
            self.links.setdefault(source, number)
        elif fmt in ("text", "terminal") and not first and self.options.details:
            self._separate = True
            return
        self._separate = False

    def write(self, piece: str) -> None:
        if not piece:
            return
        fmt = self.options.fmt
        if fmt == "json":
            self.out.write(piece.replace("\n", "\n    "))
        elif fmt in ("markdown", "html"):
            self.sections.append(piece)
            return
        else:
            if self._separate:
                self.out.write("\n")
                self._separate = False
            self.out.write(piece)
        if self.flush_each:
            self.out.flush()

    def writes(self) -> "Callable[[str], object]":
        """What ``write`` comes to for the pieces of the report begun: for a format
        written as is in blocks (no blank line due, no flush per piece), the blocks' own
        write, a call less per piece (a session of a jsonl log: tests/test_writer.py)."""
        if self.flush_each or self._separate or self.options.fmt in ("json", "markdown", "html"):
            return self.write
        return self.out.write

    def end(self, rows: tuple["SummaryRow", ...], counts: object = None) -> None:
        self._open = False
        self._tally(rows, counts)
        if self.flush_each:
            self.out.flush()

    def error(
        self,
        source: str,
        message: str,
        code: ExitCode,
        rows: tuple["SummaryRow", ...] = (),
        counts: object = None,
    ) -> None:
        """An input that failed; ``rows`` and ``counts``: its sessions written before.

        What was written is flushed: the error's message on stderr follows it."""
        from smtplog.render.summary import error_row

        self.out.flush()

        if self._open:  # the input failed while it was being written: begin() counted it
            self._open = False
            self._tally(rows, counts)
        else:
            self.inputs += 1
        self._tally((error_row(source, message, code == ExitCode.NOT_SMTP),))
        self.errors.append({"source": source, "message": message, "exit_code": int(code)})

    def finish(self) -> None:
        if self.reports == 0:
            return
        fmt = self.options.fmt
        if not self.summary and fmt not in ("json", "markdown", "html"):
            self.out.flush()  # here, where a reader gone away is caught (not at exit)
            return  # one report, nothing to add (and no summary module to load)
        from smtplog.render.summary import Counts

        summary = (self.counts or Counts()).totals(self.inputs)
        if fmt == "json":
            tail = {"errors": self.errors, "summary": summary.to_dict()}
            rest = json_text(tail, indent=2)[1:]  # without its "{"
            self.out.write("\n  ],")
            self.out.write(rest + "\n")
        elif fmt == "markdown":
            from smtplog.render.markdown import render_document

            if self.summary:
                self.out.write(render_document(self.sections, self.rows, summary))
            else:
                self.out.write(render_document(self.sections, None, None))
        elif fmt == "html":
            from smtplog.render.html import render_document as html_document

            title = "smtplog report"
            if len(self.links) == 1:
                title = f"smtplog: {next(iter(self.links))}"
            if self.summary:
                self.out.write(html_document(self.sections, self.rows, summary, self.links, title))
            else:
                self.out.write(html_document(self.sections, title=title))
        elif fmt in ("text", "terminal") and self.summary:
            self._summary(summary)
        self.out.flush()

    def close(self, close_stream: bool) -> None:
        """Writes what is held, also when the run was interrupted (Ctrl-C): what was
        analysed until then is kept. ``close_stream``: the output is a file of ours."""
        try:
            self.out.flush()
        finally:
            if close_stream:
                self.stream.close()

    def unlisted(self) -> str:
        return unlisted_note(len(self.rows), self.row_count)

    def _summary(self, summary: "Totals") -> None:
        from smtplog.render.safe import safe
        from smtplog.render.summary import HEADERS, cells, count_lines, headline

        if self.options.details:
            self.out.write("\n")
        if self.options.fmt == "terminal":
            from smtplog.render.summary import render_rich

            render_rich(console(self.options, self.out), self.rows, summary)
            return
        table = [HEADERS, *(tuple(safe(c) for c in cells(row)) for row in self.rows)]
        widths = [max(len(row[i]) for row in table) for i in range(len(HEADERS) - 1)]
        self.out.write(f"Summary: {headline(summary)}\n")
        for row in table:
            line = "  ".join(f"{c:<{w}}" for c, w in zip(row, widths, strict=False))
            self.out.write(f"{line}  {row[-1]}".rstrip() + "\n")
        if self.row_count > len(self.rows):
            self.out.write(f"{self.unlisted()}\n")
        self.out.write("\nSessions per diagnosis:\n")
        for line in count_lines(summary):
            self.out.write(f"  {line}\n")


def unlisted_note(listed: int, total: int) -> str:
    return (
        f"({total - listed:,} more sessions are not listed; the counts include them: "
        "--format jsonl writes every session)"
    )


def write_reports(reports: list["Report"], fmt: str, out: TextIO | None = None) -> None:
    """Render reports the way `smtplog analyze` does, in this process (probe, record, proxy)."""
    from smtplog.render.summary import report_rows

    stream = out or sys.stdout
    isatty = stream.isatty()
    options = Options(
        fmt=fmt,
        color_system=color_system("auto", isatty) if fmt == "terminal" else None,
        width=terminal_width(isatty),
        label=len(reports) > 1,
        summary=len(reports) > 1,
    )
    writer = Writer(stream, options, summary=len(reports) > 1)
    for number, report in enumerate(reports, 1):
        writer.add(number, report.source, render(report, options, number), report_rows(report))
    writer.finish()
