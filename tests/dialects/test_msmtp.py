"""The msmtp dialect: the lines that are easy to get wrong (its samples: test_client_samples.py)."""

from __future__ import annotations

from smtplog.analysis import analyze_text
from tests.conftest import transcript

DIALECT = "msmtp"


def events_of(text: str) -> list:
    report = analyze_text(transcript(text), dialect=DIALECT)
    return [event for session in report.sessions for event in session.analysis.events]


def test_pipelined_commands_pair_with_replies_in_order() -> None:
    report = analyze_text(
        transcript(
            """\
            <-- 220 mx.example.test ESMTP\r
            --> EHLO client.example.test\r
            <-- 250 PIPELINING\r
            --> MAIL FROM:<alice@example.test>\r
            --> RCPT TO:<nobody@example.test>\r
            --> DATA\r
            <-- 250 2.1.0 Ok\r
            <-- 550 5.1.1 User unknown\r
            <-- 554 5.5.1 Error: no valid recipients\r
            """
        ),
        dialect=DIALECT,
    )
    session = report.sessions[0]
    verbs = [(x.verb, x.reply.code) for x in session.analysis.exchanges]
    assert verbs == [("BANNER", 220), ("EHLO", 250), ("MAIL", 250), ("RCPT", 550), ("DATA", 554)]
    assert (session.outcome, session.failed_at) == ("failed", "rcpt")


def test_tls_blocks_become_one_event_and_errors_are_typed() -> None:
    events = events_of(
        """\
        msmtp: cannot connect to mx.example.test, port 587: Connection timed out
        TLS session parameters:
            (TLS1.3)-(ECDHE-SECP256R1)-(RSA-PSS-RSAE-SHA256)-(AES-256-GCM)
        TLS certificate information:
            Subject:
                CN=mx.example.test
            Issuer:
                CN=Example CA
            Validity:
                Expiration time: Tue Nov 25 20:25:39 2036
        """
    )
    assert events[0].kind == "connect-failed" and events[0].reason == "timeout"
    tls = next(e for e in events if e.kind == "tls-started")
    assert (tls.version, tls.subject, tls.issuer) == (
        "TLSv1.3",
        "CN=mx.example.test",
        "CN=Example CA",
    )
    assert tls.not_after == "Tue Nov 25 20:25:39 2036"
