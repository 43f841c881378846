"""Choosing the output format and writing reports."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from smtplog.report import Report


def resolve_format(name: str) -> str:
    if name != "auto":
        return name
    return "terminal" if sys.stdout.isatty() else "text"


def write_reports(reports: list[Report], fmt: str) -> None:
    if fmt == "json":
        from smtplog.render.data import document

        sys.stdout.write(json.dumps(document(reports), indent=2, ensure_ascii=False) + "\n")
    elif fmt == "terminal":
        from rich.console import Console

        from smtplog.render.terminal import render

        console = Console(highlight=False, emoji=False, markup=False)
        render(console, reports)
    else:
        from smtplog.render.text import render

        sys.stdout.write(render(reports) + "\n")
