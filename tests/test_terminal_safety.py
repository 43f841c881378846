"""Nothing from a transcript, a file name, an argument or a server acts on the terminal.

Hostile text (tests/hostile.py: ANSI/OSC escapes, C1 controls, BEL, backspace,
bidi overrides and isolates, zero-width joiners, Unicode tags, rich markup,
HTML and Markdown injection, invalid UTF-8) goes into transcripts of several
dialects, file names and arguments; the raw bytes of every output are checked:
stdout in every format, and stderr.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import html5lib
import pytest
from markdown_it import MarkdownIt

from smtplog.render.safe import json_safe, safe

from .conftest import ROOT
from .hostile import (
    ALL,
    DIALECTS,
    HOSTILE,
    UNSAFE,
    hostile_bytes,
    rich_markup_was_interpreted,
    unsafe_characters,
)

FORMATS = ["terminal", "text", "json", "jsonl", "markdown", "html", "quiet"]


def format_args(fmt: str) -> list[str]:
    return ["--quiet"] if fmt == "quiet" else ["--format", fmt]


def run(*args: str, stdin: bytes | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """The real CLI, with colours on (the terminal format's escapes are checked too)."""
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS")}
    env.update(FORCE_COLOR="1", TERM="xterm-256color", COLUMNS="120")
    return subprocess.run(
        [sys.executable, "-m", "smtplog", *args],
        input=stdin,
        capture_output=True,
        env=env,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def decoded(raw: bytes) -> str:
    """Output must be UTF-8 (an undecodable byte is shown, never passed through)."""
    return raw.decode("utf-8")  # raises on a byte smtplog should have escaped


def assert_inert(raw: bytes, *, terminal: bool = False, where: str = "") -> str:
    text = decoded(raw)
    found = unsafe_characters(text, terminal=terminal)
    assert not found, f"{where}: {found}"
    return text


# -- safe() itself ------------------------------------------------------------------------


def test_safe_covers_every_control_and_invisible_character() -> None:
    for code in range(0x110000):
        char = chr(code)
        if char == "\t":
            continue
        escaped = safe(char)
        if char in UNSAFE or char == "\n":  # safe() is for one line: a newline is shown too
            assert escaped != char and escaped.isascii(), f"U+{code:04X}"
        elif unicodedata.category(char) != "Cn":  # unassigned here, format in newer Unicode
            assert escaped == char, f"U+{code:04X} ({unicodedata.name(char, '?')})"


@pytest.mark.parametrize("ascii_only", [True, False])
def test_json_safe_keeps_every_value(ascii_only: bool) -> None:
    value = "".join(HOSTILE.values()) + "\U0001f600 é \t"
    document = json.dumps({"v": value}, ensure_ascii=ascii_only)
    assert json.loads(json_safe(document)) == {"v": value}
    assert not unsafe_characters(json_safe(document))


@pytest.mark.parametrize("ascii_only", [True, False])
def test_json_safe_shows_undecodable_bytes_as_elsewhere(ascii_only: bool) -> None:
    # A byte that was not UTF-8 (kept as a lone surrogate) reads "\xNN" in every format;
    # a text that merely spells a surrogate escape is left as it is.
    value = "a\udc80b\udcffc \\udc81 \\\udc82"
    document = json_safe(json.dumps({"v": value}, ensure_ascii=ascii_only))
    assert json.loads(document) == {"v": "a\\x80b\\xffc \\udc81 \\\\x82"}


# -- every format, every dialect --------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    files = {}
    for dialect in DIALECTS:
        path = folder / f"{dialect}.txt"
        path.write_bytes(hostile_bytes(dialect))
        files[dialect] = path
    return files


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("dialect", list(DIALECTS))
def test_every_format_neutralises_hostile_text(
    hostile_files: dict[str, Path], dialect: str, fmt: str
) -> None:
    result = run("analyze", *format_args(fmt), "--dialect", dialect, str(hostile_files[dialect]))
    assert result.returncode in (0, 1), result.stderr
    where = f"{dialect} as {fmt}"
    text = assert_inert(result.stdout, terminal=fmt == "terminal", where=where)
    assert_inert(result.stderr, where=f"{where} (stderr)")
    if fmt == "terminal":
        assert "\x1b[" in text, "colours expected: the check must see rich's escapes"
    if fmt in ("terminal", "text"):
        assert not rich_markup_was_interpreted(text)
    if fmt == "json":
        json.loads(text)
    if fmt == "jsonl":
        assert [json.loads(line) for line in text.splitlines()]
    if fmt == "html":
        assert_safe_html(text)
    if fmt == "markdown":
        assert_safe_markdown(text, sessions=text.count("**Verdict:"))


def assert_safe_html(text: str) -> None:
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    document = parser.parse(text)  # raises html5lib.html5parser.ParseError if malformed
    tags = {element.tag for element in document.iter()}
    assert not tags & {"script", "img", "iframe", "object", "embed", "form", "link"}, tags
    for element in document.iter():
        for name, value in element.attrib.items():
            assert not name.startswith("on"), (element.tag, name)
            if name in ("href", "src"):
                assert value.startswith("#"), (element.tag, name, value)


def assert_safe_markdown(text: str, sessions: int) -> None:
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    flat = [*tokens, *(child for token in tokens for child in token.children or [])]
    kinds = {token.type for token in flat}
    assert not kinds & {"html_block", "html_inline", "link_open", "image"}, kinds
    fences = [token for token in tokens if token.type == "fence"]
    assert len(fences) == sessions, "every session's transcript is one fenced block"


# -- the other commands and paths ---------------------------------------------------------


def test_a_hostile_file_name_in_errors_and_reports(tmp_path: Path) -> None:
    name = "sess\x1b[2J\u202eion\x07\u200d.txt"
    missing = run("analyze", str(tmp_path / name))
    assert missing.returncode == 2
    assert_inert(missing.stderr, where="missing file")
    (tmp_path / name).write_bytes(hostile_bytes("telnet", "x"))
    (tmp_path / "other.txt").write_bytes(hostile_bytes("swaks", ALL))
    for fmt in FORMATS:
        if fmt == "quiet":
            continue
        result = run("analyze", "--format", fmt, str(tmp_path))  # two files: a summary too
        text = assert_inert(result.stdout, terminal=fmt == "terminal", where=f"names as {fmt}")
        assert_inert(result.stderr, where=f"names as {fmt} (stderr)")
        if fmt not in ("json", "jsonl"):
            assert "\\x1b" in text or "\\\\x1b" in text  # the name is shown, escaped
    quiet = run("analyze", "--quiet", str(tmp_path))
    assert_inert(quiet.stdout, where="quiet names")


def test_an_empty_or_binary_file_with_a_hostile_name(tmp_path: Path) -> None:
    empty = tmp_path / "e\x1b]0;t\x07mpty.txt"
    empty.write_bytes(b"")
    binary = tmp_path / "b\u202ein.txt"
    binary.write_bytes(b"220 x\x00\x00\x1b[2J")
    for path in (empty, binary):
        result = run("analyze", str(path))
        assert result.returncode in (2, 3)
        assert_inert(result.stderr, where=path.name)


@pytest.mark.parametrize(
    "args",
    [
        ["analyze", "--format", "\x1b]52;c;eA==\x07"],
        ["analyze", "--dialect", "\u202etelnet\x1b[2J", "-"],
        ["analyze", "--no-such-\x1b[2J-option"],
        ["explain", "5.7.1\x1b[2J\u202e"],
        ["explain", "550 5.7.1 \x1b]8;;https://evil.example/\x1b\\x\x1b]8;;\x1b\\ \u2066no\u2069"],
        ["explain", "--format", "json", "550 \x9b2J\u200d\U000e0041"],
        ["explain", "[bold red]alarm[/bold red]"],
        ["rules", "--\x1b[2J"],
        ["no-such-command\x1b[2J\u202e"],
    ],
    ids=lambda args: args[0] + "-" + str(abs(hash(tuple(args))) % 1000),
)
def test_hostile_arguments(args: list[str]) -> None:
    result = run(*args, stdin=b"220 x\n")
    assert result.returncode in (0, 1, 2, 3)
    text = assert_inert(result.stdout, terminal=True, where="stdout")
    assert_inert(result.stderr, where="stderr")
    assert not rich_markup_was_interpreted(text + result.stderr.decode())


def test_dialects_detect_a_hostile_file(hostile_files: dict[str, Path], tmp_path: Path) -> None:
    renamed = tmp_path / "\x1b[2Jdetect\u202e.txt"
    renamed.write_bytes(hostile_files["telnet"].read_bytes())
    for fmt in ("text", "json"):
        gone = str(tmp_path / "gone\x1b[2J")
        result = run("dialects", "--format", fmt, "--detect", str(renamed), "--detect", gone)
        assert result.returncode == 2  # the missing file
        assert b"telnet" in result.stdout
        assert_inert(result.stdout, where=f"dialects --detect {fmt}")
        assert_inert(result.stderr, where="dialects --detect (stderr)")


def test_redact_messages_and_the_copy(hostile_files: dict[str, Path], tmp_path: Path) -> None:
    source = tmp_path / "re\x1b[2Jdact\u202e.txt"
    source.write_bytes(hostile_files["telnet"].read_bytes())
    copy = tmp_path / "copy.txt"
    result = run("redact", "--all", "-o", str(copy), str(source))
    assert result.returncode == 0, result.stderr
    assert_inert(result.stderr, where="redact messages")
    # A file holds the copy as it is (a transcript, escapes and all)...
    assert b"\x1b[2J" in copy.read_bytes()
    # ...and so does a pipe; a terminal is tested in test_redact_on_a_terminal_is_inert.
    piped = run("redact", "--all", str(source))
    assert b"\x1b[2J" in piped.stdout
    assert_inert(piped.stderr, where="redact to a pipe (stderr)")


def test_redact_on_a_terminal_is_inert(hostile_files: dict[str, Path]) -> None:
    import pty

    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "smtplog", "redact", str(hostile_files["telnet"])],
            stdout=follower,
            stderr=subprocess.PIPE,
            cwd=ROOT,
        )
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait(timeout=60)
    finally:
        os.close(leader)
    shown = b"".join(chunks).replace(b"\r\n", b"\n")
    assert_inert(shown, where="redact on a terminal")
    assert b"\\x1b[2J" in shown


