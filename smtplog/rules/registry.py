"""The diagnosis registry: every id, its documentation, loaded from data."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from smtplog.knowledge import read_toml


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """A diagnosis id and its documentation (``knowledge/diagnoses.toml``)."""

    id: str
    group: str
    title: str
    severity: str
    summary: str
    explanation: str
    causes: tuple[str, ...]
    next_steps: tuple[str, ...]
    references: tuple[str, ...]
    detection: str

    @property
    def observation(self) -> bool:
        """A secondary note (never the root cause, never changes the verdict)."""
        return self.group == "observation"


@cache
def diagnoses() -> dict[str, Diagnosis]:
    table = read_toml("diagnoses.toml")
    return {
        key: Diagnosis(
            id=key,
            group=value["group"],
            title=value["title"],
            severity=value["severity"],
            summary=value["summary"],
            explanation=" ".join(value["explanation"].split()),
            causes=tuple(value["causes"]),
            next_steps=tuple(value["next_steps"]),
            references=tuple(value["references"]),
            detection=" ".join(value.get("detection", "").split()),
        )
        for key, value in table.items()
    }


def get(diagnosis_id: str) -> Diagnosis:
    return diagnoses()[diagnosis_id]
