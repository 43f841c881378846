"""The screen before the knowledge patterns refuses only rules that cannot match.

``classify.Screen`` scans a reply once for every phrase the patterns of a
candidate list require (``literals.requirements``) and lets ``classify`` skip
the rules whose requirements the text does not meet. It must change no result:
texts each pattern matches (made by hypothesis from the pattern) meet its
requirements; the screen admits exactly the rules whose requirements a text
meets; and over the labelled corpus, at every phase, classification with the
screen equals classification trying every rule.
"""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smtplog.rules import classify as classify_module
from smtplog.rules.classify import (
    PHASES,
    TIERS,
    Screen,
    _candidates,
    all_rules,
    classify,
    parse_reply_line,
)
from smtplog.rules.literals import longest_phrase, meets, requirements
from tests.rules.test_literals import ASCII, PATTERNS, SETTINGS, matched_texts

RULES = all_rules()


@pytest.mark.parametrize("pattern", PATTERNS)
@SETTINGS
@given(data=st.data())
def test_a_text_the_pattern_matches_meets_its_requirements(
    pattern: str, data: st.DataObject
) -> None:
    compiled = re.compile(pattern, re.IGNORECASE)
    middle, text = matched_texts(compiled, data)
    assert meets(requirements(pattern), middle)
    if compiled.search(text):
        assert meets(requirements(pattern), text)


def test_most_patterns_have_requirements() -> None:
    assert len([p for p in PATTERNS if requirements(p) is not None]) > 0.8 * len(PATTERNS)


def test_requirements_keep_every_part_of_an_alternative() -> None:
    found = requirements("mailbox (is )?(disabled|inactive)|banned recipient|x")
    assert found is None  # "x" requires nothing long enough
    found = requirements("mailbox (is )?(disabled|inactive)|banned recipient")
    assert found == (
        (frozenset({"mailbox "}), frozenset({"disabled", "inactive"})),
        (frozenset({"banned recipient"}),),
    )


@given(
    phrases=st.sets(st.text(alphabet="ab ", min_size=1, max_size=4), min_size=1, max_size=8),
    text=st.text(alphabet="ab c", max_size=30),
)
def test_the_scan_finds_the_longest_phrase_at_every_position(phrases: set[str], text: str) -> None:
    scan = re.compile(f"(?=({longest_phrase(phrases)}))")
    expected = [
        max((p for p in phrases if text.startswith(p, start)), key=len)
        for start in range(len(text))
        if any(text.startswith(p, start) for p in phrases)
    ]
    assert scan.findall(text) == expected


def _screen_admits(rules: tuple, text: str) -> list[int]:
    return list(Screen([rule.pattern for rule in rules]).fitting(text.lower()))


def _defined(rules: tuple, text: str) -> list[int]:
    return [
        index
        for index, rule in enumerate(rules)
        if rule.pattern is None or meets(requirements(rule.pattern.pattern), text)
    ]


@SETTINGS
@given(data=st.data(), index=st.integers(0, len(RULES) - 1))
def test_the_screen_admits_exactly_the_rules_a_text_may_match(
    data: st.DataObject, index: int
) -> None:
    pattern = RULES[index].pattern
    pieces = [data.draw(ASCII)]
    if pattern is not None:
        pieces.append(matched_texts(re.compile(pattern.pattern, re.IGNORECASE), data)[1])
    text = " ".join(pieces)
    admitted = _screen_admits(RULES, text)
    assert admitted == _defined(RULES, text)
    if pattern is not None and pattern.found(text):
        assert index in admitted


_PHRASES = sorted(
    {
        phrase
        for rule in RULES
        if rule.pattern is not None
        for requirement in requirements(rule.pattern.pattern) or ()
        for phrases in requirement
        for phrase in phrases
    }
)
# Texts made of real phrases and bits of addresses, in any order.
_PIECES = st.lists(
    st.sampled_from(_PHRASES) | st.text(alphabet="ab.<>@ 0123", max_size=6), max_size=12
)
_SHARED: list[Screen] = []  # one screen for every example: what it keeps is reused


def _shared_screen() -> Screen:
    if not _SHARED:
        _SHARED.append(Screen([rule.pattern for rule in RULES]))
    return _SHARED[0]


@settings(max_examples=100, deadline=None)
@given(
    pieces=_PIECES,
    order=st.randoms(use_true_random=False),
)
def test_a_kept_answer_is_the_answer_for_every_text_with_the_same_phrases(
    pieces: list[str], order: random.Random
) -> None:
    # Screen.fitting keeps its answer per set of phrases the scan found: the answer
    # must depend on nothing else (not their order or number, not the rest of the text).
    screen = _shared_screen()
    for _ in range(2):  # the second text: the same pieces in another order (often a kept set)
        text = " ".join(pieces)
        assert list(screen.fitting(text)) == _defined(RULES, text)
        order.shuffle(pieces)


