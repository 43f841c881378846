"""Detection over every sample, every dialect forced on every sample, same session -> same verdict.

All three are driven by samples/manifest.tsv, so a dialect or a sample added
there is covered without touching this file (the `scenario` column groups
captures of the same lab situation made with different tools; see
samples/README.md).
"""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from smtplog import dialects
from smtplog.analysis import analyze_bytes, analyze_text
from smtplog.errors import SmtplogError
from smtplog.reading import Candidate, candidates, read
from smtplog.render.data import document
from smtplog.render.text import render
from smtplog.source import source_from_bytes

from .conftest import run_cli, transcript
from .samples import Sample, load_samples

SAMPLES = load_samples()
# Packet captures are binary: they are known by their magic number, never by text
# detection (tests/test_samples.py checks that); every text sample is detected here.
TEXT_SAMPLES = [sample for sample in SAMPLES if sample.dialect != "pcap"]


def confusion(options: list[Candidate]) -> str:
    """Every dialect's score on every variant the detector considered."""
    lines = ["scores (variant: dialect=score ...):"]
    for option in options:
        scores = " ".join(f"{name}={score:.2f}" for name, score in option.scores)
        applied = ",".join(option.cleaning.applied) or "-"
        lines.append(f"  stage {option.cleaning.stage} (cleanup {applied}): {scores}")
    return "\n".join(lines)


@pytest.mark.parametrize("sample", TEXT_SAMPLES, ids=str)
def test_detection_picks_the_manifest_dialect(sample: Sample) -> None:
    source = source_from_bytes(sample.file.read_bytes(), sample.path)
    options = candidates(source)
    try:
        chosen = read(source).detection.dialect.name
    except SmtplogError as exc:
        pytest.fail(f"{exc}\n{confusion(options)}")
    assert chosen == sample.dialect, f"detected {chosen}\n{confusion(options)}"


def _others(sample: Sample) -> list[str]:
    return [name for name in dialects.REGISTRY if name != sample.dialect]


CROSS = [(sample, name) for sample in SAMPLES for name in _others(sample)]


@pytest.mark.parametrize(
    ("sample", "dialect"), CROSS, ids=[f"{s.path}-as-{d}" for s, d in CROSS]
)  # fmt: skip
def test_any_dialect_forced_on_any_sample_never_crashes(sample: Sample, dialect: str) -> None:
    try:
        report = analyze_bytes(sample.file.read_bytes(), sample.path, dialect=dialect)
    except SmtplogError:
        return  # a documented, one-line refusal ("no SMTP session found in the ... text")
    data = json.loads(json.dumps(document([report]), ensure_ascii=False))
    assert data["reports"][0]["dialect"] == {
        "name": dialect,
        "confidence": 1.0,
        "forced": True,
        "runner_up": None,
    }
    text = render([report])
    assert "\x1b" not in text and "\r" not in text


@pytest.mark.parametrize("dialect", list(dialects.REGISTRY))
def test_forcing_a_dialect_on_the_cli_gives_json_or_a_one_line_error(dialect: str) -> None:
    messy = next(s for s in SAMPLES if s.path.endswith("swaks-relay-denied-html.txt"))
    result = run_cli("analyze", "--format", "json", "--dialect", dialect, str(messy.file))
    assert "Traceback" not in result.stderr
    assert result.code in (0, 1, 3)
    if result.code == 3:
        assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1
    else:
        assert json.loads(result.stdout)["reports"][0]["dialect"]["forced"] is True


# -- same session, different tools ---------------------------------------------------


def _scenarios() -> dict[str, list[Sample]]:
    groups: dict[str, list[Sample]] = defaultdict(list)
    for sample in SAMPLES:
        if sample.extra.get("scenario"):
            groups[sample.extra["scenario"]].append(sample)
    return {name: group for name, group in groups.items() if len(group) > 1}


SCENARIOS = _scenarios()


def _facts(sample: Sample) -> tuple[object, ...]:
    report = analyze_bytes(sample.file.read_bytes(), sample.path)
    session = report.sessions[sample.session_index]
    verdict = session.analysis.verdict
    decisive = verdict.decisive.reply if verdict.decisive is not None else None
    delivered = session.analysis.delivered
    reply = decisive or delivered
    return (
        session.outcome,
        session.failed_at,
        session.main.id if session.main else None,
        (reply.code, reply.enhanced) if reply is not None else None,
        type(verdict.reason).__name__ if verdict.reason is not None else None,
    )


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_the_same_session_captured_by_different_tools_gets_the_same_verdict(
    scenario: str,
) -> None:
    facts = {sample.path: _facts(sample) for sample in SCENARIOS[scenario]}
    first = next(iter(facts.values()))
    different = {path: fact for path, fact in facts.items() if fact != first}
    assert not different, f"{scenario}: {json.dumps(facts, indent=1, default=str)}"


def test_scenarios_span_more_than_one_tool() -> None:
    tools = {
        scenario: {sample.dialect for sample in group} for scenario, group in SCENARIOS.items()
    }
    assert any(len(names) > 1 for names in tools.values()), tools


# -- confidence ------------------------------------------------------------------------


def test_a_clear_lead_keeps_the_score_and_a_close_call_loses_confidence() -> None:
    assert dialects.confidence(0.9, 0.0) == 0.9
    assert dialects.confidence(0.9, 0.9) == 0.45
    leads = [dialects.confidence(0.9, runner_up) for runner_up in (0.0, 0.7, 0.8, 0.85, 0.9)]
    assert leads == sorted(leads, reverse=True)
    assert dialects.confidence(0.9, 0.85) < 0.7


def test_json_reports_the_runner_up_and_whether_the_dialect_was_forced() -> None:
    text = transcript(
        """
        Trying 127.0.0.1...
        Connected to 127.0.0.1.
        Escape character is '^]'.
        220 mx.example.test ESMTP
        <-  250 what swaks would show
        <-  250 and again
        QUIT
        221 Bye
        """
    )
    detected = document([analyze_text(text)])["reports"][0]["dialect"]
    assert detected["name"] == "telnet" and detected["forced"] is False
    assert detected["runner_up"]["name"] == "swaks"
    assert 0 < detected["runner_up"]["score"] < 1
    forced = document([analyze_text(text, dialect="swaks")])["reports"][0]["dialect"]
    assert forced == {"name": "swaks", "confidence": 1.0, "forced": True, "runner_up": None}


@pytest.mark.parametrize("sample", TEXT_SAMPLES, ids=str)
def test_confidence_is_the_score_unless_another_dialect_came_close(sample: Sample) -> None:
    detection = read(source_from_bytes(sample.file.read_bytes(), sample.path)).detection
    runner_up = detection.runner_up[1] if detection.runner_up else 0.0
    if detection.score - runner_up >= dialects.CLEAR_LEAD:
        assert detection.confidence == round(detection.score, 2)
    else:
        assert detection.confidence < detection.score, "a close call must lower the confidence"
    assert detection.confidence >= detection.score / 2
