"""Findings and reports: plain data that every renderer reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from smtplog.quickinit import quick_init

if TYPE_CHECKING:
    from smtplog.protocol import SessionAnalysis

SCHEMA = "smtplog/1"
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


@quick_init  # built for every session of a long log
@dataclass(frozen=True, slots=True)
class Evidence:
    """An input line (its number and text) a finding rests on."""

    line: int | None  # None for an inferred event
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "text": self.text}


@quick_init  # built for every session of a long log
@dataclass(frozen=True, slots=True)
class Finding:
    """One diagnosis about one session."""

    id: str
    severity: str  # error | warning | info
    confidence: str  # high | medium | low
    title: str
    summary: str
    explanation: str
    causes: tuple[str, ...]
    next_steps: tuple[str, ...]
    references: tuple[str, ...]
    evidence: tuple[Evidence, ...] = ()
    consequences: tuple[Evidence, ...] = ()
    phase: str | None = None
    provider: str | None = None
    matched_by: str | None = None
    group: str = ""

    @property
    def observation(self) -> bool:
        """A secondary note: it never changes the verdict or the exit code."""
        return self.group == "observation"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "severity": self.severity,
            "confidence": self.confidence,
            "title": self.title,
            "summary": self.summary,
            "explanation": self.explanation,
            "causes": list(self.causes),
            "next_steps": list(self.next_steps),
            "references": list(self.references),
            "evidence": [item.to_dict() for item in self.evidence],
            "consequences": [item.to_dict() for item in self.consequences],
            "phase": self.phase,
            "provider": self.provider,
            "matched_by": self.matched_by,
            "group": self.group,
        }


@dataclass(slots=True)
class SessionReport:
    """One session of a report: its analysis, findings and observations."""

    analysis: SessionAnalysis
    findings: list[Finding] = field(default_factory=list)
    # Warnings and notes that never change the verdict or the exit code.
    observations: list[Finding] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        return self.analysis.verdict.outcome

    @property
    def failed_at(self) -> str | None:
        return self.analysis.verdict.failed_at

    @property
    def main(self) -> Finding | None:
        """The finding that explains the session (the root cause, or delivered)."""
        return self.findings[0] if self.findings else None

    @property
    def has_errors(self) -> bool:
        return any(finding.severity == "error" for finding in self.findings)


@dataclass(slots=True)
class Report:
    """The analysis of one input."""

    source: str
    dialect: str
    confidence: float
    sessions: list[SessionReport]
    notes: list[str] = field(default_factory=list)
    line_count: int = 0
    runner_up: tuple[str, float] | None = None  # the best other dialect's name and score
    forced: bool = False  # the dialect was named with --dialect, not detected
    cleanup: list[str] = field(default_factory=list)  # normalisers applied (smtplog/cleanup)

    @property
    def has_errors(self) -> bool:
        return any(session.has_errors for session in self.sessions)

    def to_dict(self) -> dict[str, Any]:
        from smtplog.render.data import report_to_dict

        return report_to_dict(self)
