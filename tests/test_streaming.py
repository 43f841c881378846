"""Issue 7, "Streaming": an input is read and analysed session by session, memory stays flat.

A file is read a chunk at a time (smtplog/reader.py), its head decides the
dialect and the cleanup, and every session is reported as soon as it is
complete (smtplog/analysis.py: ``analyze_stream``; smtplog/sessions.py). Limits
(smtplog/limits.py) keep memory bounded on pathological input, and a limit that
cut something says so in the report.

How the limits are read decides how these tests lower them: ``MAX_LINE_CHARS``
and ``MAX_REPLY_LINES`` are read from ``smtplog.limits`` at call time (patched
there); ``HEAD_LINES`` and ``MAX_SESSION_EVENTS`` are default arguments bound at
import (``SourceReader``, ``Splitter``), so they are either patched in the
defaults or met for real (a 25,000-RCPT session). The large logs are made from
the real samples by bench/logs.py.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import selectors
import subprocess
import sys
import threading
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

import pytest

from smtplog import limits, reader
from smtplog.analysis import analyze_bytes, analyze_stream
from smtplog.events import Note, Reply
from smtplog.sessions import Splitter

from .conftest import ROOT, SAMPLES, run_cli

sys.path.insert(0, str(ROOT / "bench"))
import logs  # bench/logs.py: realistic logs of any size, made of the samples
import peak  # bench/peak.py: the child's own peak memory (not wait4's)

MiB = 1024 * 1024
CHUNK = 16 * 1024


def tiny_chunks(data: bytes, seed: int) -> Iterator[bytes]:
    """``data`` in pieces of 1 to 7 bytes: UTF-8 characters, CRLF and IAC sequences split."""
    rng = random.Random(seed)
    index = 0
    while index < len(data):
        size = rng.randint(1, 7)
        yield data[index : index + size]
        index += size


def fixed_chunks(data: bytes, size: int) -> Iterator[bytes]:
    return (data[index : index + size] for index in range(0, len(data), size))


def streamed(chunks: Iterator[bytes], name: str = "input") -> dict:
    return analyze_stream(chunks, name=name).report().to_dict()


@pytest.fixture
def small_peek(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunk boundaries matter from the first bytes on.

    ``ByteStream`` joins the first 64 KiB into one piece (identifying the
    content) and ``SourceReader`` the first 8 KiB (judging "binary or text"),
    so in a sample smaller than that tiny chunks would never reach the line
    splitter. Both are module globals read at call time.
    """
    monkeypatch.setattr(reader, "PEEK_BYTES", 4)
    monkeypatch.setattr(reader, "BINARY_SAMPLE", 64)


# -- 1. laziness -----------------------------------------------------------------------------------


def test_sessions_are_reported_while_the_input_is_read() -> None:
    """The first session comes once the head is read, not after the whole input.

    The log is endless (bench/logs.py replays the Postfix samples): an analysis
    that read all of it before reporting would never report anything; this one
    fails instead after 16 MiB.
    """
    pulled = 0

    def endless() -> Iterator[bytes]:
        nonlocal pulled
        for chunk in logs.chunks(logs.postfix_lines(), 1 << 50, CHUNK):
            pulled += len(chunk)
            if pulled > 16 * MiB:
                raise AssertionError("16 MiB of mail.log read and 1,000 sessions not reported")
            yield chunk

    stream = analyze_stream(endless(), name="mail.log")
    assert stream.dialect == "postfix"
    head = pulled  # what deciding the dialect and the cleanup read
    assert head < 2 * MiB  # HEAD_LINES (5,000) lines of this log are about 0.5 MiB
    read_at = [pulled for _session in islice(stream, 1000)]
    assert len(read_at) == 1000
    assert read_at[0] < 2 * MiB  # the first session: soon after the head
    # The others come out in batches while reading goes on, not all at the end.
    assert len(set(read_at)) >= 5
    assert read_at == sorted(read_at)


# -- 2. the same report whatever the chunks --------------------------------------------------------

EQUIVALENCE_SAMPLES = sorted(
    [
        *(SAMPLES / "postfix").glob("*.txt"),
        *(SAMPLES / "exchange").iterdir(),
        *(SAMPLES / "telnet").glob("*.txt"),
        *(SAMPLES / "messy").glob("*.txt"),
        *(SAMPLES / "curl").glob("*.txt"),  # CRLF line ends
        *(SAMPLES / "mailkit").glob("*.txt"),  # CRLF, timestamps
        *(SAMPLES / "pcap").glob("*.pcap*"),
    ]
)

