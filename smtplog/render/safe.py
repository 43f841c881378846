"""Make transcript text harmless before it reaches a terminal or a document.

Transcripts are written by strangers. Control characters, ANSI/OSC escape
sequences and bidi overrides are replaced by visible escapes, and bytes that
were not UTF-8 (kept as lone surrogates by the Source) are shown as \\xNN.
Rich markup needs no escaping here: the terminal renderer only builds
``rich.text.Text`` objects, which never interpret markup.
"""

from __future__ import annotations

import re

# C0 controls except TAB, DEL, C1 controls, bidi embeddings/overrides/isolates,
# line/paragraph separators, and lone surrogates from surrogateescape.
_UNSAFE = re.compile(
    "[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
    "\udc80-\udcff]"
)
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
    return f"\\u{code:04x}"


def safe(text: str, tab_size: int = 4) -> str:
    """Text with every unsafe character replaced by a visible escape."""
    if "\t" in text:
        text = text.expandtabs(tab_size)
    return _UNSAFE.sub(_escape, text)
