"""The curl dialect: the lines that are easy to get wrong (its samples: test_client_samples.py)."""

from __future__ import annotations

import pytest

from smtplog.analysis import analyze_text
from smtplog.events import ClientError, Command, Reply
from tests.conftest import transcript

DIALECT = "curl"


def events_of(text: str) -> list:
    report = analyze_text(transcript(text), dialect=DIALECT)
    return [event for session in report.sessions for event in session.analysis.events]


def test_progress_meter_glued_to_trying_is_stripped() -> None:
    text = (
        "  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n"
        "                                 Dload  Upload   Total   Spent    Left  Speed\n"
        "\r  0     0    0     0    0     0      0      0 --:--:-- --:--:-- --:--:--"
        "     0*   Trying 127.0.0.1:25...\n"
        "* Connected to mx.example.com (127.0.0.1) port 25 (#0)\n"
        "< 220 mx.example.com ESMTP\r\n"
    )
    report = analyze_text(text, dialect=DIALECT)
    kinds = [event.kind for event in report.sessions[0].analysis.events]
    assert kinds[:3] == ["connecting", "connected", "reply"]


@pytest.mark.parametrize(
    "line",
    [
        "* Connected to mx.example.com (192.0.2.1) port 25 (#0)",
        "* Connected to mx.example.com (192.0.2.1) port 25",
        "* Established connection to mx.example.com (192.0.2.1 port 25) from 192.0.2.9 port 4711 ",
    ],
)
def test_connect_lines_of_every_curl_version(line: str) -> None:
    events = events_of(f"*   Trying 192.0.2.1:25...\n{line}\n< 220 mx.example.com ESMTP\n")
    connected = [e for e in events if e.kind == "connected"]
    assert connected and connected[0].target == "mx.example.com:25"
    assert connected[0].address == "192.0.2.1"


def test_trace_ascii_rows_wrapped_at_64_are_joined() -> None:
    reply = "550 5.1.1 <nobody@example.test>: Recipient address rejected: User unknown"
    text = (
        "=> Send header, 29 bytes (0x1d)\n0000: RCPT TO:<nobody@example.test>\n"
        f"<= Recv header, {len(reply) + 2} bytes (0x{len(reply) + 2:x})\n"
        f"0000: {reply[:64]}\n0040: {reply[64:]}\n"
    )
    events = events_of(text)
    replies = [e for e in events if isinstance(e, Reply)]
    assert replies[0].code == 550 and replies[0].lines[0] == reply[4:]


def test_rcpt_failed_and_exit_code_are_client_errors() -> None:
    events = events_of(
        """\
        > RCPT TO:<nobody@example.test>
        < 550 5.1.1 User unknown
        * RCPT failed: 550
        curl: (55) RCPT failed: 550
        """
    )
    errors = [e.text for e in events if isinstance(e, ClientError)]
    assert errors == ["RCPT failed: 550", "curl: (55) RCPT failed: 550"]
    assert any(isinstance(e, Command) and e.verb == "RCPT" for e in events)


def test_byte_counts_past_the_int_digit_limit_are_no_internal_error() -> None:
    """A damaged count (5,000 digits) is refused by int(): it reads as unknown (0)."""
    from smtplog.events import DataBody

    huge = "9" * 5000
    events = events_of(
        "*   Trying 192.0.2.1:25...\n"
        "* Connected to mx.example.com (192.0.2.1) port 25 (#0)\n"
        "< 220 mx.example.com ESMTP\n> DATA\n< 354 go ahead\n"
        f"}} [{huge} bytes data]\n"
        f"{{ [{huge} bytes data]\n"
        f"<= Recv header, {huge} bytes (0x23)\n0000: 250 2.0.0 Ok: queued\n"
    )
    replies = [e for e in events if isinstance(e, Reply)]
    assert [reply.code for reply in replies] == [220, 354, 250]
    body = next(e for e in events if isinstance(e, DataBody))
    assert body.summary.startswith("0 bytes")