# -- what a server says: probe, record, proxy ------------------------------------------


class HostileServer:
    """An SMTP server on loopback whose every reply carries ``payload``."""

    def __init__(self, payload: str) -> None:
        self.payload = payload.encode("utf-8", errors="surrogateescape")
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn: socket.socket) -> None:
        p = self.payload
        with conn:
            conn.settimeout(10)
            conn.sendall(b"220 mx.example.test ESMTP " + p + b"\r\n")
            buffer = b""
            try:
                while True:
                    data = conn.recv(4096)
                    if not data:
                        return
                    buffer += data
                    while b"\r\n" in buffer:
                        line, buffer = buffer.split(b"\r\n", 1)
                        verb = line.split(b" ", 1)[0].upper()
                        if verb in (b"EHLO", b"HELO"):
                            conn.sendall(
                                b"250-mx.example.test " + p + b"\r\n250 SIZE 10 " + p + b"\r\n"
                            )
                        elif verb == b"QUIT":
                            conn.sendall(b"221 2.0.0 Bye " + p + b"\r\n")
                            return
                        elif verb == b"MAIL":
                            conn.sendall(b"250 2.1.0 Ok " + p + b"\r\n")
                        else:
                            conn.sendall(b"550 5.7.1 No " + p + b"\r\n")
            except OSError:
                return

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def hostile_server() -> Iterator[HostileServer]:
    payload = ALL + "\udcff"
    server = HostileServer(payload)
    yield server
    server.close()


