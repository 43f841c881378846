#!/usr/bin/env python3
"""Print the labelled reply corpus's accuracy per diagnosis (tests/corpus/replies.tsv).

    python scripts/corpus_report.py            # the table
    python scripts/corpus_report.py --misses   # also every row classified differently

Exit status 1 when a row is misclassified.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.corpus.corpus import accuracy_table, classify_labelled, load_corpus


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list the misclassified rows")
    args = parser.parse_args()
    rows = load_corpus()
    lines, total, right = accuracy_table(rows)
    print("\n".join(lines))
    if args.misses:
        for item in rows:
            result = classify_labelled(item)
            if result.diagnosis != item.expected:
                print(
                    f"line {item.line}: {item.reply!r} at {item.phase or 'any phase'}: "
                    f"{result.diagnosis} ({result.matched_by}), labelled {item.expected}"
                )
    return 0 if right == total else 1


if __name__ == "__main__":
    sys.exit(main())
