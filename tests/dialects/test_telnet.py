"""The telnet dialect: terminal captures of telnet, nc/ncat, PuTTY, and server-only logs."""

from __future__ import annotations

import pytest

from smtplog import analyze_text
from smtplog.events import (
    Closed,
    Command,
    Connected,
    ConnectFailed,
    Connecting,
    Note,
    Reply,
    TlsStarted,
    Unparsed,
)

from ..conftest import transcript


def events(text: str) -> list:  # type: ignore[type-arg]
    report = analyze_text(transcript(text), dialect="telnet")
    return [event for session in report.sessions for event in session.analysis.events]


def test_linux_telnet_notices_become_connection_events() -> None:
    found = events(
        """
        Trying 192.0.2.10...
        Connected to mx.example.com.
        Escape character is '^]'.
        220 mx.example.com ESMTP
        QUIT
        221 2.0.0 Bye
        Connection closed by foreign host.
        """
    )
    kinds = [type(event) for event in found]
    assert kinds == [Connecting, Connected, Note, Reply, Command, Reply, Closed]
    assert found[0].target == "192.0.2.10"
    assert found[1].target == "mx.example.com"
    assert found[-1].by == "server"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("telnet: Unable to connect to remote host: Connection refused", "refused"),
        ("telnet: Unable to connect to remote host: Connection timed out", "timeout"),
        ("telnet: Unable to connect to remote host: No route to host", "unreachable"),
        ("Server lookup failure:  nonexistent.invalid:25, Name or service not known", "dns"),
        ("Could not open connection to the host, on port 25: Connect failed", "other"),
        ("nc: connect to 127.0.0.1 port 2599 (tcp) failed: Connection refused", "refused"),
        (
            "nc: connect to 127.0.0.1 port 2599 (tcp) timed out: Operation now in progress",
            "timeout",
        ),
        ("Ncat: TIMEOUT.", "timeout"),
    ],
)
def test_connection_failures_of_every_client_are_told_apart(line: str, reason: str) -> None:
    failures = [e for e in events(f"Trying 127.0.0.1...\n{line}\n") if isinstance(e, ConnectFailed)]
    assert [f.reason for f in failures] == [reason]


def test_windows_telnet_connecting_line() -> None:
    found = events("Connecting To mail.contoso.com...\n220 mail.contoso.com ESMTP\n")
    assert isinstance(found[0], Connecting)
    assert found[0].target == "mail.contoso.com"


def test_nc_and_ncat_connect_lines() -> None:
    nc = events("Connection to 127.0.0.1 2525 port [tcp/*] succeeded!\n220 mx ESMTP\n")
    assert isinstance(nc[0], Connected)
    assert nc[0].target == "127.0.0.1:2525"
    ncat = events(
        """
        Ncat: Version 7.93 ( https://nmap.org/ncat )
        Ncat: Connected to 127.0.0.1:2525.
        220 mx ESMTP
        """
    )
    assert [type(e) for e in ncat] == [Note, Connected, Reply]
    ssl = events("Ncat: SSL connection to 127.0.0.1:2465.\n220 mx ESMTP\n")
    assert isinstance(ssl[0], TlsStarted)


def test_putty_log_header_and_telnet_prompt() -> None:
    found = events(
        """
        =~=~=~=~=~=~=~=~=~=~=~= PuTTY log 2022.05.15 21:25:59 =~=~=~=~=~=~=~=~=~=~=~=
        telnet> o mail.contoso.com 25
        220 mail.contoso.com ESMTP
        """
    )
    assert isinstance(found[0], Note)
    assert isinstance(found[1], Connecting)
    assert found[1].target == "mail.contoso.com:25"


def test_prose_around_a_paste_is_unparsed_not_a_command() -> None:
    found = events(
        """
        Here is what I see when I test our server, can you help?
        220 mx ESMTP
        EHLO me.example.org
        250 mx
        """
    )
    assert isinstance(found[0], Unparsed)
    assert [e.verb for e in found if isinstance(e, Command)] == ["EHLO"]


def test_a_body_line_that_looks_like_a_reply_stays_content() -> None:
    found = events(
        """
        220 mx ESMTP
        HELO me
        250 mx
        MAIL FROM:<a@example.org>
        250 ok
        RCPT TO:<b@example.test>
        250 ok
        DATA
        354 go ahead
        250 apples were delivered today
        .
        250 2.0.0 queued
        """
    )
    replies = [e.code for e in found if isinstance(e, Reply)]
    assert replies == [220, 250, 250, 250, 354, 250]
    body = next(e for e in found if e.kind == "data")
    assert body.lines == ("250 apples were delivered today",)


def test_mistyped_commands_are_commands() -> None:
    found = events("220 mx ESMTP\nEHOL example.org\n500 5.5.2 Error: command not recognized\n")
    assert [e.verb for e in found if isinstance(e, Command)] == ["EHOL"]


def test_blank_lines_between_replies_do_not_split_a_multiline_reply() -> None:
    found = events("220 mx\n\n250-mx.example.com Hello\n\n250-SIZE 5242880\n\n\n250 OK\n")
    ehlo = [e for e in found if isinstance(e, Reply)][1]
    assert ehlo.lines == ("mx.example.com Hello", "SIZE 5242880", "OK")
    assert ehlo.line_numbers == (3, 5, 8)
