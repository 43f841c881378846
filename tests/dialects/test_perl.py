"""The perl dialect: the lines that are easy to get wrong (its samples: test_client_samples.py)."""

from __future__ import annotations

from smtplog.analysis import analyze_text
from smtplog.events import Command
from tests.conftest import transcript

DIALECT = "perl"


def events_of(text: str) -> list:
    report = analyze_text(transcript(text), dialect=DIALECT)
    return [event for session in report.sessions for event in session.analysis.events]


def test_directions_and_subclass_prefixes() -> None:
    events = events_of(
        """\
        Net::SMTP>>> Net::SMTP(3.14)
        Net::SMTP>>>   Net::Cmd(3.14)
        Net::SMTP=GLOB(0x55ea37d4fca0)<<< 220 mx.example.test ESMTP
        Net::SMTP=GLOB(0x55ea37d4fca0)>>> EHLO client.example.test\r
        Net::SMTP::_SSL=GLOB(0x55ea37d4fca0)<<< 250 CHUNKING
        RCPT TO failed: 5.1.1 <nobody@example.test>: User unknown
        """
    )
    assert [e.kind for e in events] == ["connected", "reply", "command", "reply", "client-error"]
    connected = events[0]
    assert (connected.span.first, connected.span.last) == (1, 2)
    assert next(e for e in events if isinstance(e, Command)).text == "EHLO client.example.test"
