"""The javamail dialect: the lines that are easy to get wrong (its samples: test_client_samples.py)."""

from __future__ import annotations

from smtplog.analysis import analyze_text
from smtplog.events import ClientError, Reply
from tests.conftest import transcript

DIALECT = "javamail"


def events_of(text: str) -> list:
    report = analyze_text(transcript(text), dialect=DIALECT)
    return [event for session in report.sessions for event in session.analysis.events]


def test_message_lines_that_look_like_replies_or_stack_frames_stay_content() -> None:
    from smtplog.events import DataBody

    events = events_of(
        """\
        DEBUG SMTP: trying to connect to host "127.0.0.1", port 25, isSSL false
        220 mx.example.test ESMTP
        DATA
        354 End data with <CR><LF>.<CR><LF>
        Content-Type: multipart/mixed;
        \tboundary="----=_Part_0"
        250 apples
        .
        250 2.0.0 Ok: queued
        """
    )
    body = next(e for e in events if isinstance(e, DataBody))
    assert body.lines == (
        "Content-Type: multipart/mixed;",
        '\tboundary="----=_Part_0"',
        "250 apples",
    )
    assert [e.code for e in events if isinstance(e, Reply)] == [220, 354, 250]


def test_stack_trace_is_one_client_error_with_its_cause() -> None:
    events = events_of(
        """\
        220 mx.example.test ESMTP
        Exception in thread "main" javax.mail.AuthenticationFailedException: 535 5.7.8 failed

        \tat com.sun.mail.smtp.SMTPTransport$Authenticator.authenticate(SMTPTransport.java:947)
        \tat SendMail.main(SendMail.java:47)
        """
    )
    errors = [e for e in events if isinstance(e, ClientError)]
    assert len(errors) == 1
    assert errors[0].text == "javax.mail.AuthenticationFailedException: 535 5.7.8 failed"
    assert (errors[0].span.first, errors[0].span.last) == (2, 5)