# A raw telnet/nc capture: CRLF, IAC negotiation, UTF-8 (SMTPUTF8), a byte that is not
# UTF-8, and a typo corrected with backspace.
MIXED = (
    b"Trying 192.0.2.1...\r\n"
    b"Connected to mx.example.test.\r\n"
    b"Escape character is '^]'.\r\n"
    b"\xff\xfd\x18\xff\xfb\x01220 mx.ex\xc3\xa4mple.test ESMTP Postfix \xe2\x80\x94 bereit\r\n"
    b"EHLO client.example.test\r\n"
    b"250-mx.ex\xc3\xa4mple.test\r\n"
    b"250-PIPELINING\r\n"
    b"250 SMTPUTF8\r\n"
    b"MAIL FROM:<j\xc3\xb6rg@ex\xc3\xa4mple.test> SMTPUTF8\r\n"
    b"250 2.1.0 Ok\r\n"
    b"RCPT TO:<zo\xc3\xab@\xe4\xbe\x8b\xe3\x81\x88.\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88>\r\n"
    b"550 5.1.1 <zo\xc3\xab@\xe4\xbe\x8b\xe3\x81\x88.\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88>: "
    b"Recipient address rejected: User unknown \xf0\x9f\x93\xad caf\xe9\r\n"
    b"QUIX\x08T\r\n"
    b"221 2.0.0 Bye\r\n"
    b"Connection closed by foreign host.\r\n"
)


