"""The smtplib dialect: the lines that are easy to get wrong (its samples: test_client_samples.py)."""

from __future__ import annotations

import pytest

from smtplog.analysis import analyze_text
from smtplog.events import ClientError, Command, Reply
from tests.conftest import transcript

DIALECT = "smtplib"


def events_of(text: str) -> list:
    report = analyze_text(transcript(text), dialect=DIALECT)
    return [event for session in report.sessions for event in session.analysis.events]


def test_reprs_with_quotes_and_escapes_are_read_as_python_literals() -> None:
    events = events_of(
        """\
        send: "mail FROM:<o'brien@example.test>\\r\\n"
        reply: b'250 2.1.0 Ok \\xc3\\xa9t\\xc3\\xa9\\r\\n'
        reply: retcode (250); Msg: b'2.1.0 Ok \\xc3\\xa9t\\xc3\\xa9'
        """
    )
    mail = next(e for e in events if isinstance(e, Command))
    assert mail.argument == "FROM:<o'brien@example.test>"
    replies = [e for e in events if isinstance(e, Reply)]
    assert len(replies) == 1  # the retcode summary is not a second reply
    assert replies[0].lines == ("2.1.0 Ok été",)


def test_python2_reprs_and_timestamp_without_fraction() -> None:
    events = events_of(
        """\
        19:36:56 send: 'ehlo client.example.test\\r\\n'
        19:36:56.518500 reply: '250 mx.example.test\\r\\n'
        19:36:56.518600 reply: retcode (250); Msg: mx.example.test
        """
    )
    command = next(e for e in events if isinstance(e, Command))
    reply = next(e for e in events if isinstance(e, Reply))
    assert command.verb == "EHLO" and command.time == 19 * 3600 + 36 * 60 + 56
    assert reply.code == 250 and reply.time == pytest.approx(70616.5185)


def test_message_blob_is_split_and_bare_lf_is_flagged() -> None:
    from smtplog.events import DataBody, DataEnd

    events = events_of(
        """\
        send: 'data\\r\\n'
        reply: b'354 End data with <CR><LF>.<CR><LF>\\r\\n'
        send: b'Subject: hi\\r\\n\\r\\nline one\\nline two\\r\\n..dot\\r\\n.\\r\\n'
        reply: b'250 2.0.0 Ok: queued\\r\\n'
        """
    )
    body = next(e for e in events if isinstance(e, DataBody))
    assert body.lines == ("Subject: hi", "", "line one", "line two", "..dot")
    assert body.bare_lf
    assert any(isinstance(e, DataEnd) and e.span is not None for e in events)


def test_exception_lines_become_one_event() -> None:
    events = events_of(
        """\
        connect: to ('127.0.0.1', 2525) None
        Traceback (most recent call last):
          File "send.py", line 3, in <module>
            server.connect("127.0.0.1", 2525)
        ConnectionRefusedError: [Errno 111] Connection refused
        """
    )
    failed = [e for e in events if e.kind == "connect-failed"]
    assert len(failed) == 1 and failed[0].reason == "refused"
    assert failed[0].span.first == 2 and failed[0].span.last == 5
    assert not any(isinstance(e, ClientError) for e in events)


@pytest.mark.parametrize(
    "payload", ["{[]:1}", "{[]}", "{(1, {})}", "1" * 5000, "[" * 500 + "]" * 500]
)
def test_a_send_that_is_no_string_literal_is_a_note(payload: str) -> None:
    """What ``ast.literal_eval`` refuses in any way (TypeError: unhashable) is no internal error."""
    from smtplog.dialects.smtplib import literal
    from smtplog.events import Note

    assert literal(payload) is None
    events = events_of(
        f"""\
        send: 'ehlo client.example.test\\r\\n'
        reply: b'250 mx.example.test\\r\\n'
        send: {payload}
        """
    )
    assert any(isinstance(e, Note) and payload[:20] in e.text for e in events)
