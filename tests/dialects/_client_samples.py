"""Shared checks for the samples of the client-program dialects (samples/manifest.tsv).

Every sample is a real capture (or, for MailKit, composed from the documented
format) of a session against the Postfix lab, whose SASL password is
``S3cr3t-Pa55``: no rendering of any sample may contain it in any form.
"""

from __future__ import annotations

import base64
import binascii
import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path

from smtplog import dialects
from smtplog.analysis import analyze_bytes
from smtplog.events import Unparsed
from smtplog.render.data import document
from smtplog.render.text import render
from smtplog.source import source_from_bytes

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
PASSWORD = "S3cr3t-Pa55"


@dataclass(frozen=True)
class Expected:
    outcome: str
    failed_at: str | None
    diagnosis: str


def manifest_rows(dialect: str) -> list[tuple[str, list[Expected]]]:
    """(path, expected sessions in order) for every sample of ``dialect``.

    A sample of several sessions has one row per session, in order, with
    "session N of M" in its notes (tests/test_samples.py reads the last row).
    """
    grouped: dict[str, list[Expected]] = {}
    with (SAMPLES / "manifest.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row["dialect"] != dialect:
                continue
            failed_at = None if row["failed_at"] in ("", "-") else row["failed_at"]
            grouped.setdefault(row["path"], []).append(
                Expected(row["outcome"], failed_at, row["diagnosis"])
            )
    return sorted(grouped.items())


def sample_files(dialect: str) -> list[str]:
    return sorted(path.name for path in (SAMPLES / dialect).glob("*.txt"))


def check_sample(path: str, expected: list[Expected], dialect: str) -> None:
    """Detected as ``dialect``, every line understood, the verdicts of the manifest.

    (tests/test_samples.py checks the last session of every sample too; this
    checks every session of a sample that holds several.)
    """
    data = (SAMPLES / path).read_bytes()
    source = source_from_bytes(data, path)
    detection = dialects.detect(source)
    assert detection.dialect.name == dialect, detection.scores[:3]
    events = dialects.get(dialect).events(source)
    unparsed = [
        (e.span.first if e.span else None, e.text) for e in events if isinstance(e, Unparsed)
    ]
    assert unparsed == []
    report = analyze_bytes(data, path)
    got = [Expected(s.outcome, s.failed_at, s.main.id if s.main else "") for s in report.sessions]
    assert got[-len(expected) :] == expected


def forbidden_strings(raw: str) -> set[str]:
    """The password and every base64 token of the sample that carries it."""
    found = {PASSWORD, base64.b64encode(PASSWORD.encode()).decode()}
    for token in re.findall(r"[A-Za-z0-9+/]{8,}={0,2}", raw):
        try:
            decoded = base64.b64decode(token + "=" * (-len(token) % 4), validate=False)
        except (binascii.Error, ValueError):
            continue
        if PASSWORD.encode() in decoded:
            found.add(token)
    return found


def check_no_secrets(path: str) -> None:
    data = (SAMPLES / path).read_bytes()
    report = analyze_bytes(data, path)
    outputs = [json.dumps(document([report])), render([report])]
    for secret in forbidden_strings(data.decode("utf-8", "replace")):
        for output in outputs:
            assert secret not in output