@pytest.mark.usefixtures("small_peek")
@pytest.mark.parametrize("path", EQUIVALENCE_SAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_tiny_chunks_give_the_report_of_the_whole_file(path: Path) -> None:
    data = path.read_bytes()
    whole = analyze_bytes(data, name="input").to_dict()
    assert streamed(tiny_chunks(data, seed=len(data))) == whole
    assert streamed(tiny_chunks(gzip.compress(data), seed=len(data) + 1)) == whole


@pytest.mark.usefixtures("small_peek")
@pytest.mark.parametrize("seed", range(6))
def test_split_utf8_crlf_and_telnet_bytes_are_read_as_a_whole_file(seed: int) -> None:
    data = MIXED * 3
    whole = analyze_bytes(data, name="input")
    assert len(whole.sessions) == 3
    session = whole.sessions[0]
    assert (session.outcome, session.failed_at, session.main.id) == (
        "failed",
        "rcpt",
        "recipient-unknown",
    )
    reply = next(e for e in session.analysis.events if isinstance(e, Reply) and e.code == 550)
    assert "zoë@例え.テスト" in reply.text
    assert "\U0001f4ed" in reply.text
    assert any("telnet option negotiation" in note for note in whole.notes)
    assert any("not valid UTF-8" in note for note in whole.notes)
    assert streamed(tiny_chunks(data, seed)) == whole.to_dict()
    assert streamed(fixed_chunks(data, 1)) == whole.to_dict()  # every boundary once
    assert streamed(tiny_chunks(gzip.compress(data), seed)) == whole.to_dict()


def test_a_log_longer_than_the_head_in_small_chunks() -> None:
    """Beyond the first 64 KiB (no peeking patched): a Postfix log, CRLF, gzipped."""
    data = b"".join(logs.chunks(logs.postfix_lines(seed=7), 400 * 1024)).replace(b"\n", b"\r\n")
    whole = analyze_bytes(data, name="mail.log").to_dict()
    assert len(whole["sessions"]) > 100
    assert streamed(tiny_chunks(data, seed=3), name="mail.log") == whole
    assert streamed(fixed_chunks(gzip.compress(data), 5), name="mail.log") == whole


# -- 3. the head and the rest ----------------------------------------------------------------------


@pytest.fixture
def head_lines(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Set the head's length (``SourceReader``'s default, bound at import)."""
    defaults = reader.SourceReader.__init__.__kwdefaults__

    def set_head(lines: int | None) -> None:
        monkeypatch.setitem(defaults, "head_lines", lines)
        monkeypatch.setattr(limits, "HEAD_LINES", lines)

    return set_head


def report_without_confidence(data: bytes) -> dict:
    """The report; the dialect's confidence is the head's (a shorter head, another score)."""
    report = analyze_bytes(data, name="input").to_dict()
    report["dialect"] = report["dialect"]["name"]
    return report


HEAD_SAMPLES = [
    "messy/telnet-auth-markdown-quoted.txt",  # "> " quotes and a code fence
    "messy/telnet-relay-denied-iso-indented.txt",  # ISO timestamps, an indented block
    "messy/telnet-relay-denied-literal-crlf.txt",  # one line, literal \r\n
    "messy/telnet-exchange-wrapped-72.txt",  # hard-wrapped at 72 columns
    "messy/telnet-two-sessions-prompts.txt",  # shell prompts set aside
    "messy/swaks-relay-denied-html.txt",  # HTML escaping
    "messy/swaks-auth-rejected-colour.txt",  # terminal colours
    "messy/swaks-recipient-unknown-syslog.txt",
    "telnet/relay-denied.txt",
    "postfix/delivery-log.txt",
    "exchange/receive-interleaved.txt",
]


@pytest.mark.parametrize("name", HEAD_SAMPLES)
def test_sessions_past_the_head_are_read_like_those_in_it(name: str, head_lines) -> None:  # type: ignore[no-untyped-def]
    """Three pastes; the head ends in the middle of the second, the third is all in the rest."""
    one = (SAMPLES / name).read_bytes()
    one += b"" if one.endswith(b"\n") else b"\n"
    data = one * 3
    count = one.count(b"\n")
    whole = report_without_confidence(data)
    assert whole["sessions"]
    head = count + count // 2 + 1
    head_lines(head)
    check = reader.SourceReader(reader.ByteStream([data], "input"))
    assert len(check.head) == head and not check.complete  # the patch took
    assert report_without_confidence(data) == whole


def test_without_cleanup_the_rest_is_read_as_is_like_the_head(head_lines) -> None:  # type: ignore[no-untyped-def]
    """``--no-cleanup`` on a long input: no prompt is set aside past the head either."""
    one = (SAMPLES / "messy" / "telnet-two-sessions-prompts.txt").read_bytes()
    data = one * 3

    def report() -> dict:
        result = analyze_bytes(data, name="input", cleanup=False).to_dict()
        result["dialect"] = result["dialect"]["name"]
        return result

    whole = report()
    assert whole["cleanup"] == [] and whole["notes"] == []
    head_lines(one.count(b"\n") + 3)
    assert report() == whole


# Where the seam would show: cleanup judges the rest window by window, and a quote run,
# a hard-wrapped line or an indented block that the head cuts in two would be judged
# from its two halves. The head's last lines are cleaned again with the rest
# (``cleanup.hold_back``). (Rare for real: the head is 5,000 lines.)
SEAMS = [
    pytest.param("messy/telnet-auth-markdown-quoted.txt", 80, id="quote-run-cut"),
    pytest.param("messy/swaks-recipient-unknown-wrapped-72.txt", 44, id="wrapped-line-cut"),
    pytest.param("messy/telnet-relay-denied-iso-indented.txt", 71, id="indented-block-cut"),
]


@pytest.mark.parametrize(("name", "head"), SEAMS)
def test_damage_cut_by_the_end_of_the_head(name: str, head: int, head_lines) -> None:  # type: ignore[no-untyped-def]
    data = (SAMPLES / name).read_bytes() * 3
    whole = report_without_confidence(data)
    head_lines(head)
    assert report_without_confidence(data) == whole


def quoted(text: str, prefix: str = "> ") -> str:
    return "".join(prefix + line + "\n" for line in text.splitlines())


RELAY = (SAMPLES / "telnet" / "relay-denied.txt").read_text()
WRAPPED = (SAMPLES / "messy" / "swaks-recipient-unknown-wrapped-72.txt").read_text()
EXCHANGE_WRAPPED = (SAMPLES / "messy" / "telnet-exchange-wrapped-72.txt").read_text()
# One paste each, repeated: blank lines around quotes and blocks, and none.
PASTES = {
    "quoted-markdown": (SAMPLES / "messy" / "telnet-auth-markdown-quoted.txt").read_text(),
    "wrapped": WRAPPED,
    "indented": (SAMPLES / "messy" / "telnet-relay-denied-iso-indented.txt").read_text(),
    "quoted-between-blank-lines": "Alice wrote:\n\n" + quoted(RELAY) + "\nDid you try?\n\n",
    "quoted-nested": "Bob wrote:\n" + quoted("Alice wrote:\n" + quoted(RELAY)) + "Hm.\n",
    "quoted-and-wrapped": "Alice wrote:\n" + quoted(WRAPPED) + "\n",
    "indented-and-wrapped": "The log:\n\n" + quoted(EXCHANGE_WRAPPED, "    ") + "\n",
}


@pytest.mark.parametrize("name", PASTES)
def test_the_cleanup_does_not_depend_on_where_the_head_ends(name: str, head_lines) -> None:  # type: ignore[no-untyped-def]
    """Three pastes, and a head of every length from one paste and a line to all but the
    last line: at a blank line, in a quote run, in a block, between the pieces of a line."""
    one = PASTES[name]
    data = (one * 3).encode()
    whole = report_without_confidence(data)
    assert whole["cleanup"] and len(whole["sessions"]) >= 3
    count = one.count("\n")
    for head in range(count + 1, 3 * count):
        head_lines(head)
        assert report_without_confidence(data) == whole, f"a head of {head} lines"


# -- 4. a line longer than MAX_LINE_CHARS ----------------------------------------------------------

RELAY_DENIED = (SAMPLES / "telnet" / "relay-denied.txt").read_bytes()  # 24 lines
DELIVERED = (SAMPLES / "telnet" / "postfix-auth-login-delivered.txt").read_bytes()


@pytest.mark.parametrize("chunking", ["file", "one-chunk", "64k-chunks"])
def test_a_huge_line_is_cut_and_the_rest_is_still_read(chunking: str) -> None:
    """A 3 MiB line (the real limit is 1 MiB) between two sessions, however it arrives."""
    long_line = b"x" * (3 * MiB)
    data = RELAY_DENIED + long_line + b"\n" + DELIVERED
    if chunking == "file":
        report = analyze_bytes(data, name="input")
    elif chunking == "one-chunk":
        report = analyze_stream(iter([data]), name="input").report()
    else:
        report = analyze_stream(fixed_chunks(data, 64 * 1024), name="input").report()
    assert [(s.outcome, s.main.id) for s in report.sessions] == [
        ("failed", "relay-denied"),
        ("delivered", "delivered"),
    ]
    assert report.line_count == 24 + 1 + DELIVERED.count(b"\n")
    assert (
        f"line 25 is {3 * MiB:,} characters long; only its first {limits.MAX_LINE_CHARS:,} "
        "were read (a limit: smtplog.limits.MAX_LINE_CHARS)"
    ) in report.notes
    kept = max(
        (len(getattr(event, "text", "")) for s in report.sessions for event in s.analysis.events),
        default=0,
    )
    assert kept <= limits.MAX_LINE_CHARS


@pytest.mark.usefixtures("small_peek")
@pytest.mark.parametrize("line_end", [b"\n", b"\r\n"], ids=["LF", "CRLF"])
def test_long_lines_are_cut_the_same_whatever_the_chunks(
    line_end: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lines just over, well over and far over the limit: the same cuts, the same notes.

    (A line whose start and end arrived in the same chunk used to escape the limit.)
    """
    monkeypatch.setattr(limits, "MAX_LINE_CHARS", 300)
    longs = b"".join(b"y" * size + b"\n" for size in (301, 1_000, 20_000))
    data = (RELAY_DENIED + longs + DELIVERED).replace(b"\n", line_end)
    whole = analyze_bytes(data, name="input").to_dict()
    cut = [note for note in whole["notes"] if "smtplog.limits.MAX_LINE_CHARS" in note]
    assert [note.split(" is ")[0] for note in cut] == ["line 25", "line 26", "line 27"]
    if line_end == b"\n":
        assert [note.split(" characters")[0] for note in cut] == [
            "line 25 is 301",
            "line 26 is 1,000",
            "line 27 is 20,000",
        ]
    assert [s["outcome"] for s in whole["sessions"]] == ["failed", "delivered"]
    for chunks in (
        tiny_chunks(data, seed=1),
        fixed_chunks(data, 299),
        fixed_chunks(data, 301),
        fixed_chunks(data, 4096),
        iter([data]),
    ):
        assert streamed(chunks) == whole


# -- 5. a session with more events than MAX_SESSION_EVENTS -----------------------------------------


def many_recipients(count: int, end_of_data: str) -> bytes:
    lines = [
        "Trying 192.0.2.1...",
        "Connected to mx.example.test.",
        "Escape character is '^]'.",
        "220 mx.example.test ESMTP Postfix",
        "EHLO client.example.test",
        "250-mx.example.test",
        "250 PIPELINING",
        "MAIL FROM:<alice@example.test>",
        "250 2.1.0 Ok",
    ]
    for number in range(count):
        lines += [f"RCPT TO:<user{number}@example.org>", "250 2.1.5 Ok"]
    lines += [
        "DATA",
        "354 End data with <CR><LF>.<CR><LF>",
        "Subject: to everyone",
        "",
        "hello",
        ".",
        end_of_data,
        "QUIT",
        "221 2.0.0 Bye",
        "Connection closed by foreign host.",
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


@pytest.mark.parametrize(
    ("end_of_data", "outcome", "diagnosis"),
    [
        ("250 2.0.0 Ok: queued as 4ABC", "delivered", "delivered"),
        ("552 5.3.4 Message size exceeds fixed limit", "failed", "message-too-large"),
    ],
)
def test_a_session_of_25000_recipients_keeps_its_head_and_tail(
    end_of_data: str, outcome: str, diagnosis: str
) -> None:
    """The real limit (20,000 events): 25,000 RCPTs are 50,000 events; the verdict is at the end."""
    data = many_recipients(25_000, end_of_data)
    report = analyze_bytes(data, name="input")
    assert len(report.sessions) == 1
    session = report.sessions[0]
    assert (session.outcome, session.main.id) == (outcome, diagnosis)
    events = session.analysis.events
    assert len(events) <= limits.MAX_SESSION_EVENTS + 1  # and the note
    texts = [getattr(event, "text", "") for event in events]
    assert "EHLO client.example.test" in texts
    assert "RCPT TO:<user0@example.org>" in texts  # the head
    assert "RCPT TO:<user24999@example.org>" in texts  # the tail
    assert "RCPT TO:<user12500@example.org>" not in texts  # the middle
    assert any(isinstance(event, Reply) and event.code == 221 for event in events[-5:])
    # The cut is said in the session, where it happened, and on the file.
    notes = [index for index, event in enumerate(events) if "were left out" in texts[index]]
    assert len(notes) == 1
    cut = events[notes[0]]
    assert isinstance(cut, Note)
    before, after = events[notes[0] - 1], events[notes[0] + 1]
    where = f"lines {before.span.last + 1:,}-{after.span.first - 1:,}"
    assert f"events ({where}) of this session were left out" in cut.text
    assert "smtplog.limits.MAX_SESSION_EVENTS = 20,000" in cut.text
    assert cut.text in report.notes


def test_a_long_session_is_cut_the_same_way_in_the_rest_of_a_stream(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A lowered limit (``Splitter``'s defaults), sessions before and after the long one."""
    defaults = Splitter.__init__.__kwdefaults__
    monkeypatch.setitem(defaults, "max_events", 200)
    monkeypatch.setitem(defaults, "tail_events", 50)
    data = RELAY_DENIED + many_recipients(500, "250 2.0.0 Ok: queued as 4ABC") + DELIVERED
    report = analyze_bytes(data, name="input")
    assert [(s.outcome, s.main.id) for s in report.sessions] == [
        ("failed", "relay-denied"),
        ("delivered", "delivered"),
        ("delivered", "delivered"),
    ]
    assert len(report.sessions[1].analysis.events) <= 201
    assert [note for note in report.notes if "MAX_SESSION_EVENTS = 200" in note]
    assert [len(s.analysis.events) for s in (report.sessions[0], report.sessions[2])] == [
        len(analyze_bytes(RELAY_DENIED).sessions[0].analysis.events),
        len(analyze_bytes(DELIVERED).sessions[0].analysis.events),
    ]
    assert streamed(fixed_chunks(data, 1000)) == report.to_dict()


# -- 6. a reply longer than MAX_REPLY_LINES --------------------------------------------------------


def test_a_huge_multiline_reply_is_bounded_with_a_note(tmp_path: Path) -> None:
    """5,000 EHLO lines (the real limit is 1,000): its first lines and its last are kept."""
    lines = [
        "Connected to mx.example.test.",
        "220 mx.example.test ESMTP",
        "EHLO client.example.test",
        *(f"250-X-FEATURE-{number}" for number in range(4_999)),
        "250 SMTPUTF8",
        "MAIL FROM:<a@example.test>",
        "250 2.1.0 Ok",
        "RCPT TO:<b@example.org>",
        "550 5.1.1 <b@example.org>: Recipient address rejected: User unknown",
        "QUIT",
        "221 2.0.0 Bye",
    ]
    path = tmp_path / "ehlo.txt"
    path.write_text("\n".join(lines) + "\n")
    report = analyze_bytes(path.read_bytes(), name=str(path))
    session = report.sessions[0]
    assert (session.outcome, session.main.id) == ("failed", "recipient-unknown")
    events = session.analysis.events
    index, ehlo = next(
        (i, e) for i, e in enumerate(events) if isinstance(e, Reply) and e.code == 250
    )
    assert len(ehlo.lines) == limits.MAX_REPLY_LINES
    assert ehlo.lines[0] == "X-FEATURE-0"
    assert ehlo.lines[-1] == "SMTPUTF8"
    note = (
        "the reply at lines 4-5,003 has 5,000 lines; 4,000 of them are not shown "
        "(a limit: smtplog.limits.MAX_REPLY_LINES = 1,000)"
    )
    assert isinstance(events[index + 1], Note)
    assert events[index + 1].text == note
    # The note is in the session (not among the file's notes): the text report shows it.
    shown = run_cli("analyze", str(path), "--format", "text")
    assert shown.code == 1, shown.stderr
    assert "4,000 of them are not shown" in shown.stdout


# -- 7. memory stays flat as the input grows (a real process) --------------------------------------


def analyze_in_child(path: Path) -> tuple[int, int]:
    """(jsonl lines, peak RSS in KB) of `smtplog analyze PATH --format jsonl --jobs 1`.

    Every line is counted; one in 50 (and the last) is parsed: one session each, numbered
    in order. The peak is the child's own (bench/peak.py: wait4 would count this test
    process's memory too, which the child had when it was forked).
    """
    environment = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR")}
    command = peak.command("analyze", str(path), "--format", "jsonl", "--jobs", "1")
    errors = path.with_suffix(".stderr")
    with errors.open("wb") as stderr:
        child = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=stderr, cwd=ROOT, env=environment
        )
        assert child.stdout is not None
        count, rest, last = 0, b"", b""
        while block := child.stdout.read(1 << 20):
            lines = (rest + block).split(b"\n")
            rest = lines.pop()
            for line in lines:
                count += 1
                if count % 50 == 1:
                    check_jsonl_line(line, count, path)
            last = lines[-1] if lines else last
        child.stdout.close()
        code = child.wait()
    assert code in (0, 1), errors.read_text()
    assert rest == b""  # the output ends with a line end
    check_jsonl_line(last, count, path)
    _errors, kilobytes = peak.peak_kb(errors.read_bytes())
    return count, kilobytes


def check_jsonl_line(line: bytes, number: int, path: Path) -> None:
    data = json.loads(line)
    assert data["source"] == str(path)
    assert len(data["sessions"]) == 1
    assert data["session_number"] == number


def write_log(lines: Iterator[str], paths: dict[Path, int]) -> None:
    """One log, its first bytes in each file of ``paths`` (sizes), the largest last."""
    handles = {path: path.open("wb") for path in paths}
    written = 0
    try:
        for data in logs.chunks(lines, max(paths.values()), CHUNK):
            for path, handle in handles.items():
                if written < paths[path]:
                    handle.write(data)
            written += len(data)
    finally:
        for handle in handles.values():
            handle.close()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "small_mb", "large_mb"),
    [("postfix", 8, 40), ("exchange", 2, 8)],
)
def test_peak_memory_does_not_grow_with_the_log(
    kind: str, small_mb: int, large_mb: int, tmp_path: Path
) -> None:
    small, large = tmp_path / f"{kind}-small.log", tmp_path / f"{kind}-large.log"
    lines = logs.postfix_lines() if kind == "postfix" else logs.exchange_lines()
    write_log(lines, {small: small_mb * MiB, large: large_mb * MiB})
    small_sessions, small_peak = analyze_in_child(small)
    large_sessions, large_peak = analyze_in_child(large)
    ratio = large_mb / small_mb
    assert 0.8 * ratio < large_sessions / small_sessions < 1.2 * ratio, (
        small_sessions,
        large_sessions,
    )
    growth = large_peak - small_peak
    assert growth < 25 * 1024, f"peak RSS {small_peak} KB -> {large_peak} KB"
    assert large_peak < 150 * 1024, f"peak RSS {large_peak} KB"


# -- 8. jsonl on a pipe: sessions come out while standard input is still open ----------------------


def analyze_from_stdin(tmp_path: Path) -> tuple[subprocess.Popen[bytes], Path]:
    """``smtplog analyze --format jsonl -`` with standard input a pipe the test writes to;
    its stderr goes to the file returned."""
    child, errors = analyze_in_background(tmp_path, "-", stdin=subprocess.PIPE)
    assert child.stdin is not None
    return child, errors


def analyze_in_background(
    tmp_path: Path, source: str, stdin: int = subprocess.DEVNULL
) -> tuple[subprocess.Popen[bytes], Path]:
    """``smtplog analyze --format jsonl SOURCE``, its output a pipe the test reads (block
    buffered unless the input may pause: PYTHONUNBUFFERED is unset); its stderr goes to
    the file returned."""
    unset = ("FORCE_COLOR", "NO_COLOR", "PYTHONUNBUFFERED")
    environment = {k: v for k, v in os.environ.items() if k not in unset}
    errors = tmp_path / "stderr"
    with errors.open("wb") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-m", "smtplog", "analyze", "--format", "jsonl", source],
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=stderr,
            cwd=ROOT,
            env=environment,
        )
    assert child.stdout is not None
    return child, errors


