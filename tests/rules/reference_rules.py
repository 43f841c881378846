"""The rules' definitions as they were before their shortcuts (tests/rules/test_fast_paths.py
proves each shortcut gives what its definition gives)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from smtplog.events import Command, Reply
from smtplog.protocol import SessionAnalysis
from smtplog.report import Finding
from smtplog.rules.classify import ProviderMatch, detect_provider
from smtplog.rules.engine import identity_texts

if TYPE_CHECKING:
    from smtplog.rules.engine import Diagnoser


def early_commands(diagnoser: Diagnoser) -> list[Command]:
    """structural.early_commands before it asked the session's commands first (the walk
    pregreet made of a connected session with replies)."""
    analysis = diagnoser.analysis
    if not diagnoser.has(Command) and not any(
        x.verb in ("EHLO", "HELO") for x in analysis.exchanges
    ):
        return []
    first_reply = next(i for i, e in enumerate(analysis.events) if isinstance(e, Reply))
    early = [e for e in analysis.events[:first_reply] if isinstance(e, Command) and not e.inferred]
    early += [
        x.request
        for x in analysis.exchanges
        if x.verb in ("EHLO", "HELO") and x.reply.code == 220 and isinstance(x.request, Command)
    ]
    return early


def observe(diagnoser: Diagnoser, findings: list[Finding]) -> list[Finding]:
    """observations.observe before it skipped the EHLO checks of a session without EHLO."""
    from smtplog.report import SEVERITY_ORDER
    from smtplog.rules.observations import CHECKS

    ids = {finding.id for finding in findings}
    notes = []
    for check in CHECKS:
        note = check(diagnoser, ids)
        if note is not None:
            notes.append(note)
            ids.add(f"{note.id}:{note.severity}")
    if len(notes) > 1:
        notes.sort(key=lambda f: SEVERITY_ORDER[f.severity])
    return notes


def session_provider(analysis: SessionAnalysis) -> ProviderMatch | None:
    """engine.session_provider before it told classify that the replies name no provider."""
    found = detect_provider(identity_texts(analysis))
    if found is not None:
        return found
    replies = [e for e in analysis.events if isinstance(e, Reply)]
    return detect_provider([reply.text for reply in replies])
