"""The command line as a user runs it: inputs, formats, errors and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import run_cli, transcript

DELIVERED = transcript(
    """
    220 mx.example.test ESMTP
    EHLO c.example.org
    250 mx.example.test
    MAIL FROM:<a@example.org>
    250 2.1.0 Ok
    RCPT TO:<b@example.test>
    250 2.1.5 Ok
    DATA
    354 End data with <CR><LF>.<CR><LF>
    hello
    .
    250 2.0.0 Ok: queued as 4ABC
    QUIT
    221 2.0.0 Bye
    """
)
RELAY_DENIED = transcript(
    """
    220 mx.example.test ESMTP
    EHLO c.example.org
    250 mx.example.test
    MAIL FROM:<a@example.org>
    250 2.1.0 Ok
    RCPT TO:<someone@example.org>
    554 5.7.1 <someone@example.org>: Relay access denied
    QUIT
    221 2.0.0 Bye
    """
)


@pytest.fixture
def delivered(tmp_path: Path) -> Path:
    path = tmp_path / "delivered.txt"
    path.write_text(DELIVERED)
    return path


@pytest.fixture
def relay_denied(tmp_path: Path) -> Path:
    path = tmp_path / "relay.txt"
    path.write_text(RELAY_DENIED)
    return path


def test_a_file_a_dash_and_a_pipe_give_the_same_answer(delivered: Path) -> None:
    from_file = run_cli("analyze", str(delivered), "--format", "json")
    from_dash = run_cli("analyze", "-", "--format", "json", stdin=delivered.read_bytes())
    from_pipe = run_cli("analyze", "--format", "json", stdin=delivered.read_bytes())
    assert from_file.code == from_dash.code == from_pipe.code == 0
    outcomes = [
        json.loads(run.stdout)["reports"][0]["sessions"][0]["outcome"]
        for run in (from_file, from_dash, from_pipe)
    ]
    assert outcomes == ["delivered"] * 3


def test_json_has_the_documented_shape(relay_denied: Path) -> None:
    run = run_cli("analyze", str(relay_denied), "--format", "json")
    assert run.code == 1
    data = json.loads(run.stdout)
    assert data["schema"] == "smtplog/1"
    report = data["reports"][0]
    assert report["source"] == str(relay_denied)
    assert report["dialect"]["name"] == "telnet"
    assert 0 < report["dialect"]["confidence"] <= 1
    session = report["sessions"][0]
    assert (session["outcome"], session["failed_at"]) == ("failed", "rcpt")
    diagnosis = session["diagnoses"][0]
    assert diagnosis["id"] == "relay-denied"
    assert {
        "severity",
        "confidence",
        "title",
        "explanation",
        "causes",
        "next_steps",
        "evidence",
    } <= set(diagnosis)
    assert {"line": 7, "text": "554 5.7.1 <someone@example.org>: Relay access denied"} in diagnosis[
        "evidence"
    ]
    reply = session["events"][0]
    assert {"line": 1, "kind": "reply", "code": 220, "enhanced": None}.items() <= reply.items()
    assert "time" in reply


def test_text_is_the_default_in_a_pipe(relay_denied: Path) -> None:
    run = run_cli("analyze", str(relay_denied))
    assert run.code == 1
    assert "Verdict: failed at rcpt: relay-denied (Relaying denied)" in run.stdout
    assert "\x1b[" not in run.stdout


def test_several_files_are_all_reported(delivered: Path, relay_denied: Path) -> None:
    run = run_cli("analyze", str(delivered), str(relay_denied), "--format", "json")
    assert run.code == 1
    assert [r["sessions"][0]["outcome"] for r in json.loads(run.stdout)["reports"]] == [
        "delivered",
        "failed",
    ]


def test_python_dash_m_and_version() -> None:
    run = run_cli("--version")
    assert run.code == 0
    assert run.stdout.startswith("smtplog, version ")


@pytest.mark.parametrize(
    ("make_input", "code", "message"),
    [
        (lambda p: p / "missing.txt", 2, "no such file"),
        (lambda p: p, 2, "is a directory"),
        (lambda p: _write(p / "empty.txt", b""), 3, "empty input"),
        (lambda p: Path("/bin/ls"), 2, "not a text transcript"),
        (
            lambda p: _write(p / "prose.txt", b"Dear support,\nmy mail does not work.\n"),
            3,
            "no SMTP",
        ),
        (lambda p: _write(p / "bad.txt", b"\xff\xfe\x00\x00" * 100), 2, "binary"),
    ],
)
def test_bad_input_is_one_line_and_the_documented_code(
    tmp_path: Path, make_input, code: int, message: str
) -> None:  # type: ignore[no-untyped-def]
    run = run_cli("analyze", str(make_input(tmp_path)))
    assert run.code == code
    assert message in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert "Traceback" not in run.stderr
    assert run.stdout == ""


def test_one_bad_file_does_not_hide_the_good_one(tmp_path: Path, delivered: Path) -> None:
    run = run_cli("analyze", str(tmp_path / "nope.txt"), str(delivered))
    assert run.code == 2
    assert "Verdict: delivered" in run.stdout
    assert "nope.txt: no such file" in run.stderr


def test_unknown_dialect_is_a_usage_error(delivered: Path) -> None:
    run = run_cli("analyze", "--dialect", "klingon", str(delivered))
    assert run.code == 2
    assert "unknown dialect 'klingon'" in run.stderr


def test_usage_errors_are_one_line() -> None:
    run = run_cli("analyze", "--format", "yaml", "x")
    assert run.code == 2
    assert "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_rules_lists_the_diagnoses() -> None:
    run = run_cli("rules")
    assert run.code == 0
    ids = [line.split()[0] for line in run.stdout.splitlines()]
    assert {"relay-denied", "recipient-unknown", "auth-rejected", "delivered"} <= set(ids)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
