"""The inputs named on the command line: files, directories (recursed) and stdin.

Finding inputs is cheap and happens first, in the main process; reading them
happens where they are analysed (a worker process in a batch), so that one bad
file never stops the others and a thousand files are read in parallel.
"""

# No `from __future__ import annotations` here: typing.NamedTuple would compile every
# string annotation at import (~2 ms); real annotations cost nothing.

import os
import re
import sys
from collections.abc import Iterator
from fnmatch import fnmatchcase
from fnmatch import translate as fnmatch_translate
from functools import cache
from typing import NamedTuple

from smtplog.errors import InputError

STDIN = "-"
# An input read whole (redact writes a copy of it) may be this large; analyze streams.
MAX_INPUT_BYTES = 2 * 1024**3


# NamedTuple, not a frozen dataclass: these modules load on every run, and a
# dataclass costs ~0.7 ms to create at import (start-up matters in pipes).
class Input(NamedTuple):
    """Read input: its display name and its bytes."""

    name: str
    data: bytes


class Pending(NamedTuple):
    """An input found on the command line, not read yet.

    ``data`` is set for an input given as bytes; standard input (``stdin``) is
    read as a stream, by the main process only.
    """

    name: str
    data: bytes | None = None
    stdin: bool = False

    def read(self) -> Input:
        if self.data is not None:
            return Input(self.name, self.data)
        if self.stdin:
            return read_stdin()
        return read_file(self.name)

    def open(self):  # type: ignore[no-untyped-def]
        """The input as a ``reader.ByteStream`` (read a chunk at a time)."""
        from smtplog.reader import ByteStream

        if self.data is not None:
            return ByteStream((self.data,), self.name)
        if self.stdin:
            stream = sys.stdin.buffer if sys.stdin is not None else None
            if stream is None:
                raise InputError("standard input is closed")
            return ByteStream.of_file(stream, self.name)  # a pipe's pauses end the head
        if os.path.isdir(self.name):
            raise InputError(f"{self.name}: is a directory (give the files in it)")
        return ByteStream.open(self.name)

    @property
    def may_pause(self) -> bool:
        """Can its writer pause between lines: standard input or a named pipe that is a
        pipe, a terminal or a socket (``tail -f mail.log | smtplog analyze``)? Output is
        then flushed a session at a time, so that each shows as soon as it is read."""
        from smtplog.reader import may_pause

        if self.data is not None:
            return False
        try:
            if self.stdin:
                return may_pause(os.fstat(sys.stdin.fileno()).st_mode)  # type: ignore[union-attr]
            return may_pause(os.stat(self.name).st_mode)
        except (AttributeError, OSError, ValueError):
            # A path that cannot be read is an error of its own; an odd stdin
            # (no descriptor) is unknown, so it is taken as live.
            return self.stdin

    @property
    def size(self) -> int | None:
        """Bytes in the file (None: standard input, a pipe, or unknown)."""
        if self.data is not None:
            return len(self.data)
        if self.stdin:
            return None
        try:
            status = os.stat(self.name)
        except OSError:
            return None
        import stat

        return status.st_size if stat.S_ISREG(status.st_mode) else None


def read_stdin() -> Input:
    stream = sys.stdin.buffer if sys.stdin is not None else None
    if stream is None:
        raise InputError("standard input is closed")
    try:
        return Input("<stdin>", stream.read())
    except OSError as exc:
        raise InputError(f"cannot read standard input: {exc.strerror or exc}") from exc


def read_file(path: str) -> Input:
    try:
        if os.path.isdir(path):
            raise InputError(f"{path}: is a directory (give the files in it)")
        size = os.stat(path).st_size
        if size > MAX_INPUT_BYTES:
            raise InputError(f"{path}: {size / 1024**3:.1f} GB is more than smtplog reads at once")
        with open(path, "rb") as handle:
            return Input(path, handle.read())
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file") from exc
    except PermissionError as exc:
        raise InputError(f"{path}: permission denied") from exc
    except IsADirectoryError as exc:
        raise InputError(f"{path}: is a directory") from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({os.strerror(exc.errno or 0) or exc})") from exc


