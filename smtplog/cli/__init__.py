"""The command line: a click group whose commands are imported on first use.

This is the only package that imports every stage. ``main()`` is the single
place where errors become one line on stderr and a documented exit code.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from importlib import import_module
from typing import Any

import click

from smtplog import __version__
from smtplog.errors import ExitCode, SmtplogError

# command name -> "module:function"; importing is deferred so `smtplog --help`
# and shell completion stay fast.
COMMANDS: dict[str, str] = {
    "analyze": "smtplog.cli.analyze_cmd:analyze",
    "dialects": "smtplog.cli.dialects_cmd:dialects",
    "explain": "smtplog.cli.explain_cmd:explain",
    "probe": "smtplog.cli.probe_cmd:probe",
    "proxy": "smtplog.cli.proxy_cmd:proxy",
    "record": "smtplog.cli.record_cmd:record",
    "redact": "smtplog.cli.redact_cmd:redact",
    "rules": "smtplog.cli.rules_cmd:rules",
}

EPILOG = """\b
Exit codes:
  0  every session delivered, or nothing wrong found
  1  a failure was diagnosed
  2  usage error or unreadable input
  3  the input is not a recognisable SMTP transcript
  70 an internal error in smtplog (please report it)
"""


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS:
            module_name, _, attribute = COMMANDS[cmd_name].partition(":")
            command: click.Command = getattr(import_module(module_name), attribute)
            if command.callback is not None and not hasattr(command.callback, "__wrapped__"):
                command.callback = _with_code_cache(command.callback)
            return command
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # The reader went away (`smtplog analyze x | head`): not an error. Caught
            # here because click's main would exit 1 ("a failure was diagnosed").
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # what is still buffered goes nowhere
            raise click.exceptions.Exit(0) from None


def _with_code_cache(callback: Callable[..., Any]) -> Callable[..., Any]:
    """Run the command with dataclass code and regular expressions cached between runs
    (smtplog/codecache.py, smtplog/recache.py); installed when a command runs, so that
    --help does not even load dataclasses."""

    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        from smtplog import codecache, recache

        codecache.install()
        recache.install()
        return callback(*args, **kwargs)

    return run


@click.group(cls=LazyGroup, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="smtplog")
def cli() -> None:
    """Record SMTP sessions and explain captured SMTP transcripts.

    \b
    smtplog analyze session.txt        explain a telnet/swaks/... transcript
    cat session.txt | smtplog analyze  the same, from a pipe
    smtplog analyze tickets/ -s        triage a folder: one summary table
    smtplog redact --all session.txt   a copy safe to share (no secrets, names)
    smtplog explain 5.7.139            what a code, reply or diagnosis means
    smtplog rules                      list every diagnosis
    smtplog dialects                   list the transcript formats it reads
    """


def warn(message: str) -> None:
    """One line on stderr. Messages quote file names, arguments and transcript text,
    which can hold terminal escapes too: they are made safe (render/safe.py)."""
    from smtplog.render.safe import safe

    click.echo(f"smtplog: {safe(message)}", err=True)


def fail(message: str, code: ExitCode) -> None:
    warn(message)
    sys.exit(int(code))


def main(argv: list[str] | None = None) -> Any:
    try:
        return cli.main(args=argv, prog_name="smtplog", standalone_mode=False)
    except SmtplogError as exc:
        fail(str(exc), exc.exit_code)
    except click.exceptions.Abort:
        fail("aborted", ExitCode.USAGE)
    except click.ClickException as exc:
        message = exc.format_message()
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            message += f" (see '{exc.ctx.command_path} --help')"
        fail(message, ExitCode.USAGE)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        fail("interrupted", ExitCode.USAGE)
    except Exception as exc:
        if os.environ.get("SMTPLOG_DEBUG"):
            raise
        fail(
            f"internal error: {type(exc).__name__}: {exc} (please report it; "
            "set SMTPLOG_DEBUG=1 to see the traceback)",
            ExitCode.INTERNAL,
        )
    return None
