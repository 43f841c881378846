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
import stat
import sys
import zlib
from collections.abc import Callable
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

    marshal data is trusted, so only a regular file the user owns, that nobody
    else can write, in a folder that is the user's and nobody else can write,
    is read; a link or a FIFO in its place is not even opened for reading.
    """
    folder = private_dir()
    if folder is None:
        return None
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        descriptor = os.open(os.path.join(folder, name), flags | getattr(os, "O_BINARY", 0))
    except OSError:
        return None
    try:
        status = os.fstat(descriptor)
        if not (stat.S_ISREG(status.st_mode) and _private(status)):
            return None
        with os.fdopen(descriptor, "rb") as handle:
            descriptor = -1  # the file object closes it
            # One read, then loads: marshal.load on a file reads it object by object (10x slower).
            stored_key, data = marshal.loads(handle.read())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    finally:
        if descriptor >= 0:
            os.close(descriptor)
    return data if stored_key == key else None


def load_entries(name: str, key: str, keep: Callable[[Any, Any], bool]) -> dict[Any, Any]:
    """The dict entry ``name`` (``load``), without the items ``keep`` refuses; {} if none."""
    stored = load(name, key)
    if not isinstance(stored, dict):
        return {}
    return {item: value for item, value in stored.items() if keep(item, value)}


def store(name: str, key: str, data: Any) -> None:
    """Keep ``data`` (marshallable) as ``name``; quietly does nothing if it cannot."""
    folder = private_dir()
    if folder is None:
        return
    import tempfile

    try:
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


def private_dir() -> str | None:
    """The cache folder, created if need be, when it is private: a real folder (not
    a link) that the user owns and nobody else can write. None otherwise (or off)."""
    folder = cache_dir()
    if folder is None:
        return None
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        status = os.lstat(folder)
    except OSError:
        return None
    return folder if stat.S_ISDIR(status.st_mode) and _private(status) else None


def _private(status: os.stat_result) -> bool:
    if not hasattr(os, "getuid"):  # Windows: the profile folder is private already
        return True
    return status.st_uid == os.getuid() and not status.st_mode & 0o022
