"""Read the inputs named on the command line into bytes, with clear errors."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from smtplog.errors import InputError

MAX_INPUT_BYTES = 2 * 1024**3  # larger inputs need the streaming reader


@dataclass(frozen=True, slots=True)
class Input:
    name: str
    data: bytes


def read_stdin() -> Input:
    stream = sys.stdin.buffer if sys.stdin is not None else None
    if stream is None:
        raise InputError("standard input is closed")
    try:
        return Input("<stdin>", stream.read())
    except OSError as exc:
        raise InputError(f"cannot read standard input: {exc.strerror or exc}") from exc


def read_file(path: str) -> Input:
    file = Path(path)
    try:
        if file.is_dir():
            raise InputError(f"{path}: is a directory (give the files in it)")
        size = file.stat().st_size
        if size > MAX_INPUT_BYTES:
            raise InputError(f"{path}: {size / 1024**3:.1f} GB is more than smtplog reads at once")
        return Input(path, file.read_bytes())
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file") from exc
    except PermissionError as exc:
        raise InputError(f"{path}: permission denied") from exc
    except IsADirectoryError as exc:
        raise InputError(f"{path}: is a directory") from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({os.strerror(exc.errno or 0) or exc})") from exc


def read_inputs(paths: tuple[str, ...]) -> Iterator[Input | InputError]:
    """Each input, or the error that stops it (so one bad file does not stop the rest)."""
    if not paths:
        if sys.stdin is None or sys.stdin.isatty():
            yield InputError("no input: give a transcript file, or pipe one into smtplog")
            return
        paths = ("-",)
    for path in paths:
        try:
            yield read_stdin() if path == "-" else read_file(path)
        except InputError as exc:
            yield exc