def read_line(fd: int, timeout: float) -> bytes:
    """The first line the child writes on ``fd``; fails after ``timeout`` seconds."""
    output = b""
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while b"\n" not in output:
            if not selector.select(timeout=timeout):
                pytest.fail(f"no line in {timeout} s (so far: {output!r})")
            block = os.read(fd, 1 << 16)
            if not block:
                pytest.fail(f"the output ended without a line: {output!r}")
            output += block
    return output


def test_jsonl_from_a_pipe_writes_sessions_before_stdin_is_closed(tmp_path: Path) -> None:
    """``zcat mail.log.gz | smtplog analyze -f jsonl`` shows sessions as they come.

    A pipe that writes without pausing: the head ends at HEAD_LINES lines (or
    HEAD_BYTES) and standard input is read in blocks of READ_CHUNK bytes, so
    2.5 MiB are written (about 24,000 lines of this log), then nothing more
    until the first jsonl line is out.
    """
    data = b"".join(logs.chunks(logs.postfix_lines(seed=3), int(2.5 * MiB), CHUNK))
    child, errors = analyze_from_stdin(tmp_path)
    may_close = threading.Event()

    def feed() -> None:
        assert child.stdin is not None
        try:
            child.stdin.write(data)
            child.stdin.flush()
            may_close.wait(60)
        finally:
            child.stdin.close()

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    output = b""
    try:
        output = read_line(child.stdout.fileno(), timeout=30)
        assert writer.is_alive()  # standard input is still open
        first = json.loads(output.split(b"\n", 1)[0])
        assert first["session_number"] == 1
        assert first["dialect"]["name"] == "postfix"
    finally:
        may_close.set()
        while block := os.read(child.stdout.fileno(), 1 << 20):
            output += block
        child.stdout.close()
        writer.join(10)
        code = child.wait(60)
    assert code in (0, 1), errors.read_text()
    lines = output.splitlines()
    assert [json.loads(line)["session_number"] for line in lines] == list(range(1, len(lines) + 1))
    assert len(lines) == len(analyze_bytes(data, name="<stdin>").sessions)


