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
from smtplog.rules.literals import case_free, lower_form, may_match, needed

PATTERNS = sorted(
    {rule.pattern.pattern for rule in all_rules() if rule.pattern is not None}
    | {m.pattern for p in providers().values() for v in p.variants for m in v.markers}
)
ASCII = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
SETTINGS = settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def matched_texts(compiled: re.Pattern[str], data: st.DataObject) -> tuple[str, str]:
    """An ASCII text the pattern matches whole, and it inside other text, cases mixed."""
    middle = data.draw(st.from_regex(compiled, fullmatch=True).filter(str.isascii))
    text = data.draw(ASCII) + middle + data.draw(ASCII)
    return middle, "".join(c.upper() if data.draw(st.booleans()) else c for c in text)


def test_most_patterns_have_a_cheap_test() -> None:
    tested = [p for p in PATTERNS if needed(p) is not None]
    assert len(tested) > 0.8 * len(PATTERNS)


@pytest.mark.parametrize("pattern", PATTERNS)
@SETTINGS
@given(data=st.data())
def test_a_text_the_pattern_matches_passes_the_test(pattern: str, data: st.DataObject) -> None:
    compiled = re.compile(pattern, re.IGNORECASE)
    middle, text = matched_texts(compiled, data)
    assert may_match(needed(pattern), middle)
    if compiled.search(text):  # (context can break a \b at the edges)
        assert may_match(needed(pattern), text)


def test_every_pattern_has_a_lower_case_form() -> None:
    assert [p for p in PATTERNS if lower_form(p) is None] == []


@pytest.mark.parametrize("pattern", PATTERNS)
@SETTINGS
@given(data=st.data())
def test_the_lower_case_form_finds_what_the_pattern_finds(
    pattern: str, data: st.DataObject
) -> None:
    compiled = re.compile(pattern, re.IGNORECASE)
    lower = re.compile(lower_form(pattern) or "")
    middle, text = matched_texts(compiled, data)
    for candidate in (text, middle, data.draw(ASCII)):
        found = compiled.search(candidate)
        in_lower = lower.search(candidate.lower())
        assert bool(found) == bool(in_lower), (pattern, candidate)
        if found and in_lower:
            assert found.span() == in_lower.span()


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("Relay Access DENIED", "relay access denied"),
        (r"\[PH\d+\]", r"\[ph\d+\]"),
        ("[A-Z]+ ok", "[a-z]+ ok"),
        (r"\S+ X", None),  # \S is not \s: an escape keeps the pattern as written
        (r"(a)\1", None),  # back references compare case by their own rules
        ("(?i)abc", None),
        ("caf\u00c9", None),  # beyond ASCII
        ("(?P<Name>x)", None),
    ],
)
def test_lower_case_forms(pattern: str, expected: str | None) -> None:
    assert lower_form(pattern) == expected
    if expected is not None:
        assert case_free(expected)


def test_the_labelled_corpus_passes_every_pattern_that_matches_it() -> None:
    from tests.corpus.corpus import load_corpus

    texts = [row.reply.replace("\\n", " ") for row in load_corpus()]
    assert len(texts) > 100
    for pattern in PATTERNS:
        compiled, need = re.compile(pattern, re.IGNORECASE), needed(pattern)
        lower = re.compile(lower_form(pattern) or "")
        for text in texts:
            if compiled.search(text):
                assert may_match(need, text), (pattern, text)
            if text.isascii():
                assert bool(compiled.search(text)) == bool(lower.search(text.lower()))


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
