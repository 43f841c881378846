"""What probe and record share on the command line: the password, the transcript file,
and the analysis that follows a recording."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

import click

from smtplog.errors import ExitCode, SmtplogError

if TYPE_CHECKING:
    from smtplog.record.recorder import Recorder

PASSWORD_VARIABLE = "SMTPLOG_PASSWORD"
Command = TypeVar("Command", bound=Callable[..., Any])


def certificate_options(insecure_help: str) -> Callable[[Command], Command]:
    """--insecure, --ca-file and --tls-name, as probe and record take them."""

    def decorate(command: Command) -> Command:
        command = click.option(
            "--tls-name",
            metavar="NAME",
            help="Name the certificate must match (default: the host).",
        )(command)
        command = click.option(
            "--ca-file",
            type=click.Path(exists=True, dir_okay=False),
            help="Trust the CAs in this PEM file.",
        )(command)
        return click.option("--insecure", is_flag=True, help=insecure_help)(command)

    return decorate


def transcript_options(format_help: str) -> Callable[[Command], Command]:
    """--save, --no-save and --format (of the analysis that follows a recording)."""

    def decorate(command: Command) -> Command:
        command = click.option(
            "--format",
            "fmt",
            type=click.Choice(["auto", "terminal", "text", "json"]),
            default="auto",
            show_default=True,
            help=format_help,
        )(command)
        command = click.option("--no-save", is_flag=True, help="Do not keep the transcript.")(
            command
        )
        return click.option(
            "--save",
            metavar="FILE",
            help="Write the transcript here (default: a new file in "
            "$XDG_DATA_HOME/smtplog/transcripts).",
        )(command)

    return decorate


class RecordingError(SmtplogError):
    """A usage problem found before connecting (exit code 2)."""


def read_password(user: str) -> str:
    """SMTPLOG_PASSWORD, else a prompt on the terminal; never from argv."""
    value = os.environ.get(PASSWORD_VARIABLE)
    if value is not None:
        return value
    if not sys.stdin or not sys.stdin.isatty():
        raise RecordingError(
            f"no password for {user}: set {PASSWORD_VARIABLE}, or run in a terminal to be asked"
        )
    import getpass

    return getpass.getpass(f"Password for {user}: ")


def open_transcript(
    save: str | None, no_save: bool, target: str, command: str
) -> tuple[Path | None, TextIO | None]:
    """The transcript file: --save FILE, else a new file in the user's data directory."""
    if no_save:
        return None, None
    from datetime import datetime, timezone

    from smtplog.record.recorder import default_transcript_path, open_private

    path = (
        Path(save) if save else default_transcript_path(target, datetime.now(timezone.utc), command)
    )
    try:
        return path, open_private(path)
    except OSError as exc:
        raise RecordingError(
            f"{path}: cannot write the transcript ({exc.strerror or exc})"
        ) from exc


def finish(
    recorder: Recorder,
    path: Path | None,
    fmt: str,
    extra: dict[str, Any] | None = None,
) -> None:
    """Analyse what was recorded, render it like `smtplog analyze`, exit with its code."""
    from smtplog.analysis import analyze_text
    from smtplog.cli.output import resolve_format, write_reports
    from smtplog.errors import NotSmtpError

    recorder.close()
    name = str(path) if path else "<recording>"
    try:
        report = analyze_text(recorder.text, dialect="smtplog", name=name)
    except NotSmtpError:
        click.echo("smtplog: nothing was recorded", err=True)
        sys.exit(int(ExitCode.NOT_SMTP))
    fmt = resolve_format(fmt)
    if fmt == "json":
        from smtplog.cli.output import json_text
        from smtplog.render.data import document

        doc = document([report])
        doc["reports"][0]["recording"] = {"transcript": name, **(extra or {})}
        sys.stdout.write(json_text(doc, indent=2) + "\n")
    else:
        write_reports([report], fmt)
        if path is not None:
            from smtplog.render.safe import safe

            click.echo(f"transcript saved to {safe(str(path))}", err=True)
    sys.stdout.flush()
    sys.exit(int(ExitCode.FAILURE if report.has_errors else ExitCode.OK))
