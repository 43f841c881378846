"""The phpmailer dialect: the lines that are easy to get wrong (its samples: test_client_samples.py)."""

from __future__ import annotations

from smtplog.analysis import analyze_text
from smtplog.events import ClientError, Command, Reply
from tests.conftest import transcript

DIALECT = "phpmailer"


def events_of(text: str) -> list:
    report = analyze_text(transcript(text), dialect=DIALECT)
    return [event for session in report.sessions for event in session.analysis.events]


def test_html_glued_reply_is_split_and_unescaped() -> None:
    text = (
        "2026-11-28 20:40:58 SERVER -&gt; CLIENT: 220 mx.example.test ESMTP<br>\n"
        "2026-11-28 20:40:58 CLIENT -&gt; SERVER: EHLO vm<br>\n"
        "2026-11-28 20:40:58 SERVER -&gt; CLIENT: 250-mx.example.test250-SIZE 10000000"
        "250-AUTH PLAIN LOGIN250 CHUNKING<br>\n"
        "2026-11-28 20:40:58 CLIENT -&gt; SERVER: MAIL FROM:&lt;alice@example.test&gt;<br>\n"
    )
    events = events_of(text)
    ehlo = [e for e in events if isinstance(e, Reply)][1]
    assert ehlo.lines == ("mx.example.test", "SIZE 10000000", "AUTH PLAIN LOGIN", "CHUNKING")
    mail = next(e for e in events if isinstance(e, Command) and e.verb == "MAIL")
    assert mail.argument == "FROM:<alice@example.test>"


def test_echo_continuation_lines_belong_to_the_reply() -> None:
    pad = " " * 19 + "\t" + " " * 18
    text = (
        "2026-11-28 20:40:58\tSERVER -> CLIENT: 250-mx.example.test\n"
        f"{pad}250-PIPELINING\n{pad}250 CHUNKING\n"
    )
    replies = [e for e in events_of(text) if isinstance(e, Reply)]
    assert len(replies) == 1 and replies[0].lines == ("mx.example.test", "PIPELINING", "CHUNKING")


def test_hidden_auth_plain_command_and_old_labels() -> None:
    events = events_of(
        """\
        SMTP -> FROM SERVER:220 mx.example.test ESMTP
        CLIENT -> SMTP: EHLO vm
        SMTP -> FROM SERVER:250 AUTH PLAIN
        CLIENT -> SERVER: [credentials hidden]
        SERVER -> CLIENT: 235 2.7.0 Authentication successful
        SMTP Error: Could not authenticate.
        """
    )
    auth = [e for e in events if isinstance(e, Command) and e.verb == "AUTH"]
    assert auth and auth[0].secret and "hidden" in auth[0].text
    assert [e.code for e in events if isinstance(e, Reply)] == [220, 250, 235]
    assert [e.text for e in events if isinstance(e, ClientError)] == [
        "SMTP Error: Could not authenticate."
    ]
