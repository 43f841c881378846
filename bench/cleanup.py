"""Cost of the cleanup stage and of choosing the variant, on a large input.

Builds an input of many sessions (a clean sample repeated, and the same after
a transformation from scripts/make_messy_samples.py), then prints, for each:
lines, seconds and lines/s for (1) cleanup.variants(), (2) reading.read()
(variants + every dialect's score + tie-break parse), (3) the whole analysis,
with and without cleanup. Peak memory of the whole analysis is printed too.

Usage: python bench/cleanup.py [--sessions N]
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.make_messy_samples import compose, hard_wrap, html_ticket, indent, syslog_prefix
from smtplog import cleanup
from smtplog.analysis import analyze_source
from smtplog.reading import read
from smtplog.source import source_from_bytes

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "swaks" / "recipient-unknown.txt"


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=2000)
    args = parser.parse_args()
    session = SAMPLE.read_text(encoding="utf-8").splitlines()
    # Each session is mangled on its own (a syslog clock per run), then repeated.
    inputs = {
        "clean": session * args.sessions,
        "html": html_ticket(session * args.sessions),
        "syslog+wrap": compose(syslog_prefix, hard_wrap(72))(session) * args.sessions,
        "indent": indent(session) * args.sessions,
    }
    print(f"{'input':<20} {'lines':>8} {'stage':<22} {'seconds':>8} {'lines/s':>10}")
    for name, text_lines in inputs.items():
        data = ("\n".join(text_lines) + "\n").encode()
        source = source_from_bytes(data, name)
        count = len(source.lines)
        steps: dict[str, Callable[[], object]] = {
            "cleanup.variants": lambda source=source: cleanup.variants(source),
            "reading.read": lambda source=source: read(source),
            "analysis": lambda source=source: analyze_source(source),
            "analysis --no-cleanup": lambda source=source: analyze_source(source, cleanup=False),
        }
        for step, action in steps.items():
            if step == "analysis --no-cleanup" and name != "clean":
                continue
            seconds = timed(action)
            print(f"{name:<20} {count:>8} {step:<22} {seconds:>8.3f} {count / seconds:>10.0f}")
        tracemalloc.start()
        analyze_source(source)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"{name:<20} {count:>8} {'peak memory (MiB)':<22} {peak / 2**20:>8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
