"""Regular expressions compiled once, not in every process (start-up time of the CLI).

Compiling an expression means parsing it and generating the matcher's code
(``re._parser``, ``re._compiler``): smtplog compiles about a hundred on the way
to a report (its dialects' sniffers, cleanup, the knowledge tables), 12 ms of a
120 ms run. The generated code is plain data (a list of integers), so
``install()`` gives ``re`` a compiler that keeps each expression's code in
smtplog's user cache (smtplog/cache.py) and next time builds the pattern from it
with ``_sre.compile``, which is what ``re`` itself ends with, and which checks
the code it is given ("invalid SRE code"). The patterns are the ones ``re``
builds (tests/test_recache.py). The CLI installs it; the library leaves ``re``
alone. Where Python's internals are not as expected, ``install()`` does nothing.

Only smtplog's own expressions belong in the file: one made from a
transcript's text (a secret to mask, the names redact pseudonymises) is
compiled inside ``private()`` and never kept.

Every start-up reads the whole file, so it holds what start-up compiles (no
entry over ``MAX_CODE`` instructions; a file with larger ones, an older
smtplog's, is written again without them). What a long log builds once warmed
up (the rules' lower-case forms and phrase scans, up to tens of thousands of
instructions each) is compiled inside ``warm()`` and kept in a file of its own,
read the first time a run warms up.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from smtplog import __version__, cache

ENTRY = f"regex-code-{sys.implementation.cache_tag}.marshal"
WARM_ENTRY = f"regex-code-warm-{sys.implementation.cache_tag}.marshal"
# A new smtplog starts the file afresh: what an older one compiled would stay otherwise.
KEY = cache.checksum(f"{sys.implementation.cache_tag} {sys.version} {__version__}".encode())
_PARTS = 5  # flags, code, groups, groupindex, indexgroup
MAX_ENTRIES = 2_000  # expressions built from data (one per reply code...) stay bounded
MAX_CODE = 4_096  # instructions of an entry; what start-up compiles is under 3,000
MAX_WARM_ENTRIES = 512
MAX_WARM_CODE = 262_144

_Key = tuple[bool, "str | bytes", int]
_codes: dict[_Key, tuple[Any, ...]] = {}
_new: list[_Key] = []
_installed: list[Any] = []  # re._compiler's own compile, while ours is installed
_private = [0]  # inside private(): nothing is kept
_pruned = [False]  # the file held entries it should not: write it again
_warm_codes: dict[_Key, tuple[Any, ...]] = {}  # the second file's (see warm())
_warm_new: list[_Key] = []
_warm_read = [False]
_warming = [0]  # inside warm()


@contextmanager
def private() -> Iterator[None]:
    """Compile expressions made from input text here: as usual, never kept in the cache."""
    _private[0] += 1
    try:
        yield
    finally:
        _private[0] -= 1


@contextmanager
def warm() -> Iterator[None]:
    """Compile here what a long run builds once warmed up: kept in a file of its own,
    read now (the first time), not by every start-up."""
    if _installed and not _warm_read[0]:
        _warm_read[0] = True
        _warm_codes.update(
            cache.load_entries(WARM_ENTRY, KEY, lambda key, parts: _fits(key, parts, MAX_WARM_CODE))
        )
    _warming[0] += 1
    try:
        yield
    finally:
        _warming[0] -= 1


def _compile(pattern: Any, flags: int = 0) -> Any:
    """``re._compiler.compile`` through the cache (``re`` keeps its own cache in front)."""
    import _sre
    from re import _compiler

    if _private[0] or not isinstance(pattern, str | bytes) or flags & _compiler.SRE_FLAG_DEBUG:
        return _installed[0](pattern, flags)
    key = (isinstance(pattern, bytes), pattern, int(flags))
    if _warming[0]:
        codes, new, most, largest = _warm_codes, _warm_new, MAX_WARM_ENTRIES, MAX_WARM_CODE
    else:
        codes, new, most, largest = _codes, _new, MAX_ENTRIES, MAX_CODE
    parts = codes.get(key)
    if parts is not None:
        try:
            return _sre.compile(pattern, *parts)
        except (RuntimeError, TypeError, ValueError, OverflowError):  # a damaged entry
            del codes[key]
    parts = _parts(pattern, int(flags))
    if len(codes) < most and len(parts[1]) <= largest:
        codes[key] = parts
        new.append(key)
    return _sre.compile(pattern, *parts)


def _parts(pattern: str | bytes, flags: int) -> tuple[Any, ...]:
    """What ``re._compiler.compile`` hands to ``_sre.compile`` after the pattern."""
    from re import _compiler, _parser

    parsed = _parser.parse(pattern, flags)
    code = [int(op) for op in _compiler._code(parsed, flags)]  # (some are int subclasses)
    groupindex = dict(parsed.state.groupdict)
    indexgroup: list[str | None] = [None] * parsed.state.groups
    for name, index in groupindex.items():
        indexgroup[index] = name
    groups = parsed.state.groups - 1
    return (flags | parsed.state.flags, code, groups, groupindex, tuple(indexgroup))


def _works() -> bool:
    """Does a pattern built from the cached parts behave as ``re``'s own? (internals vary)"""
    import _sre

    try:
        from re import _compiler

        sample = r"(?P<code>[2-5]\d\d)(?:[ -](?P<text>.*))?$"
        ours = _sre.compile(sample, *_parts(sample, 2))
        theirs = _compiler.compile(sample, 2)
        found, expected = ours.match("250-OK"), theirs.match("250-OK")
        return (
            (ours.pattern, ours.flags, ours.groups, ours.groupindex)
            == (theirs.pattern, theirs.flags, theirs.groups, theirs.groupindex)
            and found is not None
            and expected is not None
            and found.groupdict() == expected.groupdict()
        )
    except Exception:  # another Python: leave re alone
        return False


def install() -> None:
    """Compile regular expressions through the cache from now on (idempotent)."""
    try:
        from re import _compiler
    except ImportError:  # Python 3.10: sre_compile, not covered
        return
    if _installed or not _works():
        return
    _codes.update(cache.load_entries(ENTRY, KEY, _keep))
    _installed.append(_compiler.compile)
    _compiler.compile = _compile

    import atexit

    atexit.register(save)


def _keep(key: Any, parts: Any) -> bool:
    """Is this item of the start-up file an entry to use? (A large one is not, and goes at
    the next save.)"""
    if not _fits(key, parts, None):
        return False
    if len(parts[1]) > MAX_CODE:
        _pruned[0] = True
        return False
    return True


def _fits(key: Any, parts: Any, largest: int | None) -> bool:
    """Is a stored item an entry, of at most ``largest`` instructions (None: any)?"""
    return (
        isinstance(key, tuple)
        and isinstance(parts, tuple)
        and len(parts) == _PARTS
        and isinstance(parts[1], list)
        and (largest is None or len(parts[1]) <= largest)
    )


def uninstall() -> None:
    if not _installed:
        return
    from re import _compiler

    _compiler.compile = _installed.pop()


def save() -> None:
    """Store the cache if this process compiled anything new (or it must shrink)."""
    if _new or _pruned[0]:
        cache.store(ENTRY, KEY, dict(_codes))
        _new.clear()
        _pruned[0] = False
    if _warm_new:
        cache.store(WARM_ENTRY, KEY, dict(_warm_codes))
        _warm_new.clear()
