"""End to end against the real Postfix of the mail lab (lab/postfix-lab.sh).

CI starts the lab (.ci/run); elsewhere these tests are skipped with the reason.
Ports follow the lab's SMTPLOG_LAB_*_PORT variables.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import shutil
import socket
import sys
import time
from pathlib import Path

import pytest
from recorder_support import PASSWORD, ROOT, USER, analyze_file, smtplog

MX = int(os.environ.get("SMTPLOG_LAB_MX_PORT", "2525"))
SUBMISSION = int(os.environ.get("SMTPLOG_LAB_SUBMISSION_PORT", "2587"))
SMTPS = int(os.environ.get("SMTPLOG_LAB_SMTPS_PORT", "2465"))


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _skip_reason() -> str | None:
    if not shutil.which("postfix") and not Path("/usr/sbin/postfix").exists():
        return "Postfix is not installed (apt-get install postfix; .ci/run does it)"
    down = [port for port in (MX, SUBMISSION, SMTPS) if not _listening(port)]
    if down:
        return f"the Postfix lab is not running on 127.0.0.1:{down} (bash lab/postfix-lab.sh start)"
    return None


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(_skip_reason() is not None, reason=str(_skip_reason())),
]


def verdict(result):  # type: ignore[no-untyped-def]
    session = json.loads(result.stdout)["reports"][0]["sessions"][-1]
    found = (session["outcome"], session["failed_at"], session["diagnoses"][0]["id"])
    report = analyze_file(result.transcript)
    again = report.sessions[-1]
    assert (again.outcome, again.failed_at, again.main.id) == found  # the file says the same
    return found


def probe(writes, port, *args, password=None):  # type: ignore[no-untyped-def]
    return smtplog(writes, "probe", f"127.0.0.1:{port}", "--format", "json", "--insecure",
                   "--timeout", "20", *args, password=password)  # fmt: skip


@pytest.mark.parametrize(
    ("recipient", "expected"),
    [
        ("alice@example.test", ("delivered", None, "delivered")),
        ("nobody@example.test", ("failed", "rcpt", "recipient-unknown")),
        ("someone@elsewhere.test", ("failed", "rcpt", "relay-denied")),
    ],
)
def test_mx_port(writes, recipient, expected):  # type: ignore[no-untyped-def]
    result = probe(writes, MX, "--from", "probe@client.test", "--to", recipient)
    assert verdict(result) == expected
    text = result.transcript.read_text()
    assert "verified=no detail='self-signed certificate" in text  # the lab's own certificate


def test_submission_requires_tls(writes):  # type: ignore[no-untyped-def]
    result = probe(writes, SUBMISSION, "--no-tls", "--from", USER, "--to", "x@elsewhere.test")
    assert verdict(result) == ("failed", "mail", "tls-required")


def test_submission_with_auth_relays(writes):  # type: ignore[no-untyped-def]
    for mechanism in ("PLAIN", "LOGIN"):
        result = probe(writes, SUBMISSION, "--starttls", "--auth", mechanism, "--user", USER,
                       "--from", USER, "--to", "x@elsewhere.test", password=PASSWORD)  # fmt: skip
        assert verdict(result) == ("delivered", None, "delivered"), result.stdout


def test_submission_wrong_password(writes):  # type: ignore[no-untyped-def]
    result = probe(writes, SUBMISSION, "--auth", "auto", "--user", USER, "--from", USER,
                   "--to", "x@elsewhere.test", password="not-" + PASSWORD)  # fmt: skip
    assert verdict(result) == ("failed", "auth", "auth-rejected")


def test_smtps_implicit_tls(writes):  # type: ignore[no-untyped-def]
    result = probe(writes, SMTPS, "--tls", "--auth", "auto", "--user", USER, "--from", USER,
                   "--to", "x@elsewhere.test", password=PASSWORD)  # fmt: skip
    assert verdict(result) == ("delivered", None, "delivered")


def test_plaintext_on_smtps_port(writes):  # type: ignore[no-untyped-def]
    result = probe(writes, SMTPS, "--timeout", "2")
    assert verdict(result) == ("deferred", "starttls", "tls-port-mismatch")


# -- record, driven through a pseudo-terminal like a person at a keyboard -------------------


class Terminal:
    def __init__(self, *args: str, env: dict[str, str]) -> None:
        pid, fd = pty.fork()
        if pid == 0:  # the child: smtplog record on the pty
            os.chdir(ROOT)
            os.execve(sys.executable, [sys.executable, "-m", "smtplog", *args], env)
        self.pid, self.fd = pid, fd
        self.seen = b""

    def expect(self, pattern: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while not re.search(pattern.encode(), self.seen):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"{pattern!r} not seen in:\n{self.seen.decode(errors='replace')}"
                )
            ready, _w, _x = select.select([self.fd], [], [], remaining)
            if ready:
                try:
                    self.seen += os.read(self.fd, 65536)
                except OSError:
                    break

    def type(self, line: str) -> None:
        os.write(self.fd, line.encode() + b"\r")

    def finish(self, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _w, _x = select.select([self.fd], [], [], 0.2)
            if ready:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:
                    data = b""
                self.seen += data
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status)
        os.kill(self.pid, 9)
        raise AssertionError("smtplog record did not end")


def test_record_through_a_terminal(writes):  # type: ignore[no-untyped-def]
    transcript = writes / "record-pty.txt"
    env = {k: v for k, v in os.environ.items() if k != "SMTPLOG_PASSWORD"}
    env.update({"TERM": "dumb", "COLUMNS": "100", "XDG_DATA_HOME": str(writes / "xdg")})
    term = Terminal("record", f"127.0.0.1:{MX}", "--insecure", "--save", str(transcript),
                    "--format", "text", env=env)  # fmt: skip
    term.expect(r"220 mx\.example\.test")
    term.type("EHLO client.test")
    term.expect(r"250 CHUNKING")
    term.type("STARTTLS")
    term.expect(r"TLS started")
    term.type("EHLO client.test")
    term.expect(r"AUTH PLAIN LOGIN")
    term.type("/auth login")
    term.expect(r"User name: ")
    term.type(USER)
    term.expect(r"Password for ")
    term.type(PASSWORD)
    term.expect(r"235 2\.7\.0")
    term.type(f"MAIL FROM:<{USER}>")
    term.expect(r"250 2\.1\.0")
    term.type("RCPT TO:<x@elsewhere.test>")
    term.expect(r"250 2\.1\.5")
    term.type("DATA")
    term.expect(r"354 ")
    for line in ("Subject: typed by hand", "", "hello", "."):
        term.type(line)
    term.expect(r"250 2\.0\.0 Ok: queued")
    os.write(term.fd, b"\x04")  # Ctrl-D: QUIT, then the analysis
    code = term.finish()
    (writes / "record-pty-screen.txt").write_bytes(term.seen)
    assert code == 0, term.seen.decode(errors="replace")
    assert b"Verdict: delivered" in term.seen
    assert PASSWORD.encode() not in term.seen
    text = transcript.read_text()
    assert "C: [password redacted, 11 characters]" in text and "C: QUIT" in text
    session = analyze_file(transcript).sessions[0]
    assert (session.outcome, session.main.id) == ("delivered", "delivered")
    assert session.analysis.authenticated and session.analysis.tls is not None
