"""Every real sample: detected as its dialect, with the verdict and diagnosis it deserves.

The expectations come from samples/manifest.tsv, where each capture was labelled
by reading it as a mail administrator would — not by running smtplog.
"""

from __future__ import annotations

import pytest

from scripts.regen_goldens import outputs
from smtplog.analysis import analyze_bytes
from smtplog.pcap import is_capture
from smtplog.reading import read
from smtplog.source import source_from_bytes

from .samples import GOLDEN, Sample, load_samples

SAMPLES = load_samples()


@pytest.mark.parametrize("sample", SAMPLES, ids=str)
def test_detection_picks_the_samples_dialect(sample: Sample) -> None:
    data = sample.file.read_bytes()
    if sample.dialect == "pcap":  # binary: known by its magic number, not by text detection
        assert is_capture(data)
        assert analyze_bytes(data, sample.path).dialect == "pcap"
        return
    assert not is_capture(data)
    # As the analysis reads it: after cleanup (a messy paste is detected once cleaned).
    detection = read(source_from_bytes(data, sample.path)).detection
    assert detection.dialect.name == sample.dialect, f"scores: {detection.scores}"


@pytest.mark.parametrize("sample", SAMPLES, ids=str)
def test_verdict_and_main_diagnosis(sample: Sample) -> None:
    report = analyze_bytes(sample.file.read_bytes(), sample.path)
    session = report.sessions[sample.session_index]
    main = session.main
    assert (session.outcome, session.failed_at) == (sample.outcome, sample.failed_at)
    if sample.diagnosis == "-":  # nothing failed, nothing delivered
        assert main is None or main.severity != "error", main.summary
        return
    assert main is not None
    assert main.id == sample.diagnosis, main.summary
    if main.id != "delivered":
        assert any(item.line for item in main.evidence), "the diagnosis must point at a line"


@pytest.mark.parametrize("sample", SAMPLES, ids=str)
def test_output_matches_the_reviewed_golden(sample: Sample) -> None:
    as_json, as_text = outputs(sample.path, sample.file.read_bytes())
    for suffix, content in ((".json", as_json), (".txt", as_text)):
        golden = GOLDEN / f"{sample.golden_stem}{suffix}"
        assert golden.exists(), f"no golden for {sample.path}: run `make goldens` and review"
        assert content == golden.read_text(encoding="utf-8"), (
            f"{golden.name} differs: run `make goldens` and review the diff"
        )
