"""The canonical transcript: what the recorder writes, the analyzer reads back unchanged."""

from __future__ import annotations

from smtplog import analyze_text
from smtplog.events import (
    AuthResponse,
    Closed,
    Command,
    Connected,
    DataBody,
    DataEnd,
    Reply,
    TlsStarted,
)
from smtplog.transcript import format_events, header


def _events():  # type: ignore[no-untyped-def]
    return [
        Connected(target="mx.example.test:25", address="127.0.0.1", time=0.0),
        Reply(code=220, lines=("mx.example.test ESMTP",), time=0.031),
        Command(verb="EHLO", argument="c.example.org", text="EHLO c.example.org", time=0.032),
        Reply(code=250, lines=("mx.example.test", "STARTTLS", "AUTH LOGIN"), time=0.040),
        Command(verb="STARTTLS", text="STARTTLS", time=0.041),
        Reply(code=220, enhanced="2.0.0", lines=("2.0.0 Ready to start TLS",), time=0.050),
        TlsStarted(
            version="TLSv1.3",
            cipher="TLS_AES_256_GCM_SHA384",
            subject="CN=mx.example.test",
            issuer="CN=Example CA",
            verified=False,
            detail="self-signed certificate",
            time=0.120,
        ),
        Command(verb="EHLO", argument="c.example.org", text="EHLO c.example.org", time=0.121),
        Reply(code=250, lines=("mx.example.test", "AUTH LOGIN"), time=0.125),
        Command(verb="AUTH", argument="LOGIN", text="AUTH LOGIN", time=0.126),
        Reply(code=334, lines=("VXNlcm5hbWU6",), time=0.130),
        AuthResponse(text="YWxpY2U=", role="username", decoded="alice", time=0.131),
        Reply(code=334, lines=("UGFzc3dvcmQ6",), time=0.135),
        AuthResponse(
            text="[password redacted, 11 characters]", role="password", secret=True, time=0.191
        ),
        Reply(code=235, enhanced="2.7.0", lines=("2.7.0 Authentication successful",), time=0.2),
        Command(
            verb="MAIL",
            argument="FROM:<a@example.org>",
            text="MAIL FROM:<a@example.org>",
            time=0.21,
        ),
        Reply(code=250, lines=("2.1.0 Ok",), enhanced="2.1.0", time=0.22),
        Command(
            verb="RCPT", argument="TO:<b@example.test>", text="RCPT TO:<b@example.test>", time=0.23
        ),
        Reply(code=250, lines=("2.1.5 Ok",), enhanced="2.1.5", time=0.24),
        Command(verb="DATA", text="DATA", time=0.25),
        Reply(code=354, lines=("End data with <CR><LF>.<CR><LF>",), time=0.26),
        DataBody(lines=("Subject: test", "", "..leading dot"), line_count=3, time=0.27),
        DataEnd(time=0.28),
        Reply(code=250, enhanced="2.0.0", lines=("2.0.0 Ok: queued as 4ABC",), time=0.3),
        Command(verb="QUIT", text="QUIT", time=0.31),
        Reply(code=221, enhanced="2.0.0", lines=("2.0.0 Bye",), time=0.32),
        Closed(by="server", time=0.33),
    ]


def test_writing_and_reading_back_keeps_every_event() -> None:
    written = "\n".join(format_events(_events(), header("mx.example.test:25")))
    report = analyze_text(written)
    assert report.dialect == "smtplog"
    assert report.confidence == 1.0
    analysis = report.sessions[0].analysis
    kinds = [event.kind for event in analysis.events if event.kind != "note"]
    assert kinds == [event.kind for event in _events()]
    tls = analysis.tls
    assert tls is not None
    assert (tls.version, tls.cipher, tls.subject, tls.verified) == (
        "TLSv1.3",
        "TLS_AES_256_GCM_SHA384",
        "CN=mx.example.test",
        False,
    )
    replies = [event for event in analysis.events if isinstance(event, Reply)]
    assert [r.time for r in replies][:2] == [0.031, 0.04]
    assert replies[1].lines == ("mx.example.test", "STARTTLS", "AUTH LOGIN")
    secret = [e for e in analysis.events if isinstance(e, AuthResponse) and e.secret]
    assert secret[0].text == "[password redacted, 11 characters]"
    body = next(e for e in analysis.events if isinstance(e, DataBody))
    assert body.lines == ("Subject: test", "", "..leading dot")
    assert analysis.verdict.outcome == "delivered"


def test_the_header_names_target_and_start() -> None:
    line = header("mx.example.test:25")
    assert line.startswith("# smtplog transcript 1; target=mx.example.test:25; started=")
