"""What a pattern cannot match without: a cheap test before the regular expression.

The knowledge tables hold hundreds of case-insensitive patterns, mostly
alternations of phrases ("relay(ing)? access denied|unable to relay|...").
Classifying one reply tries them in order, and most do not match. For each
pattern, ``needed()`` works out from its syntax tree a set of lower-case
strings of which at least one occurs in any text the pattern matches; a text
holding none of them is refused without running the expression. The result
is exactly the expression's (it is only a necessary condition), and it is
only used on ASCII text, where case-insensitive matching is ``str.lower()``.
"""

from __future__ import annotations

import re
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


def _sequence(items: list[tuple[object, object]]) -> set[str] | None:
    """The most selective requirement among the parts of a concatenation."""
    choices: list[set[str]] = []
    run: list[str] = []
    for op, value in items:
        if op is _LITERAL and isinstance(value, int) and value < 128:
            run.append(chr(value).lower())
            continue
        if run:
            choices.append({"".join(run)})
            run = []
        inner = _item(op, value)
        if inner:
            choices.append(inner)
    if run:
        choices.append({"".join(run)})
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
