"""Shell prompts around a pasted session ("user@host:~$ swaks --to ...").

A prompt line is not part of any session, but it says where a run began:
it is set aside (flag "prompt") and the analysis shows it as a note, and a
prompt after SMTP traffic starts a new session.
"""

from __future__ import annotations

import re

from smtplog.cleanup.shapes import retext
from smtplog.source import Line

# bash/zsh "user@host:~/dir$ ", "root@host:~# ", RHEL "[user@host ~]$ ",
# macOS "user@Mac ~ % ", bare "$ ", Windows "C:\Users\me>", PowerShell "PS C:\> ".
PROMPT = re.compile(
    r"^(?:"
    r"[\w.-]+@[\w.-]+(?::[^\s$#]*)?\s?[$#%]"
    r"|\[[\w.-]+@[\w.-]+(?:\s[^\]]*)?\][$#]"
    r"|[\w.-]+@[\w.-]+ \S+ %"
    r"|\$"
    r")(?:\s+(?P<command>.*)|$)"
    # Windows cmd and PowerShell need no space before the command.
    r"|^(?:PS )?[A-Za-z]:\\[^>]*>(?P<windows>.*)$"
)


def may_have_prompt(text: str) -> bool:
    """Every prompt above ends in "$", "#" or "%", or is a Windows one ("C:\\...>").
    (A backslash is looked for alone first: one character is found many times faster.)"""
    return "$" in text or "#" in text or "%" in text or ("\\" in text and ":\\" in text)


def is_prompt(text: str) -> bool:
    return bool(PROMPT.match(text))


def prompts(lines: list[Line]) -> list[Line] | None:
    out, changed = [], False
    for line in lines:
        if "prompt" not in line.flags and is_prompt(line.text):
            out.append(retext(line, line.text.rstrip(), "prompt"))
            changed = True
        else:
            out.append(line)
    return out if changed else None
