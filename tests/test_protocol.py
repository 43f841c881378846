"""The state machine: pairing, pipelining, STARTTLS, AUTH, inference, violations, verdicts."""

from __future__ import annotations

from smtplog import analyze_text
from smtplog.events import AuthResponse, Command, DataEnd, Reply
from smtplog.protocol import SessionAnalysis

from .conftest import transcript


def analysis_of(text: str, dialect: str | None = None) -> SessionAnalysis:
    report = analyze_text(transcript(text), dialect=dialect)
    assert len(report.sessions) == 1
    return report.sessions[0].analysis


DELIVERED = """
    S: 220 mx.example.test ESMTP
    C: EHLO client.example.org
    S: 250-mx.example.test
    S: 250-PIPELINING
    S: 250-SIZE 10240000
    S: 250-STARTTLS
    S: 250 AUTH PLAIN LOGIN
    C: MAIL FROM:<a@example.org>
    S: 250 2.1.0 Ok
    C: RCPT TO:<b@example.test>
    S: 250 2.1.5 Ok
    C: DATA
    S: 354 End data with <CR><LF>.<CR><LF>
    C: Subject: hi
    C:
    C: body
    C: .
    S: 250 2.0.0 Ok: queued as 4ABC
    C: QUIT
    S: 221 2.0.0 Bye
"""


def test_every_reply_is_paired_with_its_command() -> None:
    analysis = analysis_of(DELIVERED, "smtplog")
    pairs = [(e.verb, e.reply.code) for e in analysis.exchanges]
    assert pairs == [
        ("BANNER", 220),
        ("EHLO", 250),
        ("MAIL", 250),
        ("RCPT", 250),
        ("DATA", 354),
        (".", 250),
        ("QUIT", 221),
    ]
    assert analysis.verdict.outcome == "delivered"
    assert analysis.capabilities["SIZE"] == "10240000"
    assert analysis.capabilities["AUTH"] == "PLAIN LOGIN"
    assert "PIPELINING" in analysis.capabilities
    assert analysis.sender == "a@example.org"
    assert analysis.recipients_accepted == ["b@example.test"]
    assert not analysis.violations


def test_message_body_is_content_not_commands() -> None:
    analysis = analysis_of(DELIVERED, "smtplog")
    commands = [e.verb for e in analysis.events if isinstance(e, Command)]
    assert commands == ["EHLO", "MAIL", "RCPT", "DATA", "QUIT"]


def test_pipelined_commands_pair_with_replies_in_order() -> None:
    analysis = analysis_of(
        """
        S: 220 mx ESMTP
        C: EHLO c
        S: 250-mx
        S: 250 PIPELINING
        C: MAIL FROM:<a@x>
        C: RCPT TO:<ok@y>
        C: RCPT TO:<nobody@y>
        C: DATA
        S: 250 2.1.0 Ok
        S: 250 2.1.5 Ok
        S: 550 5.1.1 <nobody@y>: Recipient address rejected: User unknown
        S: 354 go ahead
        C: hello
        C: .
        S: 250 2.0.0 queued
        """,
        "smtplog",
    )
    pairs = [(e.verb, e.reply.code) for e in analysis.exchanges[1:]]
    assert pairs == [
        ("EHLO", 250),
        ("MAIL", 250),
        ("RCPT", 250),
        ("RCPT", 550),
        ("DATA", 354),
        (".", 250),
    ]
    assert analysis.recipients_rejected[0][0] == "nobody@y"
    assert analysis.verdict.outcome == "delivered"


def test_starttls_resets_the_session() -> None:
    analysis = analysis_of(
        """
        S: 220 mx ESMTP
        C: EHLO c
        S: 250-mx
        S: 250 STARTTLS
        C: STARTTLS
        S: 220 2.0.0 Ready to start TLS
        C: EHLO c
        S: 250-mx
        S: 250 AUTH PLAIN
        C: MAIL FROM:<a@x>
        S: 250 ok
        """,
        "smtplog",
    )
    assert analysis.tls is not None  # implied: the client spoke after the 220
    assert analysis.capabilities_before_tls == {"STARTTLS": ""}
    assert analysis.capabilities == {"AUTH": "PLAIN"}
    assert not analysis.violations
    assert analysis.verdict.outcome == "incomplete"


def test_auth_login_challenges_are_decoded_and_password_masked() -> None:
    analysis = analysis_of(
        """
        220 mx ESMTP
        EHLO c
        250-mx
        250 AUTH LOGIN
        AUTH LOGIN
        334 VXNlcm5hbWU6
        YWxpY2U=
        334 UGFzc3dvcmQ6
        UzNjcjN0LVBhNTU=
        235 2.7.0 Authentication successful
        """,
        "telnet",
    )
    responses = [e for e in analysis.events if isinstance(e, AuthResponse)]
    assert [(r.role, r.decoded, r.secret) for r in responses] == [
        ("username", "alice", False),
        ("password", None, True),
    ]
    assert responses[1].text == "[password redacted, 11 characters]"
    assert analysis.authenticated
    assert analysis.auth_mechanism == "LOGIN"


def test_auth_plain_initial_response_is_masked_in_the_command() -> None:
    analysis = analysis_of(
        """
        S: 220 mx
        C: EHLO c
        S: 250 AUTH PLAIN
        C: AUTH PLAIN AGFsaWNlAFMzY3IzdC1QYTU1
        S: 235 ok
        """,
        "smtplog",
    )
    auth = next(e for e in analysis.events if isinstance(e, Command) and e.verb == "AUTH")
    assert auth.secret
    assert "AGFsaWNl" not in auth.display
    assert "user alice" in auth.display


