"""The engine: root cause first, consequences, structural evidence, observations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smtplog.analysis import analyze_text
from smtplog.events import Command, Connected, DataBody, DataEnd, Reply, Span
from smtplog.protocol import analyze_session
from smtplog.rules import diagnose_session
from tests.conftest import run_cli, transcript

ROOT = Path(__file__).resolve().parent.parent.parent


def only_session(text: str):  # type: ignore[no-untyped-def]
    report = analyze_text(transcript(text))
    assert len(report.sessions) == 1
    return report.sessions[0]


def test_530_then_more_530s_and_a_503_is_one_finding() -> None:
    session = only_session(
        """
        220 mx.example.com ESMTP Postfix
        EHLO client.example.org
        250-mx.example.com
        250-STARTTLS
        250 ENHANCEDSTATUSCODES
        MAIL FROM:<a@example.org>
        530 5.7.0 Must issue a STARTTLS command first
        RCPT TO:<b@example.com>
        530 5.7.0 Must issue a STARTTLS command first
        DATA
        503 5.5.1 Error: need RCPT command
        """
    )
    assert [f.id for f in session.findings] == ["tls-required"]
    root = session.findings[0]
    assert [item.line for item in root.consequences] == [9, 11]
    assert session.failed_at == "mail"


def test_rejected_recipient_then_no_valid_recipients() -> None:
    session = only_session(
        """
        220 mx.example.com ESMTP Postfix
        EHLO client.example.org
        250 mx.example.com
        MAIL FROM:<a@example.org>
        250 2.1.0 Ok
        RCPT TO:<x@elsewhere.example>
        554 5.7.1 <x@elsewhere.example>: Relay access denied
        DATA
        554 5.5.1 Error: no valid recipients
        """
    )
    assert [f.id for f in session.findings] == ["relay-denied"]
    assert [item.line for item in session.findings[0].consequences] == [9]
    assert "<x@elsewhere.example>" in session.findings[0].summary


def test_failed_login_explains_the_530_that_follows() -> None:
    session = only_session(
        """
        220 mx.example.com ESMTP Postfix
        EHLO client.example.org
        250-mx.example.com
        250 AUTH PLAIN LOGIN
        AUTH PLAIN AGFsaWNlAHdyb25n
        535 5.7.8 Error: authentication failed: authentication failure
        MAIL FROM:<alice@example.com>
        530 5.7.0 Authentication required
        """
    )
    assert [f.id for f in session.findings] == ["auth-rejected"]
    assert [item.line for item in session.findings[0].consequences] == [8]


def test_a_second_failed_login_attempt_is_part_of_the_root_cause() -> None:
    report = analyze_text((ROOT / "samples/smtplib/auth-error-level1.txt").read_text())
    session = report.sessions[-1]
    assert [f.id for f in session.findings] == ["auth-rejected"]
    assert session.findings[0].consequences, "the earlier attempt is listed with the root cause"


def test_other_recipient_rejected_but_message_delivered() -> None:
    session = only_session(
        """
        220 mx.example.com ESMTP Postfix
        EHLO client.example.org
        250 mx.example.com
        MAIL FROM:<a@example.org>
        250 2.1.0 Ok
        RCPT TO:<nobody@example.com>
        550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown in local recipient table
        RCPT TO:<b@example.com>
        250 2.1.5 Ok
        DATA
        354 End data with <CR><LF>.<CR><LF>
        hi
        .
        250 2.0.0 Ok: queued as 4ABCDEF0123
        """
    )
    assert session.outcome == "delivered"
    assert [(f.id, f.severity) for f in session.findings] == [
        ("delivered", "info"),
        ("recipient-unknown", "error"),
    ]


def test_microsoft_meaning_and_steps_come_first() -> None:
    session = only_session(
        """
        220 PR1P264CA0038.outlook.office365.com Microsoft ESMTP MAIL Service ready
        EHLO client.example.org
        250 AUTH LOGIN XOAUTH2
        AUTH LOGIN
        334 VXNlcm5hbWU6
        YWxpY2VAY29udG9zby5jb20=
        334 UGFzc3dvcmQ6
        UzNjcjN0LVBhNTU=
        535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.
        """
    )
    root = session.main
    assert root is not None and root.id == "auth-method-blocked"
    assert root.provider == "Microsoft 365 (Exchange Online)"
    assert "password is probably fine" in root.summary
    assert "for user alice@contoso.com" in root.summary
    assert "Set-CASMailbox" in root.next_steps[0]
    assert "https://aka.ms/smtp_auth_disabled" in root.references
    assert "S3cr3t" not in json.dumps(root.to_dict())


def test_expired_delivery_names_the_last_error() -> None:
    session = only_session(
        "554 4.4.7 Message expired: unable to deliver in 840 minutes.<421 4.4.2 Connection timed out>\n"
    )
    root = session.main
    assert root is not None and root.id == "delivery-expired"
    assert '"421 4.4.2 Connection timed out"' in root.summary
    assert "(connect-timeout)" in root.summary


def test_client_error_quoting_a_server_reply() -> None:
    session = only_session(
        """
        # smtplog transcript 1; target=mx.example.com:25; started=2026-11-28T19:40:02Z
        +0.000 ** connect mx.example.com:25 (192.0.2.25)
        +0.030 ** error smtplib.SMTPDataError: (554, b'5.7.1 Message content rejected, UBE, id=12345-01')
        """
    )
    root = session.main
    assert root is not None and root.id == "spam-rejected"
    assert "quoted by the client" in (root.matched_by or "")


def test_auth_not_offered_explains_starttls_first() -> None:
    report = analyze_text(
        (ROOT / "tests/rules/captures/swaks-auth-before-starttls.txt").read_text()
    )
    root = report.sessions[0].main
    assert root is not None and root.id == "auth-not-offered"
    assert "offers AUTH only on an encrypted connection" in root.summary


def test_observations_never_change_verdict_or_exit_code() -> None:
    path = "tests/rules/captures/swaks-ehlo-localhost-delivered.txt"
    result = run_cli("analyze", "--format", "json", path)
    assert result.code == 0, result.stderr
    session = json.loads(result.stdout)["reports"][0]["sessions"][0]
    assert [d["id"] for d in session["diagnoses"]] == ["delivered"]
    observed = {o["id"]: o["severity"] for o in session["observations"]}
    assert observed["ehlo-not-fqdn"] == "warning"
    assert "server-capabilities" in observed
    assert all(o["group"] == "observation" for o in session["observations"])


def test_failed_session_keeps_its_root_cause_first_and_exit_1() -> None:
    result = run_cli("analyze", "--format", "json", "samples/swaks/relay-denied.txt")
    assert result.code == 1
    session = json.loads(result.stdout)["reports"][0]["sessions"][0]
    assert session["diagnoses"][0]["id"] == "relay-denied"
    assert "starttls-not-used" in {o["id"] for o in session["observations"]}


def test_text_output_shows_observations_briefly() -> None:
    result = run_cli("analyze", "--format", "text", "samples/swaks/delivered.txt")
    assert result.code == 0
    block = result.stdout.split("-- server-capabilities:", 1)[1].split("\n\n", 1)[0]
    assert "SIZE 100 kB" in block and "Likely causes" not in block


def test_credentials_in_clear_text_are_a_warning() -> None:
    report = analyze_text((ROOT / "samples/telnet/postfix-auth-login-delivered.txt").read_text())
    notes = {o.id: o for o in report.sessions[0].observations}
    assert notes["auth-without-tls"].severity == "warning"
    assert "starttls-not-used" not in notes  # the warning already says the client could have
    assert report.sessions[0].outcome == "delivered"


def test_bare_lf_in_the_message_body() -> None:
    span = Span.of
    events = [
        Connected(target="mx.example.com:25", span=span(1)),
        Reply(code=220, lines=("mx.example.com ESMTP",), span=span(2)),
        Command(
            verb="EHLO", argument="client.example.org", text="EHLO client.example.org", span=span(3)
        ),
        Reply(code=250, lines=("mx.example.com",), span=span(4)),
        Command(verb="MAIL", argument="FROM:<a@example.org>", span=span(5)),
        Reply(code=250, lines=("2.1.0 Ok",), span=span(6)),
        Command(verb="RCPT", argument="TO:<b@example.com>", span=span(7)),
        Reply(code=250, lines=("2.1.5 Ok",), span=span(8)),
        Command(verb="DATA", span=span(9)),
        Reply(code=354, lines=("go ahead",), span=span(10)),
        DataBody(lines=("Subject: x", "", "x"), line_count=3, bare_lf=True, span=Span(11, 13)),
        DataEnd(span=span(14)),
        Reply(code=250, lines=("2.0.0 Ok: queued",), span=span(15)),
    ]
    findings, observations = diagnose_session(analyze_session(events))
    assert [f.id for f in findings] == ["delivered"]
    bare = next(o for o in observations if o.id == "bare-lf")
    assert bare.severity == "warning" and bare.evidence[0].line == 11


def test_no_finding_for_a_session_that_only_greeted() -> None:
    session = only_session(
        """
        220 mx.example.com ESMTP Postfix
        EHLO client.example.org
        250-mx.example.com
        250 ENHANCEDSTATUSCODES
        QUIT
        221 2.0.0 Bye
        """
    )
    assert session.outcome == "incomplete" and session.findings == []
    assert session.main is None
    assert [o.id for o in session.observations] == ["server-capabilities"]


CLIENT_SAYS = [
    ("SMTP Error: Could not authenticate.", "auth-rejected"),  # PHPMailer
    ("SMTP Error: Could not connect to SMTP host.", "connect-timeout"),  # PHPMailer
    ("curl: (7) Failed to connect to mx.example.com port 25 after 0 ms: Couldn't connect to server", "connect-refused"),
    ("curl: (28) Failed to connect to mx.example.com port 25 after 3001 ms: Timeout was reached", "connect-timeout"),
    ("curl: (67) Login denied", "auth-rejected"),
    ("smtplib.SMTPServerDisconnected: Connection unexpectedly closed", "connection-dropped"),
    ("smtplib.SMTPNotSupportedError: SMTP AUTH extension not supported by server.", "auth-not-offered"),
    ("smtplib.SMTPNotSupportedError: STARTTLS extension not supported by server.", "tls-not-offered"),
    ("ssl.SSLError: [SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)", "tls-port-mismatch"),
    ("javax.mail.MessagingException: Could not convert socket to TLS", "tls-handshake-failed"),
    ("ERROR Send Error: Greeting never received", "no-greeting"),  # Nodemailer
    ("msmtp: the server does not support TLS via the STARTTLS command", "tls-not-offered"),
    ("*** No authentication type succeeded", "auth-rejected"),  # swaks
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), CLIENT_SAYS)
def test_the_client_programs_own_words(text: str, expected: str) -> None:
    session = only_session(
        f"""
        # smtplog transcript 1; target=mx.example.com:25; started=2026-11-28T19:40:02Z
        +0.000 ** connect mx.example.com:25 (192.0.2.25)
        +0.030 ** error {text}
        """
    )
    assert session.main is not None and session.main.id == expected, session.main
