"""Peak memory of a child `smtplog` process, measured inside the child.

``ru_maxrss`` from ``wait4`` is not the child's own figure: Linux carries the
high-water mark across ``execve``, and a child forked from a large process
(a test run, a benchmark holding a generated capture) starts with the
parent's resident pages counted. The child's ``VmHWM`` (``/proc/self/status``)
belongs to the program it runs; ``command()`` runs smtplog so that it prints
that figure on stderr as it exits, and ``peak_kb()`` takes it back out.

    child = subprocess.run(peak.command("analyze", path), capture_output=True)
    errors, kilobytes = peak.peak_kb(child.stderr)
"""

from __future__ import annotations

import sys

MARK = b"smtplog-peak-kb "
RUNNER = f"""
import atexit, runpy, sys

def report():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                sys.stderr.write("\\n{MARK.decode()}" + line.split()[1] + "\\n")
                sys.stderr.flush()

atexit.register(report)
sys.argv = ["smtplog", *sys.argv[1:]]
runpy.run_module("smtplog", run_name="__main__", alter_sys=True)
"""


def command(*args: str) -> list[str]:
    """``python -m smtplog ARGS`` that reports its peak resident memory on exit."""
    return [sys.executable, "-c", RUNNER, *args]


def peak_kb(stderr: bytes) -> tuple[bytes, int]:
    """The child's stderr without the report, and its peak resident memory in KiB."""
    head, found, tail = stderr.rpartition(b"\n" + MARK)
    if not found:
        raise ValueError("the child did not report its peak memory")
    return head, int(tail.split()[0])