def test_times_cleanup_took_off_reach_the_events_parsed_while_choosing_the_variant() -> None:
    """When choosing the variant parsed the events already (the same dialect reads the text
    with and without its timestamps about as well), those events get the times too.

    No telnet or swaks paste with a timestamp on every line gets there (the cleaned text
    wins on score and is parsed again); ``exim -v`` output with ISO timestamps read with
    ``--dialect telnet`` does."""
    from smtplog.reading import read
    from smtplog.source import source_from_bytes

    text = (SAMPLES / "exim" / "v-user-unknown.txt").read_text()
    data = "".join(
        f"2026-11-28T20:44:{number % 60:02d}.017Z {line}\n"
        for number, line in enumerate(text.splitlines())
    ).encode()
    reading = read(source_from_bytes(data, "input"), "telnet")
    assert "timestamps" in reading.cleaning.applied and reading.events is not None
    report = analyze_bytes(data, name="input", dialect="telnet")
    events = [event for session in report.sessions for event in session.analysis.events]
    assert events and all(event.time is not None for event in events)
    assert events[0].time == pytest.approx(1795898640.017)
    assert all("time" in event for s in report.to_dict()["sessions"] for event in s["events"])


# -- 9. a pipe that pauses: the head ends there (limits.HEAD_PAUSE) ----------------------------

