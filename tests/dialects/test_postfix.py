"""Postfix: real maillog samples (lab/postfix-out-lab.sh) and tricky lines."""

from __future__ import annotations

import pytest
from mta_helpers import analyse, detected, events, verdicts

from smtplog.analysis import analyze_text
from smtplog.dialects.postfix import split_joined_reply
from smtplog.events import ClientError, Command, ConnectFailed, DataEnd, Reply

EXPECTED = {
    "postfix/delivery-log.txt": [
        ("delivered", None, "delivered"),
        ("failed", "rcpt", "recipient-unknown"),
        ("failed", "rcpt", "relay-denied"),
        ("failed", "mail", "message-too-large"),
        ("failed", "rcpt", "recipient-unknown"),
        ("deferred", "rcpt", "mailbox-full"),
        ("no-connection", "connect", "connect-refused"),
        ("no-connection", "connect", "connect-timeout"),
        ("deferred", "banner", "no-greeting"),
    ],
    "postfix/smtpd-log.txt": [
        ("delivered", None, "delivered"),
        ("failed", "rcpt", "recipient-unknown"),
        ("failed", "rcpt", "relay-denied"),
        ("deferred", "rcpt", "connection-dropped"),
    ],
    "postfix/verbose-smtp-delivered.txt": [("delivered", None, "delivered")],
    "postfix/verbose-smtp-rejected.txt": [("failed", "rcpt", "recipient-unknown")],
    "postfix/verbose-smtp-greylisted.txt": [("deferred", "rcpt", "greylisted")],
    "postfix/verbose-smtpd.txt": [
        ("delivered", None, "delivered"),
        ("failed", "rcpt", "relay-denied"),
    ],
    "postfix/posttls-finger-starttls.txt": [("incomplete", None, None)],
    "postfix/posttls-finger-refused.txt": [("no-connection", "connect", "connect-refused")],
    "postfix/posttls-finger-no-greeting.txt": [("deferred", "banner", "no-greeting")],
}


@pytest.mark.parametrize("sample", sorted(EXPECTED))
def test_sample_sessions_and_verdicts(sample: str) -> None:
    report = analyse(sample)
    assert report.dialect == "postfix"
    assert verdicts(report) == EXPECTED[sample]


def test_verbose_smtp_chat_directions() -> None:
    """smtp client: '<' is the server, '>' the client."""
    session = analyse("postfix/verbose-smtp-delivered.txt").sessions[0].analysis
    kinds = [type(e).__name__ for e in session.events if isinstance(e, Reply | Command)]
    assert kinds[:2] == ["Reply", "Command"]  # 220 greeting, then EHLO
    assert session.banner is not None and session.banner.code == 220
    assert "SIZE" in session.capabilities


def test_verbose_smtpd_chat_is_reversed() -> None:
    """smtpd: '<' is the client's command, '>' the reply Postfix sent."""
    session = analyse("postfix/verbose-smtpd.txt").sessions[0].analysis
    commands = [e.verb for e in session.events if isinstance(e, Command) and not e.inferred]
    assert commands[:4] == ["EHLO", "MAIL", "RCPT", "DATA"]
    assert session.banner is not None and "ESMTP Postfix" in session.banner.text


def test_joined_multiline_said_reply_keeps_each_code() -> None:
    text = (
        "550-5.1.1 The email account that you tried to reach does not exist. Please "
        "550-5.1.1 check the recipient's email address for typos or unnecessary "
        "550 5.1.1 spaces. <u@remote.test> (remote.test)"
    )
    lines = split_joined_reply(text)
    assert [(code, sep) for code, sep, _ in lines] == [(550, "-"), (550, "-"), (550, " ")]
    assert lines[1][2].startswith("5.1.1 check the recipient")
    # a number inside a one-line reply does not split it
    assert len(split_joined_reply("452 4.2.2 quota 550 MB exceeded")) == 1


LINE = (
    "Nov  5 09:12:01 mx postfix/smtp[4242]: 4ABCDEF0123: to=<u@example.com>, "
    "relay=mx.example.com[192.0.2.10]:25, delay=1.2, delays=0.1/0/0.5/0.6, dsn=5.1.1, "
    "status=bounced (host mx.example.com[192.0.2.10] said: 550-5.1.1 first line "
    "550 5.1.1 second line (in reply to RCPT TO command))"
)


