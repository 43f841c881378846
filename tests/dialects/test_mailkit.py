"""The mailkit dialect: every sample, and the lines that are easy to get wrong."""

from __future__ import annotations

import pytest

from smtplog.analysis import analyze_text
from smtplog.events import Command, Reply
from tests.conftest import transcript
from tests.dialects._client_samples import (
    check_no_secrets,
    check_sample,
    manifest_rows,
    sample_files,
)

DIALECT = "mailkit"
ROWS = manifest_rows(DIALECT)


def test_every_sample_is_in_the_manifest() -> None:
    assert sorted(path.split("/", 1)[1] for path, _ in ROWS) == sample_files(DIALECT)


@pytest.mark.parametrize(("path", "expected"), ROWS, ids=[path for path, _ in ROWS])
def test_sample(path: str, expected: list) -> None:
    check_sample(path, expected, DIALECT)


@pytest.mark.parametrize("path", [path for path, _ in ROWS])
def test_sample_never_shows_the_password(path: str) -> None:
    check_no_secrets(path)


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
