"""The ruby dialect: the lines that are easy to get wrong (its samples: test_client_samples.py)."""

from __future__ import annotations

import pytest

from smtplog.analysis import analyze_text
from tests.conftest import transcript

DIALECT = "ruby"


def events_of(text: str) -> list:
    report = analyze_text(transcript(text), dialect=DIALECT)
    return [event for session in report.sessions for event in session.analysis.events]


def test_arrows_point_the_other_way_than_swaks() -> None:
    events = events_of(
        """\
        Connection opened: mx.example.test:25
        -> "220 mx.example.test ESMTP\\r\\n"
        <- "EHLO client.example.test\\r\\n"
        -> "250 CHUNKING\\r\\n"
        """
    )
    assert [e.kind for e in events] == ["connected", "reply", "command", "reply"]


@pytest.mark.parametrize(
    ("dumped", "value"),
    [
        ('"250 Ok\\r\\n"', "250 Ok\r\n"),
        ('"say \\"hi\\" \\\\ \\#{x}"', 'say "hi" \\ #{x}'),
        ('"caf\\u00E9 \\u{1F600}"', "café 😀"),
        ('"\\e[0m\\t\\x41"', "\x1b[0m\tA"),
    ],
)
def test_undump(dumped: str, value: str) -> None:
    from smtplog.dialects.ruby import undump

    assert undump(dumped) == value


def test_tls_started_before_a_failed_handshake_is_not_a_tls_session() -> None:
    error = (
        "/usr/lib/ruby/3.1.0/net/protocol.rb:46:in `connect_nonblock': SSL_connect returned=1"
        " errno=0 state=error: certificate verify failed (OpenSSL::SSL::SSLError)"
    )
    report = analyze_text(
        '<- "STARTTLS\\r\\n"\n'
        '-> "220 2.0.0 Ready to start TLS\\r\\n"\n'
        "TLS connection started\n"
        f"{error}\n"
        "\tfrom /usr/lib/ruby/3.1.0/net/protocol.rb:46:in `ssl_socket_connect'\n",
        dialect=DIALECT,
    )
    kinds = [e.kind for s in report.sessions for e in s.analysis.events]
    assert "tls-started" not in kinds and "tls-failed" in kinds


def test_other_dialects_survive_ruby_arrows() -> None:
    # '<- "..."' looks like a swaks receive hint: its parser must not crash on it.
    from smtplog import dialects
    from smtplog.events import Note, Unparsed
    from smtplog.source import source_from_bytes
    from tests.dialects._client_samples import SAMPLES

    data = (SAMPLES / "ruby" / "recipient-unknown.txt").read_bytes()
    events = dialects.get("swaks").events(source_from_bytes(data, "ruby.txt"))
    assert events and all(isinstance(event, Unparsed | Note) for event in events)