def test_said_line_becomes_rcpt_exchange_with_two_line_reply() -> None:
    evs = events(LINE, "postfix")
    command = next(e for e in evs if isinstance(e, Command))
    assert command.inferred and command.verb == "RCPT" and "<u@example.com>" in command.argument
    reply = next(e for e in evs if isinstance(e, Reply))
    assert reply.code == 550 and reply.lines == ("5.1.1 first line", "5.1.1 second line")
    report = analyze_text(LINE)
    assert report.dialect == "postfix"
    assert verdicts(report) == [("failed", "rcpt", "recipient-unknown")]


@pytest.mark.parametrize(
    "prefix",
    [
        "Nov 05 09:12:01 mx postfix/smtp[4242]: ",
        "2026-11-05T09:12:01.123456+00:00 mx postfix/smtp[4242]: ",
        "Nov  5 09:12:01 mx postfix-out/smtp[4242]: ",
    ],
)
def test_syslog_envelopes(prefix: str) -> None:
    line = prefix + LINE.split("]: ", 1)[1]
    assert detected(line) == "postfix"
    assert verdicts(analyze_text(line)) == [("failed", "rcpt", "recipient-unknown")]


def test_end_of_data_and_connect_timeout() -> None:
    text = "\n".join(
        [
            "Nov 28 10:00:00 mx postfix/smtp[1]: AAAAA11111: to=<a@x.test>, relay=x[192.0.2.1]:25,"
            " delay=1, delays=0/0/0/1, dsn=5.7.1, status=bounced (host x[192.0.2.1] said: 554"
            " 5.7.1 Message rejected as spam (in reply to end of DATA command))",
            "Nov 28 10:00:01 mx postfix/smtp[2]: BBBBB22222: to=<b@y.test>, relay=none,"
            " delay=30, delays=0/0/30/0, dsn=4.4.1, status=deferred (connect to"
            " y[192.0.2.2]:25: Connection timed out)",
        ]
    )
    evs = events(text, "postfix")
    assert any(isinstance(e, DataEnd) and e.inferred for e in evs)
    failed = next(e for e in evs if isinstance(e, ConnectFailed))
    assert failed.reason == "timeout"
    outcomes = verdicts(analyze_text(text))
    assert outcomes[0][:2] == ("failed", "message")
    assert outcomes[1] == ("no-connection", "connect", "connect-timeout")


def test_smtpd_reject_with_and_without_310_queue_id_prefix() -> None:
    text = "\n".join(
        [
            "Nov 28 10:00:00 mx postfix/submission/smtpd[77]: connect from c[192.0.2.7]",
            "Nov 28 10:00:01 mx postfix/submission/smtpd[77]: NOQUEUE: reject: RCPT from"
            " c[192.0.2.7]: 554 5.7.1 <u@example.org>: Relay access denied; from=<>"
            " to=<u@example.org> proto=ESMTP helo=<client>",
            "Nov 28 10:00:02 mx postfix/submission/smtpd[77]: NOQUEUE: lost connection after"
            " RCPT from c[192.0.2.7]",
            "Nov 28 10:00:02 mx postfix/submission/smtpd[77]: disconnect from c[192.0.2.7]"
            " ehlo=1 mail=1 rcpt=0/1 commands=2/3",
            "Nov 28 10:01:00 mx postfix/smtpd[78]: connect from d[192.0.2.8]",
            "Nov 28 10:01:05 mx postfix/smtpd[78]: timeout after DATA (1234 bytes) from"
            " d[192.0.2.8]",
        ]
    )
    report = analyze_text(text)
    assert [v[:2] for v in verdicts(report)] == [("failed", "rcpt"), ("deferred", "data")]
    assert verdicts(report)[0][2] == "relay-denied"


def test_size_limit_decided_by_the_client() -> None:
    evs = events(
        "Nov 28 10:00:00 mx postfix/smtp[1]: CCCCC33333: to=<a@x.test>, relay=x[192.0.2.1]:25,"
        " delay=0.1, delays=0/0/0/0.1, dsn=5.3.4, status=bounced (message size 154250 exceeds"
        " size limit 100000 of server x[192.0.2.1])",
        "postfix",
    )
    assert any(isinstance(e, ClientError) for e in evs)


def test_other_daemons_are_not_sessions() -> None:
    text = "\n".join(
        [
            "Nov 28 10:00:00 mx postfix/qmgr[9]: DDDDD44444: from=<a@b.test>, size=300, nrcpt=1"
            " (queue active)",
            "Nov 28 10:00:00 mx sshd[12]: Accepted publickey for root",
            LINE,
        ]
    )
    report = analyze_text(text)
    assert len(report.sessions) == 1
