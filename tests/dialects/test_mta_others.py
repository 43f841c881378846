"""tshark, Exchange, sendmail, Exim: every sample, sessions, verdicts, tricky lines."""

from __future__ import annotations

import pytest
from mta_helpers import analyse, detected, events, verdicts

from smtplog.events import Command, Note, Reply, TlsStarted

D, F, DF = "delivered", "failed", "deferred"
EXPECTED = {
    "tshark/delivered.txt": [(D, None, D)],
    "tshark/delivered-with-warning.txt": [(D, None, D)],
    "tshark/user-unknown.txt": [(F, "rcpt", "recipient-unknown")],
    "tshark/relay-denied.txt": [(F, "rcpt", "relay-denied")],
    "tshark/starttls.txt": [("incomplete", None, None)],
    "exchange/receive-interleaved.txt": [
        (D, None, D),
        (F, "auth", "auth-rejected"),
        (F, "rcpt", "relay-denied"),
    ],
    "exchange/send-log.txt": [
        (D, None, D),
        (F, "rcpt", "recipient-unknown"),
        (DF, "banner", "rate-limited"),
    ],
    "exchange/ndr-remote-server-returned.txt": [(F, "rcpt", "recipient-unknown")],
    "exchange/ndr-hash-forms.txt": [(F, "rcpt", "recipient-unknown"), (F, "rcpt", "spam-rejected")],
    "sendmail/v-delivered.txt": [(D, None, D)],
    "sendmail/v-user-unknown.txt": [(F, "rcpt", "recipient-unknown"), (D, None, D)],
    "sendmail/v-mailbox-full.txt": [(DF, "rcpt", "mailbox-full")],
    "sendmail/v-connection-refused.txt": [("no-connection", "connect", "connect-refused")],
    "sendmail/v-no-greeting.txt": [(DF, "banner", "no-greeting")],
    "sendmail/dsn-user-unknown.txt": [(F, "rcpt", "recipient-unknown")],
    "exim/v-delivered.txt": [(D, None, D)],
    "exim/v-user-unknown.txt": [(F, "rcpt", "recipient-unknown"), (D, None, D)],
    "exim/v-mailbox-full.txt": [(DF, "rcpt", "mailbox-full")],
    "exim/v-connection-refused.txt": [("no-connection", "connect", "connect-refused")],
    "exim/v-no-greeting.txt": [(DF, "banner", "no-greeting")],
    "exim/bounce-user-unknown.txt": [(F, "rcpt", "recipient-unknown")],
    "exim/mainlog.txt": [
        (D, None, D),
        (F, "rcpt", "recipient-unknown"),
        (D, None, D),
        (DF, "rcpt", "mailbox-full"),
        ("no-connection", "connect", "connect-refused"),
        (DF, "banner", "no-greeting"),
    ],
}


@pytest.mark.parametrize("sample", sorted(EXPECTED))
def test_sample_sessions_and_verdicts(sample: str) -> None:
    report = analyse(sample)
    assert report.dialect == sample.split("/", maxsplit=1)[0]
    assert verdicts(report) == EXPECTED[sample]


def test_sendmail_two_mx_attempts_are_two_sessions() -> None:
    report = analyse("sendmail/dsn-two-mx-composed.txt")
    assert [v[0] for v in verdicts(report)] == [DF, F]
    assert verdicts(report)[1][1] == "data"


def test_sendmail_own_status_lines_are_not_server_replies() -> None:
    text = "\n".join(
        [
            "   ----- Transcript of session follows -----",
            "... while talking to mx.example.com.:",
            ">>> RCPT To:<u@example.com>",
            "<<< 550 5.1.1 <u@example.com>... User unknown",
            "550 5.1.1 <u@example.com>... User unknown",
        ]
    )
    evs = events(text, "sendmail")
    replies = [e for e in evs if isinstance(e, Reply)]
    assert len(replies) == 1 and replies[0].span is not None and replies[0].span.first == 4
    assert any(isinstance(e, Note) and e.text.startswith("550 5.1.1") for e in evs)


def test_sendmail_v_bare_replies_are_server_replies() -> None:
    evs = events(
        "u@x... Connecting to mx via esmtp...\n220 mx ESMTP\n>>> EHLO me\n250 mx", "sendmail"
    )
    assert [type(e).__name__ for e in evs if isinstance(e, Reply | Command)] == [
        "Reply", "Command", "Reply",
    ]  # fmt: skip


def test_exim_continuation_lines_join_the_reply() -> None:
    session = analyse("exim/v-user-unknown.txt").sessions[0].analysis
    rejected = [e for e in session.events if isinstance(e, Reply) and e.code == 550]
    assert len(rejected) == 1 and len(rejected[0].lines) == 3
    assert len(session.ehlo.lines) == 5 if session.ehlo else False


def test_exim_pipelined_and_masked_commands() -> None:
    text = "\n".join(
        [
            "  SMTP<< 220 mx ESMTP",
            "  SMTP|> MAIL FROM:<a@b.test>",
            "  SMTP|> RCPT TO:<c@d.test>",
            "  SMTP>> DATA",
            "  SMTP<< 250 OK",
            "  SMTP<< 250 Accepted",
            "  SMTP<< 354 Go ahead",
        ]
    )
    evs = events(text, "exim")
    assert [e.verb for e in evs if isinstance(e, Command)] == ["MAIL", "RCPT", "DATA"]
    assert detected(text) == "exim"


def test_exchange_direction_depends_on_log_type() -> None:
    record = "2026-11-28T10:00:00.000Z,C,08DE0000000000AA,1,10.0.0.5:25,192.0.2.1:4000,{},{}"
    receive = "#Log-type: SMTP Receive Protocol Log\n" + record.format("<", "EHLO client")
    send = "#Log-type: SMTP Send Protocol Log\n" + record.format("<", "250 mx Hello")
    assert any(isinstance(e, Command) for e in events(receive, "exchange"))
    assert any(isinstance(e, Reply) for e in events(send, "exchange"))
    assert not any(isinstance(e, Reply) for e in events(receive, "exchange"))


def test_exchange_sessions_regrouped_by_session_id() -> None:
    report = analyse("exchange/receive-interleaved.txt")
    assert len(report.sessions) == 3
    streams = [{e.stream for e in s.analysis.events if e.stream} for s in report.sessions]
    assert all(len(s) == 1 for s in streams)
    assert len({next(iter(s)) for s in streams}) == 3


def test_tshark_stops_at_starttls() -> None:
    session = analyse("tshark/starttls.txt").sessions[0].analysis
    assert session.tls is not None
    assert not any(isinstance(e, Reply) and e.code == 250 for e in session.events[-3:])
    assert not any(e.kind == "unparsed" for e in session.events)


def test_tshark_tab_marks_the_server() -> None:
    evs = events(
        "Follow: tcp,ascii\nNode 0: 1.2.3.4:5\nNode 1: 1.2.3.4:25\n\t11\n220 mx hi\n\n6\nQUIT\n\n",
        "tshark",
    )
    assert [type(e).__name__ for e in evs if isinstance(e, Reply | Command)] == ["Reply", "Command"]
    assert not any(isinstance(e, TlsStarted) for e in evs)
