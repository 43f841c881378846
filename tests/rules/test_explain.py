"""`smtplog explain`: codes, enhanced codes, reply lines and diagnosis ids, as a user runs it."""

from __future__ import annotations

import json

from tests.conftest import run_cli


def test_enhanced_code_5_7_139() -> None:
    result = run_cli("explain", "5.7.139")
    assert result.code == 0, result.stderr
    out = result.stdout
    assert "not in the IANA registry" in out
    assert "SmtpClientAuthentication is disabled" in out
    assert "auth-method-blocked" in out
    assert "Set-CASMailbox" in out
    assert "password is probably fine" in out


def test_gmail_reply_line() -> None:
    result = run_cli("explain", "535 5.7.8 Username and Password not accepted")
    assert result.code == 0, result.stderr
    out = result.stdout
    assert "Diagnosis: auth-rejected" in out
    assert "Gmail" in out and "app password" in out
    assert "Authentication credentials invalid" in out  # the RFC/IANA meaning too
    assert "Ask the customer" in out


def test_diagnosis_id() -> None:
    result = run_cli("explain", "relay-denied")
    assert result.code == 0
    out = result.stdout
    assert out.startswith("relay-denied: diagnosis")
    assert "Likely causes" in out and "Next steps" in out
    assert "Relay access denied" in out  # how it is recognised
    assert "Microsoft 365 / Exchange" in out  # provider texts leading to it


def test_reply_code() -> None:
    result = run_cli("explain", "535")
    assert result.code == 0
    assert "Authentication credentials invalid" in result.stdout
    assert "auth-rejected" in result.stdout


def test_ambiguous_code_says_the_text_decides() -> None:
    result = run_cli("explain", "5.7.1")
    assert result.code == 0
    assert "different problems" in result.stdout
    assert "Delivery not authorized" in result.stdout


def test_collision_shows_both_meanings() -> None:
    result = run_cli("explain", "5.7.3")
    out = result.stdout
    assert "Security conversion required but not possible" in out  # IANA
    assert "Authentication unsuccessful" in out  # Microsoft
    assert "own meaning" in out


def test_reply_line_phase_is_assumed_and_can_be_given() -> None:
    line = "550 5.1.1 <x@example.com>: Recipient address rejected: User unknown"
    assumed = run_cli("explain", line)
    assert "recipient-unknown as a reply to RCPT TO (assumed" in assumed.stdout
    given = run_cli("explain", "--phase", "mail", "550 User unknown")
    assert "Diagnosis: sender-rejected" in given.stdout


def test_success_reply_is_not_a_failure() -> None:
    result = run_cli("explain", "250 2.0.0 Ok: queued as 4ABCDEF0123")
    assert result.code == 0
    assert "nothing failed" in result.stdout


def test_json() -> None:
    result = run_cli("explain", "--format", "json", "550 5.7.1 Unable to relay")
    assert result.code == 0
    data = json.loads(result.stdout)
    assert data["schema"] == "smtplog-explain/1" and data["kind"] == "reply"
    assert data["classification"]["diagnosis"] == "relay-denied"
    assert data["diagnoses"][0]["id"] == "relay-denied"
    assert data["diagnoses"][0]["next_steps"]


def test_unknown_query_is_a_usage_error_with_a_suggestion() -> None:
    result = run_cli("explain", "relay-deny")
    assert result.code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "did you mean relay-denied" in result.stderr


def test_transcript_text_is_escaped() -> None:
    result = run_cli("explain", "550 5.7.1 \x1b[31mred\x1b[0m denied")
    assert "\x1b" not in result.stdout
    assert "\\x1b" in result.stdout


def test_rules_lists_id_group_severity_title() -> None:
    result = run_cli("rules")
    assert result.code == 0
    lines = {line.split()[0]: line.split()[1:3] for line in result.stdout.splitlines()}
    assert lines["relay-denied"] == ["envelope", "error"]
    assert lines["greylisted"] == ["reputation", "warning"]
    assert lines["server-capabilities"] == ["observation", "info"]
    data = json.loads(run_cli("rules", "--format", "json", "--group", "tls").stdout)
    assert {r["id"] for r in data["rules"]} == {
        "tls-port-mismatch",
        "tls-handshake-failed",
        "tls-required",
        "tls-not-offered",
    }
    assert run_cli("rules", "--group", "nope").code == 2
