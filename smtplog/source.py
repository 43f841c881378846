"""Bytes in, lines out: the only stage that touches the raw input.

Read bytes and never lose them: decode UTF-8 with ``surrogateescape`` (a byte
that is not UTF-8 survives as a lone surrogate and is shown as ``\\xNN``),
remove telnet IAC negotiation, split on CRLF / CR / LF, apply backspace editing
the way a line-mode terminal would, and remember the original line number of
every line so that every finding can say "line 18".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

# Telnet (RFC 854): IAC, then a command byte; WILL/WONT/DO/DONT take an option
# byte; SB ... IAC SE is a subnegotiation block. IAC IAC is a literal 0xFF.
_IAC, _SB, _SE = 0xFF, 0xFA, 0xF0
_OPTION_COMMANDS = {0xFB, 0xFC, 0xFD, 0xFE}

_ERASE = "\b\x7f"
_ERASE_TO_EOL = re.compile(r"\x1b\[0?K")

# Packet captures are read by smtplog.pcap; reaching the text reader, they are refused.
# (Archives and compressors other than gzip: smtplog.containers.)
_BINARY_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xd4\xc3\xb2\xa1", "a pcap packet capture"),
    (b"\xa1\xb2\xc3\xd4", "a pcap packet capture"),
    (b"\x4d\x3c\xb2\xa1", "a pcap packet capture"),
    (b"\x0a\x0d\x0d\x0a", "a pcapng packet capture"),
)


@dataclass(slots=True)  # not frozen: one per line of input (frozen __init__ is 3x slower)
class Line:
    """One line of input after normalisation.

    Attributes:
        number: 1-based line number in the original input.
        text: the line as the analyzer sees it (no line terminator).
        raw: the line before backspace editing, when editing changed it.
        flags: facts about how the line was normalised, e.g. ``"backspace"``,
            ``"html"`` (see smtplog/cleanup).
        end: the last original line, when cleanup joined a hard-wrapped line
            back together (``number`` is then the first).
        time: seconds on the input's clock, when cleanup removed a timestamp
            from the front of the line (kept so that events still have times).
    """

    number: int
    text: str
    raw: str | None = None
    flags: frozenset[str] = frozenset()
    end: int | None = None
    time: float | None = None

    @property
    def last(self) -> int:
        """The last original line this line covers."""
        return self.end if self.end is not None else self.number


@dataclass(slots=True)
class Source:
    """A decoded input: its name, its lines and what normalisation did to it."""

    name: str
    lines: list[Line]
    notes: list[str] = field(default_factory=list)
    size: int = 0

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


def strip_telnet_negotiation(data: bytes) -> tuple[bytes, bool]:
    """Remove telnet IAC sequences; return the clean bytes and whether any were found."""
    if b"\xff" not in data:
        return data, False
    out = bytearray()
    i, n, found = 0, len(data), False
    while i < n:
        byte = data[i]
        if byte != _IAC:
            out.append(byte)
            i += 1
            continue
        found = True
        command = data[i + 1] if i + 1 < n else None
        if command == _IAC:  # escaped literal 0xFF
            out.append(_IAC)
            i += 2
        elif command in _OPTION_COMMANDS:
            i += 3
        elif command == _SB:
            end = data.find(bytes((_IAC, _SE)), i + 2)
            i = n if end < 0 else end + 2
        else:
            i += 2
    return bytes(out), found


def apply_backspaces(text: str) -> str:
    """Apply BS/DEL editing the way a line-mode terminal shows the result."""
    out: list[str] = []
    for char in text:
        if char in _ERASE:
            if out:
                out.pop()
        else:
            out.append(char)
    return "".join(out)


def split_lines(text: str) -> list[str]:
    """Split on CRLF, LF, or lone CR when the text has no LF at all.

    A CR in the middle of a line (telnet piping CRLF input sends CR CR LF and
    some servers echo the stray CR) stays in the line: it is data, and the
    renderers make it visible.
    """
    if "\n" not in text and "\r" in text:
        parts = text.split("\r")
    else:
        parts = text.split("\n")
        parts = [part.rstrip("\r") for part in parts]
    if parts and parts[-1] == "":
        parts.pop()
    return parts


def looks_binary(data: bytes) -> str | None:
    """Return what the data looks like when it is not text, else None."""
    from smtplog.containers import identify

    for magic, what in _BINARY_MAGIC:
        if data.startswith(magic):
            return what
    kind = identify(data)
    if kind is not None:
        return kind.what
    sample = data[:8192]
    if not sample:
        return None
    if b"\x00" in sample:
        return "a binary file"
    controls = sum(1 for byte in sample if byte < 0x09 or 0x0E <= byte < 0x20)
    if controls / len(sample) > 0.10:
        return "a binary file"
    return None


def decode(data: bytes) -> tuple[str, bool]:
    """Decode UTF-8 losslessly; return the text and whether it was valid UTF-8."""
    try:
        return data.decode("utf-8"), True
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="surrogateescape"), False


def make_lines(texts: Iterable[str], first_number: int = 1) -> Iterable[Line]:
    for number, text in enumerate(texts, start=first_number):
        if "\b" in text or "\x7f" in text:
            edited = _ERASE_TO_EOL.sub("", apply_backspaces(text))
            yield Line(number, edited, raw=text, flags=frozenset({"backspace"}))
        else:
            yield Line(number, text)


def source_from_bytes(data: bytes, name: str = "<stdin>") -> Source:
    """Turn raw input bytes into a Source (the whole input, in memory).

    Raises:
        InputError: the input is empty, binary, or an unsupported container.
    """
    from smtplog.reader import read_source

    reader = read_source((data,), name, head_lines=None)
    return Source(name=name, lines=reader.head, notes=reader.notes, size=reader.size)


def source_from_text(text: str, name: str = "<text>") -> Source:
    """Build a Source from an already decoded string (the Python API's entry point)."""
    return source_from_bytes(text.encode("utf-8", errors="surrogateescape"), name)
