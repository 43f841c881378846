"""`smtplog analyze`: read transcripts, explain them."""

from __future__ import annotations

import sys

import click

from smtplog.cli.inputs import read_inputs
from smtplog.cli.output import resolve_format, write_reports
from smtplog.errors import ExitCode, InputError, SmtplogError


@click.command(
    epilog="""\b
Examples:
  smtplog analyze session.txt
  swaks --to user@example.com 2>&1 | smtplog analyze
  smtplog analyze --format json session.txt | jq '.reports[0].sessions[0].outcome'
"""
)
@click.argument("files", nargs=-1, type=click.Path(dir_okay=True, allow_dash=True))
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(["auto", "terminal", "text", "json"]),
    default="auto",
    show_default=True,
    help="Output format; auto is terminal on a TTY, text in a pipe.",
)
@click.option(
    "--dialect",
    "-d",
    metavar="NAME",
    help="Read the input as this dialect instead of detecting it (see `smtplog dialects`).",
)
@click.option(
    "--no-cleanup",
    is_flag=True,
    help="Read the text exactly as given: do not undo HTML escaping, quoting, wrapping...",
)
def analyze(files: tuple[str, ...], fmt: str, dialect: str | None, no_cleanup: bool) -> None:
    """Explain SMTP transcripts: annotate every line, give the verdict and the diagnosis.

    FILES are transcripts in any supported dialect; with none (or "-"), the
    transcript is read from standard input.
    """
    from smtplog.analysis import analyze_bytes

    if dialect:
        from smtplog import dialects

        dialects.get(dialect)  # a bad name is a usage error before any input is read
    reports = []
    worst = ExitCode.OK
    for item in read_inputs(files):
        if isinstance(item, InputError):
            click.echo(f"smtplog: {item}", err=True)
            worst = max(worst, item.exit_code, key=_rank)
            continue
        try:
            report = analyze_bytes(item.data, item.name, dialect, cleanup=not no_cleanup)
        except SmtplogError as exc:
            click.echo(f"smtplog: {exc}", err=True)
            worst = max(worst, exc.exit_code, key=_rank)
            continue
        reports.append(report)
        if report.has_errors:
            worst = max(worst, ExitCode.FAILURE, key=_rank)
    if reports:
        write_reports(reports, resolve_format(fmt))
    sys.exit(int(worst))


def _rank(code: ExitCode) -> int:
    """Usage errors outrank "not SMTP", which outranks a diagnosed failure."""
    return {ExitCode.OK: 0, ExitCode.FAILURE: 1, ExitCode.NOT_SMTP: 2, ExitCode.USAGE: 3}.get(
        code, 4
    )