def test_a_server_only_log_gets_its_commands_inferred() -> None:
    analysis = analysis_of(
        """
        250-mx.example.com Hello [192.0.2.1]
        250-SIZE 5242880
        250 OK
        334 VXNlcm5hbWU6
        334 UGFzc3dvcmQ6
        235 2.7.0 Authentication successful.
        250 2.1.0 Sender OK
        250 2.1.5 Recipient OK
        354 Start mail input; end with <CRLF>.<CRLF>
        250 2.6.0 <id@mx> Queued mail for delivery
        221 2.0.0 Service closing transmission channel
        """
    )
    inferred = [
        (type(e).__name__, getattr(e, "verb", getattr(e, "role", "")))
        for e in analysis.events
        if not isinstance(e, Reply)
    ]
    assert inferred == [
        ("Command", "EHLO"),
        ("Command", "AUTH"),
        ("AuthResponse", "username"),
        ("AuthResponse", "password"),
        ("Command", "MAIL"),
        ("Command", "RCPT"),
        ("Command", "DATA"),
        ("DataEnd", ""),
        ("Command", "QUIT"),
    ]
    assert all(
        e.inferred for e in analysis.events if isinstance(e, Command | AuthResponse | DataEnd)
    )
    assert analysis.one_sided == "server"
    assert analysis.verdict.outcome == "delivered"
    assert "greeting is not in the transcript" in analysis.notes[0]


def test_out_of_order_commands_are_recorded_as_violations() -> None:
    analysis = analysis_of(
        """
        S: 220 mx
        C: EHLO c
        S: 250 mx
        C: RCPT TO:<b@y>
        S: 503 5.5.1 Error: need MAIL command
        C: MAIL FROM:<a@x>
        S: 250 ok
        """,
        "smtplog",
    )
    assert [v.message for v in analysis.violations] == ["RCPT is not allowed in state 'ready'"]
    assert analysis.violations[0].rfc == "RFC 5321 §3.3"


def test_commands_before_the_greeting_are_a_violation() -> None:
    analysis = analysis_of(
        """
        ** connect mx:25
        C: EHLO c
        S: 554 5.5.1 Error: SMTP protocol violation
        """,
        "smtplog",
    )
    assert any("before the server's greeting" in v.message for v in analysis.violations)


def test_commands_after_530_are_a_violation() -> None:
    analysis = analysis_of(
        """
        S: 220 mx
        C: EHLO c
        S: 250 mx
        C: MAIL FROM:<a@x>
        S: 530 5.7.0 Must issue a STARTTLS command first
        C: RCPT TO:<b@y>
        S: 530 5.7.0 Must issue a STARTTLS command first
        """,
        "smtplog",
    )
    assert any("after a 530" in v.message for v in analysis.violations)
    assert analysis.verdict.outcome == "failed"
    assert analysis.verdict.failed_at == "mail"


def test_a_typo_that_was_retyped_does_not_decide_the_verdict() -> None:
    analysis = analysis_of(
        """
        220 mx ESMTP
        EHLP example.test
        502 5.5.2 Error: command not recognized
        EHLO example.test
        250 mx
        QUIT
        221 2.0.0 Bye
        """,
        "telnet",
    )
    assert analysis.verdict.outcome == "incomplete"
    assert analysis.verdict.decisive is None


def test_the_root_cause_is_the_first_unrecovered_failure() -> None:
    analysis = analysis_of(
        """
        S: 220 mx
        C: EHLO c
        S: 250 mx
        C: MAIL FROM:<a@x>
        S: 250 ok
        C: RCPT TO:<b@y>
        S: 450 4.2.0 <b@y>: Recipient address rejected: Greylisted
        C: DATA
        S: 554 5.5.1 Error: no valid recipients
        """,
        "smtplog",
    )
    verdict = analysis.verdict
    assert (verdict.outcome, verdict.failed_at) == ("deferred", "rcpt")
    assert verdict.decisive is not None
    assert verdict.decisive.reply.code == 450


def test_connect_failure_then_nothing_is_no_connection() -> None:
    analysis = analysis_of(
        "** connect-failed refused connect to 127.0.0.1:2599: Connection refused", "smtplog"
    )
    assert (analysis.verdict.outcome, analysis.verdict.failed_at) == ("no-connection", "connect")


def test_silence_after_connect_is_deferred_at_the_banner() -> None:
    analysis = analysis_of(
        """
        ** connect mx.example.test:465 (127.0.0.1)
        +30.000 ** timeout banner no greeting after 30 s
        """,
        "smtplog",
    )
    assert (analysis.verdict.outcome, analysis.verdict.failed_at) == ("deferred", "banner")


def test_a_drop_mid_session_is_deferred_where_it_happened() -> None:
    analysis = analysis_of(
        """
        Trying 127.0.0.1...
        Connected to 127.0.0.1.
        Escape character is '^]'.
        220 mx ESMTP
        EHLO c
        250 mx
        MAIL FROM:<a@x>
        Connection closed by foreign host.
        """
    )
    assert (analysis.verdict.outcome, analysis.verdict.failed_at) == ("deferred", "mail")


def test_quit_after_rcpt_is_incomplete_not_a_failure() -> None:
    analysis = analysis_of(
        """
        S: 220 mx
        C: EHLO c
        S: 250 mx
        C: MAIL FROM:<a@x>
        S: 250 ok
        C: RCPT TO:<b@y>
        S: 250 ok
        C: QUIT
        S: 221 bye
        """,
        "smtplog",
    )
    assert (analysis.verdict.outcome, analysis.verdict.failed_at) == ("incomplete", None)
