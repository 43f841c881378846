"""Find the grammar files and build each parser once, fast.

The grammars live in the top-level ``grammar/`` folder of the source tree and
are shipped as ``smtplog/grammar/`` inside the wheel. Parsers are LALR with the
contextual lexer and an inline transformer (no parse tree is built).

A parser is loaded from its standalone module in ``smtplog/_parsers/`` (the
grammar's tables, generated at build time by ``smtplog.standalone``) when that
module was generated from the grammar files as they are now; then lark itself
is never imported. Otherwise lark builds it from the grammar, caching its
analysis in smtplog's user cache.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from functools import cache
from importlib import import_module
from typing import Any, NamedTuple

# os.path, not pathlib: pathlib would be the only reason to load it (start-up).
_PACKAGE = os.path.dirname(os.path.realpath(__file__))
GENERATED = os.path.join(_PACKAGE, "_parsers")
PARSER, LEXER = "lalr", "contextual"

# The transformer base class and token type of the parsers: lark's standalone
# runtime when it was generated, else lark's own (they behave the same).
try:
    from smtplog._parsers._runtime import LarkError, Token, Transformer
except ImportError:  # not generated (a source checkout before `make parsers`)
    from lark import Token, Transformer
    from lark.exceptions import LarkError

__all__ = ["LarkError", "Parser", "Token", "Transformer", "build_parser"]


@cache
def grammar_dir() -> str:
    for candidate in (os.path.join(_PACKAGE, "grammar"), os.path.join(_PACKAGE, "..", "grammar")):
        if os.path.isfile(os.path.join(candidate, "common.lark")):
            return os.path.normpath(candidate)
    raise FileNotFoundError("smtplog's grammar files are missing from the installation")


def grammar_path(name: str) -> str:
    return os.path.join(grammar_dir(), f"{name}.lark")


def grammar_names() -> list[str]:
    """Every grammar with a start rule (common.lark is only imported by the others)."""
    names = (n.removesuffix(".lark") for n in os.listdir(grammar_dir()) if n.endswith(".lark"))
    return sorted(name for name in names if name != "common")


_IMPORT = re.compile(r"^%import \.(\w+)", re.MULTILINE)


def grammar_checksum(name: str) -> str:
    """Identifies the text of ``<name>.lark`` and every grammar it imports."""
    import zlib

    seen: dict[str, bytes] = {}
    pending = [name]
    while pending:
        current = pending.pop()
        if current not in seen:
            with open(grammar_path(current), "rb") as handle:
                seen[current] = handle.read()
            pending.extend(_IMPORT.findall(seen[current].decode("utf-8")))
    crc, size = 0, 0
    for current in sorted(seen):
        for part in (current.encode(), b"\0", seen[current], b"\0"):
            crc = zlib.crc32(part, crc)
            size += len(part)
    return f"{PARSER}/{LEXER}/{size}/{crc:08x}"


class Parser(NamedTuple):
    """``parse(text)`` runs the inline transformer; a line that does not fit raises
    one of ``errors``."""

    parse: Callable[[str], Any]
    errors: tuple[type[Exception], ...]
    standalone: bool  # loaded from smtplog/_parsers (False: built by lark)


def build_parser(name: str, transformer: Any) -> Parser:
    """The LALR parser of ``grammar/<name>.lark``, calling ``transformer`` inline."""
    tables = _generated_tables(name)
    if tables is not None:
        from smtplog._parsers import _runtime

        lark = _runtime.Lark._load_from_dict(tables.DATA, tables.MEMO, transformer=transformer)
        return Parser(lark.parse, (_runtime.LarkError,), standalone=True)
    return _lark_parser(name, transformer)


def _generated_tables(name: str) -> Any | None:
    """The generated module of ``name`` if it matches the grammar files, else None."""
    try:
        module = import_module(f"smtplog._parsers.{name}")
        runtime = import_module("smtplog._parsers._runtime")
    except (ImportError, SyntaxError):  # not generated, or a file cut short: lark builds it
        return None
    if runtime.Transformer is not Transformer or grammar_checksum(name) != module.CHECKSUM:
        return None
    return module


def _lark_parser(name: str, transformer: Any) -> Parser:
    import lark  # imported here: only a grammar without a current standalone parser pays

    # No cache: lark's is a pickle, which would run whatever a file in its place holds.
    # Only a grammar whose generated tables are missing or stale gets here (a source
    # checkout before `make parsers`), built once per process.
    parser = lark.Lark.open(
        grammar_path(name), parser=PARSER, lexer=LEXER, transformer=transformer, cache=False
    )
    return Parser(parser.parse, (lark.exceptions.LarkError, LarkError), standalone=False)
