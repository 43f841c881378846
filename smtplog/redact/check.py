"""The redactor checks its own work before it hands a copy out.

No secret may be left, not even once cleanup has unwrapped and unescaped the
copy; and the copy must read the same: the same sessions, events, verdicts
and diagnoses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from smtplog.errors import ExitCode, SmtplogError
from smtplog.redact.secrets import standing_alone

if TYPE_CHECKING:
    from smtplog.redact.secrets import Findings


class RedactionError(SmtplogError):
    """A secret could not be removed: nothing is written (a bug; please report it)."""

    exit_code = ExitCode.INTERNAL


def cleaned_text(text: str, name: str) -> str:
    """The copy as the most thorough cleanup reads it (unwrapped, unquoted, unescaped)."""
    from smtplog.cleanup import clean
    from smtplog.source import source_from_text

    try:
        return clean(source_from_text(text, name)).source.text
    except SmtplogError:
        return text


def assert_no_secret(text: str, found: Findings, name: str) -> None:
    """Raise RedactionError when a secret of ``found`` is still in ``text``."""
    for secret in found.secrets:
        if len(secret.sent) >= 4 and secret.sent in text:
            raise RedactionError(
                f"{name}: could not remove the AUTH {secret.role} on line {secret.line}"
            )
    for value in found.values:
        if standing_alone(value).search(text):
            raise RedactionError(f"{name}: an AUTH secret is still in the copy")


Reading = tuple[tuple[str, str | None, str | None], tuple[tuple[str, object], ...]]


def readings(data: bytes, name: str, dialect: str | None, cleanup: bool = True) -> list[Reading]:
    """Per session: the verdict, and the shape of every event (kind and code or verb)."""
    from smtplog.analysis import analyze_bytes
    from smtplog.events import Command, Reply

    report = analyze_bytes(data, name, dialect, cleanup=cleanup)
    out = []
    for session in report.sessions:
        verdict = (session.outcome, session.failed_at, session.main.id if session.main else None)
        shape = tuple(
            (
                event.kind,
                event.code
                if isinstance(event, Reply)
                else event.verb
                if isinstance(event, Command)
                else None,
            )
            for event in session.analysis.events
        )
        out.append((verdict, shape))
    return out


def compare(
    before: bytes, after: bytes, name: str, dialect: str | None = None, cleanup: bool = True
) -> list[str]:
    """How the redacted copy analyses differently from the original (empty: the same)."""
    try:
        old = readings(before, name, dialect, cleanup)
        new = readings(after, name, dialect, cleanup)
    except SmtplogError as exc:
        return [f"the copy no longer analyses: {exc}"]
    if len(old) != len(new):
        return [f"{len(old)} sessions became {len(new)}"]
    changes = []
    for index, ((verdict_a, shape_a), (verdict_b, shape_b)) in enumerate(
        zip(old, new, strict=True), 1
    ):
        if verdict_a != verdict_b:
            changes.append(f"session {index}: {_verdict(verdict_a)} became {_verdict(verdict_b)}")
        elif shape_a != shape_b:
            changes.append(f"session {index}: the events differ (same verdict)")
    return changes


def _verdict(item: tuple[str, str | None, str | None]) -> str:
    outcome, failed_at, main = item
    return " ".join(
        part for part in (outcome, f"at {failed_at}" if failed_at else "", main) if part
    )
