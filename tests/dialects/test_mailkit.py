"""The mailkit dialect: the lines that are easy to get wrong (its samples: test_client_samples.py)."""

from __future__ import annotations

from smtplog.analysis import analyze_text
from smtplog.events import Command, Reply
from tests.conftest import transcript

DIALECT = "mailkit"


def events_of(text: str) -> list:
    report = analyze_text(transcript(text), dialect=DIALECT)
    return [event for session in report.sessions for event in session.analysis.events]


def test_redacted_secrets_stay_hidden() -> None:
    from smtplog.events import AuthResponse

    events = events_of(
        """\
        Connected to smtp://mx.example.test:587/?starttls=always
        S: 220 mx.example.test ESMTP
        C: AUTH PLAIN ********
        S: 235 2.7.0 Authentication successful
        C: AUTH LOGIN
        S: 334 VXNlcm5hbWU6
        C: ********
        """
    )
    auth = next(e for e in events if isinstance(e, Command) and e.verb == "AUTH")
    assert auth.secret and "hidden by the client" in auth.text
    response = next(e for e in events if isinstance(e, AuthResponse))
    assert response.secret and "*" not in response.text


def test_smtps_uri_means_implicit_tls_and_timestamps_are_read() -> None:
    events = events_of(
        """\
        2026-11-28T20:41:31Z Connected to smtps://mx.example.test:465
        2026-11-28T20:41:31Z S: 220 mx.example.test ESMTP
        """
    )
    assert [e.kind for e in events][:3] == ["connected", "tls-started", "reply"]
    reply = next(e for e in events if isinstance(e, Reply))
    assert reply.time == 1795898491.0