SMTPD_LOG = (SAMPLES / "postfix" / "smtpd-log.txt").read_bytes()


def test_a_session_is_reported_while_a_quiet_pipe_stays_open(tmp_path: Path) -> None:
    """``tail -f /var/log/mail.log | smtplog analyze -f jsonl``: a connection is logged,
    then the log is quiet; its session comes out long before HEAD_LINES lines or the end."""
    lines = SMTPD_LOG.splitlines(keepends=True)
    first, rest = b"".join(lines[:7]), b"".join(lines[7:])  # the first connection, ended
    child, errors = analyze_from_stdin(tmp_path)
    try:
        child.stdin.write(first)
        child.stdin.flush()
        output = read_line(child.stdout.fileno(), timeout=30)
        assert child.poll() is None, errors.read_text()  # still reading its open stdin
        session = json.loads(output.split(b"\n", 1)[0])
        assert (session["session_number"], session["dialect"]["name"]) == (1, "postfix")
        assert session["sessions"][0]["outcome"] == "delivered"
        child.stdin.write(rest)
    finally:
        child.stdin.close()
        output += child.stdout.read()
        child.stdout.close()
        code = child.wait(60)
    assert code in (0, 1), errors.read_text()
    outcomes = [json.loads(line)["sessions"][0]["outcome"] for line in output.splitlines()]
    assert outcomes == [s.outcome for s in analyze_bytes(SMTPD_LOG, name="<stdin>").sessions]


