"""The swaks dialect: every transaction hint of swaks' output."""

from __future__ import annotations

from smtplog import analyze_text
from smtplog.events import (
    AuthResponse,
    ClientError,
    Closed,
    Command,
    Connected,
    ConnectFailed,
    Connecting,
    Reply,
    Timeout,
    TlsFailed,
    TlsStarted,
)

from ..conftest import transcript


def session(text: str):  # type: ignore[no-untyped-def]
    report = analyze_text(transcript(text), dialect="swaks")
    return report.sessions[0].analysis


def test_tls_block_of_the_2020_release_becomes_one_tls_event() -> None:
    analysis = session(
        """
        === Trying 127.0.0.1:2525...
        === Connected to 127.0.0.1.
        <-  220 mx.example.test ESMTP
         -> STARTTLS
        <-  220 2.0.0 Ready to start TLS
        === TLS started with cipher TLSv1.3:TLS_AES_256_GCM_SHA384:256
        === TLS no local certificate set
        === TLS peer DN="/CN=mx.example.test"
         ~> EHLO client.example.test
        <~  250 mx.example.test
        """
    )
    tls = [e for e in analysis.events if isinstance(e, TlsStarted)]
    assert len(tls) == 1
    assert (tls[0].version, tls[0].cipher, tls[0].subject) == (
        "TLSv1.3",
        "TLS_AES_256_GCM_SHA384",
        "/CN=mx.example.test",
    )
    assert tls[0].span is not None and (tls[0].span.first, tls[0].span.last) == (6, 8)


def test_tls_block_of_the_2024_source_with_verification_result() -> None:
    analysis = session(
        """
        <-  220 mx ESMTP
         -> STARTTLS
        <-  220 go ahead
        === TLS started with cipher TLSv1.3:TLS_AES_256_GCM_SHA384:256
        === TLS client certificate not requested and not sent
        === TLS peer[0]   subject=[/C=US/CN=node.example.com]
        ===               commonName=[node.example.com], subjectAltName=[DNS:node.example.com] notAfter=[2033-09-11T14:50:10Z]
        === TLS peer certificate failed CA verification (unable to get local issuer certificate), failed host verification (no host string available to verify)
         ~> EHLO c
        """
    )
    tls = next(e for e in analysis.events if isinstance(e, TlsStarted))
    assert tls.subject == "/C=US/CN=node.example.com"
    assert tls.verified is False


def test_unexpected_replies_timeouts_and_errors() -> None:
    analysis = session(
        """
        === Trying 127.0.0.1:2525...
        === Connected to 127.0.0.1.
        <-  220 mx ESMTP
         -> MAIL FROM:<a@b>
        <** 550-5.1.1 first line
        <** 550 5.1.1 second line
         -> RCPT TO:<c@d>
        <** Timeout (30 secs) waiting for server response
        *** Remote host closed connection unexpectedly.
        """
    )
    replies = [e for e in analysis.events if isinstance(e, Reply)]
    assert replies[1].lines == ("5.1.1 first line", "5.1.1 second line")
    assert any(isinstance(e, Timeout) for e in analysis.events)
    closed = [e for e in analysis.events if isinstance(e, Closed)]
    assert closed[0].unexpected and closed[0].by == "server"


def test_connect_error_spread_over_two_lines_is_one_failure() -> None:
    analysis = session(
        """
        === Trying 127.0.0.1:2599...
        *** Error connecting to 127.0.0.1:2599:
        *** \tIO::Socket::INET6: connect: Connection refused
        """
    )
    failures = [e for e in analysis.events if isinstance(e, ConnectFailed)]
    assert len(failures) == 1
    assert failures[0].reason == "refused"
    assert failures[0].span is not None and (failures[0].span.first, failures[0].span.last) == (
        2,
        3,
    )


def test_time_lapse_lines_time_the_following_reply() -> None:
    analysis = session(
        """
        === Trying 127.0.0.1:2525...
        === Connected to 127.0.0.1.
        === response in 0.257s
        <-  220 mx ESMTP
         -> EHLO c
        === response in 1.500s
        <-  250-mx
        <-  250 PIPELINING
        """
    )
    replies = [e for e in analysis.events if isinstance(e, Reply)]
    assert [r.latency for r in replies] == [0.257, 1.5]


def test_plaintext_auth_and_hidden_password_forms() -> None:
    analysis = session(
        """
        <-  220 mx ESMTP
         -> EHLO c
        <-  250 AUTH LOGIN PLAIN
         -> AUTH PLAIN AHZhbGlkdXNlcgBQUk9WSURFRF9CVVRfUkVNT1ZFRA==
        <** 535 5.7.8 Error: authentication failed
        *** No authentication type succeeded
        """
    )
    auth = next(e for e in analysis.events if isinstance(e, Command) and e.verb == "AUTH")
    assert "validuser" in auth.display and "hidden by the client" in auth.display
    assert "AHZhbGlk" not in auth.display
    assert any(isinstance(e, ClientError) for e in analysis.events)
    assert analysis.verdict.failed_at == "auth"


def test_login_exchange_masks_the_password_line() -> None:
    analysis = session(
        """
        <-  220 mx ESMTP
         -> AUTH LOGIN
        <-  334 VXNlcm5hbWU6
         -> YWxpY2U=
        <-  334 UGFzc3dvcmQ6
         -> c2VjcmV0
        <-  235 2.7.0 Authentication successful
        """
    )
    responses = [e for e in analysis.events if isinstance(e, AuthResponse)]
    assert [(r.role, r.secret) for r in responses] == [("username", False), ("password", True)]
    assert "c2VjcmV0" not in responses[1].text


def test_tls_failure_lines() -> None:
    analysis = session(
        """
        === Trying 127.0.0.1:2525...
        === Connected to 127.0.0.1.
        <-  220 mx ESMTP
         -> STARTTLS
        <-  220 go ahead
        *** TLS startup failed (connect(): server certificate did not match target host badhost.example.com)
        *** STARTTLS attempted but failed
        """
    )
    assert any(isinstance(e, TlsFailed) for e in analysis.events)
    assert analysis.verdict.outcome == "deferred"
    assert analysis.verdict.failed_at == "starttls"
    assert [type(e) for e in analysis.events[:2]] == [Connecting, Connected]
