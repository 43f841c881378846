"""Credentials in lines no dialect rule explains, and on pasted shell command lines.

A customer's paste carries more than the session: a line the dialect does not
understand may still be "AUTH PLAIN <blob>" behind some prefix, and the shell
prompt above a swaks or curl run holds the password given on its command line.
Neither may reach any output.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from smtplog.auth import mask_command_line
from smtplog.redact import redact_bytes
from tests.fuzzing import run_cli

BLOB = "AGFsaWNlAHMzY3IzdHB3"  # \0alice\0s3cr3tpw
PASSWORD = "S3cr3t-Pa55"
FORMATS = ("text", "terminal", "json", "markdown", "html")


def _outputs(data: bytes) -> list[str]:
    """stdout and stderr of `smtplog analyze -` in every format (in this process)."""
    outputs = []
    for fmt in FORMATS:
        _code, out, err = run_cli(["analyze", "-", "--format", fmt], stdin=data)
        outputs += [out, err]
    return outputs


TELNET = (
    "Trying 192.0.2.1...\nConnected to mx.example.net.\n220 mx ESMTP\nEHLO me\n"
    "250-mx\n250 AUTH PLAIN LOGIN\n{line}\n235 2.7.0 ok\nQUIT\n221 bye\n"
)


@pytest.mark.parametrize("prefix", ["C: ", ">>> ", "[C] ", "(", "# ", "| ", "* ", "client: "])
def test_an_auth_command_behind_any_prefix_is_masked(prefix: str) -> None:
    data = TELNET.format(line=f"{prefix}AUTH PLAIN {BLOB}").encode()
    for output in _outputs(data):
        assert BLOB not in output
        assert "s3cr3tpw" not in output


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        (f"$ swaks --to bob@example.org --auth LOGIN --auth-password {PASSWORD}", PASSWORD),
        (f"user@vm:~$ swaks -t bob@example.org -au alice -ap {PASSWORD}", PASSWORD),
        (f"[me@host ~]$ curl -u alice:{PASSWORD} smtp://mx.example.net", PASSWORD),
        (f"$ SMTPLOG_PASSWORD={PASSWORD} smtplog probe mx.example.net", PASSWORD),
        (f"$ AUTH PLAIN {BLOB}", BLOB),
    ],
)
def test_a_password_on_a_pasted_command_line_is_masked(line: str, secret: str) -> None:
    data = (
        f"{line}\n=== Trying mx.example.net:25...\n=== Connected to mx.example.net.\n"
        "<-  220 mx ESMTP\n -> EHLO me\n<-  250 mx\n -> QUIT\n<-  221 bye\n"
        "=== Connection closed with remote host.\n"
    ).encode()
    outputs = _outputs(data)
    assert any("shell prompt" in output or "prompt" in output for output in outputs)
    for output in outputs:
        assert secret not in output
    copy = redact_bytes(data, name="paste.txt").data.decode()
    assert secret not in copy
    assert copy.splitlines()[1:] == data.decode().splitlines()[1:]  # the session is untouched


@pytest.mark.parametrize(
    "line",
    [
        "$ swaks --to bob@example.org --server mx.example.net --port 587 -tls",
        "$ curl --url smtp://mx.example.net --mail-from a@example.org -v",
        "$ echo AUTH offered",
    ],
)
def test_a_command_line_without_secrets_is_left_alone(line: str) -> None:
    assert mask_command_line(line) == line


_AUTH_PIECES = [
    "AUTH",
    "auth",
    "AuTh",
    " ",
    "PLAIN",
    "LOGIN",
    "XOAUTH2",
    "dXNlcg==",
    "250-",
    "334 ",
    "-",
    "x",
    "\u212a",
    "\u0130",
    "\n",
]


@given(st.lists(st.sampled_from(_AUTH_PIECES), max_size=8).map("".join))
@example("AUTH PLAIN dXNlcg==")
@example("250-AUTH PLAIN LOGIN")
def test_the_quick_auth_test_of_unparsed_lines_is_the_expression(text: str) -> None:
    """``_auth_command`` asks for the word before searching: the same answer."""
    from smtplog.assemble import _AUTH_COMMAND, _REPLY_START, _auth_command

    expected = None if _REPLY_START.match(text) else _AUTH_COMMAND.search(text)
    found = _auth_command(text)
    assert (found.span() if found else None) == (expected.span() if expected else None)
