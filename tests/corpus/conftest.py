"""Print the corpus accuracy per diagnosis at the end of a run that collected it."""

from __future__ import annotations

from typing import Any


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    if not any("corpus" in str(item.fspath) for item in terminalreporter.stats.get("passed", [])):
        return
    from tests.corpus.corpus import accuracy_table, load_corpus

    lines, _n, _ok = accuracy_table(load_corpus())
    terminalreporter.section("labelled reply corpus: accuracy per diagnosis")
    for line in lines:
        terminalreporter.write_line(line)
