"""What a pattern cannot match without: a cheap test before the regular expression.

The knowledge tables hold hundreds of case-insensitive patterns, mostly
alternations of phrases ("relay(ing)? access denied|unable to relay|...").
Classifying one reply tries them in order, and most do not match. For each
pattern, ``needed()`` works out from its syntax tree a set of lower-case
strings of which at least one occurs in any text the pattern matches; a text
holding none of them is refused without running the expression. The result
is exactly the expression's (it is only a necessary condition), and it is
only used on ASCII text, where case-insensitive matching is ``str.lower()``.

``lower_form()`` gives the expression to run on the lower-cased text without
re.IGNORECASE, when there is one: about three times faster (the matcher folds
case at every step otherwise), and the same answer on ASCII text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

try:  # Python 3.11+
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover (3.10)
    import sre_parse  # type: ignore[no-redef]

_LITERAL = sre_parse.LITERAL
_BRANCH = sre_parse.BRANCH
_SUBPATTERN = sre_parse.SUBPATTERN
_REPEATS = {sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT}
_REPEATS |= {getattr(sre_parse, "POSSESSIVE_REPEAT", sre_parse.MAX_REPEAT)}
_ATOMIC = getattr(sre_parse, "ATOMIC_GROUP", None)
MAX_ALTERNATIVES = 64  # a set this large is no cheaper than the expression


def needed(pattern: str, flags: int = re.IGNORECASE) -> frozenset[str] | None:
    """Lower-case strings, one of which is in every (lower-cased ASCII) text the
    pattern matches; None when the pattern guarantees none (then always search)."""
    try:
        parsed = sre_parse.parse(pattern, flags)
    except (re.error, RecursionError, OverflowError):
        return None
    try:
        found = _sequence(list(parsed))
    except RecursionError:
        return None
    if not found or any(not item for item in found):
        return None
    return frozenset(found)


def _runs(items: list[tuple[object, object]]) -> Iterator[str | tuple[object, object]]:
    """The items of a concatenation, each run of ASCII literals joined and lower-cased."""
    run: list[str] = []
    for op, value in items:
        if op is _LITERAL and isinstance(value, int) and value < 128:
            run.append(chr(value).lower())
            continue
        if run:
            yield "".join(run)
            run = []
        yield op, value
    if run:
        yield "".join(run)


def _sequence(items: list[tuple[object, object]]) -> set[str] | None:
    """The most selective requirement among the parts of a concatenation."""
    choices: list[set[str]] = []
    for part in _runs(items):
        if isinstance(part, str):
            choices.append({part})
            continue
        inner = _item(*part)
        if inner:
            choices.append(inner)
    if not choices:
        return None
    # The set whose shortest member is longest rules out the most texts.
    return max(choices, key=lambda choice: (min(len(s) for s in choice), -len(choice)))


def _item(op: object, value: object) -> set[str] | None:
    if op is _SUBPATTERN:
        return _sequence(list(value[-1]))  # type: ignore[index]
    if _ATOMIC is not None and op is _ATOMIC:
        return _sequence(list(value))  # type: ignore[arg-type]
    if op in _REPEATS:
        low, _high, body = value  # type: ignore[misc]
        return _sequence(list(body)) if low >= 1 else None
    if op is _BRANCH:
        union: set[str] = set()
        for branch in value[1]:  # type: ignore[index]
            need = _sequence(list(branch))
            if not need:
                return None
            union |= need
            if len(union) > MAX_ALTERNATIVES:
                return None
        return union
    return None


Requirement = tuple[frozenset[str], ...]  # a phrase of every one of these sets is in the text
MIN_PHRASE = 3  # shorter phrases are in most texts: a set holding one rules out little


@lru_cache(maxsize=1024)  # (the knowledge tables hold a few hundred patterns)
def requirements(pattern: str, flags: int = re.IGNORECASE) -> tuple[Requirement, ...] | None:
    """What a (lower-cased ASCII) text the pattern matches holds, more precisely than
    ``needed``: one requirement per top-level alternative of the pattern, and the text
    meets at least one of them in full. None when some alternative requires nothing."""
    try:
        parsed = sre_parse.parse(pattern, flags)
    except (re.error, RecursionError, OverflowError):
        return None
    items = list(parsed)
    if len(items) == 1 and items[0][0] is _BRANCH:
        branches = [list(branch) for branch in items[0][1][1]]  # type: ignore[index]
    else:
        branches = [items]
    found: list[Requirement] = []
    try:
        for branch in branches:
            sets = [s for s in _all_of(branch) if min(len(item) for item in s) >= MIN_PHRASE]
            if not sets:
                return None
            found.append(tuple(dict.fromkeys(sets)))
    except RecursionError:
        return None
    return tuple(found)


def meets(found: tuple[Requirement, ...] | None, text: str) -> bool:
    """Does ``text`` meet one of the requirements ``found`` (True when there are none, or
    the text is not ASCII)? ``may_match`` for ``requirements``: what ``classify.Screen``
    decides from one scan of the text."""
    low = lowered(text)
    if found is None or low is None:
        return True
    return any(all(any(item in low for item in phrases) for phrases in need) for need in found)


def _all_of(items: list[tuple[object, object]]) -> list[frozenset[str]]:
    """Every requirement of a concatenation (``_sequence`` keeps only the best one)."""
    sets: list[frozenset[str]] = []
    for part in _runs(items):
        if isinstance(part, str):
            sets.append(frozenset({part}))
            continue
        body = _body(*part)
        if body is not None and not (len(body) == 1 and body[0][0] is _BRANCH):
            sets.extend(_all_of(body))  # a group or a repeat that must match: all it needs
            continue
        inner = _item(*part)
        if inner and all(inner):
            sets.append(frozenset(inner))
    return sets


def _body(op: object, value: object) -> list[tuple[object, object]] | None:
    """The items of a group, or of a repeat that matches at least once; else None."""
    if op is _SUBPATTERN:
        return list(value[-1])  # type: ignore[index]
    if _ATOMIC is not None and op is _ATOMIC:
        return list(value)  # type: ignore[arg-type]
    if op in _REPEATS and value[0] >= 1:  # type: ignore[index]
        return list(value[2])  # type: ignore[index]
    return None


def longest_phrase(phrases: set[str] | frozenset[str]) -> str:
    """An expression matching, where some phrase begins, the longest phrase beginning
    there: a trie, each step a choice between distinct characters (no backtracking
    between phrases), so that ``(?=(...))`` finds every phrase of a text from one scan."""
    trie: dict[str, dict] = {}
    for phrase in phrases:
        node = trie
        for char in phrase:
            node = node.setdefault(char, {})
        node[""] = {}  # a phrase ends here
    return _trie_expression(trie)


def _trie_expression(node: dict[str, dict]) -> str:
    alternatives = []
    for first, child in sorted(node.items()):
        if not first:
            continue
        run, rest = first, child
        while len(rest) == 1 and "" not in rest:  # a chain: one literal run
            ((char, rest),) = rest.items()
            run += char
        alternatives.append(re.escape(run) + _trie_expression(rest))
    if not alternatives:
        return ""
    body = alternatives[0] if len(alternatives) == 1 else f"(?:{'|'.join(alternatives)})"
    return f"(?:{body})?" if "" in node else body


@lru_cache(maxsize=256)
def lowered(text: str) -> str | None:
    """``text`` lower-cased when it is ASCII (None: the cheap test does not apply)."""
    return text.lower() if text.isascii() else None


def may_match(need: frozenset[str] | None, text: str) -> bool:
    """False only when the pattern whose requirement is ``need`` cannot match ``text``."""
    if need is None:
        return True
    low = lowered(text)
    if low is None:
        return True
    return any(item in low for item in need)


_NO_CASE = {
    sre_parse.AT,
    sre_parse.ANY,
    sre_parse.CATEGORY,
}
_NESTED = {sre_parse.ASSERT, sre_parse.ASSERT_NOT}


def lower_form(pattern: str) -> str | None:
    """``pattern`` to search an ASCII text lower-cased with, case-sensitively, finding what
    ``pattern`` finds case-insensitively in the text; None when unsure. Letters are
    lower-cased (the same under re.IGNORECASE); escapes such as ``\\S`` or ``\\B`` are
    not letters, so a pattern holding one stays as written and must be case-free."""
    lowered_pattern = pattern if _UPPER_ESCAPE.search(pattern) else pattern.lower()
    return lowered_pattern if case_free(lowered_pattern) else None


_UPPER_ESCAPE = re.compile(r"\\[A-Z]|\\N\{")


def case_free(pattern: str) -> bool:
    """Does ``pattern`` as written, searched in an ASCII text lower-cased, find what it
    finds case-insensitively in the text? True when every character it names is ASCII
    and not upper case, and it has no inline flags or back references (whose case
    rules differ); False whenever unsure."""
    try:
        parsed = sre_parse.parse(pattern, 0)
    except (re.error, RecursionError, OverflowError):
        return False
    if parsed.state.flags & ~re.UNICODE:  # (?i), (?a), (?x)...: decide nothing
        return False
    try:
        return _lower_only(list(parsed))
    except RecursionError:
        return False


def _lower_char(code: object) -> bool:
    return isinstance(code, int) and code < 128 and not 65 <= code <= 90


def _lower_only(items: list[tuple[object, object]]) -> bool:
    for op, value in items:
        if op in (sre_parse.LITERAL, sre_parse.NOT_LITERAL):
            ok = _lower_char(value)
        elif op is sre_parse.IN:
            ok = all(_lower_set_item(kind, item) for kind, item in value)  # type: ignore[attr-defined]
        elif op in _NO_CASE:
            ok = True
        elif op is _SUBPATTERN:
            _group, add, remove, body = value  # type: ignore[misc]
            ok = not add and not remove and _lower_only(list(body))
        elif op is _BRANCH:
            ok = all(_lower_only(list(branch)) for branch in value[1])  # type: ignore[index]
        elif op in _REPEATS:
            ok = _lower_only(list(value[2]))  # type: ignore[index]
        elif op in _NESTED:
            ok = _lower_only(list(value[1]))  # type: ignore[index]
        elif _ATOMIC is not None and op is _ATOMIC:
            ok = _lower_only(list(value))  # type: ignore[arg-type]
        else:  # back references, conditionals, anything new: not sure
            ok = False
        if not ok:
            return False
    return True


def _lower_set_item(kind: object, item: object) -> bool:
    if kind in (sre_parse.LITERAL, sre_parse.NOT_LITERAL):
        return _lower_char(item)
    if kind is sre_parse.RANGE:
        first, last = item  # type: ignore[misc]
        return last < 128 and (last < 65 or first > 90)  # (no A-Z in it)
    return kind in (sre_parse.NEGATE, sre_parse.CATEGORY)
