"""tcpdump on loopback, for tests that capture real clients talking to real servers."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest


def skip_reason() -> str | None:
    if shutil.which("tcpdump") is None:
        return "tcpdump is not installed (apt-get install tcpdump; .ci/run does it)"
    if os.geteuid() != 0:
        return "capturing on loopback needs root"
    return None


needs_tcpdump = pytest.mark.skipif(skip_reason() is not None, reason=str(skip_reason()))


class Tcpdump:
    """``tcpdump -i lo -w FILE FILTER`` while the block runs."""

    def __init__(self, path: Path, bpf: str) -> None:
        self.path = path
        self.args = [
            "tcpdump",
            "-i",
            "lo",
            "--immediate-mode",
            "-U",
            "-s",
            "0",
            "-Z",
            "root",
            "-w",
            str(path),
        ]
        self.bpf = bpf
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Tcpdump:
        self.proc = subprocess.Popen(
            [*self.args, self.bpf], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        assert self.proc.stderr is not None
        deadline = time.monotonic() + 10
        line = b""
        while time.monotonic() < deadline and b"listening on" not in line:
            line = self.proc.stderr.readline()
            if not line and self.proc.poll() is not None:
                raise RuntimeError("tcpdump did not start")
        time.sleep(0.2)
        return self

    def __exit__(self, *exc: object) -> None:
        time.sleep(0.3)  # the last packets (FIN, ACK) reach the file
        assert self.proc is not None
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
