"""Every diagnosis fires on its example transcripts and stays silent on the near misses."""

from __future__ import annotations

import pytest

from smtplog.analysis import analyze_bytes, analyze_text
from smtplog.report import Finding, Report, SessionReport
from smtplog.rules import diagnoses
from tests.rules.cases import CASES, Case, load_cases

CASE_LIST = load_cases()


def _all(session: SessionReport) -> list[Finding]:
    return [*session.findings, *session.observations]


def _describe(sessions: list[SessionReport]) -> str:
    return "; ".join(
        f"session {n}: {s.outcome}/{s.failed_at} " + ",".join(f.id for f in _all(s))
        for n, s in enumerate(sessions, 1)
    )


def _analyse(case: Case) -> Report:
    if case.data is not None:
        return analyze_bytes(case.data, case.source or case.name)
    return analyze_text(case.text, name=case.source or case.name)


@pytest.mark.parametrize("case", [c for c in CASE_LIST if c.kind == "fires"], ids=lambda c: c.id)
def test_fires(case: Case) -> None:
    report = _analyse(case)
    sessions = report.sessions
    if case.session is not None:
        sessions = [sessions[case.session - 1]]
    observation = diagnoses()[case.diagnosis].observation
    found = [
        (session, finding)
        for session in sessions
        for finding in _all(session)
        if finding.id == case.diagnosis
    ]
    assert found, f"{case.diagnosis} not found: {_describe(report.sessions)}"
    session, finding = found[0]
    if case.root and not observation:
        assert session.main is finding, f"not the root cause: {_describe([session])}"
    if case.line is not None:
        lines = [item.line for item in (*finding.evidence, *finding.consequences)]
        assert case.line in lines, f"evidence lines {lines}, expected {case.line}"


@pytest.mark.parametrize("case", [c for c in CASE_LIST if c.kind == "silent"], ids=lambda c: c.id)
def test_silent(case: Case) -> None:
    report = _analyse(case)
    fired = [f for session in report.sessions for f in _all(session) if f.id == case.diagnosis]
    assert not fired, f"{case.diagnosis} fired: {_describe(report.sessions)}"


def test_every_diagnosis_has_firing_and_silent_examples() -> None:
    kinds: dict[str, set[str]] = {}
    for case in CASE_LIST:
        kinds.setdefault(case.diagnosis, set()).add(case.kind)
    missing = [
        f"{diagnosis}: {sorted({'fires', 'silent'} - kinds.get(diagnosis, set()))}"
        for diagnosis in diagnoses()
        if kinds.get(diagnosis) != {"fires", "silent"}
    ]
    assert not missing, f"cases missing in {CASES}: {missing}"


def test_case_files_name_real_diagnoses() -> None:
    unknown = sorted({case.diagnosis for case in CASE_LIST} - set(diagnoses()))
    assert not unknown
