"""The nodemailer dialect: the lines that are easy to get wrong (its samples: test_client_samples.py)."""

from __future__ import annotations

from smtplog.analysis import analyze_text
from smtplog.events import Command
from tests.conftest import transcript

DIALECT = "nodemailer"


def events_of(text: str) -> list:
    report = analyze_text(transcript(text), dialect=DIALECT)
    return [event for session in report.sessions for event in session.analysis.events]


def test_interleaved_connections_are_separate_sessions() -> None:
    report = analyze_text(
        transcript(
            """\
            [2026-11-28 20:41:12] DEBUG [aaa] S: 220 mx.example.test ESMTP
            [2026-11-28 20:41:12] DEBUG [bbb] S: 220 mx.example.test ESMTP
            [2026-11-28 20:41:12] DEBUG [aaa] C: EHLO client.example.test
            [2026-11-28 20:41:12] DEBUG [bbb] C: EHLO client.example.test
            [2026-11-28 20:41:12] DEBUG [bbb] S: 250 CHUNKING
            [2026-11-28 20:41:12] DEBUG [aaa] S: 554 5.7.1 Access denied
            """
        ),
        dialect=DIALECT,
    )
    assert [(s.outcome, s.failed_at) for s in report.sessions] == [
        ("failed", "ehlo"),
        ("incomplete", None),
    ]


def test_secret_placeholder_in_auth_plain_is_reported_as_hidden() -> None:
    events = events_of(
        """\
        [2026-11-28 20:41:12] DEBUG [aaa] C: AUTH PLAIN AGFsaWNlAC8qIHNlY3JldCAqLw==
        [2026-11-28 20:41:12] DEBUG [aaa] S: 235 2.7.0 Authentication successful
        """
    )
    auth = next(e for e in events if isinstance(e, Command))
    assert auth.secret and "hidden by the client" in auth.text and "alice" in auth.text


def test_interleaved_sample_has_both_sessions() -> None:
    from smtplog.analysis import analyze_bytes
    from tests.dialects._client_samples import SAMPLES

    path = SAMPLES / "nodemailer" / "interleaved-two-connections.txt"
    report = analyze_bytes(path.read_bytes(), str(path))
    verdicts = [(s.outcome, s.failed_at, s.main.id) for s in report.sessions]
    assert verdicts == [
        ("delivered", None, "delivered"),
        ("failed", "rcpt", "recipient-unknown"),
    ]
