"""`smtplog analyze`: read transcripts, explain them; one file or a whole folder."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, TextIO

import click

from smtplog.errors import ExitCode, InputError, worse

if TYPE_CHECKING:
    from smtplog.cli.batch import Job, Result
    from smtplog.cli.inputs import Pending
    from smtplog.cli.output import Options, Writer

# `smtplog --help` imports this module to list the command: everything else is
# imported when the command runs.
FORMATS = ("auto", "terminal", "text", "json", "jsonl", "markdown", "html")


def _complete_dialect(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    from smtplog.dialects import REGISTRY

    return [name for name in REGISTRY if name.startswith(incomplete)]


@click.command(
    epilog="""\b
Examples:
  smtplog analyze session.txt
  swaks --to user@example.com 2>&1 | smtplog analyze
  smtplog analyze --format markdown session.txt        paste into a ticket
  smtplog analyze -o report.html session.txt           a file to attach
  smtplog analyze tickets/ --glob '*.log' --summary    triage a folder
  smtplog analyze logs/ -f jsonl | jq -r 'select(.sessions[0].outcome != "delivered") | .source'
  smtplog analyze -q session.txt || echo "mail is failing"

\b
Exit codes: 0 nothing wrong found, 1 a failure was diagnosed (see --fail-on),
2 usage error or unreadable input, 3 not an SMTP transcript, 70 a bug in
smtplog; with several inputs, the most serious one wins (2 over 3 over 1).
"""
)
@click.argument("files", nargs=-1, type=click.Path(dir_okay=True, allow_dash=True))
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(FORMATS),
    default="auto",
    show_default=True,
    help="Output format. auto: terminal on a TTY, else from --output's suffix "
    "(.html, .md, .json, .jsonl), else text. jsonl is one report per line.",
)
@click.option(
    "--dialect",
    "-d",
    metavar="NAME",
    shell_complete=_complete_dialect,
    help="Read the input as this dialect instead of detecting it.",
)
@click.option(
    "--output",
    "-o",
    metavar="FILE",
    type=click.Path(dir_okay=False, writable=True, allow_dash=True),
    help="Write to FILE instead of standard output.",
)
@click.option("--quiet", "-q", is_flag=True, help="Print only the verdict, one line per session.")
@click.option(
    "--summary",
    "-s",
    "summary_only",
    is_flag=True,
    help="Print only the summary table (file, dialect, outcome, failed at, diagnosis) and "
    "the counts per diagnosis, not each report.",
)
@click.option(
    "--glob",
    "-g",
    "globs",
    metavar="PATTERN",
    multiple=True,
    help="In folders, read only files matching PATTERN (repeatable; !PATTERN excludes). "
    "Files named on the command line are always read.",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    metavar="N",
    help="Analyse N files at a time in parallel processes [default: the number of CPUs].",
)
@click.option(
    "--color",
    "--colour",
    "color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Colour the terminal format. auto: on a TTY unless NO_COLOR is set.",
)
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "never"]),
    default="error",
    show_default=True,
    help="Exit with 1 when a finding of this severity (or worse) is found; never: exit 0 "
    "even then (unreadable input still exits 2 or 3).",
)
@click.option("--pager", is_flag=True, help="Page the output through $PAGER (less) on a TTY.")
@click.option(
    "--no-cleanup",
    is_flag=True,
    help="Read the text exactly as given: do not undo HTML escaping, quoting, wrapping...",
)
def analyze(  # noqa: PLR0917 (click passes every option)
    files: tuple[str, ...],
    fmt: str,
    dialect: str | None,
    output: str | None,
    quiet: bool,
    summary_only: bool,
    globs: tuple[str, ...],
    jobs: int | None,
    color: str,
    fail_on: str,
    pager: bool,
    no_cleanup: bool,
) -> None:
    """Explain SMTP transcripts: annotate every line, give the verdict and the diagnosis.

    FILES are transcripts in any supported dialect, or folders of them (read
    recursively). With none, or "-", the transcript is read from standard
    input. Several inputs end with a summary table and the count of each
    diagnosis; they are analysed in parallel.
    """
    from smtplog.cli import warn
    from smtplog.cli.batch import Job, default_jobs, run
    from smtplog.cli.inputs import Pending, find_inputs
    from smtplog.cli.output import (
        Options,
        color_system,
        resolve_format,
        terminal_width,
    )

    if dialect:
        from smtplog import dialects

        dialects.get(dialect)  # a bad name is a usage error before any input is read
    if output == "-":
        output = None
    if quiet and fmt not in ("auto", "terminal", "text"):
        raise click.UsageError(f"--quiet prints verdict lines; it cannot be combined with {fmt}")
    fmt = "quiet" if quiet else resolve_format(fmt, output, color)
    if summary_only and fmt in ("json", "jsonl"):
        raise click.UsageError(
            "--summary is for terminal, text, markdown and html output "
            '(with json, the summary is the document\'s "summary" key)'
        )

    found = list(find_inputs(files, globs))
    if not any(isinstance(item, Pending) for item in found):
        for problem in found:
            warn(str(problem))
        sys.exit(int(_worst(item.exit_code for item in found)))  # type: ignore[union-attr]

    to_tty = output is None and sys.stdout.isatty()
    paged = pager and to_tty
    stream, buffer = _open_output(output, paged)
    options = Options(
        fmt=fmt,
        color_system=color_system(color, to_tty) if fmt == "terminal" else None,
        width=terminal_width(to_tty),
        details=not summary_only,
        label=len(found) > 1,
        summary=len(found) > 1 or summary_only,
        fail_on=fail_on,
        dialect=dialect,
        cleanup=not no_cleanup,
    )
    # A progress bar when the output does not stream to the same terminal.
    streams_to_terminal = to_tty and not paged and options.details and fmt != "quiet"
    progress = sys.stderr.isatty() and not quiet and not streams_to_terminal
    writer = _writer(stream, options, found)
    worst = ExitCode.OK
    _collect_less_often()
    try:
        for item in run(found, options, jobs or default_jobs(), progress=progress):
            if isinstance(item, Job):
                result = _write_job(item, writer)
            else:
                result = item
                if result.error is None:
                    writer.add(
                        result.number, result.source, result.output, result.rows, result.counts
                    )
            worst = worse(worst, result.code)
            if result.error is not None:
                writer.error(result.source, result.error, result.code, result.rows, result.counts)
                warn(result.error)
        writer.summary = fmt != "quiet" and (len(found) > 1 or writer.row_count > 1)
        if summary_only:
            writer.summary = True
        writer.finish()
    finally:
        writer.close(close_stream=output is not None)
    if buffer is not None:
        click.echo_via_pager(buffer.getvalue(), color=options.color_system is not None)
    sys.exit(int(worst))


def _collect_less_often() -> None:
    """An analysis makes many small objects that seldom form cycles: the cyclic
    collector's default pace (a pass every 700 allocations) costs about 4% of a large
    log's time (bench/throughput.py), a pass every 20,000 still 2.3% of a summary-only
    log's; every 100,000: 0.9%, and a few MB more held at most."""
    import gc

    gc.set_threshold(100_000, 20, 20)


