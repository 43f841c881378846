"""How robust reading is to paste damage: every clean sample x every transformation.

Each clean sample of samples/manifest.tsv is put through each transformation
of scripts/make_messy_samples.py; the result must get the same dialect,
outcome, failed_at and main diagnosis as the clean sample. Prints one line per
miss and a summary "transformation: passed/total". Covers every dialect whose
samples are in the manifest, present and future.

Usage: python bench/messy_matrix.py [--quiet]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.make_messy_samples import (
    Lines,
    caret_escapes,
    colourise,
    compose,
    forum_quote,
    hard_wrap,
    html_ticket,
    indent,
    iso_prefix,
    literal_crlf,
    markdown_fence,
    per_line_backticks,
    read_lines,
    syslog_prefix,
    with_prompt,
)
from smtplog.analysis import analyze_bytes
from smtplog.errors import SmtplogError
from tests.samples import load_samples

TRANSFORMATIONS: dict[str, Callable[[Lines], Lines]] = {
    "html": html_ticket,
    "fence+quote": compose(markdown_fence, forum_quote),
    "wrap72": hard_wrap(72),
    "syslog": syslog_prefix,
    "iso+indent": compose(iso_prefix, indent),
    "indent": indent,
    "colour": colourise,
    "caret": caret_escapes,
    "backticks": per_line_backticks,
    "prompt": lambda lines: [*with_prompt("cmd", lines), "user@vm:~$ "],
    "literal-crlf": literal_crlf,
}


def facts(data: bytes, name: str) -> tuple[object, ...]:
    try:
        report = analyze_bytes(data, name)
    except SmtplogError as exc:
        return ("error", type(exc).__name__)
    session = report.sessions[-1]
    main = session.main.id if session.main else None
    return (report.dialect, session.outcome, session.failed_at, main)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quiet", action="store_true", help="print the summary only")
    args = parser.parse_args()
    passed: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for sample in load_samples():
        if sample.origin == "derived":
            continue
        path = sample.path.removeprefix("samples/")
        clean = facts(sample.file.read_bytes(), sample.path)
        for name, transform in TRANSFORMATIONS.items():
            text = "\n".join(transform(read_lines(path))) + "\n"
            got = facts(text.encode("utf-8", "surrogateescape"), f"{name}:{path}")
            total[name] += 1
            if got == clean:
                passed[name] += 1
            elif not args.quiet:
                print(f"{name:<13} {path:<48} {clean} -> {got}")
    print("  ".join(f"{name}: {passed[name]}/{total[name]}" for name in TRANSFORMATIONS))
    everything = sum(total.values())
    print(f"all: {sum(passed.values())}/{everything}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
