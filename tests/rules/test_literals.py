"""The literal test before each knowledge pattern never refuses a text the pattern matches.

smtplog/rules/literals.py derives, from each pattern's syntax, phrases one of
which must be in any text it matches, and classification skips the regular
expression when none is there. That must change no result: for every pattern
in the knowledge tables, texts the pattern matches (made by hypothesis from the
pattern itself, and every reply of the labelled corpus) always pass the test.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smtplog.rules.classify import all_rules, providers
from smtplog.rules.literals import may_match, needed

PATTERNS = sorted(
    {rule.pattern.pattern for rule in all_rules() if rule.pattern is not None}
    | {m.pattern for p in providers().values() for v in p.variants for m in v.markers}
)
ASCII = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40)


def test_most_patterns_have_a_cheap_test() -> None:
    tested = [p for p in PATTERNS if needed(p) is not None]
    assert len(tested) > 0.8 * len(PATTERNS)


@pytest.mark.parametrize("pattern", PATTERNS)
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(data=st.data())
def test_a_text_the_pattern_matches_passes_the_test(pattern: str, data: st.DataObject) -> None:
    compiled = re.compile(pattern, re.IGNORECASE)
    middle = data.draw(st.from_regex(compiled, fullmatch=True).filter(str.isascii))
    assert may_match(needed(pattern), middle)
    text = data.draw(ASCII) + middle + data.draw(ASCII)
    text = "".join(c.upper() if data.draw(st.booleans()) else c for c in text)
    if compiled.search(text):  # (context can break a \b at the edges)
        assert may_match(needed(pattern), text)


def test_the_labelled_corpus_passes_every_pattern_that_matches_it() -> None:
    from tests.corpus.corpus import load_corpus

    texts = [row.reply.replace("\\n", " ") for row in load_corpus()]
    assert len(texts) > 100
    for pattern in PATTERNS:
        compiled, need = re.compile(pattern, re.IGNORECASE), needed(pattern)
        for text in texts:
            if compiled.search(text):
                assert may_match(need, text), (pattern, text)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("relay(ing)? access denied|unable to relay", {" access denied", "unable to relay"}),
        (r"\[PH01\]", {"[ph01]"}),
        ("(foo|)bar", {"bar"}),
        ("a*", None),
        ("[a-z]+", None),
        ("x(y|)", {"x"}),
    ],
)
def test_what_a_pattern_needs(pattern: str, expected: set[str] | None) -> None:
    assert needed(pattern) == (frozenset(expected) if expected is not None else None)


def test_non_ascii_text_is_always_searched() -> None:
    # "ſ" (long s) matches "s" case-insensitively, but is not "s" in lower case.  # noqa: RUF003
    assert re.search("spam", "ſpam", re.IGNORECASE)
    assert may_match(needed("spam"), "ſpam")
