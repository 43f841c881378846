"""What client programs say about a failure: ``knowledge/client-errors.tsv``."""

from __future__ import annotations

import re
from functools import cache, lru_cache

from smtplog.knowledge import read_tsv
from smtplog.rules.classify import WARM_AFTER, LazyPattern, Screen
from smtplog.rules.literals import longest_phrase, lowered, needed


@cache
def client_error_rows() -> tuple[tuple[str, LazyPattern, str], ...]:
    """``knowledge/client-errors.tsv``: what client programs say, in order."""
    return tuple(
        (row["diagnosis"], LazyPattern(row["pattern"]), row["source"])
        for row in read_tsv("client-errors.tsv")
    )


@cache
def _client_error_screen() -> Screen:
    """Which rows may match a text, from one scan (a text most often names none)."""
    return Screen([pattern for _diagnosis, pattern, _source in client_error_rows()])


_client_error_texts = [0]  # texts looked at: the screen pays off in a long log


@lru_cache(maxsize=4096)  # logs repeat the same notes and errors in every session
def client_error_diagnosis(text: str) -> tuple[str, str] | None:
    """The diagnosis a client program's error text names, and the matched words."""
    low = lowered(text)
    _client_error_texts[0] += 1
    rows = client_error_rows()
    if low is not None and _client_error_texts[0] > WARM_AFTER:
        rows = tuple(rows[index] for index in _client_error_screen().fitting(low))
    for diagnosis, pattern, _source in rows:
        if pattern.found(text, low):  # (quick) then the words, from the text as written
            words = pattern.words(text)
            return diagnosis, words if words is not None else text
    return None


@lru_cache(maxsize=1024)  # a log repeats its notes ("disconnect from ... commands=5") often
def may_name(text: str, diagnoses: frozenset[str]) -> bool:
    """False only when no row giving one of ``diagnoses`` can match ``text``: one search
    for the phrases those rows need (a detector asks of every note and error in a log)."""
    phrases = _phrases_of(diagnoses)
    if phrases is None:
        return True
    low = lowered(text)
    return low is None or phrases.search(low) is not None


@cache
def _phrases_of(diagnoses: frozenset[str]) -> re.Pattern[str] | None:
    """Every phrase some row giving one of ``diagnoses`` needs (None: a row needs none)."""
    phrases: set[str] = set()
    for diagnosis, pattern, _source in client_error_rows():
        if diagnosis in diagnoses:
            need = needed(pattern.pattern)
            if need is None:
                return None
            phrases |= need
    return re.compile(longest_phrase(phrases)) if phrases else None
