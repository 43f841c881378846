"""The sample manifest: every real capture with the verdict a mail administrator gave it."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
MANIFEST = SAMPLES / "manifest.tsv"
GOLDEN = Path(__file__).resolve().parent / "golden"


@dataclass(frozen=True)
class Sample:
    path: str  # relative to the repository root
    dialect: str
    outcome: str
    failed_at: str | None
    diagnosis: str
    origin: str
    notes: str
    extra: dict[str, str]

    @property
    def session_index(self) -> int:
        """Which session of the file the labels describe (manifest column `session`)."""
        which = self.extra.get("session", "")
        if which == "last":
            return -1
        return int(which) - 1 if which.isdigit() else 0

    @property
    def file(self) -> Path:
        return ROOT / self.path

    @property
    def golden_stem(self) -> str:
        return self.path.removeprefix("samples/").replace("/", "__").rsplit(".", 1)[0]

    def __str__(self) -> str:
        return self.path


def load_samples() -> list[Sample]:
    if not MANIFEST.exists():
        return []
    with MANIFEST.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    samples = []
    for row in rows:
        if not row.get("path") or row["path"].startswith("#"):
            continue
        path = row["path"] if row["path"].startswith("samples/") else f"samples/{row['path']}"
        known = {"path", "dialect", "outcome", "failed_at", "diagnosis", "origin", "notes"}
        samples.append(
            Sample(
                path=path,
                dialect=row["dialect"],
                outcome=row["outcome"],
                failed_at=None if row["failed_at"] in ("", "-") else row["failed_at"],
                diagnosis=row["diagnosis"],
                origin=row.get("origin", ""),
                notes=row.get("notes", "") or "",
                extra={k: v for k, v in row.items() if k not in known and k and v},
            )
        )
    return samples
