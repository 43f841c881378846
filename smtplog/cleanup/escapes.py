"""Escape sequences: terminal colours, and line breaks that were written out as text."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial

from smtplog.cleanup.shapes import MARKERS, is_reply, retext, smtp_content
from smtplog.source import Line

# Colour (SGR "m") and erase-line ("K", grep --color adds it) sequences, real
# or printed the way a log or a web page escapes the ESC byte: syslog "#033[",
# caret "^[[", C/shell "\033[", "\x1b[", "\e[", "\u001b[", the symbol "␛[".
# Other sequences (clear screen, hyperlinks) are not colour: they stay, and
# the renderers show them escaped.
_REAL = re.compile(r"\x1b\[[0-9;]*[mK]")
_PRINTED = re.compile(r"(?:#033|\^\[|\\033|\\x1[bB]|\\e|\\u001[bB]|\u241b)\[[0-9;]*[mK]")
# What each of those starts with: a text holding none of these has no colour to undo.
_ESCAPE_STARTS = ("\x1b", "#033", "^[", "\\033", "\\x1", "\\e", "\\u001", "\u241b")
_ANY_ESCAPE_START = re.compile("|".join(re.escape(start) for start in _ESCAPE_STARTS))


def may_have_colour(text: str) -> bool:
    # Every start holds ESC, "\u241b", a backslash, "#033" or "^[": most texts hold
    # none, and a search for one character (memchr) is many times faster than the
    # alternation, which tries every start at every position, and than a search for
    # several characters (in a 250 KB window of a log: 2 us for "#", 370 for "#033").
    if "\x1b" in text or "\u241b" in text:
        return True
    if "\\" in text or ("#" in text and "#033" in text) or ("^" in text and "^[" in text):
        return _ANY_ESCAPE_START.search(text) is not None
    return False


# Literal "\r\n" written into the text (a JSON string, a log that escapes
# control characters). Some dialects write one at the end of a quoted line
# (Ruby, Python smtplib): only lines holding several SMTP lines are split.
_LITERAL = re.compile(r"\\r\\n|\\n|\\r(?!\\n)")
MIN_PIECES = 2
COLLAPSED_LINES = 2


def _starts_line(piece: str) -> bool:
    """A reply or a timestamp, behind any direction marker ("<-- 250 ok").

    Not a command: Python's reply summary joins EHLO keywords with a literal
    "\\n" ("...\\nSTARTTLS\\nVRFY"), and those are verbs too.
    """
    return is_reply(MARKERS.sub("", piece, count=1)) or smtp_content(piece)


def colour(lines: list[Line]) -> list[Line] | None:
    if not any("\x1b" in line.text or "[" in line.text for line in lines):
        return None
    out, changed = [], False
    for line in lines:
        text = _PRINTED.sub("", _REAL.sub("", line.text))
        if text != line.text:
            out.append(retext(line, text, "colour"))
            changed = True
        else:
            out.append(line)
    return out if changed else None


def literal_breaks(lines: list[Line], collapsed: bool | None = None) -> list[Line] | None:
    # The whole paste collapsed into a line or two: split whatever it holds
    # (a refused connection has no reply to recognise).
    if collapsed is None:
        collapsed = sum(1 for line in lines if line.text.strip()) <= COLLAPSED_LINES
    out, changed = [], False
    for line in lines:
        if "\\" not in line.text:
            out.append(line)
            continue
        pieces = _LITERAL.split(line.text)
        if pieces and pieces[-1] == "":
            pieces.pop()
        starts = sum(1 for piece in pieces if _starts_line(piece))
        if len(pieces) < MIN_PIECES or (starts < MIN_PIECES and not collapsed):
            out.append(line)
            continue
        out.extend(retext(line, piece, "literal-newlines") for piece in pieces)
        changed = True
    return out if changed else None


def literal_breaks_as(head: list[Line]) -> Callable[[list[Line]], list[Line] | None]:
    """For the rest of a long input: never a paste collapsed into a line or two."""
    return partial(literal_breaks, collapsed=False)
