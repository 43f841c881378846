"""Make transcript text harmless before it reaches a terminal or a document.

Transcripts are written by strangers. Control characters, ANSI/OSC escape
sequences, bidi overrides and invisible characters (zero-width joiners, tags)
are replaced by visible escapes, and bytes that were not UTF-8 (kept as lone
surrogates by the Source) are shown as \\xNN.
Rich markup needs no escaping here: the terminal renderer only builds
``rich.text.Text`` objects, which never interpret markup.
"""

from __future__ import annotations

import re

# C0 controls except TAB, DEL, C1 controls; the Unicode format characters
# (category Cf: bidi embeddings, overrides and isolates, zero-width space and
# joiners, word joiner, BOM, soft hyphen, tag characters...) and the line and
# paragraph separators, which hide text or change its order; lone surrogates
# (undecodable bytes kept by surrogateescape, or any surrogate in a str).
# tests/test_terminal_safety.py checks this against unicodedata.
_UNSAFE = re.compile(
    "[\x00-\x08\x0a-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2"
    "\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f\ud800-\udfff]"
)
# What _UNSAFE can find in a JSON document: C0 controls are escaped by json already, so
# only DEL and characters beyond ASCII. Searching for these is several times faster than
# for _UNSAFE's classes, and most documents hold only a few ("§", "…" of the knowledge text).
_BEYOND_ASCII = re.compile("[^\x00-\x7e]")
_NAMED = {"\r": "\\r", "\n": "\\n", "\x1b": "\\x1b", "\x08": "\\b", "\x00": "\\0"}


def _escape(match: re.Match[str]) -> str:
    char = match.group(0)
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte kept by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def safe(text: str, tab_size: int = 4) -> str:
    """Text with every unsafe character replaced by a visible escape."""
    if "\t" in text:
        text = text.expandtabs(tab_size)
    return _UNSAFE.sub(_escape, text)


def json_safe(document: str) -> str:
    """A JSON document (``json.dumps``, ASCII or not) with the same values and nothing a
    terminal acts on: json escapes C0 controls itself; DEL, C1 and the invisible
    characters become ``\\uXXXX`` escapes, and an undecodable byte (a lone surrogate
    from surrogateescape, raw or written as an escape) is shown as "\\xNN", as everywhere."""
    if document.isascii():  # (a flag of the string: no scan)
        if "\x7f" in document:
            document = document.replace("\x7f", "\\u007f")
        if "\\udc" in document:
            document = _SURROGATE_ESCAPE.sub(_byte_escape, document)
        return document
    if not any(_UNSAFE.match(char) for char in set(_BEYOND_ASCII.findall(document))):
        return document
    return _UNSAFE.sub(_json_escape, document)


# json.dumps (ensure_ascii) writes a lone surrogate as "\udcNN": one of undecodable bytes
# (\udc80-\udcff), not after an escaped backslash (an even run of backslashes before it).
_SURROGATE_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\udc([89a-f][0-9a-f])")


def _byte_escape(match: re.Match[str]) -> str:
    return f"{match.group(1)}\\\\x{match.group(2)}"


def _json_escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    if code < 0x20:  # the document's own line breaks (json escapes those in strings)
        return match.group(0)
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\\\x{code - 0xDC00:02x}"
    if code > 0xFFFF:  # a surrogate pair, as JSON writes characters beyond the BMP
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"