def test_a_pipe_that_pauses_ends_the_head_there() -> None:
    """In process: the head is what came before the pause; the rest starts with it."""
    read_fd, write_fd = os.pipe()
    os.write(write_fd, RELAY_DENIED)  # 24 lines, then nothing for a while
    with os.fdopen(read_fd, "rb") as pipe:
        stream = reader.ByteStream.of_file(pipe, "pipe")
        assert stream.live
        source = reader.SourceReader(stream)
        assert source.paused and not source.complete
        assert [line.number for line in source.head] == list(range(1, 25))
        os.write(write_fd, DELIVERED)
        os.close(write_fd)
        rest = list(source.rest_pausing())
    assert rest[0] is None  # the pause that ended the head
    assert [line.number for line in rest[1:]] == list(range(25, 25 + DELIVERED.count(b"\n")))


def test_files_and_bytes_never_pause(tmp_path: Path) -> None:
    """Their reading does not depend on timing: not live, the head is the whole input."""
    import io

    path = tmp_path / "relay-denied.txt"
    path.write_bytes(RELAY_DENIED)
    read_fd, write_fd = os.pipe()
    with path.open("rb") as file, os.fdopen(read_fd, "rb") as pipe:
        assert not reader.is_live(file)
        assert not reader.is_live(io.BytesIO(RELAY_DENIED))
        assert reader.is_live(pipe)
        os.close(write_fd)
    for stream in (reader.ByteStream.open(str(path)), reader.ByteStream([RELAY_DENIED], "b")):
        source = reader.SourceReader(stream)
        assert not stream.live and source.complete and not source.paused
        assert len(source.head) == 24


