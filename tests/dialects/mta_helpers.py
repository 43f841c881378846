"""Shared checks for the MTA dialect tests: analyse a sample, list its sessions' verdicts."""

from __future__ import annotations

from pathlib import Path

from smtplog.analysis import analyze_text
from smtplog.dialects import detect, get
from smtplog.report import Report
from smtplog.source import source_from_text

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def analyse(path: Path | str, dialect: str | None = None) -> Report:
    path = SAMPLES / path if not isinstance(path, Path) else path
    return analyze_text(path.read_text(encoding="utf-8", errors="surrogateescape"), dialect)


def verdicts(report: Report) -> list[tuple[str, str | None, str | None]]:
    return [
        (s.outcome, s.failed_at, s.main.id if s.main is not None else None) for s in report.sessions
    ]


def detected(text: str) -> str:
    return detect(source_from_text(text, "t")).dialect.name


def events(text: str, dialect: str) -> list:
    return get(dialect).events(source_from_text(text, "t"))
