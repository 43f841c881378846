"""Inputs that are not a plain transcript file: each one clear line and its exit code.

Exit codes (README, "Exit codes"): 2 for an input that cannot be read (missing,
a directory, unreadable, binary, an archive, damaged gzip, stdin closed), 3
for an input that holds no SMTP session (empty input included). gzip is read
transparently. Every case runs the real command in a child process.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import shutil
import subprocess
import sys
import tarfile
import threading
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLES, Run, run_cli

RELAY_DENIED = SAMPLES / "telnet" / "relay-denied.txt"
VERDICT = "failed at rcpt: relay-denied (Relaying denied)"


def _transcript() -> bytes:
    return RELAY_DENIED.read_bytes()


def _one_clear_line(run: Run, code: int, *needles: str) -> None:
    assert run.code == code, run.stderr
    assert "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    for needle in needles:
        assert needle in run.stderr
    assert run.stdout == ""


def _tar(path: Path, mode: str) -> Path:
    data = _transcript()
    with tarfile.open(path, mode) as archive:
        member = tarfile.TarInfo("session.txt")
        member.size = len(data)
        archive.addfile(member, io.BytesIO(data))
    return path


def _zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("session.txt", _transcript())
    return path


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("make", "needles"),
    [
        (lambda d: _zip(d / "ticket.zip"), ["a zip archive", "unzip"]),
        (lambda d: _tar(d / "logs.tar", "w"), ["a tar archive", "tar -xf"]),
        (lambda d: _tar(d / "logs.tar.gz", "w:gz"), ["a tar archive inside a gzip", "tar -xzf"]),
        (lambda d: _write(d / "mail.log.bz2", bz2.compress(_transcript())), ["bzip2", "bzcat"]),
        (lambda d: _write(d / "mail.log.xz", lzma.compress(_transcript())), ["xz", "xzcat"]),
        (lambda d: _write(d / "shot.png", b"\x89PNG\r\n\x1a\n" + bytes(64)), ["a PNG image"]),
        (lambda d: _write(d / "doc.pdf", b"%PDF-1.7\n" + bytes(64)), ["a PDF document"]),
    ],
    ids=["zip", "tar", "tar.gz", "bz2", "xz", "png", "pdf"],
)
def test_archives_and_other_formats_are_named_with_what_to_do(tmp_path: Path, make, needles):  # type: ignore[no-untyped-def]
    path = make(tmp_path)
    _one_clear_line(run_cli("analyze", str(path)), 2, str(path), "not a text transcript", *needles)


def test_gzip_is_read_transparently(tmp_path: Path) -> None:
    plain = run_cli("analyze", "--format", "json", str(RELAY_DENIED))
    packed = _write(tmp_path / "session.txt.gz", gzip.compress(_transcript()))
    unpacked = run_cli("analyze", "--format", "json", str(packed))
    assert unpacked.code == plain.code == 1
    assert '"relay-denied"' in unpacked.stdout
    # The same analysis: only the file's name differs.
    assert unpacked.stdout.replace(str(packed), str(RELAY_DENIED)) == plain.stdout


def test_gzip_from_stdin_too() -> None:
    run = run_cli("analyze", "--quiet", "-", stdin=gzip.compress(_transcript()))
    assert run.code == 1
    assert VERDICT in run.stdout


def test_damaged_gzip_is_an_input_error(tmp_path: Path) -> None:
    good = gzip.compress(_transcript())
    damaged = _write(tmp_path / "bad.gz", good[:12] + b"\x00garbage, not deflate" * 4)
    _one_clear_line(run_cli("analyze", str(damaged)), 2, "damaged gzip file")


def test_gzip_cut_short_is_analysed_as_far_as_it_goes_and_says_so(tmp_path: Path) -> None:
    good = gzip.compress(_transcript())
    cut = _write(tmp_path / "cut.gz", good[:-16])  # the end of the stream (and its CRC) lost
    run = run_cli("analyze", "--format", "json", str(cut))
    assert run.code == 1, run.stderr
    assert "the gzip file is cut short after 4" in run.stdout  # a note: 4xx bytes were read


def test_missing_file_and_directory(tmp_path: Path) -> None:
    _one_clear_line(run_cli("analyze", str(tmp_path / "nope.txt")), 2, "no such file")
    _one_clear_line(run_cli("analyze", str(tmp_path)), 2, "is a directory")


@pytest.mark.skipif(not shutil.which("setpriv"), reason="setpriv (util-linux) is not installed")
def test_unreadable_file(tmp_path: Path) -> None:
    secret = _write(tmp_path / "secret.txt", _transcript())
    secret.chmod(0)
    command = [sys.executable, "-m", "smtplog", "analyze", str(secret)]
    if os.geteuid() == 0:  # root reads anything: drop the capabilities that allow it
        command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *command]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    run = Run(result.returncode, result.stdout, result.stderr)
    _one_clear_line(run, 2, str(secret), "not readable")


def test_empty_input_and_blank_input() -> None:
    _one_clear_line(run_cli("analyze", "-", stdin=b""), 3, "empty input")
    _one_clear_line(run_cli("analyze", "-", stdin=b"\n \r\n\t\n"), 3, "empty input")


@pytest.mark.parametrize("args", [["analyze", "-"], ["analyze"]], ids=["dash", "implicit"])
def test_stdin_closed(args: list[str]) -> None:
    # `smtplog analyze - <&-`: file descriptor 0 is not open at all.
    result = subprocess.run(
        [sys.executable, "-m", "smtplog", *args],
        stdin=None,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        preexec_fn=lambda: os.close(0),  # the child only closes a descriptor
    )
    run = Run(result.returncode, result.stdout, result.stderr)
    _one_clear_line(run, 2, "standard input is closed")


def test_a_fifo_is_read_as_a_stream(tmp_path: Path) -> None:
    fifo = tmp_path / "session.fifo"
    os.mkfifo(fifo)

    def write() -> None:
        with open(fifo, "wb") as pipe:
            pipe.write(_transcript())

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    run = run_cli("analyze", "--quiet", str(fifo))
    writer.join(timeout=10)
    assert run.code == 1, run.stderr
    assert VERDICT in run.stdout


def test_binary_with_a_text_name(tmp_path: Path) -> None:
    noise = _write(tmp_path / "session.txt", bytes(range(256)) * 64)
    _one_clear_line(run_cli("analyze", str(noise)), 2, "not a text transcript")


def test_one_bad_input_among_good_ones_keeps_the_good_ones(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "ticket.zip")
    run = run_cli("analyze", "--format", "jsonl", str(archive), str(RELAY_DENIED))
    assert run.code == 2  # the worst: an input error
    assert "a zip archive" in run.stderr
    assert '"relay-denied"' in run.stdout


def _text(size: int, seed: int) -> bytes:
    import random

    rng = random.Random(seed)
    return b"".join(b"%d %s\n" % (n, rng.randbytes(24).hex().encode()) for n in range(size // 56))


def _read(chunks: list[bytes], **kw: int) -> tuple[bytes, list[str]]:
    from smtplog.reader import ByteStream

    stream = ByteStream(chunks, "input", **kw)
    return b"".join(stream), stream.notes


@pytest.mark.parametrize("split", [1, 2, 3])
def test_concatenated_gzip_split_in_the_next_members_magic(split: int) -> None:
    """``cat a.gz b.gz`` read in chunks that end 1 byte into b's header (or 2, or 3)."""
    first, second = _text(200_000, 1), _text(50_000, 2)
    a, b = gzip.compress(first), gzip.compress(second)
    assert len(a) > 64 * 1024  # the first chunk is the head: not joined with the next
    assert _read([a + b[:split], b[split:]]) == (first + second, [])


def test_gzip_member_ending_with_a_chunk_then_trailing_bytes() -> None:
    text = _text(200_000, 1)
    for tail in ([b"\x1f"], [b"garbage after it"], [b"\x1f", b"not the magic"]):
        assert _read([gzip.compress(text), *tail]) == (
            text,
            ["bytes after the end of the gzip data were ignored"],
        )
    assert _read([gzip.compress(text), b"\0" * 512]) == (text, [])  # padding


def test_gzip_stopped_early_does_not_say_the_file_shrank() -> None:
    """Trailing garbage (or damage) leaves raw chunks unread: that is not a shrunk file."""
    text = _text(100_000, 3)
    raw = [gzip.compress(text) + b"trailing garbage", *([b"x" * 1024] * 200)]
    size = sum(map(len, raw))
    data, notes = _read(raw, expected_size=size)
    assert data == text
    assert notes == ["bytes after the end of the gzip data were ignored"]
    # A file that did shrink is still noted.
    data, notes = _read([gzip.compress(text)], expected_size=size)
    assert data == text and len(notes) == 1 and "the file shrank while it was read" in notes[0]
