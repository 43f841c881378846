"""What web pages, forums and mail clients wrap a pasted transcript in.

HTML escaping and line-break tags, markdown code fences and inline backticks,
"> " quote prefixes, and the indentation of a markdown or ticket code block.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from smtplog.cleanup.shapes import blank, retext, smtp_content
from smtplog.source import Line

# -- HTML ----------------------------------------------------------------------

_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|apos|nbsp|#\d{1,5}|#x[0-9a-fA-F]{1,4});")
_BREAK = re.compile(r"<br\s*/?>", re.I)
# Only tags a page wraps text in; "<alice@example.test>" is not a tag.
_TAG = re.compile(
    r"</?(?:p|pre|code|div|span|tt|b|i|u|em|strong|font|kbd|samp|blockquote|li|ul|ol)"
    r"(?:\s[^<>]*)?>",
    re.I,
)


def html(lines: list[Line]) -> list[Line] | None:
    """Split at <br>, drop wrapping tags, decode entities (only in an escaped text)."""
    if not any(_ENTITY.search(line.text) or _BREAK.search(line.text) for line in lines):
        return None
    return _unescape(lines)


def html_as(head: list[Line]) -> Callable[[list[Line]], list[Line] | None]:
    """For the rest of a long input whose head is escaped: every line is unescaped."""
    return _unescape


def _unescape(lines: list[Line]) -> list[Line] | None:
    import html as htmllib  # here: most texts are not HTML (start-up time)

    out: list[Line] = []
    for line in lines:
        text = line.text
        if "&" not in text and "<" not in text:
            out.append(line)
            continue
        pieces = _BREAK.split(text)
        if len(pieces) > 1 and pieces[-1].strip() == "":
            pieces.pop()  # "220 mx<br>" ends the line; nothing follows the break
        for piece in pieces:
            decoded = htmllib.unescape(_TAG.sub("", piece)).replace("\xa0", " ")
            out.append(line if decoded == text else retext(line, decoded, "html"))
    return out


# -- markdown fences and backticks ---------------------------------------------

_FENCE = re.compile(r"^ {0,3}(?:```+|~~~+)\s*[\w+.#-]*\s*$")
_GLUED_OPEN = re.compile(r"^ {0,3}```+(?=\S)")
_GLUED_CLOSE = re.compile(r"(?<=\S)```+\s*$")
_INLINE = re.compile(r"^(\s*)(`+)(?!`)(.*?)(?<!`)\2\s*$")


def fences(lines: list[Line]) -> list[Line] | None:
    """Drop fence lines ("```", "```text", "~~~"); unglue "```220 mx" and "221 Bye```"."""
    if not any(_FENCE.match(line.text) or "```" in line.text for line in lines):
        return None
    out: list[Line] = []
    changed = False
    for line in lines:
        if _FENCE.match(line.text):
            changed = True
            continue
        text = _GLUED_CLOSE.sub("", _GLUED_OPEN.sub("", line.text))
        if text != line.text:
            out.append(retext(line, text, "fence"))
            changed = True
        else:
            out.append(line)
    return out if changed else None


def backticks(lines: list[Line]) -> list[Line] | None:
    """`EHLO example.test` -> EHLO example.test (lines wrapped whole in inline code)."""
    out: list[Line] = []
    changed = False
    for line in lines:
        match = _INLINE.match(line.text) if "`" in line.text else None
        if match and match.group(3).strip():
            out.append(retext(line, match.group(1) + match.group(3), "backticks"))
            changed = True
        else:
            out.append(line)
    return out if changed else None


# -- quote prefixes --------------------------------------------------------------

_QUOTED = re.compile(r"^ ?>")
_ONE_LEVEL = re.compile(r"^ ?> ?")
LONG_QUOTE = 8  # a run this long is a quote whatever is in it


_ATTRIBUTION = re.compile(r"(wrote|schrieb|a écrit|escribió|scrisse|написал)\s*:\s*$", re.I)


def _is_quote_run(run: list[Line], before: Line | None, whole_text: bool) -> bool:
    """A quote holds a session (replies, timestamps); a run of client markers does not.

    curl's "> EHLO" and sendmail's ">>> MAIL From:" start with ">" too, but
    only on the client's lines: the replies between them are not quoted. So a
    run is a quote when it holds replies or timestamps, is long, follows an
    attribution ("Alice wrote:"), or is the whole text.
    """
    return (
        len(run) >= LONG_QUOTE
        or whole_text
        or (before is not None and bool(_ATTRIBUTION.search(before.text)))
        or any(smtp_content(line.text) for line in run)
    )


def quotes(lines: list[Line]) -> list[Line] | None:
    """Remove one level of "> " from each run of quoted lines (nesting: the fixpoint)."""
    out: list[Line] = []
    changed = False
    index = 0
    while index < len(lines):
        if not _QUOTED.match(lines[index].text):
            out.append(lines[index])
            index += 1
            continue
        end = index
        while end < len(lines) and _QUOTED.match(lines[end].text):
            end += 1
        run = lines[index:end]
        before = lines[index - 1] if index else None
        whole = all(blank(line) for line in lines[:index] + lines[end:])
        if _is_quote_run(run, before, whole):
            out.extend(
                retext(line, _ONE_LEVEL.sub("", line.text, count=1), "quote") for line in run
            )
            changed = True
        else:
            out.extend(run)
        index = end
    return out if changed else None


# -- code-block indentation ------------------------------------------------------

_INDENT = re.compile(r"^(\t| {4})")
MIN_BLOCK = 2


def _indent_blocks(lines: list[Line]) -> list[tuple[int, int]]:
    """(start, end) of each indented block that starts the text or follows a blank line.

    A continuation line (PHPMailer, Exim) is indented too, but it follows the
    line it continues, not a blank line.
    """
    blocks = []
    index = 0
    while index < len(lines):
        starts_block = _INDENT.match(lines[index].text) and (index == 0 or blank(lines[index - 1]))
        if not starts_block:
            index += 1
            continue
        end = index
        while end < len(lines) and (_INDENT.match(lines[end].text) or blank(lines[end])):
            end += 1
        while end > index and blank(lines[end - 1]):
            end -= 1
        if sum(1 for line in lines[index:end] if not blank(line)) >= MIN_BLOCK:
            blocks.append((index, end))
        index = max(end, index + 1)
    return blocks


def indentation(lines: list[Line]) -> list[Line] | None:
    """Remove one tab or four spaces from every line of a code block."""
    blocks = _indent_blocks(lines)
    if not blocks:
        return None
    out = list(lines)
    for start, end in blocks:
        for index in range(start, end):
            line = out[index]
            if not blank(line):
                out[index] = retext(line, _INDENT.sub("", line.text, count=1), "indent")
    return out


def may_go_on(text: str) -> bool:
    """Could a quote run or a code block go on through this line (it looks quoted or indented)?"""
    return bool(_QUOTED.match(text) or _INDENT.match(text))
