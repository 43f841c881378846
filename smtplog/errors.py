"""Exceptions and exit codes; the CLI turns each into one line on stderr."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Documented exit codes (README, "Exit codes")."""

    OK = 0  # every session delivered, or nothing wrong found
    FAILURE = 1  # a failure was diagnosed
    USAGE = 2  # usage error or unreadable input
    NOT_SMTP = 3  # the input is not a recognisable SMTP transcript
    INTERNAL = 70  # a bug in smtplog (EX_SOFTWARE); reported in one line, never a traceback


_RANK = {ExitCode.OK: 0, ExitCode.FAILURE: 1, ExitCode.NOT_SMTP: 2, ExitCode.USAGE: 3}


def worse(current: ExitCode, new: ExitCode) -> ExitCode:
    """With several inputs: a usage error or unreadable input outranks "not SMTP",
    which outranks a diagnosed failure; an internal error outranks everything."""
    return max(current, new, key=lambda code: _RANK.get(code, 4))


class SmtplogError(Exception):
    """Base class; ``exit_code`` says how the CLI ends."""

    exit_code: ExitCode = ExitCode.USAGE


class InputError(SmtplogError):
    """The input cannot be read as a transcript (empty, binary, missing...)."""

    def __init__(self, message: str, *, not_smtp: bool = False) -> None:
        super().__init__(message)
        self.exit_code = ExitCode.NOT_SMTP if not_smtp else ExitCode.USAGE


class NotSmtpError(SmtplogError):
    """The text was read but holds nothing that looks like an SMTP session."""

    exit_code = ExitCode.NOT_SMTP


class UnknownDialectError(SmtplogError):
    """``--dialect`` names a dialect that does not exist."""

    exit_code = ExitCode.USAGE