@pytest.mark.parametrize("fmt", ["terminal", "text", "json"])
def test_probe_shows_hostile_replies_inert(
    hostile_server: HostileServer, tmp_path: Path, fmt: str
) -> None:
    result = run(
        "probe",
        f"127.0.0.1:{hostile_server.port}",
        "--no-tls",
        "--from",
        "a@example.com",
        "--to",
        "b@example.com",
        "--save",
        str(tmp_path / "t.txt"),
        "--format",
        fmt,
    )
    assert result.returncode in (0, 1), result.stderr.decode(errors="replace")
    text = assert_inert(result.stdout, terminal=fmt == "terminal", where=f"probe {fmt}")
    assert_inert(result.stderr, where="probe (stderr)")
    assert "x1b" in text  # the server's escapes are there, shown


def test_record_shows_hostile_replies_inert(hostile_server: HostileServer, tmp_path: Path) -> None:
    typed = b"EHLO me\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nQUIT\r\n"
    result = run(
        "record",
        f"127.0.0.1:{hostile_server.port}",
        "--save",
        str(tmp_path / "t.txt"),
        "--format",
        "text",
        stdin=typed,
    )
    assert result.returncode in (0, 1), result.stderr.decode(errors="replace")
    text = assert_inert(result.stdout, where="record")
    assert_inert(result.stderr, where="record (stderr)")
    assert "x1b" in text


def test_proxy_verdict_lines_are_inert(hostile_server: HostileServer, tmp_path: Path) -> None:
    listen = socket.socket()
    listen.bind(("127.0.0.1", 0))
    port = listen.getsockname()[1]
    listen.close()
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    proxy = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "smtplog",
            "proxy",
            "--listen",
            f"127.0.0.1:{port}",
            "--upstream",
            f"127.0.0.1:{hostile_server.port}",
            "--save-dir",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    try:
        for _ in range(100):
            try:
                client = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except OSError:
                threading.Event().wait(0.1)
        else:
            pytest.fail("the proxy did not listen")
        with client:
            client.recv(4096)
            for line in (b"EHLO me", b"MAIL FROM:<a@example.com>", b"QUIT"):
                client.sendall(line + b"\r\n")
                client.recv(4096)
        threading.Event().wait(1.0)  # the session's verdict line is printed as it ends
        proxy.send_signal(signal.SIGINT)
        out, err = proxy.communicate(timeout=60)
    finally:
        if proxy.poll() is None:
            proxy.kill()
            proxy.communicate()
    assert_inert(out, where="proxy stdout")
    assert_inert(err, where="proxy stderr")
    assert b"session 1" in out + err
