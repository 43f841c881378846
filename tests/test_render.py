"""Renderers: hostile transcript text is shown escaped, secrets are masked everywhere."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console

from smtplog import analyze_text
from smtplog.render import terminal, text
from smtplog.render.data import document
from smtplog.render.safe import safe

from .conftest import transcript

HOSTILE = transcript(
    """
    220 mx.example.test ESMTP [bold red]pwned[/bold red]
    EHLO c
    250 ok \x1b[2J\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\ \u202eevil
    MAIL FROM:<a@b>
    550 5.7.1 \x1b[5;38;5;201mred\x07 rejected \udce9
    """
)

SECRET_SESSION = transcript(
    """
    220 mx ESMTP
    EHLO c
    250-mx
    250 AUTH PLAIN LOGIN
    AUTH LOGIN
    334 VXNlcm5hbWU6
    YWxpY2U=
    334 UGFzc3dvcmQ6
    UzNjcjN0LVBhNTU=
    235 2.7.0 ok
    AUTH PLAIN AGFsaWNlAFMzY3IzdC1QYTU1
    503 5.5.1 Error: already authenticated
    """
)
SECRETS = ("S3cr3t-Pa55", "UzNjcjN0LVBhNTU=", "AGFsaWNlAFMzY3IzdC1QYTU1")


def render_terminal(report_text: str) -> str:
    console = Console(file=io.StringIO(), force_terminal=True, width=120, color_system="truecolor")
    terminal.render(console, [analyze_text(report_text)])
    return console.file.getvalue()  # type: ignore[attr-defined]


def render_text(report_text: str) -> str:
    return text.render([analyze_text(report_text)])


def render_json(report_text: str) -> str:
    return json.dumps(document([analyze_text(report_text)]), ensure_ascii=False)


@pytest.mark.parametrize("render", [render_terminal, render_text])
def test_escape_sequences_from_the_transcript_never_reach_the_output(render) -> None:  # type: ignore[no-untyped-def]
    output = render(HOSTILE)
    for raw in ("\x1b[2J", "\x1b]8;;", "\x1b[5;38;5;201m", "\x07", "\u202e", "\udce9"):
        assert raw not in output
    assert "\\x1b[2J" in output
    assert "\\u202e" in output
    assert "\\xe9" in output  # an undecodable byte, shown as such


def test_rich_markup_in_a_transcript_is_printed_literally() -> None:
    output = render_terminal(HOSTILE)
    assert "[bold red]pwned[/bold red]" in output


def test_json_is_valid_and_keeps_text_as_data() -> None:
    data = json.loads(render_json(HOSTILE))
    reply = data["reports"][0]["sessions"][0]["events"][0]
    assert reply["text"] == "mx.example.test ESMTP [bold red]pwned[/bold red]"


@pytest.mark.parametrize("render", [render_terminal, render_text, render_json])
def test_auth_secrets_are_masked_in_every_format(render) -> None:  # type: ignore[no-untyped-def]
    output = render(SECRET_SESSION)
    for secret in SECRETS:
        assert secret not in output
    assert "password redacted, 11 characters" in output
    assert "alice" in output  # the user name may be shown


def test_safe_leaves_ordinary_text_alone() -> None:
    assert (
        safe("250-mx.example.test Hello [192.0.2.1] — ok")
        == "250-mx.example.test Hello [192.0.2.1] — ok"
    )
    assert safe("a\tb") == "a   b"


STRAY_CREDENTIALS = transcript(
    """
    220 mx.example.test ESMTP Postfix
    EHLO c.example.org
    250-mx.example.test
    250 AUTH PLAIN LOGIN
    AUTH LOGIN YWxpY2U
    535 5.7.8 Error: authentication failed: bad protocol / cancel
    UzNjcjN0LVBhNTU=
    502 5.5.2 Error: command not recognized
    S3cr3t-Pa55
    502 5.5.2 Error: command not recognized
    QUIT
    221 2.0.0 Bye
    """
)


@pytest.mark.parametrize("render", [render_terminal, render_text, render_json])
def test_credentials_typed_after_a_refused_auth_are_masked(render) -> None:  # type: ignore[no-untyped-def]
    # People following the telnet procedure type the base64 password (or the
    # password itself) even when the server already refused AUTH LOGIN.
    output = render(STRAY_CREDENTIALS)
    for secret in ("S3cr3t-Pa55", "UzNjcjN0LVBhNTU="):
        assert secret not in output
    assert "possible credentials typed outside an AUTH exchange" in output
