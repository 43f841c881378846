"""smtplog's user cache: data it would otherwise rebuild in every process (start-up time).

Entries are plain data (dicts, lists, strings, numbers) written with
``marshal``, each stored with the checksum of what it was built from, so a
changed source (an upgrade, an edited knowledge file) is rebuilt, never read
stale. The cache is an optimisation only: a missing, unwritable, damaged or
foreign file is ignored and the data built again. Deleting the folder is
always safe.

Folder: ``$SMTPLOG_CACHE_DIR``, else ``$XDG_CACHE_HOME/smtplog``, else
``~/.cache/smtplog``; ``SMTPLOG_CACHE_DIR=off`` turns the cache off.
"""

from __future__ import annotations

import marshal
import os
import sys
import zlib
from typing import Any

from smtplog import __version__

FORMAT = 1  # bump when the layout of an entry changes
_STAMP = f"{FORMAT}/{__version__}/{sys.version_info[0]}.{sys.version_info[1]}"


def cache_dir() -> str | None:
    """The cache folder, or None when the cache is off."""
    configured = os.environ.get("SMTPLOG_CACHE_DIR", "").strip()
    if configured.lower() == "off":
        return None
    if configured:
        return configured
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    if not (base and os.path.isabs(base)):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "smtplog")


def checksum(*parts: bytes) -> str:
    """What an entry was built from, for invalidation (not security: see ``load``)."""
    crc = 0
    for part in parts:
        crc = zlib.crc32(part, crc)
    return f"{_STAMP}/{sum(len(part) for part in parts)}/{crc:08x}"


def load(name: str, key: str) -> Any | None:
    """The entry ``name`` if it was built from ``key``; None otherwise.

    Only a file the user owns and nobody else can write is read: marshal data
    is trusted, so the folder must be as private as the user's own files.
    """
    folder = cache_dir()
    if folder is None:
        return None
    path = os.path.join(folder, name)
    try:
        with open(path, "rb") as handle:
            if not _private(os.fstat(handle.fileno())):
                return None
            stored_key, data = marshal.load(handle)
    except (OSError, EOFError, ValueError, TypeError):
        return None
    return data if stored_key == key else None


def store(name: str, key: str, data: Any) -> None:
    """Keep ``data`` (marshallable) as ``name``; quietly does nothing if it cannot."""
    folder = cache_dir()
    if folder is None:
        return
    import tempfile

    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{name}.", dir=folder)
        try:
            with os.fdopen(handle, "wb") as out:
                marshal.dump((key, data), out)
            os.replace(temporary, os.path.join(folder, name))  # atomic: readers see old or new
        except BaseException:
            os.unlink(temporary)
            raise
    except (OSError, ValueError):
        return


def _private(status: os.stat_result) -> bool:
    if not hasattr(os, "getuid"):  # Windows: the profile folder is private already
        return True
    return status.st_uid == os.getuid() and not status.st_mode & 0o022
