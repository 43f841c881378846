"""The labelled corpus of real replies: every row must classify as labelled.

The per-diagnosis accuracy table is printed at the end of the run (see
conftest.py); `python scripts/corpus_report.py` prints it on its own.
"""

from __future__ import annotations

import pytest

from smtplog.rules import diagnoses
from tests.corpus.corpus import Labelled, classify_labelled, load_corpus

ROWS = load_corpus()


@pytest.mark.parametrize("item", ROWS, ids=lambda item: item.id)
def test_reply_is_classified_as_labelled(item: Labelled) -> None:
    result = classify_labelled(item)
    assert result.diagnosis == item.expected, (
        f"{item.reply!r} at {item.phase or 'any phase'}: got {result.diagnosis} "
        f"({result.matched_by}), labelled {item.expected} [{item.source}]"
    )


def test_corpus_size_and_labels() -> None:
    assert len(ROWS) >= 200
    assert {row.expected for row in ROWS} <= set(diagnoses())
    unique = {(row.phase, row.reply) for row in ROWS}
    assert len(unique) == len(ROWS), "a reply appears twice with the same phase"
