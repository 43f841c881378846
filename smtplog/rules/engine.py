"""Turn a session analysis into findings: the root cause first, then the rest.

Evidence order (taxonomy §2.1, DESIGN "Rules and findings"): what is missing
or structural (no connection, no greeting, a drop, a TLS failure, the client
program's own error) decides before any reply code; then the reply that
decided the verdict is classified from data (rules/classify.py). Failures the
root cause explains are listed as its consequences, not as separate problems.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from smtplog.events import (
    AuthResponse,
    ClientError,
    Closed,
    Command,
    ConnectFailed,
    DataEnd,
    Encrypted,
    Event,
    Reply,
    Timeout,
    TlsFailed,
)
from smtplog.knowledge import read_tsv
from smtplog.protocol import Exchange, SessionAnalysis, unrecovered_failures
from smtplog.report import SEVERITY_ORDER, Evidence, Finding
from smtplog.rules.classify import classify, detect_provider
from smtplog.rules.registry import get

CONNECT_FAILURES = {
    "timeout": ("connect-timeout", "high"),
    "unreachable": ("connect-timeout", "high"),
    "refused": ("connect-refused", "high"),
    "reset": ("connect-refused", "medium"),
    "dns": ("dns-resolution-failed", "high"),
    # Windows telnet says "Connect failed" for a refusal and a timeout alike.
    "other": ("connect-timeout", "medium"),
}


class _Defaults(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "…"


@cache
def _client_error_rows() -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple(
        (row["diagnosis"], re.compile(row["pattern"], re.IGNORECASE))
        for row in read_tsv("client-errors.tsv")
    )


def event_text(event: Event | None) -> str:
    """How an event reads in evidence (secrets are already masked in events)."""
    if event is None:
        return ""
    if isinstance(event, Reply):
        return "\n".join(event.wire_lines())
    if isinstance(event, Command):
        return event.display
    if isinstance(event, AuthResponse):
        return event.text
    if isinstance(event, DataEnd):
        return "."
    if isinstance(event, ConnectFailed | Closed | Timeout):
        return event.detail or event.kind
    if isinstance(event, TlsFailed):
        return event.reason
    if isinstance(event, Encrypted):
        return event.text
    if isinstance(event, ClientError):
        return event.text
    return getattr(event, "text", event.kind)


def evidence_of(event: Event | None) -> Evidence:
    return Evidence(event.span.first if event and event.span else None, event_text(event))


class Diagnoser:
    """Builds the findings of one session."""

    def __init__(self, analysis: SessionAnalysis) -> None:
        self.analysis = analysis
        texts = [event_text(e) for e in analysis.events if isinstance(e, Reply)]
        self.provider = detect_provider([analysis.target or "", *texts])

    # -- helpers -----------------------------------------------------------

    def facts(self, exchange: Exchange | None = None, detail: str = "") -> _Defaults:
        analysis = self.analysis
        facts = _Defaults(
            server=analysis.target or _banner_host(analysis) or "the server",
            sender=f"<{analysis.sender}>" if analysis.sender is not None else "the sender",
            phase=analysis.verdict.failed_at or "",
            detail=detail,
            user_suffix="",
            size_limit="",
        )
        user = next(
            (e.decoded for e in analysis.events if isinstance(e, AuthResponse) and e.decoded),
            None,
        )
        if user:
            facts["user"] = user
            facts["user_suffix"] = f" for user {user}"
        size = analysis.capabilities.get("SIZE", "")
        if size.isdigit() and int(size) > 0:
            facts["size_limit"] = f" (the server's limit is {int(size) / 1_000_000:.1f} MB)"
        if exchange is not None:
            reply = exchange.reply
            facts["code"] = str(reply.code)
            facts["enhanced"] = reply.enhanced or ""
            facts["reply"] = _shorten(" ".join(reply.wire_lines()))
            facts["command"] = event_text(exchange.request) if exchange.request else "the greeting"
            if exchange.verb == "RCPT" and isinstance(exchange.request, Command):
                from smtplog.smtp import command_address

                address = command_address(exchange.request.argument)
                facts["recipient"] = f"<{address}>" if address else exchange.request.argument
        if "recipient" not in facts and analysis.recipients_rejected:
            facts["recipient"] = f"<{analysis.recipients_rejected[0][0]}>"
        facts.setdefault("recipient", "the recipient")
        return facts

    def finding(
        self,
        diagnosis_id: str,
        *,
        confidence: str,
        evidence: Iterable[Evidence],
        facts: _Defaults,
        severity: str | None = None,
        consequences: Iterable[Evidence] = (),
        phase: str | None = None,
        matched_by: str | None = None,
    ) -> Finding:
        doc = get(diagnosis_id)
        return Finding(
            id=diagnosis_id,
            severity=severity or doc.severity,
            confidence=confidence,
            title=doc.title,
            summary=doc.summary.format_map(facts),
            explanation=doc.explanation,
            causes=doc.causes,
            next_steps=doc.next_steps,
            references=doc.references,
            evidence=tuple(evidence),
            consequences=tuple(consequences),
            phase=phase,
            provider=self.provider,
            matched_by=matched_by,
        )

    def from_exchange(self, exchange: Exchange, severity: str | None = None) -> Finding:
        result = classify(exchange.reply, exchange.phase, self.provider)
        evidence = [evidence_of(exchange.reply)]
        if exchange.request is not None:
            evidence.insert(0, evidence_of(exchange.request))
        facts = self.facts(exchange)
        if isinstance(exchange.request, Command) and exchange.request.edited:
            facts["command"] += (
                " (typed with backspace: telnet sent the control character to the server)"
            )
        return self.finding(
            result.diagnosis,
            confidence=result.confidence,
            evidence=evidence,
            facts=facts,
            severity=severity,
            phase=exchange.phase,
            matched_by=result.matched_by,
        )

    # -- the root cause ------------------------------------------------------

    def root(self) -> Finding | None:
        analysis = self.analysis
        verdict = analysis.verdict
        if verdict.outcome == "delivered" and analysis.delivered is not None:
            exchange = next(e for e in analysis.exchanges if e.reply is analysis.delivered)
            return self.finding(
                "delivered",
                confidence="high",
                evidence=[evidence_of(analysis.delivered)],
                facts=self.facts(exchange),
                phase="message",
            )
        if verdict.decisive is not None:
            finding = self.from_exchange(verdict.decisive, severity=None)
            consequences = [
                evidence_of(e.reply)
                for e in unrecovered_failures(analysis)
                if e is not verdict.decisive
            ]
            if consequences:
                finding = _with_consequences(finding, consequences)
            return finding
        reason = verdict.reason
        if isinstance(reason, ConnectFailed):
            diagnosis, confidence = CONNECT_FAILURES[reason.reason]
            return self.finding(
                diagnosis,
                confidence=confidence,
                evidence=[evidence_of(reason)],
                facts=self.facts(detail=reason.detail or reason.reason),
                phase="connect",
                matched_by=f"connection failure: {reason.reason}",
            )
        if isinstance(reason, TlsFailed):
            return self.finding(
                _tls_failure_diagnosis(reason.reason),
                confidence="high",
                evidence=[evidence_of(reason)],
                facts=self.facts(detail=reason.reason),
                phase="starttls",
                matched_by="TLS failure reported by the client",
            )
        if isinstance(reason, Encrypted):
            return self.finding(
                "encrypted",
                confidence="high",
                evidence=[evidence_of(reason)],
                facts=self.facts(detail=reason.detail or "after TLS started"),
                matched_by="traffic after the TLS handshake was recorded but not decrypted",
            )
        if isinstance(reason, Closed | Timeout):
            return self._structural_end(reason)
        if isinstance(reason, ClientError):
            return self._client_error(reason)
        return None

    def _structural_end(self, end: Closed | Timeout) -> Finding:
        analysis = self.analysis
        phase = analysis.verdict.failed_at
        evidence = [evidence_of(end)]
        if analysis.unanswered:
            evidence.insert(0, evidence_of(analysis.unanswered[0]))
        if phase == "banner":
            detail = (
                "; the client gave up waiting"
                if isinstance(end, Timeout)
                else ("; the connection was closed instead")
            )
            return self.finding(
                "no-greeting",
                confidence="high",
                evidence=evidence,
                facts=self.facts(detail=detail),
                phase=phase,
                matched_by="no 220 greeting after connect",
            )
        detail = (
            f" (the client timed out waiting for the reply to {event_text(analysis.unanswered[0])})"
            if isinstance(end, Timeout) and analysis.unanswered
            else ""
        )
        return self.finding(
            "connection-dropped",
            confidence="high" if isinstance(end, Closed) else "medium",
            evidence=evidence,
            facts=self.facts(detail=detail),
            phase=phase,
            matched_by="connection ended without a final reply",
        )

    def _client_error(self, error: ClientError) -> Finding:
        for diagnosis, pattern in _client_error_rows():
            if pattern.search(error.text):
                return self.finding(
                    diagnosis,
                    confidence="medium",
                    evidence=[evidence_of(error)],
                    facts=self.facts(detail=error.text),
                    phase=self.analysis.verdict.failed_at,
                    matched_by="the client program's error text",
                )
        return self.finding(
            "client-error",
            confidence="medium",
            evidence=[evidence_of(error)],
            facts=self.facts(detail=error.text),
            phase=self.analysis.verdict.failed_at,
            matched_by="the client program's error text",
        )

    # -- everything else -------------------------------------------------------

    def other_failures(self, root: Finding | None) -> list[Finding]:
        """Failures that did not decide the verdict: typos retried, one of several recipients."""
        analysis = self.analysis
        decisive = analysis.verdict.decisive
        explained = (
            {e.reply for e in unrecovered_failures(analysis)} if decisive is not None else set()
        )
        findings = []
        for exchange in analysis.exchanges:
            if not exchange.failed or exchange is decisive or exchange.reply in explained:
                continue
            # A rejected recipient is lost even when others were accepted.
            severity = "error" if exchange.verb == "RCPT" else "warning"
            findings.append(self.from_exchange(exchange, severity=severity))
        return findings

    def run(self) -> list[Finding]:
        root = self.root()
        findings = [root] if root is not None else []
        findings.extend(self.other_failures(root))
        return _ordered(findings)


def _tls_failure_diagnosis(reason: str) -> str:
    """tls-port-mismatch when the failure says so (client-errors.tsv), else the handshake."""
    for diagnosis, pattern in _client_error_rows():
        if diagnosis.startswith("tls-") and pattern.search(reason):
            return diagnosis
    return "tls-handshake-failed"


def _ordered(findings: list[Finding]) -> list[Finding]:
    if not findings:
        return findings
    root, rest = findings[0], findings[1:]
    rest.sort(
        key=lambda f: (SEVERITY_ORDER[f.severity], f.evidence[0].line or 0 if f.evidence else 0)
    )
    return [root, *rest]


def _with_consequences(finding: Finding, consequences: list[Evidence]) -> Finding:
    from dataclasses import replace

    return replace(finding, consequences=tuple(consequences))


def _banner_host(analysis: SessionAnalysis) -> str | None:
    if analysis.banner is not None and analysis.banner.lines:
        first = analysis.banner.lines[0].split()
        return first[0] if first else None
    return None


def _shorten(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def diagnose(analysis: SessionAnalysis) -> list[Finding]:
    return Diagnoser(analysis).run()
