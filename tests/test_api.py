"""The Python API: what the README promises, on real samples."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys

import pytest

import smtplog
from smtplog.report import Finding, Report, SessionReport

from .conftest import ROOT, run_cli
from .samples import Sample, load_samples

SAMPLES = load_samples()
README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("sample", SAMPLES, ids=str)
def test_to_dict_is_what_the_cli_prints(sample: Sample) -> None:
    report = smtplog.analyze_bytes(sample.file.read_bytes(), sample.path)
    assert isinstance(report, smtplog.Report)
    from_api = json.loads(json.dumps(report.to_dict()))
    from_cli = json.loads(run_cli("analyze", "-f", "json", sample.path).stdout)["reports"][0]
    assert from_api == from_cli


def test_the_readme_example_works() -> None:
    text = (ROOT / "samples/swaks/relay-denied.txt").read_text()
    report = smtplog.analyze_text(text)
    session = report.sessions[0]
    assert (session.outcome, session.failed_at, session.main.id) == (
        "failed",
        "rcpt",
        "relay-denied",
    )
    finding = session.findings[0]
    assert finding.severity == "error" and 20 in [e.line for e in finding.evidence]
    safe = smtplog.redact_text(text, addresses=True, hosts=True, ips=True)
    assert "example.org" not in safe
    assert smtplog.analyze_text(safe).sessions[0].main.id == "relay-denied"


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: smtplog.analyze_text(""), smtplog.InputError),
        (lambda: smtplog.analyze_text("Hello, my mail is broken.\n"), smtplog.NotSmtpError),
        (lambda: smtplog.analyze_text("220 x\n", dialect="klingon"), smtplog.UnknownDialectError),
        (lambda: smtplog.analyze_bytes(b"\x7fELF\x02\x01\x01"), smtplog.InputError),
        (lambda: smtplog.redact_text("no smtp here\n"), smtplog.NotSmtpError),
    ],
)
def test_errors_are_documented_exceptions(call, error) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error) as caught:
        call()
    assert isinstance(caught.value, smtplog.SmtplogError)


def test_analyze_text_refuses_bytes_clearly() -> None:
    with pytest.raises(TypeError, match="analyze_bytes"):
        smtplog.analyze_text(b"220 x\n")  # type: ignore[arg-type]


def test_importing_smtplog_is_cheap() -> None:
    code = "import sys, smtplog; print(sorted(m for m in ('lark', 'rich') if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
    assert set(smtplog.__all__) <= set(dir(smtplog))


@pytest.mark.parametrize(
    ("cls", "extra"),
    [
        (Report, {"has_errors", "to_dict"}),
        (SessionReport, {"outcome", "failed_at", "main", "has_errors"}),
        (Finding, set()),
    ],
)
def test_the_readme_lists_every_attribute(cls: type, extra: set[str]) -> None:
    """The attribute tables in the README cannot fall behind the dataclasses."""
    heading = re.search(rf"^`{cls.__name__}` \([^)]*\):$", README, re.MULTILINE)
    assert heading is not None, f"no attribute table for {cls.__name__} in the README"
    section = README[heading.end() :].split("\n\n", 2)[1]
    documented = {m.group(1) for m in re.finditer(r"^\| `(\w+)(?:\(\))?` \|", section, re.M)}
    fields = {field.name for field in dataclasses.fields(cls)}
    assert fields | extra == documented
