"""Fixtures for the proxy tests: the recorder's servers and certificates, and a running proxy.

The aiosmtpd servers, trustme certificates and failure endpoints are the
recorder tests' own (tests/record/conftest.py), loaded here rather than copied.
Everything the proxy writes goes under the recorder's ``writes`` folder, so
``tests/record/test_zz_secrets.py`` (which runs after these) searches it too.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

RECORD = Path(__file__).resolve().parents[1] / "record"
ROOT = RECORD.parents[1]
sys.path.insert(0, str(RECORD))

_spec = importlib.util.spec_from_file_location("record_fixtures", RECORD / "conftest.py")
assert _spec is not None and _spec.loader is not None
_record = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_record)

writes = _record.writes
ca = _record.ca
ca_file = _record.ca_file
server_context = _record.server_context
smtpd = _record.smtpd
smtpd_implicit = _record.smtpd_implicit
smtpd_tls_required = _record.smtpd_tls_required
silent_server = _record.silent_server
closed_port = _record.closed_port
RawServer = _record.RawServer
free_port = _record.free_port


class ProxyProcess:
    """`smtplog proxy` as a user runs it, on a free loopback port."""

    def __init__(self, folder: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        environment = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR")}
        environment.update({"COLUMNS": "100", "TERM": "dumb", "PYTHONUNBUFFERED": "1"})
        environment.update(env or {})
        self.args = args
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "smtplog", "proxy", "--save-dir", str(folder), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=environment,
            cwd=ROOT,
        )
        self.lines: list[str] = []
        self.errors: list[str] = []
        self.ports: list[int] = []
        ready = threading.Event()

        def read_err() -> None:
            assert self.proc.stderr is not None
            for raw in self.proc.stderr:
                line = raw.decode("utf-8", "replace")
                self.errors.append(line)
                if "listening on" in line:
                    import re

                    self.ports = [int(p) for p in re.findall(r":(\d+)", line.split(";")[0])]
                    ready.set()

        def read_out() -> None:
            assert self.proc.stdout is not None
            for raw in self.proc.stdout:
                self.lines.append(raw.decode("utf-8", "replace"))

        threading.Thread(target=read_err, daemon=True).start()
        threading.Thread(target=read_out, daemon=True).start()
        if not ready.wait(20):
            self.proc.kill()
            raise RuntimeError("the proxy did not start: " + "".join(self.errors))

    @property
    def port(self) -> int:
        return self.ports[0]

    def verdicts(self, count: int, timeout: float = 30) -> list[str]:
        """Wait until ``count`` sessions have ended; their verdict lines."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [line for line in self.lines if line.startswith("session ")]
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{count} verdicts expected, got: {self.lines} {self.errors}")

    def transcripts(self) -> list[Path]:
        return sorted(self.folder.glob("*.txt"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        time.sleep(0.1)  # the reader threads finish
        output = self.folder / "proxy-output.log"
        output.write_text("".join(self.lines) + "".join(self.errors))
        return self.proc.returncode


_counter = iter(range(1_000_000))


@pytest.fixture
def start_proxy(writes: Path) -> Iterator:  # type: ignore[type-arg]
    started: list[ProxyProcess] = []

    def start(*args: str, **kwargs) -> ProxyProcess:  # type: ignore[no-untyped-def]
        folder = writes / f"proxy-{next(_counter)}"
        env = {"XDG_DATA_HOME": str(writes / "xdg")}
        proxy = ProxyProcess(folder, "--listen", "127.0.0.1:0", *args, env=env, **kwargs)
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        proxy.stop()


@pytest.fixture(scope="session")
def proxy_cert(ca, writes: Path) -> str:  # type: ignore[no-untyped-def]
    """The proxy's own certificate (and key) for TLS termination, from the test CA."""
    path = writes / "proxy-cert.pem"
    ca.issue_cert("proxy.example.test", "127.0.0.1").private_key_and_cert_chain_pem.write_to_path(
        str(path)
    )
    return str(path)
