"""The rules' definitions as they were before their shortcuts (tests/rules/test_fast_paths.py
proves each shortcut gives what its definition gives)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from smtplog.events import Command, Reply
from smtplog.protocol import Exchange, SessionAnalysis
from smtplog.report import Finding
from smtplog.rules.classify import ProviderMatch, detect_provider
from smtplog.rules.evidence import evidence_of
from smtplog.rules.structural import _consequences, _signals

if TYPE_CHECKING:
    from smtplog.rules.engine import Diagnoser


def pregreet(diagnoser: Diagnoser) -> Finding | None:
    """structural.pregreet before it asked the session's commands first."""
    analysis = diagnoser.analysis
    if not analysis.connected or not diagnoser.has(Reply):
        return None
    if not diagnoser.has(Command) and not any(
        x.verb in ("EHLO", "HELO") for x in analysis.exchanges
    ):
        return None
    first_reply = next(i for i, e in enumerate(analysis.events) if isinstance(e, Reply))
    early = [e for e in analysis.events[:first_reply] if isinstance(e, Command) and not e.inferred]
    early += [
        x.request
        for x in analysis.exchanges
        if x.verb in ("EHLO", "HELO") and x.reply.code == 220 and isinstance(x.request, Command)
    ]
    if not early:
        return None
    signal = _signals()["pregreet"]
    refusal: Exchange | None = None
    for exchange in analysis.exchanges:
        if not exchange.failed:
            continue
        at_greeting = exchange.verb == "BANNER" and exchange.reply.code in (554, 550, 521)
        if at_greeting or signal.search(exchange.reply.text):
            refusal = exchange
            break
    if refusal is None:
        return None
    shown = [evidence_of(early[0]), evidence_of(refusal.reply)]
    facts = diagnoser.facts(refusal)
    facts["command"] = early[0].display
    return diagnoser.finding(
        "pregreet",
        confidence="high",
        evidence=shown,
        facts=facts,
        phase="banner",
        matched_by="a command before the greeting, then a refusal",
        consequences=_consequences(diagnoser, *shown),
    )


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
    identity = [analysis.target or ""]
    if analysis.banner is not None:
        identity.append(analysis.banner.text)
    if analysis.ehlo is not None:
        identity.append(analysis.ehlo.text)
    found = detect_provider(identity)
    if found is not None:
        return found
    replies = [e for e in analysis.events if isinstance(e, Reply)]
    return detect_provider([reply.text for reply in replies])
