"""`smtplog probe` against aiosmtpd on loopback: verdict, diagnosis, and the saved
transcript re-analysed to the same result."""

from __future__ import annotations

import json

import pytest
from recorder_support import PASSWORD, USER, analyze_file, smtplog

pytestmark = pytest.mark.slow


def verdict(result) -> tuple[str, str | None, str | None]:  # type: ignore[no-untyped-def]
    doc = json.loads(result.stdout)
    session = doc["reports"][0]["sessions"][-1]
    main = session["diagnoses"][0]["id"] if session["diagnoses"] else None
    return session["outcome"], session["failed_at"], main


def reanalysed(result):  # type: ignore[no-untyped-def]
    report = analyze_file(result.transcript)
    session = report.sessions[-1]
    return session.outcome, session.failed_at, session.main.id if session.main else None


def probe(writes, port, *args, password=None):  # type: ignore[no-untyped-def]
    return smtplog(writes, "probe", f"127.0.0.1:{port}", "--format", "json", *args,
                   password=password)  # fmt: skip


@pytest.mark.parametrize(
    ("args", "expected", "code"),
    [
        (("--from", "a@x.test", "--to", "alice@example.test"), ("delivered", None, "delivered"), 0),
        (("--from", "a@x.test", "--to", "b@y.test"), ("failed", "rcpt", "relay-denied"), 1),
        (
            ("--from", "a@x.test", "--to", "nobody@example.test"),
            ("failed", "rcpt", "recipient-unknown"),
            1,
        ),
    ],
    ids=["delivered", "relay-denied", "recipient-unknown"],
)
def test_probe_verdicts(writes, smtpd, ca_file, args, expected, code):  # noqa: PLR0917  # type: ignore[no-untyped-def]
    result = probe(writes, smtpd, "--ca-file", ca_file, "--tls-name", "mx.example.test", *args)
    assert result.code == code, result.stderr
    assert verdict(result) == expected
    assert reanalysed(result) == expected
    text = result.transcript.read_text()
    assert "** tls TLSv1." in text and "verified=yes" in text  # STARTTLS was offered and used


def test_probe_auth_delivers_and_masks(writes, smtpd, ca_file):  # type: ignore[no-untyped-def]
    for mechanism in ("PLAIN", "LOGIN"):
        result = probe(writes, smtpd, "--ca-file", ca_file, "--tls-name", "mx.example.test",
                       "--auth", mechanism, "--user", USER, "--from", USER, "--to", "b@y.test",
                       password=PASSWORD)  # fmt: skip
        assert verdict(result) == ("delivered", None, "delivered"), result.stdout
        text = result.transcript.read_text()
        assert "235" in text and "redacted" in text
        assert PASSWORD not in text


def test_probe_auth_rejected(writes, smtpd, ca_file):  # type: ignore[no-untyped-def]
    result = probe(writes, smtpd, "--ca-file", ca_file, "--tls-name", "mx.example.test",
                   "--auth", "LOGIN", "--user", USER, "--from", USER, "--to", "b@y.test",
                   password="wrong-password")  # fmt: skip
    assert result.code == 1
    assert verdict(result) == ("failed", "auth", "auth-rejected")
    assert reanalysed(result) == ("failed", "auth", "auth-rejected")


def test_probe_tls_required(writes, smtpd_tls_required):  # type: ignore[no-untyped-def]
    result = probe(writes, smtpd_tls_required, "--no-tls", "--from", "a@x.test", "--to",
                   "alice@example.test")  # fmt: skip
    assert result.code == 1
    assert verdict(result) == ("failed", "mail", "tls-required")
    assert reanalysed(result) == ("failed", "mail", "tls-required")