@cache
def _path_pattern(pattern: str) -> re.Pattern[str]:
    """A glob over a path: ``*`` and ``?`` stay within a folder, ``**/`` spans folders."""
    parts = []
    for piece in re.split(r"(\*\*/|\*\*|\*|\?)", pattern.strip("/")):
        if piece == "**/":
            parts.append(r"(?:[^/]*/)*")
        elif piece == "**":
            parts.append(r".*")
        elif piece == "*":
            parts.append(r"[^/]*")
        elif piece == "?":
            parts.append(r"[^/]")
        else:
            parts.append(fnmatch_translate(piece).removeprefix("(?s:").removesuffix(")\\Z"))
    return re.compile("".join(parts) + r"\Z", re.DOTALL)


def glob_matches(relative: str, patterns: tuple[str, ...]) -> bool:
    """ripgrep-style ``--glob``: a file is kept if it matches any pattern and no ``!pattern``.

    A pattern without a "/" is matched against the file name, one with a "/"
    against the path relative to the directory given on the command line.
    """
    if not patterns:
        return True
    name = relative.rsplit("/", 1)[-1]
    include = [p for p in patterns if not p.startswith("!")]
    exclude = [p[1:] for p in patterns if p.startswith("!")]

    def hit(pattern: str) -> bool:
        if "/" in pattern:
            return bool(_path_pattern(pattern).match(relative))
        return fnmatchcase(name, pattern)

    if any(hit(pattern) for pattern in exclude):
        return False
    return not include or any(hit(pattern) for pattern in include)


def walk(directory: str, patterns: tuple[str, ...]) -> list[str]:
    """Files under ``directory`` sorted by path, hidden files and folders skipped.

    Symbolic links to files are followed; links to folders are not (no loops).
    """
    found: list[tuple[tuple[str, ...], str]] = []
    for root, folders, files in os.walk(directory):
        folders[:] = [folder for folder in folders if not folder.startswith(".")]
        for name in files:
            if name.startswith("."):
                continue
            path = os.path.join(root, name)
            relative = os.path.relpath(path, directory).replace(os.sep, "/")
            if glob_matches(relative, patterns) and os.path.isfile(path):
                found.append((tuple(relative.split("/")), path))
    return [path for _key, path in sorted(found)]


def find_inputs(
    paths: tuple[str, ...], patterns: tuple[str, ...] = ()
) -> Iterator[Pending | InputError]:
    """Each input in command-line order, or the error that stops it.

    Files named explicitly are always read (``--glob`` filters directories only,
    as in ripgrep); a directory is replaced by the files in it.
    """
    if not paths:
        if sys.stdin is None:
            yield InputError("no input: standard input is closed; give a transcript file")
            return
        if sys.stdin.isatty():
            yield InputError("no input: give a transcript file, or pipe one into smtplog")
            return
        paths = (STDIN,)
    for path in paths:
        if path == STDIN:
            if sys.stdin is None:
                yield InputError("standard input is closed")
                continue
            yield Pending("<stdin>", stdin=True)
        elif os.path.isdir(path):
            files = walk(path, patterns)
            if not files:
                why = "no file in it matches --glob" if patterns else "it holds no files"
                yield InputError(f"{path}: is a directory and {why}")
            for file in files:
                yield Pending(file)
        else:
            yield Pending(path)


def read_inputs(paths: tuple[str, ...]) -> Iterator[Input | InputError]:
    """Each input read, or the error that stops it (so one bad file does not stop the rest)."""
    for item in find_inputs(paths):
        if isinstance(item, InputError):
            yield item
            continue
        try:
            yield item.read()
        except InputError as exc:
            yield exc
