"""docs/diagnoses.md is generated from the registry and must be current."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from smtplog.rules import diagnoses

ROOT = Path(__file__).resolve().parent.parent.parent


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_are_current() -> None:
    current = (ROOT / "docs" / "diagnoses.md").read_text(encoding="utf-8")
    assert current == _generator().render(), "run: python scripts/gen_docs.py"


def test_docs_cover_every_diagnosis() -> None:
    text = (ROOT / "docs" / "diagnoses.md").read_text(encoding="utf-8")
    for key in diagnoses():
        assert f"### `{key}`" in text
    assert "## Provider code collisions" in text
