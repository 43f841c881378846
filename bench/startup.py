"""Start-up time of `smtplog analyze` on a small file, next to the import floor.

Prints milliseconds (best and median of N runs, fresh processes) for:
  - the floor: `python -c "import lark, rich, click"` (the libraries smtplog is built on)
  - `smtplog analyze --format text SAMPLE` (the pipe case: text output, no rich)
  - `smtplog analyze --format terminal SAMPLE` (the interactive case)

Usage: python bench/startup.py [--runs N] [SAMPLE]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SAMPLE = ROOT / "samples" / "telnet" / "exchange-style-delivered.txt"


def timed(command: list[str], runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        samples.append((time.perf_counter() - start) * 1000)
    return min(samples), statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sample", nargs="?", default=str(DEFAULT_SAMPLE))
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    analyze = [sys.executable, "-m", "smtplog", "analyze"]
    cases = {
        "import lark, rich, click (floor)": [sys.executable, "-c", "import lark, rich, click"],
        "smtplog analyze --format text": [*analyze, "-f", "text", args.sample],
        "smtplog analyze --format terminal": [*analyze, "-f", "terminal", args.sample],
    }
    timed(cases["smtplog analyze --format text"], 2)  # warm the lark grammar cache
    results = {name: timed(command, args.runs) for name, command in cases.items()}
    floor = results["import lark, rich, click (floor)"][1]
    print(f"{'case':<40} {'best ms':>8} {'median ms':>10} {'x floor':>8}")
    for name, (best, median) in results.items():
        print(f"{name:<40} {best:8.1f} {median:10.1f} {median / floor:8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
