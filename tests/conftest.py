"""Shared test helpers: analyse inline transcripts, run the real CLI."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"


# The fuzz and property tests (tests/test_fuzz.py): "ci" is bounded and repeatable
# (make test); "fuzz" explores far more, with fresh examples every run (make fuzz).
settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "5000")),
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_configure(config: pytest.Config) -> None:
    """smtplog's user cache (smtplog/cache.py) in a folder of this test run, not in ~/.cache."""
    if "SMTPLOG_CACHE_DIR" not in os.environ:
        import tempfile

        os.environ["SMTPLOG_CACHE_DIR"] = tempfile.mkdtemp(prefix="smtplog-test-cache-")


def transcript(text: str) -> str:
    """Dedent an inline test transcript and drop the leading newline."""
    return textwrap.dedent(text).lstrip("\n")


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


def run_cli(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> Run:
    """Run `python -m smtplog` as a user would, in a clean colour environment."""
    environment = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR")}
    environment.update({"COLUMNS": "100", "TERM": "dumb"})
    environment.update(env or {})
    result = subprocess.run(
        [sys.executable, "-m", "smtplog", *args],
        input=stdin,
        capture_output=True,
        env=environment,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    return Run(
        result.returncode,
        result.stdout.decode("utf-8", "replace"),
        result.stderr.decode("utf-8", "replace"),
    )


@pytest.fixture
def cli() -> Callable[..., Run]:
    return run_cli


@pytest.fixture
def full_backlog() -> Iterator[int]:
    """A listener that never accepts and whose accept queue is full: SYNs are dropped.

    Linux drops a SYN while the accept queue of the listener is full, so the
    client sees exactly what a firewall dropping packets causes: a connect timeout.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.settimeout(0.3)
        try:
            filler.connect(("127.0.0.1", port))
        except OSError:
            filler.close()
            break
        fillers.append(filler)
    try:
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


BENCH_LOGS = ("postfix", "summary", "exchange")


def bench_log_records(kind: str, count: int = 6000) -> list:  # type: ignore[type-arg]
    """The records of the first ``count`` lines of one of the bench's logs (bench/logs.py,
    made of the samples): what the fast paths of the pipeline are proved on."""
    from itertools import islice

    from smtplog.dialects import get
    from smtplog.source import Line

    sys.path.insert(0, str(ROOT / "bench"))
    import logs  # bench/logs.py: the bench's logs, made of the samples

    made = {
        "postfix": lambda: logs.postfix_lines(seed=5),
        "summary": lambda: logs.postfix_lines(seed=5, samples=logs.POSTFIX_SUMMARY_SAMPLES),
        "exchange": lambda: logs.exchange_lines(seed=5),
    }[kind]()
    lines = [Line(number, text) for number, text in enumerate(islice(made, count), 1)]
    return list(get("exchange" if kind == "exchange" else "postfix").stream(lines))
