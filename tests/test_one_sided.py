"""One-sided logs: what was inferred is marked everywhere, what is missing is said."""

from __future__ import annotations

from smtplog.analysis import analyze_text
from smtplog.render.data import document
from smtplog.render.lines import session_rows
from smtplog.render.text import render

from .conftest import transcript

CLIENT_ONLY = transcript(
    """
    === Trying 127.0.0.1:2525...
    === Connected to 127.0.0.1.
     -> EHLO client.example.test
     -> MAIL FROM:<alice@example.test>
     -> RCPT TO:<someone@example.org>
     -> QUIT
    === Connection closed with remote host.
    """
)
SERVER_ONLY = transcript(
    """
    220 mx.example.test ESMTP Postfix
    250-mx.example.test
    250 CHUNKING
    250 2.1.0 Ok
    554 5.7.1 <someone@example.org>: Relay access denied
    221 2.0.0 Bye
    """
)


def test_client_only_log_says_the_replies_are_missing_and_cannot_tell() -> None:
    report = analyze_text(CLIENT_ONLY)
    session = report.sessions[0]
    assert session.analysis.one_sided == "client"
    assert session.outcome == "unknown"
    assert any("server's replies are missing" in note for note in session.analysis.notes)
    assert not session.analysis.violations  # no reply is not a protocol error
    commands = [row for row in session_rows(session.analysis) if row.who == "C"]
    assert len(commands) == 4
    assert all(row.note == "no reply in the transcript" for row in commands)
    data = document([report])["reports"][0]["sessions"][0]
    assert data["one_sided"] == "client" and data["outcome"] == "unknown"
    assert "no reply in the transcript" in render([report])


def test_server_only_log_infers_the_commands_and_marks_them_everywhere() -> None:
    report = analyze_text(SERVER_ONLY)
    session = report.sessions[0]
    assert session.analysis.one_sided == "server"
    assert (session.outcome, session.failed_at) == ("failed", "rcpt")
    assert any("inferred from them" in note for note in session.analysis.notes)
    events = document([report])["reports"][0]["sessions"][0]["events"]
    inferred = [event for event in events if event.get("inferred")]
    assert [event["verb"] for event in inferred] == ["EHLO", "MAIL", "RCPT", "QUIT"]
    assert all(event["line"] is None for event in inferred)
    rows = [row for row in session_rows(session.analysis) if row.who == "C"]
    assert all(row.line is None and row.style == "inferred" for row in rows)
    text = render([report])
    assert text.count("inferred from the reply") == 4
    assert "    · C: RCPT TO:<…>" in text
