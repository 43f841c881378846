"""Hostile transcript text, and the check that an output neutralised all of it.

A transcript is written by a stranger (a customer's paste, a server's reply,
a file name). Everything below must come out of smtplog visible but inert: no
terminal control (ANSI/OSC escapes, C1 controls, BEL, backspace), no reordering
(bidi overrides and isolates), nothing invisible (zero-width and other format
characters, Unicode tags), no rich markup, and no HTML or Markdown that the
reader's tool would interpret.
"""

from __future__ import annotations

import base64
import re
import unicodedata

# name -> the text; every one of them is put in every place of the transcripts below.
HOSTILE: dict[str, str] = {
    "clear screen (CSI 2J)": "\x1b[2J\x1b[H",
    "colour and cursor (CSI)": "\x1b[31;1mRED\x1b[0m\x1b[5A",
    "OSC 8 hyperlink": "\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\",
    "OSC 52 clipboard write": "\x1b]52;c;ZWNobyBwd25lZA==\x07",
    "OSC title (BEL-terminated)": "\x1b]0;owned\x07",
    "C1 CSI": "\x9b2J\x9b31m",
    "C1 OSC and ST": "\x9d0;title\x9c",
    "BEL": "ding\x07\x07",
    "backspace over text": "admin\x08\x08\x08\x08\x08guest",
    "DEL": "rub\x7fout",
    "vertical tab, form feed": "v\x0bt\x0cf",
    "carriage return overwrite": "all good\rHACKED",
    "RLO bidi override": "txt.\u202eexe",
    "LRE/PDF embeddings": "\u202aembedded\u202c",
    "bidi isolates": "\u2066isolated\u2069 \u2067rtl\u2069 \u2068first\u2069",
    "zero-width joiner in a host name": "mx.exa\u200dmple.com",
    "zero-width space and non-joiner": "pay\u200bpal\u200c.com",
    "word joiner and BOM": "mail\u2060\ufeffhost",
    "Unicode tag characters": "hi\U000e0049\U000e0067\U000e006e\U000e006f\U000e0072\U000e0065",
    "line separator": "one\u2028two\u2029three",
    "rich markup": "[bold red]alarm[/bold red] [link=https://evil.example]x[/link]",
    "HTML injection": "<script>alert(1)</script><img src=x onerror=alert(2)>",
    "HTML entity": "&lt;b&gt; &amp;",
    "Markdown link to javascript": "[click](javascript:alert(1)) ](javascript:alert(2))",
    "Markdown image": "![x](https://evil.example/track.png)",
    "backtick fence": "``` ` `` ~~~",
    "Markdown heading and table": "# title | a | b |",
}

# Invalid UTF-8 is a property of bytes, not text: it is added to the byte form.
INVALID_UTF8 = b"bad \xff\xfe \xc3( \xed\xa0\x80 end"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode()


def telnet(payload: str) -> str:
    """A telnet session with ``payload`` in the banner, the EHLO name, a multi-line
    reply, MAIL FROM, the AUTH user name, a 5xx reply, and lines nothing parses."""
    return "\n".join(
        [
            "Trying 192.0.2.1...",
            f"Connected to mx.example.com{payload}.",
            "Escape character is '^]'.",
            f"220 mx.example.com ESMTP {payload}",
            f"EHLO client{payload}.example.org",
            f"250-mx.example.com Hello {payload}",
            f"250-SIZE 1000 {payload}",
            "250 AUTH LOGIN PLAIN",
            "AUTH LOGIN",
            "334 VXNlcm5hbWU6",
            _b64(f"user{payload}@example.com"),
            "334 UGFzc3dvcmQ6",
            _b64("not-the-password"),
            f"535 5.7.8 Authentication credentials invalid {payload}",
            f"MAIL FROM:<sender{payload}@example.com>",
            f"250 2.1.0 Sender {payload} OK",
            f"RCPT TO:<rcpt{payload}@example.com>",
            f"550 5.1.1 <rcpt{payload}@example.com>: Recipient address rejected: {payload}",
            f"this line is nothing smtplog knows {payload}",
            "QUIT",
            f"221 2.0.0 Bye {payload}",
            "Connection closed by foreign host.",
            "",
        ]
    )


def swaks(payload: str) -> str:
    return "\n".join(
        [
            "=== Trying mx.example.com:25...",
            f"=== Connected to mx.example.com{payload}.",
            f"<-  220 mx.example.com ESMTP {payload}",
            f" -> EHLO client{payload}",
            "<-  250-mx.example.com",
            f"<-  250 HELP {payload}",
            f" -> MAIL FROM:<a{payload}@example.com>",
            "<-  250 2.1.0 Ok",
            " -> RCPT TO:<b@example.com>",
            f"<** 554 5.7.1 <b@example.com>: Relay access denied {payload}",
            " -> QUIT",
            "<-  221 2.0.0 Bye",
            "=== Connection closed with remote host.",
            "",
        ]
    )


