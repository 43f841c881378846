"""Large, realistic logs made of the real samples, of any size, without holding them.

A mail.log of a busy day is the same few conversations over and over, each
with its own queue ids, process ids, addresses and times, several in flight
at once. So each generator here takes the real samples (samples/postfix/*:
Postfix 3.7 logs of the lab; samples/exchange/*: Exchange protocol logs) and
replays them endlessly: every copy of a sample gets fresh queue ids, pids (or
Exchange session ids), fresh local parts for its addresses and a running
clock, and ``INTERLEAVE`` copies are in flight at once, their lines mixed the
way concurrent connections mix in a real log.

    from logs import postfix_lines, exchange_lines, chunks
    for chunk in chunks(postfix_lines(), 100 * 1024 * 1024): ...

Used by bench/throughput.py and tests/test_streaming.py (which streams a
multi-gigabyte-shaped input through the analysis without writing it to disk).
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
INTERLEAVE = 8  # conversations in flight at once

# The Postfix samples that are mail.log lines (posttls-finger is a tool of its own).
POSTFIX_SAMPLES = (
    "delivery-log.txt",
    "smtpd-log.txt",
    "verbose-smtp-delivered.txt",
    "verbose-smtp-greylisted.txt",
    "verbose-smtp-rejected.txt",
    "verbose-smtpd.txt",
)
# A production mail.log has no verbose chat: the delivery and smtpd summaries only.
POSTFIX_SUMMARY_SAMPLES = ("delivery-log.txt", "smtpd-log.txt")
_SYSLOG = re.compile(r"^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d ")
_QUEUE_ID = re.compile(r"\b[0-9A-F]{10,12}\b")
_PID = re.compile(r"\[(\d+)\]:")
_LOCAL_PART = re.compile(r"(?<=[<=])([A-Za-z0-9._%+-]+)(?=@[A-Za-z0-9.-]+\.[a-z]+)")
_SESSION_ID = re.compile(r"^([^,]*),([^,]*),([0-9A-F]{16}),")
_ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


class _Names:
    """Fresh names for one copy of a sample (the same old name gets the same new one)."""

    def __init__(self, rng: random.Random, pids: Iterator[int]) -> None:
        self.rng = rng
        self.pids = pids
        self.queue_ids: dict[str, str] = {}
        self.pid: dict[str, str] = {}
        self.people: dict[str, str] = {}
        self.sessions: dict[str, str] = {}

    def queue_id(self, match: re.Match[str]) -> str:
        old = match.group(0)
        if old not in self.queue_ids:
            self.queue_ids[old] = f"{self.rng.randrange(16 ** len(old)):0{len(old)}X}"
        return self.queue_ids[old]

    def process(self, match: re.Match[str]) -> str:
        old = match.group(1)
        if old not in self.pid:
            self.pid[old] = str(next(self.pids))
        return f"[{self.pid[old]}]:"

    def person(self, match: re.Match[str]) -> str:
        old = match.group(1)
        if old not in self.people:
            self.people[old] = f"{old.split('.')[0][:8]}.{self.rng.randrange(10**6):06d}"
        return self.people[old]

    def session(self, old: str) -> str:
        if old not in self.sessions:
            self.sessions[old] = f"{self.rng.randrange(16**16):016X}"
        return self.sessions[old]


def _pids(start: int = 1000, top: int = 4_000_000) -> Iterator[int]:
    pid = start
    while True:
        pid = pid + 1 if pid < top else start
        yield pid


def _interleave(
    copies: Iterator[list[str]], rng: random.Random, lanes: int = INTERLEAVE
) -> Iterator[str]:
    """Lines of ``lanes`` copies at a time, mixed at random, each copy in its own order."""
    active: list[Iterator[str]] = []
    while True:
        while len(active) < lanes:
            active.append(iter(next(copies)))
        index = rng.randrange(len(active))
        line = next(active[index], None)
        if line is None:
            active.pop(index)
            continue
        yield line


def postfix_lines(seed: int = 1, samples: Iterable[str] = POSTFIX_SAMPLES) -> Iterator[str]:
    """An endless Postfix mail.log (lines without their newline)."""
    rng = random.Random(seed)
    blocks = [
        [line for line in (SAMPLES / "postfix" / name).read_text().splitlines() if line.strip()]
        for name in samples
    ]
    pids = _pids()

    def copies() -> Iterator[list[str]]:
        number = 0
        while True:
            names = _Names(rng, pids)
            block = blocks[number % len(blocks)]
            number += 1
            out = []
            for line in block:
                rest = _SYSLOG.sub("", line, count=1)
                rest = _QUEUE_ID.sub(names.queue_id, rest)
                rest = _PID.sub(names.process, rest)
                out.append(_LOCAL_PART.sub(names.person, rest))
            yield out

    clock = time.mktime((2026, 11, 28, 0, 0, 0, 0, 0, -1))
    for line in _interleave(copies(), rng):
        clock += rng.random() * 0.05
        yield time.strftime("%b %d %H:%M:%S ", time.localtime(clock)) + line


def exchange_lines(seed: int = 1, sample: str = "receive-interleaved.txt") -> Iterator[str]:
    """An endless Exchange protocol log: the sample's header, then its records replayed."""
    rng = random.Random(seed)
    lines = (SAMPLES / "exchange" / sample).read_text().splitlines()
    header = [line for line in lines if line.startswith("#")]
    records = [line for line in lines if line.strip() and not line.startswith("#")]
    sessions = {_SESSION_ID.match(r).group(3) for r in records if _SESSION_ID.match(r)}  # type: ignore[union-attr]
    # A copy of the sample is one conversation per session id, replayed on its own.
    by_session = {sid: [r for r in records if f",{sid}," in r] for sid in sorted(sessions)}
    pids = _pids()

    def copies() -> Iterator[list[str]]:
        while True:
            for old, rows in by_session.items():
                names = _Names(rng, pids)
                new = names.session(old)
                yield [_LOCAL_PART.sub(names.person, row.replace(old, new)) for row in rows]

    yield from header
    clock = time.mktime((2026, 11, 28, 0, 0, 0, 0, 0, -1))
    for row in _interleave(copies(), rng):
        clock += rng.random() * 0.05
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(clock))
        yield _ISO.sub(f"{stamp}.{int(clock * 1000) % 1000:03d}Z", row, count=1)


def chunks(lines: Iterable[str], size: int, chunk: int = 1 << 20) -> Iterator[bytes]:
    """The lines as bytes (LF line ends), ``chunk`` at a time, until ``size`` bytes."""
    written = 0
    parts: list[str] = []
    have = 0
    for line in lines:
        parts.append(line)
        have += len(line) + 1
        if have >= chunk or written + have >= size:
            data = ("\n".join(parts) + "\n").encode()
            written += len(data)
            yield data
            parts, have = [], 0
            if written >= size:
                return


def write(path: Path, lines: Iterable[str], size: int) -> int:
    """Write ``size`` bytes of ``lines`` to ``path``; return the bytes written."""
    total = 0
    with path.open("wb") as handle:
        for data in chunks(lines, size):
            handle.write(data)
            total += len(data)
    return total