@settings(max_examples=300, deadline=None)
@given(
    pieces=_PIECES,
    order=st.randoms(use_true_random=False),
)
def test_the_scan_around_an_address_finds_what_one_scan_of_the_text_finds(
    pieces: list[str], order: random.Random
) -> None:
    # Screen.phrases scans the text before and after an <address> once (kept) and the
    # address each time: the same phrases as one scan of the whole text.
    screen = _shared_screen()
    assert screen._apart  # the split is in use
    for _ in range(3):  # the same pieces reordered: kept heads and tails met again
        text = " ".join(pieces)
        for low in (text, f"{text} <{text}> {text}", f"<a>{text}<", f"{text}>x<y"):
            assert screen.phrases(low) == frozenset(screen._scan.findall(low)), low
        order.shuffle(pieces)


def test_the_screen_keeps_a_bounded_number_of_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(classify_module, "PIECES_KEPT", 3)
    screen = Screen([rule.pattern for rule in RULES[:40]])
    for phrase in sorted(screen._found)[:20]:
        low = f"x {phrase} <{phrase}> {phrase} y"
        assert screen.phrases(low) == frozenset(screen._scan.findall(low))
    assert len(screen._pieces) == 3


def test_the_screen_keeps_a_bounded_number_of_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(classify_module, "FITS_KEPT", 3)
    rules = RULES[:40]
    screen = Screen([rule.pattern for rule in rules])
    for phrase in sorted(screen._found)[:20]:
        assert list(screen.fitting(f"x {phrase} y")) == _defined(rules, f"x {phrase} y")
    assert len(screen._fits) == 3


def test_the_corpus_is_classified_the_same_with_and_without_the_screen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.corpus.corpus import load_corpus

    replies = [parse_reply_line(row.reply) for row in load_corpus()]
    replies = [reply for reply in replies if reply is not None]
    assert len(replies) > 100
    phases = (*PHASES, None)
    _candidates.cache_clear()
    monkeypatch.setattr(classify_module, "WARM_AFTER", 10**9)  # never screened
    unscreened = [classify(reply, phase) for reply in replies for phase in phases]
    _candidates.cache_clear()
    monkeypatch.setattr(classify_module, "WARM_AFTER", 0)  # always screened
    screened = [classify(reply, phase) for reply in replies for phase in phases]
    _candidates.cache_clear()
    assert screened == unscreened
    for reply in replies:
        candidates = _candidates("rcpt", reply.code, reply.enhanced, TIERS, None)
        assert candidates.screen() is not None


@given(
    phrases=st.sets(st.text(alphabet="ab .", min_size=1, max_size=4), min_size=1, max_size=12),
    text=st.text(alphabet="ab c.", max_size=30),
)
def test_the_phrase_expression_finds_a_phrase_whenever_one_is_there(
    phrases: set[str], text: str
) -> None:
    # LazyPattern.refuses and client_error_diagnosis search it instead of asking `in` for each.
    found = re.search(longest_phrase(phrases), text) is not None
    assert found == any(phrase in text for phrase in phrases)


def test_a_pattern_needing_many_phrases_refuses_by_one_search() -> None:
    from smtplog.rules.classify import SCAN_FROM, LazyPattern

    words = [f"{letter}word" for letter in "abcdefghijklmnopqrstuvwxyz"[: SCAN_FROM + 2]]
    pattern = LazyPattern("|".join(words))
    pattern.warm()
    assert pattern._phrases is not None
    assert pattern.refuses("nothing here")
    assert not pattern.refuses(f"a {words[-1]} b")
    assert pattern.found(f"A {words[3].upper()} b")
    assert pattern.search("no") is None


def _sample_lines() -> list[str]:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "samples"
    lines = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix not in (".sh", ".py", ".md", ".tsv", ".gz", ".pcap"):
            lines += path.read_text(encoding="utf-8", errors="replace").splitlines()
    return lines


def test_client_error_texts_are_diagnosed_the_same_with_and_without_the_screen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from smtplog.rules import client_errors
    from smtplog.rules.client_errors import client_error_diagnosis, client_error_rows

    texts = _sample_lines()
    assert len(texts) > 1000
    for _diagnosis, pattern, _source in client_error_rows():  # every row's own words
        texts.append(f"error: {pattern.words(pattern.pattern) or pattern.pattern}")
    results = []
    for seen in (-(10**9), 10**9):  # never screened, then always
        client_error_diagnosis.cache_clear()
        monkeypatch.setattr(client_errors, "_client_error_texts", [seen])
        results.append([client_error_diagnosis(text) for text in texts])
    client_error_diagnosis.cache_clear()
    assert results[0] == results[1]
    assert sum(found is not None for found in results[0]) > 20


def test_a_text_may_name_every_diagnosis_its_row_gives() -> None:
    from smtplog.rules.client_errors import client_error_diagnosis, client_error_rows, may_name
    from smtplog.rules.structural import CLIENT_SAYS

    texts = _sample_lines() + [f"x {p.words(p.pattern)} y" for _d, p, _s in client_error_rows()]
    says = frozenset(CLIENT_SAYS)
    named = 0
    for text in texts:
        found = client_error_diagnosis(text)
        if found is not None and found[0] in says:
            named += 1
            assert may_name(text, says), text
    assert named >= len(says)
    assert not may_name("250 2.0.0 Ok: queued as 4ABC", says)
