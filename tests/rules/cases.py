"""The example transcripts of every diagnosis: tests/rules/cases/<id>.toml.

Each file has ``[[fires]]`` entries (a transcript in which the diagnosis must be
found) and ``[[silent]]`` entries (a near miss in which it must not be). A
transcript is inline (``transcript``) or a file (``source``, relative to the
repository root: real captures in samples/ or tests/rules/captures/).

Optional keys of a ``fires`` entry: ``line`` (an input line the finding's
evidence must point at), ``session`` (1-based, which session; default: any),
``root`` (default true for failures: the finding must be the session's root
cause, its first finding).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent.parent
CASES = Path(__file__).resolve().parent / "cases"
BINARY_SUFFIXES = {".pcap", ".pcapng", ".gz"}


@dataclass(frozen=True)
class Case:
    diagnosis: str
    kind: str  # fires | silent
    name: str
    text: str
    source: str | None
    data: bytes | None = None  # binary sources (packet captures) are analysed as bytes
    line: int | None = None
    session: int | None = None
    root: bool = True
    origin: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.diagnosis}:{self.kind}:{self.name}"


def _text(entry: dict[str, Any], where: str) -> tuple[str, str | None]:
    if "source" in entry:
        path = ROOT / entry["source"]
        if path.suffix in BINARY_SUFFIXES:
            return "", entry["source"]
        return path.read_text(encoding="utf-8", errors="surrogateescape"), entry["source"]
    if "transcript" in entry:
        return entry["transcript"], None
    raise ValueError(f"{where}: an entry needs `source` or `transcript`")


def load_cases() -> list[Case]:
    cases = []
    for path in sorted(CASES.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for kind in ("fires", "silent"):
            for entry in data.get(kind, []):
                text, source = _text(entry, f"{path.name} {kind} {entry.get('name')!r}")
                cases.append(
                    Case(
                        diagnosis=path.stem,
                        kind=kind,
                        name=entry["name"],
                        text=text,
                        source=source,
                        data=(ROOT / source).read_bytes() if source and not text else None,
                        line=entry.get("line"),
                        session=entry.get("session"),
                        root=entry.get("root", True),
                        origin=entry.get("origin"),
                    )
                )
    return cases
