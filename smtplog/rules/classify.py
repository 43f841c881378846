"""Classify a failing reply from data, in the evidence order of the taxonomy (§2.1).

Rows of ``knowledge/patterns.tsv`` are tried tier by tier: provider-specific
rows first (providers reuse enhanced codes with their own meanings), then the
enhanced status code, then text patterns, then the reply code and phase. Every
column of a row that is not ``*`` must match; phases guard every row ("user
unknown" means an unknown recipient only at RCPT).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from smtplog.events import Reply
from smtplog.knowledge import read_toml, read_tsv

TIER_NAMES = {1: "provider", 2: "enhanced code", 3: "text", 4: "reply code"}


@dataclass(frozen=True, slots=True)
class PatternRow:
    diagnosis: str
    phases: frozenset[str] | None
    codes: tuple[str, ...] | None  # "550" or a class "5xx"
    enhanced: tuple[str, ...] | None  # "5.7.3" or "X.1.1"
    providers: frozenset[str] | None
    pattern: re.Pattern[str] | None
    source: str

    @property
    def tier(self) -> int:
        if self.providers:
            return 1
        if self.enhanced:
            return 2
        if self.pattern:
            return 3
        return 4

    def matches(self, reply: Reply, text: str, phase: str | None, provider: str | None) -> bool:
        if self.phases is not None and phase not in self.phases:
            return False
        if self.providers is not None and provider not in self.providers:
            return False
        if self.codes is not None and not any(_code_matches(c, reply.code) for c in self.codes):
            return False
        if self.enhanced is not None and not (
            reply.enhanced and any(_enhanced_matches(e, reply.enhanced) for e in self.enhanced)
        ):
            return False
        return self.pattern is None or bool(self.pattern.search(text))


@dataclass(frozen=True, slots=True)
class Classification:
    diagnosis: str
    confidence: str  # high | medium | low
    matched_by: str
    row: PatternRow | None = None


def _code_matches(spec: str, code: int) -> bool:
    if spec.endswith("xx"):
        return str(code)[0] == spec[0]
    return spec == str(code)


def _enhanced_matches(spec: str, enhanced: str) -> bool:
    if spec.startswith("X."):
        return enhanced.split(".", 1)[1] == spec[2:]
    return spec == enhanced


def _set(value: str) -> tuple[str, ...] | None:
    value = value.strip()
    if value in ("", "*"):
        return None
    return tuple(part.strip() for part in value.split(",") if part.strip())


@cache
def pattern_rows() -> tuple[PatternRow, ...]:
    rows = []
    for row in read_tsv("patterns.tsv"):
        phases, providers = _set(row["phases"]), _set(row["provider"])
        pattern = row["pattern"].strip()
        rows.append(
            PatternRow(
                diagnosis=row["diagnosis"],
                phases=frozenset(phases) if phases else None,
                codes=_set(row["codes"]),
                enhanced=_set(row["enhanced"]),
                providers=frozenset(providers) if providers else None,
                pattern=None if pattern in ("", "*") else re.compile(pattern, re.IGNORECASE),
                source=row["source"],
            )
        )
    return tuple(sorted(rows, key=lambda r: r.tier))  # stable: file order within a tier


@cache
def providers() -> dict[str, tuple[str, tuple[re.Pattern[str], ...]]]:
    table = read_toml("providers.toml")
    return {
        key: (
            value["name"],
            tuple(re.compile(marker, re.IGNORECASE) for marker in value["markers"]),
        )
        for key, value in table.items()
    }


def detect_provider(texts: list[str]) -> str | None:
    """The receiving provider named by the banner, EHLO reply, replies or host."""
    joined = "\n".join(texts)
    for key, (_name, markers) in providers().items():
        if any(marker.search(joined) for marker in markers):
            return key
    return None


def provider_name(key: str | None) -> str | None:
    return providers()[key][0] if key and key in providers() else None


def classify(reply: Reply, phase: str | None, provider: str | None = None) -> Classification:
    text = " ".join(reply.lines)
    for row in pattern_rows():
        if row.matches(reply, text, phase, provider):
            confidence = "medium" if row.tier == 4 else "high"
            return Classification(row.diagnosis, confidence, _explain_match(row, reply), row)
    return Classification("unclassified", "low", f"reply code {reply.code}")


def _explain_match(row: PatternRow, reply: Reply) -> str:
    if row.tier == 1:
        return f"provider knowledge: {row.source}"
    if row.tier == 2:
        return f"enhanced status code {reply.enhanced}"
    if row.tier == 3:
        assert row.pattern is not None
        found = row.pattern.search(" ".join(reply.lines))
        return f'reply text "{found.group(0) if found else row.pattern.pattern}"'
    return f"reply code {reply.code}"
