"""Batch analysis: a folder of 1,000 transcripts made from the samples, --jobs 1 vs 2.

Builds the corpus (every sample in samples/manifest.tsv, copied round-robin
into 10 sub-folders until there are N files), then runs

    smtplog analyze CORPUS --format jsonl --jobs J > /dev/null

for each J and prints the wall time, the CPU time of smtplog and its workers
(user + sys; more than the wall time means more than one core was busy), the
speed-up over --jobs 1 and the files per second. The output of every run is
checked to hold one report per analysable file.

Usage: python bench/batch.py [--files 1000] [--jobs 1 2] [--runs 3] [--keep DIR]
Same measurement with hyperfine:
    python bench/batch.py --keep /tmp/corpus --runs 0
    hyperfine -w 1 'smtplog analyze /tmp/corpus -f jsonl -j 1' \
                   'smtplog analyze /tmp/corpus -f jsonl -j 2'
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "samples" / "manifest.tsv"


def samples() -> list[Path]:
    with MANIFEST.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        paths = [row["path"] for row in rows if row.get("path") and not row["path"].startswith("#")]
    return [ROOT / (p if p.startswith("samples/") else f"samples/{p}") for p in paths]


def build_corpus(target: Path, files: int) -> int:
    """Copy the samples round-robin into ``target``; return how many files were written."""
    sources = samples()
    for index in range(files):
        source = sources[index % len(sources)]
        folder = target / f"batch-{index % 10:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, folder / f"{index:04d}-{source.parent.name}-{source.name}")
    return files


def measure(corpus: Path, jobs: int, expected: int) -> tuple[float, float]:
    """Wall and CPU seconds (smtplog and its worker processes) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "smtplog", "analyze", str(corpus), "-f", "jsonl", "-j", str(jobs)],
        capture_output=True,
        check=False,
        cwd=ROOT,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = result.stdout.count(b"\n")
    if lines != expected:
        raise SystemExit(f"--jobs {jobs}: {lines} reports, expected {expected}: {result.stderr!r}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--runs", type=int, default=3, help="runs per --jobs value (median)")
    parser.add_argument("--keep", type=Path, help="build the corpus here and keep it")
    args = parser.parse_args()
    corpus = args.keep or Path(tempfile.mkdtemp(prefix="smtplog-corpus-"))
    try:
        if corpus.exists():
            shutil.rmtree(corpus)
        count = build_corpus(corpus, args.files)
        print(f"corpus: {count} files in {corpus} ({os.cpu_count()} CPUs)")
        if args.runs <= 0:
            return 0
        measure(corpus, max(args.jobs), count)  # warm the OS cache and lark's grammar cache
        columns = ("wall s", "cpu s", "cpu/wall", "speed-up", "files/s")
        print(f"{'jobs':>4} " + " ".join(f"{name:>8}" for name in columns))
        baseline = None
        for jobs in args.jobs:
            runs = [measure(corpus, jobs, count) for _ in range(args.runs)]
            wall = statistics.median(run[0] for run in runs)
            cpu = statistics.median(run[1] for run in runs)
            baseline = baseline or wall
            print(
                f"{jobs:>4} {wall:8.2f} {cpu:8.2f} {cpu / wall:8.2f} {baseline / wall:8.2f} "
                f"{count / wall:8.0f}"
            )
    finally:
        if args.keep is None:
            shutil.rmtree(corpus, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
