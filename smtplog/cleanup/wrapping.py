"""Lines hard-wrapped by a forum, a mailer or a ticket system, joined back.

A wrapper breaks a line where the next word would pass the width W (72-80
columns, the longest line of the text). So a line is a fragment when the line
before it is long enough that the fragment's first word would not have fitted
there, *and* the fragment cannot be a line of its own: it starts with neither
a reply code, an SMTP verb nor a timestamp, nor the way this text's
unbroken lines start (learned from lines that provably were not broken: the
first word would have fitted on the line before).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from functools import partial

from smtplog.cleanup.shapes import blank, has_timestamp, is_command, is_reply
from smtplog.source import Line

MIN_WIDTH, MAX_WIDTH = 60, 100  # wrap widths of forums, mailers and tickets
_LEAD = re.compile(r"^[^\w\s]*")
_NUMBER = re.compile(r"^\d+\D?")
_WORD = re.compile(r"^\w+")


def _first_word(text: str) -> str:
    parts = text.split(None, 1)
    return parts[0] if parts else ""


def signature(text: str) -> str:
    """How a line starts, coarsely: "<-", " ->", "999-", "Trying", "<a"..."""
    space = " " if text[:1].isspace() else ""
    token = _first_word(text)
    lead = _LEAD.match(token).group(0)  # type: ignore[union-attr]
    rest = token[len(lead) :]
    if lead:
        tail = "a" if rest[:1].isalpha() else ("9" if rest[:1].isdigit() else "")
        return space + lead + tail
    if token[:1].isdigit():
        return space + re.sub(r"\d", "9", _NUMBER.match(token).group(0))  # type: ignore[union-attr]
    word = _WORD.match(token)
    return space + (word.group(0) if word else token)


def _fits(previous: Line, line: Line, width: int) -> bool:
    """Would a greedy wrapper have put this line's first word on the previous line?"""
    return len(previous.text) + 1 + len(_first_word(line.text)) <= width


def _starts(lines: list[Line], width: int) -> set[str]:
    starts = set()
    for index, line in enumerate(lines):
        if blank(line):
            continue
        previous = lines[index - 1] if index else None
        if previous is None or blank(previous) or _fits(previous, line, width):
            starts.add(signature(line.text))
    return starts


def _can_start(text: str, starts: set[str]) -> bool:
    return (
        is_reply(text)
        or is_command(text)
        or has_timestamp(text)
        or text[:1].isspace()  # wrappers drop the space at the break
        or signature(text) in starts
    )


def unwrap(lines: list[Line]) -> list[Line] | None:
    width = max((len(line.text) for line in lines), default=0)
    if not MIN_WIDTH <= width <= MAX_WIDTH:
        return None
    return _join(lines, width, _starts(lines, width))


def unwrap_as(head: list[Line]) -> Callable[[list[Line]], list[Line] | None]:
    """For the rest of a long input: the wrap width and line starts learned from the head."""
    width = max((len(line.text) for line in head), default=0)
    return partial(_join, width=width, starts=_starts(head, width))


def _join(lines: list[Line], width: int, starts: set[str]) -> list[Line] | None:
    out: list[Line] = []
    physical: Line | None = None  # the previous input line, before joining
    changed = False
    for line in lines:
        joinable = (
            physical is not None
            and out
            and " " in physical.text.strip()  # wrappers break at spaces
            and not blank(physical)
            and not blank(line)
            and not _fits(physical, line, width)
            and not _can_start(line.text, starts)
        )
        if joinable:
            head = out[-1]
            glue = " "  # the wrapper replaced this space with the line break
            out[-1] = replace(
                head,
                text=head.text + glue + line.text,
                end=line.last,
                flags=head.flags | line.flags | {"unwrap"},
            )
            changed = True
        else:
            out.append(line)
        physical = line
    return out if changed else None