def test_probe_implicit_tls(writes, smtpd_implicit, ca_file):  # type: ignore[no-untyped-def]
    result = probe(writes, smtpd_implicit, "--tls", "--ca-file", ca_file, "--tls-name",
                   "mx.example.test", "--from", "a@x.test",
                   "--to", "alice@example.test")  # fmt: skip
    assert verdict(result) == ("delivered", None, "delivered")
    text = result.transcript.read_text()
    connect, tls_line = [line for line in text.splitlines() if " ** " in line][:2]
    assert "** connect" in connect and "** tls" in tls_line  # TLS before the banner
    assert "subject='O=trustme" in text or "names=DNS:mx.example.test,IP:127.0.0.1" in text


def test_certificate_not_trusted_stops_and_insecure_goes_on(writes, smtpd):  # type: ignore[no-untyped-def]
    result = probe(writes, smtpd, "--from", "a@x.test", "--to", "alice@example.test")
    assert verdict(result) == ("deferred", "starttls", "tls-handshake-failed")
    assert "certificate: unable to get local issuer certificate" in result.transcript.read_text()
    result = probe(writes, smtpd, "--insecure", "--from", "a@x.test", "--to", "alice@example.test")
    assert verdict(result) == ("delivered", None, "delivered")
    text = result.transcript.read_text()
    assert "verified=no detail='unable to get local issuer certificate" in text
    assert text.count("** connect ") == 1  # the failed attempt is a note, not a second session


def test_quit_after_and_helo_fallback_not_used(writes, smtpd, ca_file):  # type: ignore[no-untyped-def]
    result = probe(writes, smtpd, "--quit-after", "ehlo")
    text = result.transcript.read_text()
    assert "C: EHLO" in text and "C: QUIT" in text and "C: STARTTLS" not in text
    assert "HELO" not in text.replace("EHLO", "")
    result = probe(writes, smtpd, "--ca-file", ca_file, "--tls-name", "mx.example.test",
                   "--to", "alice@example.test", "--quit-after", "rcpt")  # fmt: skip
    text = result.transcript.read_text()
    assert "C: MAIL FROM:<>" in text and "C: RCPT TO:<alice@example.test>" in text
    assert "C: DATA" not in text
    assert result.code == 0


def test_each_recipient_reported(writes, smtpd, ca_file):  # type: ignore[no-untyped-def]
    result = probe(writes, smtpd, "--ca-file", ca_file, "--tls-name", "mx.example.test",
                   "--from", "a@x.test", "--to", "alice@example.test",
                   "--to", "nobody@example.test", "--to", "bob@example.test")  # fmt: skip
    doc = json.loads(result.stdout)
    session = doc["reports"][0]["sessions"][0]
    assert session["outcome"] == "delivered"
    ids = [d["id"] for d in session["diagnoses"]]
    assert ids == ["delivered", "recipient-unknown"]
    assert result.code == 1  # a recipient was lost
    assert doc["reports"][0]["recording"]["target"] == f"127.0.0.1:{smtpd}"


def test_body_file_is_dot_stuffed(writes, smtpd, ca_file, tmp_path):  # type: ignore[no-untyped-def]
    body = tmp_path / "body.eml"
    body.write_bytes(b"Subject: dots\n\n.leading dot\n.\nend\n")
    result = probe(writes, smtpd, "--ca-file", ca_file, "--tls-name", "mx.example.test",
                   "--from", "a@x.test", "--to", "alice@example.test",
                   "--body", str(body))  # fmt: skip
    assert verdict(result) == ("delivered", None, "delivered")
    lines = result.transcript.read_text().splitlines()
    assert any(line.endswith("C: ..leading dot") for line in lines)
    assert any(line.endswith("C: ..") for line in lines)


def test_generated_message_headers(writes, smtpd, ca_file):  # type: ignore[no-untyped-def]
    result = probe(writes, smtpd, "--ca-file", ca_file, "--tls-name", "mx.example.test",
                   "--from", "a@x.test", "--to", "alice@example.test")  # fmt: skip
    text = result.transcript.read_text()
    for header in ("C: Date: ", "C: Message-ID: <", "C: Subject: smtplog probe test message"):
        assert header in text
