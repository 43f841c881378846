"""Regenerate tests/golden/ from samples/manifest.tsv.

Run `make goldens`, then review `git diff tests/golden` line by line before
committing: a golden file records what smtplog says about a real capture, and
a change there is a change in behaviour. Never edit the files by hand.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from smtplog.analysis import analyze_bytes
from smtplog.render.data import document
from smtplog.render.text import render
from tests.samples import GOLDEN, load_samples


def outputs(path: str, data: bytes) -> tuple[str, str]:
    report = analyze_bytes(data, path)
    as_json = json.dumps(document([report]), indent=2, ensure_ascii=False) + "\n"
    return as_json, render([report]) + "\n"


def main() -> int:
    GOLDEN.mkdir(exist_ok=True)
    expected = set()
    for sample in load_samples():
        as_json, as_text = outputs(sample.path, sample.file.read_bytes())
        for suffix, content in ((".json", as_json), (".txt", as_text)):
            target = GOLDEN / f"{sample.golden_stem}{suffix}"
            expected.add(target.name)
            if not target.exists() or target.read_text(encoding="utf-8") != content:
                target.write_text(content, encoding="utf-8")
                print(f"wrote {target.relative_to(GOLDEN.parent.parent)}")
    for stale in GOLDEN.iterdir():
        if stale.name not in expected:
            stale.unlink()
            print(f"removed {stale.relative_to(GOLDEN.parent.parent)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
