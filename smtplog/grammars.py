"""Find the grammar files and build each parser once.

The grammars live in the top-level ``grammar/`` folder of the source tree and
are shipped as ``smtplog/grammar/`` inside the wheel. Parsers are LALR with the
contextual lexer and an inline transformer (no parse tree is built), and lark
caches the grammar analysis on disk so a fresh process starts fast.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lark import Lark, Transformer

_PACKAGE = Path(__file__).resolve().parent


@cache
def grammar_dir() -> Path:
    for candidate in (_PACKAGE / "grammar", _PACKAGE.parent / "grammar"):
        if (candidate / "common.lark").is_file():
            return candidate
    raise FileNotFoundError("smtplog's grammar files are missing from the installation")


def grammar_path(name: str) -> Path:
    return grammar_dir() / f"{name}.lark"


def build_parser(name: str, transformer: Transformer) -> Lark:
    """A fresh LALR parser for ``grammar/<name>.lark`` that calls ``transformer`` inline."""
    from lark import Lark  # imported here: `smtplog --help` must not pay for lark

    return Lark.open(
        str(grammar_path(name)),
        parser="lalr",
        lexer="contextual",
        transformer=transformer,
        cache=True,
    )