def postfix(payload: str) -> str:
    # syslog writes a carriage return as "#015": a raw one ends the line (no session left)
    payload = payload.replace("\r", "#015")
    prefix = "Nov 28 19:40:02 mx postfix/smtp[4242]: "
    return "\n".join(
        [
            # Postfix logs an address between <>: the payload goes in the server's words.
            f"{prefix}4F9D21C0A1: to=<user@example.net>, relay=mx.example.net"
            f"[192.0.2.7]:25, delay=0.2, dsn=5.1.1, status=bounced (host mx.example.net"
            f"[192.0.2.7] said: 550 5.1.1 <user@example.net>: User unknown {payload} "
            "(in reply to RCPT TO command))",
            "",
        ]
    )


def smtplib(payload: str) -> str:
    return "\n".join(
        [
            "send: 'ehlo client.example.org\\r\\n'",
            f"reply: b'250-mx.example.com {payload}\\r\\n'",
            "reply: b'250 8BITMIME\\r\\n'",
            "reply: retcode (250); Msg: b'mx.example.com\\n8BITMIME'",
            f"send: 'mail FROM:<a{payload}@example.com>\\r\\n'",
            f"reply: b'550 5.7.1 rejected {payload}\\r\\n'",
            f"reply: retcode (550); Msg: b'5.7.1 rejected {payload}'",
            "",
        ]
    )


def canonical(payload: str) -> str:
    """smtplog's own transcript, as probe and record write it."""
    return "\n".join(
        [
            "# smtplog transcript 1; target=mx.example.com:25; started=2026-11-28T19:40:02Z",
            f"+0.000 ** connect mx.example.com{payload}:25 (192.0.2.1)",
            f"+0.031 S: 220 mx.example.com ESMTP {payload}",
            "+0.032 C: EHLO client.example.org",
            f"+0.040 S: 250 mx.example.com {payload}",
            f"+0.041 C: MAIL FROM:<a{payload}@example.com>",
            f"+0.050 S: 451 4.7.1 Greylisted {payload}",
            "+0.051 C: QUIT",
            "+0.052 S: 221 Bye",
            "",
        ]
    )


DIALECTS = {
    "telnet": telnet,
    "swaks": swaks,
    "postfix": postfix,
    "smtplib": smtplib,
    "smtplog": canonical,
}
ALL = "".join(HOSTILE.values())


def hostile_bytes(dialect: str, payload: str = ALL) -> bytes:
    """The dialect's hostile transcript as bytes, with invalid UTF-8 in a reply too."""
    text = DIALECTS[dialect](payload).encode("utf-8")
    return text.replace(b"221 ", b"221 " + INVALID_UTF8 + b" ", 1) if b"221 " in text else text


# -- the check --------------------------------------------------------------------------

# Every character that controls a terminal, reorders or hides text: C0 and C1
# controls (but newline), DEL, the Unicode "format" characters (bidi controls,
# zero-width characters, tags...), line and paragraph separators, lone surrogates.
_CONTROL = (
    "".join(chr(c) for c in range(0x20) if chr(c) != "\n")
    + "\x7f"
    + "".join(chr(c) for c in range(0x80, 0xA0))
)
_INVISIBLE = {
    chr(c)
    for c in range(0x110000)
    if unicodedata.category(chr(c)) in ("Cf", "Zl", "Zp") or 0xD800 <= c <= 0xDFFF
}
UNSAFE = frozenset(_CONTROL) | frozenset(_INVISIBLE)
# rich's own styling: SGR sequences only (no cursor movement, no OSC).
_SGR = re.compile("\x1b\\[[0-9;]*m")
_RICH_MARKUP = re.compile(r"\[/?(bold|link|red|italic|dim)\b[^\]]*\]")


def unsafe_characters(output: str, *, terminal: bool = False) -> list[str]:
    """What in ``output`` would act on a terminal or hide: [] when nothing does."""
    if terminal:
        output = _SGR.sub("", output)
    return sorted({f"U+{ord(char):04X}" for char in output if char in UNSAFE})


def rich_markup_was_interpreted(output: str) -> bool:
    """Rich markup in the input must be printed as text, brackets and all."""
    return "alarm" in output and not _RICH_MARKUP.search(output)
