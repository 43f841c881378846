"""The labelled reply corpus: tests/corpus/replies.tsv.

One real reply per row (texts from MTAs' and providers' sources and documents
collected in the knowledge base, and from captures against the lab), with the
phase it answered (``*`` when a reply can come at any step) and the diagnosis a
mail administrator gives it. Multi-line replies are written on one row with
``\\n`` between the lines. Lines starting with ``#`` are section comments.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from smtplog.rules.classify import Classification, classify, classify_any_phase, parse_reply_line

CORPUS = Path(__file__).resolve().parent / "replies.tsv"


@dataclass(frozen=True)
class Labelled:
    line: int
    phase: str | None  # None: any phase
    reply: str
    expected: str
    source: str

    @property
    def id(self) -> str:
        return f"line{self.line}:{self.expected}"


def load_corpus(path: Path = CORPUS) -> list[Labelled]:
    rows = []
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    assert header == ["phase", "reply", "expected", "source"], header
    for number, text in enumerate(lines[1:], 2):
        if not text.strip() or text.startswith("#"):
            continue
        phase, reply, expected, source = text.split("\t")
        rows.append(
            Labelled(
                number,
                None if phase == "*" else phase,
                reply.replace("\\n", "\n"),
                expected,
                source,
            )
        )
    return rows


def classify_labelled(item: Labelled) -> Classification:
    reply = parse_reply_line(item.reply)
    assert reply is not None, f"line {item.line}: not a reply: {item.reply!r}"
    if item.phase is None:
        return classify_any_phase(reply)[1]
    return classify(reply, item.phase)


def accuracy_table(rows: list[Labelled]) -> tuple[list[str], int, int]:
    """Per expected diagnosis: how many rows, how many classified right."""
    total: Counter[str] = Counter()
    right: Counter[str] = Counter()
    for item in rows:
        total[item.expected] += 1
        if classify_labelled(item).diagnosis == item.expected:
            right[item.expected] += 1
    width = max(len(name) for name in total)
    lines = [f"{'diagnosis':<{width}}  rows  right  accuracy"]
    for name in sorted(total):
        lines.append(
            f"{name:<{width}}  {total[name]:>4}  {right[name]:>5}  {right[name] / total[name]:>8.0%}"
        )
    n, ok = sum(total.values()), sum(right.values())
    lines.append(f"{'all':<{width}}  {n:>4}  {ok:>5}  {ok / n:>8.1%}")
    return lines, n, ok
