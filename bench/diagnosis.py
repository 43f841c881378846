"""Speed of the diagnosis knowledge: loading the tables, classifying replies, explaining.

Prints:
  - the time to load and compile every knowledge table once (patterns.tsv,
    providers/*.toml, diagnoses.toml), in a fresh process;
  - classifier throughput: the labelled corpus (tests/corpus/replies.tsv) classified
    again and again, in replies per second (best of N rounds);
  - the diagnosis step of a whole session (rules on an analysed session), per session;
  - `smtplog explain 5.7.139` and `smtplog rules` wall time (fresh processes).

Usage: python bench/diagnosis.py [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def command_ms(args: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "smtplog", *args],
            stdout=subprocess.DEVNULL,
            check=False,
            cwd=ROOT,
        )
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    code = (
        "import time; import smtplog.rules.classify as c; from smtplog.rules import diagnoses;"
        "t = time.perf_counter(); c.all_rules(); diagnoses();"
        "print((time.perf_counter() - t) * 1000)"
    )
    loads = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, cwd=ROOT).stdout)
        for _ in range(5)
    ]  # fmt: skip
    print(f"knowledge tables loaded (lazy regexes): {statistics.median(loads):8.1f} ms (first use)")

    from smtplog.analysis import analyze_text
    from smtplog.protocol import analyze_session
    from smtplog.rules import diagnose_session
    from tests.corpus.corpus import classify_labelled, load_corpus

    rows = load_corpus()
    best = 0.0
    for _ in range(args.rounds):
        start = time.perf_counter()
        for item in rows:
            classify_labelled(item)
        best = max(best, len(rows) / (time.perf_counter() - start))
    print(f"classifier ({len(rows)} corpus replies):   {best:8.0f} replies/s (best round)")

    sample = (ROOT / "samples" / "swaks" / "relay-denied.txt").read_text()
    session = analyze_text(sample).sessions[0].analysis
    events = list(session.events)
    per = []
    for _ in range(args.rounds * 10):
        analysis = analyze_session(events)
        start = time.perf_counter()
        diagnose_session(analysis)
        per.append((time.perf_counter() - start) * 1000)
    print(f"rules on one session (swaks relay):   {statistics.median(per):8.3f} ms (median)")

    print(f"smtplog explain 5.7.139:              {command_ms(['explain', '5.7.139'], 5):8.1f} ms")
    print(f"smtplog rules:                        {command_ms(['rules'], 5):8.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
