"""Dataclass methods compiled once, not in every process (start-up time of the CLI).

``@dataclass`` writes the source of ``__init__``, ``__repr__``, ``__eq__``...
of every class and compiles it when the class is defined: about 70% of the
cost of a dataclass, and smtplog defines fifty of them on the way to a report
(events, records, findings). Python caches the bytecode of modules in
``__pycache__``, but not this code. ``install()`` gives the ``dataclasses``
module an ``exec`` that keeps each compiled source in smtplog's user cache
(smtplog/cache.py): the same source compiled the same way, so the classes are
exactly those ``dataclasses`` builds without it. The CLI installs it; the
library (``import smtplog``) leaves ``dataclasses`` alone.
"""

from __future__ import annotations

import builtins
import sys
from types import CodeType
from typing import Any

from smtplog import __version__, cache

# Bytecode is specific to the interpreter: its version and implementation (a file
# each, so that two Pythons do not overwrite, and load, each other's entries).
ENTRY = f"dataclass-code-{sys.implementation.cache_tag}.marshal"
# A new smtplog starts the file afresh: what an older one compiled would stay otherwise.
KEY = cache.checksum(f"{sys.implementation.cache_tag} {sys.version} {__version__}".encode())
_codes: dict[str, CodeType] = {}
_new: list[str] = []


def _exec(source: Any, globals: Any = None, locals: Any = None, /) -> None:
    """``exec`` for dataclasses' generated source: compiled once, then from the cache."""
    if isinstance(source, str):
        code = _codes.get(source)
        if code is None:
            # As exec() compiles a string for the dataclasses module (which has no
            # __future__ imports): inheriting this module's flags would change the
            # generated functions' annotations.
            code = compile(source, "<string>", "exec", dont_inherit=True)
            _codes[source] = code
            _new.append(source)
        source = code
    builtins.exec(source, globals, locals)


def run(source: str, namespace: dict[str, Any]) -> None:
    """``exec`` generated source (smtplog/quickinit.py): through the cache once installed."""
    import dataclasses

    if getattr(dataclasses, "exec", None) is _exec:
        _exec(source, namespace)
    else:
        builtins.exec(source, namespace)


def install() -> None:
    """Compile dataclass methods through the cache from now on (idempotent)."""
    import dataclasses

    if getattr(dataclasses, "exec", None) is _exec:
        return
    _codes.update(
        cache.load_entries(
            ENTRY, KEY, lambda source, code: isinstance(source, str) and isinstance(code, CodeType)
        )
    )
    dataclasses.exec = _exec  # type: ignore[attr-defined]

    import atexit

    atexit.register(save)


def uninstall() -> None:
    import dataclasses

    if getattr(dataclasses, "exec", None) is _exec:
        del dataclasses.exec  # type: ignore[attr-defined]


def save() -> None:
    """Store the cache if this process compiled anything new."""
    if _new:
        cache.store(ENTRY, KEY, dict(_codes))
        _new.clear()
