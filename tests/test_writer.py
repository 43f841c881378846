"""How `analyze` writes its output (smtplog/cli/output.py ``Writer``, ``Blocks``).

An input that may pause (standard input or a named pipe fed by ``tail -f``, a
terminal) has each session flushed as soon as it is written; any other input
is written in blocks, one system call per block rather than per session. The
text is the same either way. The live side is tested end to end in
test_streaming.py (sections 8 to 10).
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smtplog.analysis import analyze_bytes
from smtplog.cli.inputs import Pending
from smtplog.cli.output import Blocks, Options, Writer, render
from smtplog.errors import ExitCode
from smtplog.render.summary import report_rows

from .conftest import SAMPLES


class Recording(io.StringIO):
    """A stream that counts its calls."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0
        self.flushes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)

    def flush(self) -> None:
        self.flushes += 1
        super().flush()

    def close(self) -> None:
        self.text_at_close = self.getvalue()
        super().close()


@given(st.lists(st.one_of(st.text(max_size=300), st.none()), max_size=60))
def test_blocks_pass_the_text_on_whole_in_order(pieces: list[str | None]) -> None:
    """``None`` is a flush: what was held before it is out by then."""
    out = Recording()
    blocks = Blocks(out, size=256)
    written = ""
    for piece in pieces:
        if piece is None:
            blocks.flush()
            assert out.getvalue() == written
        else:
            assert blocks.write(piece) == len(piece)
            written += piece
            assert written.startswith(out.getvalue())
            assert len(written) - len(out.getvalue()) < 256  # held: less than a block
    blocks.flush()
    assert out.getvalue() == written


REPORTS = [
    analyze_bytes(path.read_bytes(), name=path.name)
    for path in sorted((SAMPLES / "postfix").glob("*.txt"))[:6]
]


@pytest.mark.parametrize("fmt", ["jsonl", "text", "json", "markdown"])
def test_blocks_or_a_flush_per_piece_write_the_same_text(fmt: str) -> None:
    options = Options(fmt=fmt, color_system=None, width=100, label=True, summary=True)
    outputs = []
    for flush_each in (True, False):
        out = Recording()
        writer = Writer(out, options, summary=True, flush_each=flush_each)
        for number, report in enumerate(REPORTS, 1):
            writer.add(number, report.source, render(report, options, number), report_rows(report))
            if flush_each and fmt in ("jsonl", "text", "json"):
                assert out.flushes >= number  # each report is out as soon as it is written
        writer.finish()
        outputs.append((out.getvalue(), out.writes, out.flushes))
    (live, live_writes, _), (blocked, blocked_writes, blocked_flushes) = outputs
    assert blocked == live and live
    assert blocked_flushes == 1  # finish()
    if fmt in ("jsonl", "text"):
        assert blocked_writes < live_writes / 3


@pytest.mark.parametrize("fmt", ["jsonl", "text", "terminal", "quiet", "json", "markdown", "html"])
@pytest.mark.parametrize("flush_each", [True, False])
def test_writes_is_write_for_the_pieces_of_a_report(fmt: str, flush_each: bool) -> None:
    """``writes()`` (what analyze_cmd writes a report's pieces with) writes what
    ``write`` does, the blank line between text reports and empty pieces included."""
    options = Options(fmt=fmt, color_system=None, width=100, label=True, summary=True)
    pieces = [["a\n", "", "b\n"], ["", "c\n"], ["d\n", "e"]]
    outputs = []
    for fast in (False, True):
        out = Recording()
        writer = Writer(out, options, summary=True, flush_each=flush_each)
        for number, report in enumerate(pieces, 1):
            writer.begin(number, f"input {number}")
            write = writer.writes() if fast else writer.write
            for piece in report:
                write(piece)
            writer.end(())
        writer.finish()
        outputs.append((out.getvalue(), out.flushes if flush_each else 0))
    assert outputs[0] == outputs[1] and outputs[0][0]


def test_a_report_alone_is_flushed_by_finish() -> None:
    """One report and no summary: ``finish`` adds nothing but still flushes, where a
    reader gone away is caught (not in Python's flush at exit)."""
    options = Options(fmt="jsonl", color_system=None, width=100)
    out = Recording()
    writer = Writer(out, options, summary=False, flush_each=False)
    report = REPORTS[0]
    writer.add(1, report.source, render(report, options, 1), report_rows(report))
    assert out.getvalue() == ""  # held: less than a block
    writer.finish()
    assert out.getvalue() == render(report, options, 1) and out.flushes == 1


def test_what_is_written_before_an_error_message_is_out_first() -> None:
    options = Options(fmt="text", color_system=None, width=100)
    out = Recording()
    writer = Writer(out, options, summary=False, flush_each=False)
    writer.add(1, "a", "a's report\n", ())
    assert out.getvalue() == ""
    writer.error("b", "b: cannot read", ExitCode.USAGE)
    assert out.getvalue() == "a's report\n"


# -- which inputs may pause ----------------------------------------------------------------------


def test_files_and_given_bytes_do_not_pause(tmp_path: Path) -> None:
    path = tmp_path / "session.txt"
    path.write_text("220 mx\n")
    assert not Pending(str(path)).may_pause
    assert not Pending("given", data=b"220 mx\n").may_pause
    assert not Pending(str(tmp_path / "missing")).may_pause  # its own error follows


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_named_pipes_and_terminals_may_pause(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert Pending(str(fifo)).may_pause  # <(tail -f mail.log)
    assert Pending(os.devnull).may_pause  # a character device, like a terminal


def test_standard_input_may_pause_when_it_is_a_pipe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "mail.log"
    path.write_text("220 mx\n")
    stdin = Pending("<stdin>", stdin=True)
    with path.open() as file:  # smtplog analyze < mail.log
        monkeypatch.setattr(sys, "stdin", file)
        assert not stdin.may_pause
    read_fd, write_fd = os.pipe()  # cat mail.log | smtplog analyze
    with os.fdopen(read_fd) as pipe:
        monkeypatch.setattr(sys, "stdin", pipe)
        assert stdin.may_pause
    os.close(write_fd)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # no descriptor: taken as live
    assert stdin.may_pause


@pytest.mark.parametrize("close_stream", [True, False])
def test_close_writes_what_is_held_even_after_an_interruption(close_stream: bool) -> None:
    """``analyze -o out.jsonl big.log`` stopped with Ctrl-C keeps what it had analysed:
    analyze_cmd closes the writer in a ``finally``."""
    options = Options(fmt="jsonl", color_system=None, width=100)
    out = Recording()
    writer = Writer(out, options, summary=False, flush_each=False)
    writer.begin(1, "big.log")
    writer.write('{"session_number": 1}\n')
    assert out.getvalue() == ""  # held: less than a block
    writer.close(close_stream=close_stream)
    assert out.closed is close_stream
    text = out.text_at_close if close_stream else out.getvalue()
    assert text == '{"session_number": 1}\n'
