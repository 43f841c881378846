"""The input's own lines, and the byte counts some formats frame them with.

A redacted copy is the original text line by line, so it needs the lines with
their own endings (CRLF, LF or CR, numbered as ``source.py`` numbers them).
"""

from __future__ import annotations

import gzip
import re

from smtplog.source import decode, strip_telnet_negotiation


def split_with_endings(data: bytes) -> list[tuple[str, str]]:
    """The input's lines with their own line endings, numbered as ``source.py`` numbers them."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    data, _ = strip_telnet_negotiation(data)
    text, _ = decode(data)
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\n" not in text and "\r" in text:
        parts = [(part, "\r") for part in text.split("\r")]
    else:
        parts = []
        for part in text.split("\n"):
            body = part.rstrip("\r")
            parts.append((body, part[len(body) :] + "\n"))
    last, ending = parts[-1]
    parts[-1] = (last, ending[:-1] if ending.endswith("\n") else ending.rstrip("\r"))
    if parts[-1] == ("", ""):
        parts.pop()
    return parts


_COUNT = re.compile(r"^(\t?)(\d{1,7})$")


def fix_byte_counts(before: list[str], after: list[str]) -> None:
    """Keep byte counts that frame the lines after them true (in place).

    Some captures frame data by length: tshark's "Follow TCP Stream" writes
    each TCP segment's byte count on a line of its own, and its reader counts
    bytes to find where the segment ends. A line that is only a number equal
    to the bytes of the lines after it (each with a CRLF or LF line end) is
    recomputed from the redacted lines, so the copy frames the same lines.
    """
    for index, line in enumerate(before):
        match = _COUNT.match(line)
        if match is None or line != after[index]:
            continue
        count = int(match.group(2))
        for eol in (2, 1):
            total, end = 0, index + 1
            while end < len(before) and total < count:
                total += len(before[end].encode("utf-8", "surrogateescape")) + eol
                end += 1
            if total == count and end > index + 1:
                new = sum(
                    len(text.encode("utf-8", "surrogateescape")) + eol
                    for text in after[index + 1 : end]
                )
                after[index] = f"{match.group(1)}{new}"
                break
