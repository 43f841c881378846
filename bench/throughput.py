"""Throughput and peak memory of `smtplog analyze --format jsonl --jobs 1` on large inputs.

Generates the inputs from the real samples (bench/logs.py; the capture with
bench/pcap_throughput.py's generator; the small transcripts with
bench/batch.py's corpus), then runs, for each one, in a child process:

    python -m smtplog analyze INPUT --format jsonl --jobs 1

and prints the wall time, MB/s and sessions/s (sessions = lines of jsonl
output), and the child's peak resident memory (its own VmHWM: bench/peak.py);
each input runs ``--repeat`` times (3) and the fastest run is reported, since a
shared VM slows single runs by up to half. The same
log at several sizes shows whether memory stays flat as inputs grow. Last, in
the same run, the start-up time of `smtplog analyze` on a small file next to
`python -c "import lark, rich, click"` (bench/startup.py's measurement).

    python bench/throughput.py                       # Postfix 10/100/1000 MB, Postfix
                                                     # summaries 100 MB, Exchange 100 MB,
                                                     # 10,000 transcripts, a 100 MB capture
    python bench/throughput.py --only postfix --sizes 10 100
    python bench/throughput.py --keep /tmp/bench     # keep the generated inputs

Targets (issue 7): at least 5 MB/s for line-oriented logs on one core, peak
memory under 150 MB whatever the input's size.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import logs  # noqa: E402
import peak  # noqa: E402

MB = 1024 * 1024
KINDS = ("postfix", "postfix-summary", "exchange", "transcripts", "pcap")


def run(target: Path) -> tuple[float, float, int, int]:
    """(wall s, cpu s, sessions, peak RSS KB) of one `analyze` run on ``target``."""
    command = peak.command("analyze", str(target), "--format", "jsonl", "--jobs", "1")
    # As installed: bytecode compiled once (PYTHONDONTWRITEBYTECODE would compile every run).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    started = time.perf_counter()
    child = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=env
    )
    assert child.stdout is not None and child.stderr is not None
    sessions = 0
    while block := child.stdout.read(1 << 20):
        sessions += block.count(b"\n")
    errors = child.stderr.read()
    _pid, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1) or not sessions:
        raise SystemExit(f"{target}: exit {code}: {errors.decode(errors='replace')[-500:]}")
    _errors, kilobytes = peak.peak_kb(errors)
    return wall, usage.ru_utime + usage.ru_stime, sessions, kilobytes


def size_of(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def make(kind: str, size_mb: float, folder: Path) -> tuple[str, Path]:
    """Generate one input; returns its label and path."""
    size = int(size_mb * MB)
    if kind == "postfix":
        path = folder / f"postfix-{size_mb:g}MB.log"
        logs.write(path, logs.postfix_lines(), size)
        return f"Postfix mail.log {size_mb:g} MB", path
    if kind == "postfix-summary":  # a production log: no verbose chat (debug_peer_list)
        path = folder / f"postfix-summary-{size_mb:g}MB.log"
        logs.write(path, logs.postfix_lines(samples=logs.POSTFIX_SUMMARY_SAMPLES), size)
        return f"Postfix mail.log, summaries {size_mb:g} MB", path
    if kind == "exchange":
        path = folder / f"exchange-{size_mb:g}MB.log"
        logs.write(path, logs.exchange_lines(), size)
        return f"Exchange receive log {size_mb:g} MB", path
    if kind == "transcripts":
        from batch import build_corpus

        path = folder / "transcripts"
        count = int(size_mb)
        build_corpus(path, count)
        return f"{count:,} small transcripts", path
    if kind == "pcap":
        from pcap_throughput import generate

        path = folder / f"capture-{size_mb:g}MB.pcap"
        path.write_bytes(generate(int(size_mb * 1_000_000)))
        return f"pcap {size_mb:g} MB", path
    raise ValueError(kind)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=KINDS, nargs="+", default=list(KINDS))
    parser.add_argument("--sizes", type=float, nargs="+", default=[10, 100, 1000],
                        help="Postfix log sizes in MB (the memory-flatness series)")  # fmt: skip
    parser.add_argument("--summary-size", type=float, default=100)
    parser.add_argument("--exchange-size", type=float, default=100)
    parser.add_argument("--transcripts", type=int, default=10_000)
    parser.add_argument("--pcap-size", type=float, default=100)
    parser.add_argument("--keep", type=Path, help="generate the inputs here and keep them")
    parser.add_argument("--startup-runs", type=int, default=20, help="0: no start-up table")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs per input, the fastest reported (a shared VM slows some runs by up to 50%%); "
        "inputs over 200 MB run once",
    )
    args = parser.parse_args()

    folder = args.keep or Path(tempfile.mkdtemp(prefix="smtplog-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    plan: list[tuple[str, float]] = []
    if "postfix" in args.only:
        plan += [("postfix", size) for size in args.sizes]
    if "postfix-summary" in args.only:
        plan.append(("postfix-summary", args.summary_size))
    if "exchange" in args.only:
        plan.append(("exchange", args.exchange_size))
    if "transcripts" in args.only:
        plan.append(("transcripts", args.transcripts))
    if "pcap" in args.only:
        plan.append(("pcap", args.pcap_size))
    python = sys.version.split()[0]
    print(
        f"smtplog analyze --format jsonl --jobs 1 (Python {python}, {os.uname().machine}; "
        f"the fastest of {args.repeat} runs, one for inputs over 200 MB)"
    )
    header = f"{'input':<32} {'MB':>8} {'s':>8} {'MB/s':>7} {'sessions':>9} {'sessions/s':>10} {'peak MB':>8}"  # noqa: E501
    print(header)
    print("-" * len(header))
    try:
        compileall.compile_dir(ROOT / "smtplog", quiet=1)
        run(ROOT / "samples" / "telnet" / "relay-denied.txt")  # warm the user cache
        for kind, size in plan:
            label, path = make(kind, size, folder)
            megabytes = size_of(path) / MB
            runs = [run(path) for _ in range(1 if megabytes > 200 else max(1, args.repeat))]
            wall, _cpu, sessions, peak = min(runs)
            print(
                f"{label:<32} {megabytes:8.1f} {wall:8.1f} {megabytes / wall:7.2f} "
                f"{sessions:9,} {sessions / wall:10,.0f} {peak / 1024:8.1f}",
                flush=True,
            )
            if args.keep is None:
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink()
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    if args.startup_runs:
        print_startup(args.startup_runs)
    return 0


def print_startup(runs: int) -> None:
    """Start-up of `analyze` on a small file and the import floor, in turn, in this run."""
    import startup

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    every = startup.cases(str(startup.DEFAULT_SAMPLE))
    chosen = [
        startup.FLOOR,
        "analyze --format text",
        "analyze --format text (a failure)",
        "analyze --format json",
        "analyze --format terminal",
    ]
    commands = {name: every[name] for name in chosen}
    startup.prepare(env, commands)
    results = startup.measure(commands, runs, env)
    floor = results[startup.FLOOR][1]
    print()
    print(f"start-up, median of {runs} ({startup.DEFAULT_SAMPLE.name})")
    print(f"{'case':<36} {'median ms':>10} {'x floor':>8}")
    for name, (_best, median) in results.items():
        print(f"{name:<36} {median:10.1f} {median / floor:8.2f}")


if __name__ == "__main__":
    raise SystemExit(main())