def _writer(stream: TextIO, options: Options, found: list[Pending | InputError]) -> Writer:
    """Each session is flushed at once when an input may pause (``tail -f mail.log |``),
    otherwise the output is written in blocks."""
    from smtplog.cli.inputs import Pending
    from smtplog.cli.output import Writer

    live = any(item.may_pause for item in found if isinstance(item, Pending))
    return Writer(stream, options, summary=False, flush_each=live)


def _write_job(job: Job, writer: Writer) -> Result:
    """Run an input here, writing its output while it is read."""
    pieces = job.pieces()
    first = next(pieces, None)
    started = first is not None
    if started:
        writer.begin(job.number, job.source)
        write = writer.writes()
        write(first)
        for piece in pieces:
            write(piece)
    result = job.result()
    if started and result.error is None:
        writer.end(result.rows, result.counts)
    return result


def _open_output(output: str | None, paged: bool) -> tuple[TextIO, io.StringIO | None]:
    if paged:
        buffer = io.StringIO()
        return buffer, buffer
    if output is None:
        return sys.stdout, None
    try:
        return open(output, "w", encoding="utf-8", errors="surrogateescape"), None
    except OSError as exc:
        raise InputError(f"{output}: cannot write ({exc.strerror or exc})") from exc


def _worst(codes: Iterable[ExitCode]) -> ExitCode:
    worst = ExitCode.OK
    for code in codes:
        worst = worse(worst, code)
    return worst