def test_a_head_that_a_pause_ended_grows_until_a_dialect_knows_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Prose, a pause, then the session: detection waits for it rather than giving up."""
    read_fd, write_fd = os.pipe()
    os.write(write_fd, b"Here is what the server said:\n\n")
    grown = reader.SourceReader.read_more
    unsent = [RELAY_DENIED]

    def more(self: reader.SourceReader) -> bool:  # the prose alone was not SMTP: now the rest
        if unsent:
            os.write(write_fd, unsent.pop())
            os.close(write_fd)
        return grown(self)

    monkeypatch.setattr(reader.SourceReader, "read_more", more)
    with os.fdopen(read_fd, "rb") as pipe:
        report = analyze_stream(pipe, name="pipe").report()
    assert [(s.outcome, s.main.id) for s in report.sessions] == [("failed", "relay-denied")]
    assert report.line_count == 2 + 24


@pytest.mark.parametrize(
    ("pieces", "texts"),
    [
        ([b"220 mx\r", b"\nEHLO x\r\n", b"250 ok\r\n"], ["220 mx", "EHLO x", "250 ok"]),
        ([b"220 mx\r", b"EHLO x\r", b"250 ok\r"], ["220 mx", "EHLO x", "250 ok"]),
        ([b"220 mx", b" ESMTP\n", b"250 ok\n"], ["220 mx ESMTP", "250 ok"]),
    ],
    ids=["crlf-cut", "cr-only", "line-cut"],
)
def test_pauses_anywhere_in_a_pipe_give_the_same_lines(
    pieces: list[bytes], texts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pause between CR and LF, or before the first line's end, is no line end (what
    ends lines is decided once the text tells: "\r\n", "\n" or "\r")."""
    monkeypatch.setattr(limits, "HEAD_PAUSE", 0.05)
    read_fd, write_fd = os.pipe()

    def write() -> None:
        for piece in pieces:
            os.write(write_fd, piece)
            threading.Event().wait(0.3)  # a pause, each time
        os.close(write_fd)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    with os.fdopen(read_fd, "rb") as pipe:
        lines = list(reader.SourceReader(reader.ByteStream.of_file(pipe, "pipe")).lines())
    writer.join(10)
    assert [line.text for line in lines] == texts
    assert [line.number for line in lines] == list(range(1, len(texts) + 1))


# -- 10. the output's flush: each session at once from an input that may pause, blocks otherwise ---


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_session_from_a_quiet_named_pipe_is_written_at_once(tmp_path: Path) -> None:
    """``smtplog analyze <(tail -f /var/log/mail.log)``: a named pipe is live like standard
    input, so its sessions are flushed one at a time, not held until a block fills."""
    fifo = tmp_path / "mail.log"
    os.mkfifo(fifo)
    lines = SMTPD_LOG.splitlines(keepends=True)
    first, rest = b"".join(lines[:7]), b"".join(lines[7:])  # the first connection, ended
    child, errors = analyze_in_background(tmp_path, str(fifo))
    with fifo.open("wb") as log:  # opens once the child opened its end
        log.write(first)
        log.flush()
        output = read_line(child.stdout.fileno(), timeout=30)  # type: ignore[union-attr]
        assert child.poll() is None, errors.read_text()  # still reading the open pipe
        log.write(rest)
    output += child.stdout.read()  # type: ignore[union-attr]
    child.stdout.close()  # type: ignore[union-attr]
    assert child.wait(60) in (0, 1), errors.read_text()
    outcomes = [json.loads(line)["sessions"][0]["outcome"] for line in output.splitlines()]
    assert outcomes == [s.outcome for s in analyze_bytes(SMTPD_LOG, name="x").sessions]


def test_a_reader_that_stops_early_ends_the_run_quietly(tmp_path: Path) -> None:
    """``smtplog analyze -f jsonl mail.log | head -1``: the report is written in blocks;
    the block that meets the closed pipe ends the run with exit code 0, nothing on stderr
    (not a traceback, not Python's "Exception ignored" at exit)."""
    log = tmp_path / "mail.log"
    write_log(logs.postfix_lines(samples=logs.POSTFIX_SUMMARY_SAMPLES), {log: 2 * MiB})
    child, errors = analyze_in_background(tmp_path, str(log))
    first = read_line(child.stdout.fileno(), timeout=30)  # type: ignore[union-attr]
    child.stdout.close()  # type: ignore[union-attr]
    assert child.wait(60) == 0
    assert errors.read_bytes() == b""
    assert json.loads(first.split(b"\n", 1)[0])["session_number"] == 1
