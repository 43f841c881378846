"""Helpers for the recorder tests (imported by conftest.py and the test modules).

Real servers for the recorder tests: aiosmtpd in-process (STARTTLS, implicit TLS,
AUTH) with trustme certificates, and failure endpoints on loopback.

Everything the recorder tests write (transcripts, outputs) goes under one session
directory, so that ``test_zz_secrets.py`` can search all of it for the password.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
USER = "alice@example.test"
PASSWORD = "S3cr3t-Pa55"  # the Postfix lab's password too
LOCAL_DOMAIN = "example.test"
LOCAL_USERS = {"alice", "bob"}


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str
    transcript: Path | None


def written_dir(factory: pytest.TempPathFactory) -> Path:
    path = factory.getbasetemp() / "recorder-writes"
    path.mkdir(exist_ok=True)
    return path


_counter = iter(range(1_000_000))


def smtplog(
    writes: Path,
    *args: str,
    stdin: bytes | None = None,
    password: str | None = None,
    timeout: float = 60,
    save: bool = True,
) -> Result:
    """Run the real CLI; keep its transcript and its output under ``writes``."""
    number = next(_counter)
    transcript = writes / f"transcript-{number}.txt" if save else None
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR")}
    env.update({"COLUMNS": "100", "TERM": "dumb", "XDG_DATA_HOME": str(writes / "xdg")})
    env.pop("SMTPLOG_PASSWORD", None)
    if password is not None:
        env["SMTPLOG_PASSWORD"] = password
    extra = ["--save", str(transcript)] if transcript else []
    proc = subprocess.run(
        [sys.executable, "-m", "smtplog", *args, *extra],
        input=stdin,
        capture_output=True,
        env=env,
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )
    out = proc.stdout.decode("utf-8", "replace")
    err = proc.stderr.decode("utf-8", "replace")
    (writes / f"output-{number}.txt").write_text(f"$ smtplog {' '.join(args)}\n{out}\n{err}")
    return Result(proc.returncode, out, err, transcript)


def analyze_file(path: Path):  # type: ignore[no-untyped-def]
    from smtplog.analysis import analyze_bytes

    return analyze_bytes(path.read_bytes(), str(path))
