"""What a command loads: start-up time is kept by not importing what a run does not use.

Times are measured by bench/startup.py, not here; these tests pin down the
structure that keeps them low (a text input loads one dialect module, no
packet-capture reader, no rich for text output...), so a change that loads
more shows up as a failing test, not as a slower tool nobody measured.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from smtplog import dialects
from smtplog.dialects.sniffers import SNIFFERS

from .conftest import ROOT, SAMPLES

TELNET = SAMPLES / "telnet" / "exchange-style-delivered.txt"
PROBE = """
import json, os, sys
sys.stdout = open(os.devnull, "w")
from smtplog.cli import main
try:
    main({argv!r})
except SystemExit:
    pass
loaded = sorted(m for m in sys.modules if m.split(".")[0] in {{"smtplog", "lark", "rich", "dpkt", "click", "tomllib", "tomli", "logging", "html", "csv"}})
sys.__stdout__.write(json.dumps(loaded))
"""


def loaded_by(*argv: str) -> set[str]:
    """The modules of interest a fresh interpreter has loaded after running ``argv``."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(argv=list(argv))],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        timeout=60,
    )
    return set(json.loads(result.stdout))


def dialect_modules(modules: set[str]) -> set[str]:
    return {m for m in modules if m.startswith("smtplog.dialects.") and not m[17:].startswith("_")}


def test_every_dialect_has_a_sniffer() -> None:
    assert list(SNIFFERS) == list(dialects.REGISTRY)


def test_detection_loads_only_the_chosen_dialect() -> None:
    modules = loaded_by("analyze", "--format", "text", str(TELNET))
    assert dialect_modules(modules) == {
        "smtplog.dialects.base",
        "smtplog.dialects.sniffers",
        "smtplog.dialects.telnet",
    }


def test_a_text_input_loads_no_capture_reader_no_lark_and_no_rich() -> None:
    modules = loaded_by("analyze", "--format", "text", str(TELNET))
    assert not {m for m in modules if m.split(".")[0] == "lark"}  # the standalone parser
    assert "dpkt" not in modules
    assert "smtplog.pcap.reader" not in modules
    assert not {"logging", "html"} & modules  # used on some paths only, imported there
    assert not {m for m in modules if m.startswith("rich")}


@pytest.mark.parametrize(
    "argv", [["--help"], ["probe", "--help"], ["analyze", "--help"], ["--version"]]
)
def test_help_loads_no_pipeline(argv: list[str]) -> None:
    modules = loaded_by(*argv)
    heavy = {m for m in modules if m.split(".")[0] in {"lark", "rich", "dpkt"}}
    assert not heavy
    assert not dialect_modules(modules)
    assert "smtplog.analysis" not in modules
