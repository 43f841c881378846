"""PHPMailer SMTPDebug output (knowledge/transcript-formats.md §4).

``CLIENT -> SERVER:`` and ``SERVER -> CLIENT:`` entries, one per command and
one per whole reply: in "echo" output the reply's further lines are indented
continuation lines, in "html" output they are glued together on one line
(``250-mx.example.com250-PIPELINING...``) and split here again. Below level 4
PHPMailer prints ``[credentials hidden]`` in place of AUTH data, including the
whole ``AUTH PLAIN <blob>`` command.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

from smtplog.assemble import ClientLine, Record, ServerLine
from smtplog.dialects._client import Continuation, date_time, reply_of
from smtplog.dialects.base import LineDialect, LineTransformer, failure_reason
from smtplog.events import (
    ClientError,
    Closed,
    Command,
    Connected,
    ConnectFailed,
    Connecting,
    Note,
    Timeout,
)
from smtplog.source import Line

_HTML_LINE = re.compile(r"<br\s*/?>\s*$", re.I)
_OPENING = re.compile(r"^opening to (?P<target>[^,\s]+)")
_HIDDEN = "[credentials hidden]"
_TIMEOUT = re.compile(r"timed-out|timed out|timelimit reached", re.I)


class PhpMailerTransformer(LineTransformer):
    time: float | None = None

    def start(self, items: list[Any]) -> Any:
        self.time = None
        if len(items) == 2:
            self.time = date_time(str(items[0]))
            return _timed(items[1], self.time)
        return items[0] if items else None

    @staticmethod
    def _text(items: list[Any], index: int = 1) -> str:
        return str(items[index]).strip() if len(items) > index else ""

    def client(self, items: list[Any]) -> ClientLine:
        text = self._text(items)
        return ClientLine(text, self.span)

    def server(self, items: list[Any]) -> Record | list[Record]:
        text = self._text(items)
        lines = _split_glued(text)
        records = [reply_of(part, self.span) for part in lines]
        if any(record is None for record in records):
            return Note(text=text, span=self.span)
        return records  # type: ignore[return-value]

    def inbound(self, items: list[Any]) -> None:
        # Level 4 logs every raw line before the whole reply: the reply entry follows.
        return None

    def connection(self, items: list[Any]) -> Record:
        text = str(items[0]).strip()
        if match := _OPENING.match(text):
            target = match.group("target").removeprefix("ssl://").removeprefix("tls://")
            return Connecting(target=target, span=self.span)
        if text == "opened":
            return Connected(span=self.span)
        if text == "closed":
            return Closed(by="client", detail=f"Connection: {text}", span=self.span)
        return Note(text=f"Connection: {text}", span=self.span)

    def connect_failed(self, items: list[Any]) -> ConnectFailed:
        text = str(items[0])
        return ConnectFailed(
            reason=failure_reason(text), detail=f"Connection failed. {text}", span=self.span
        )

    def smtp_error(self, items: list[Any]) -> Record:
        text = f"SMTP ERROR: {self._text(items)}"
        if "Failed to connect to server" in text:
            return ConnectFailed(reason=failure_reason(text), detail=text, span=self.span)
        return ClientError(text=text, span=self.span)

    def notice(self, items: list[Any]) -> Record:
        text = f"{str(items[0]).strip()} {self._text(items)}"
        if "get_lines()" in text and _TIMEOUT.search(text):
            return Timeout(waiting_for="reply", detail=text, span=self.span)
        if "EOF caught" in text:
            return Closed(by="server", detail=text, unexpected=True, span=self.span)
        return Note(text=text, span=self.span)

    def class_error(self, items: list[Any]) -> ClientError:
        return ClientError(
            text=f"{str(items[0]).strip()} {self._text(items)}".strip(), span=self.span
        )

    def mailer_error(self, items: list[Any]) -> ClientError:
        return ClientError(text=self.line.text.strip(), span=self.span)

    def other(self, items: list[Any]) -> Note:
        return Note(text=str(items[0]).strip(), span=self.span)

    def continuation(self, items: list[Any]) -> Continuation:
        return Continuation(self._text(items), self.span)


def _timed(record: Any, time: float | None) -> Any:
    from dataclasses import replace

    if isinstance(record, list):
        return [replace(item, time=time) for item in record]
    if record is None or time is None or isinstance(record, Continuation):
        return record
    return replace(record, time=time)


def _split_glued(text: str) -> list[str]:
    """Split an html-mode reply whose lines were glued: "250-a250-b250 c" -> 3 lines.

    Every line but the last starts with "NNN-" and the last with "NNN ", all
    with the same code: cut before each later "NNN-" and before the "NNN ".
    """
    code = text[:3]
    if not (code.isdigit() and text[3:4] == "-"):
        return [text]
    parts: list[str] = []
    rest = text
    pattern = re.compile(rf"{code}[- ]")
    while rest.startswith(f"{code}-"):
        match = pattern.search(rest, 4)
        if not match:
            break
        parts.append(rest[: match.start()])
        rest = rest[match.start() :]
    parts.append(rest)
    return parts


class PhpMailerDialect(LineDialect):
    name = "phpmailer"
    title = "PHPMailer SMTPDebug output (levels 1-4, echo or html)"
    example = "2026-11-28 19:49:09\tSERVER -> CLIENT: 250 2.1.0 Ok"
    grammar = "phpmailer"
    transformer_class = PhpMailerTransformer

    def prepare(self, line: Line) -> str:
        text = line.text
        if _HTML_LINE.search(text):
            text = html.unescape(_HTML_LINE.sub("", text))
        return text

    def post(self, records: Iterator[Record]) -> Iterator[Record]:
        """Attach continuation lines, and name the hidden AUTH PLAIN command."""
        last: Record | None = None
        last_code: int | None = None
        connect_failed = False
        for item in records:
            record = item
            if isinstance(record, Continuation):
                if isinstance(last, ServerLine):
                    line = reply_of(record.text, record.span, time=last.time)
                    if line is not None:
                        last = line
                        yield line
                        continue
                # The rest of a multi-line notice (an options dump, an error's reply lines).
                continue
            if isinstance(record, ServerLine):
                last_code = record.code
            if isinstance(record, ClientLine) and record.text == _HIDDEN and last_code != 334:
                # Below level 4 PHPMailer hides the whole "AUTH PLAIN <blob>" command.
                record = Command(
                    verb="AUTH",
                    argument="PLAIN [credentials hidden by PHPMailer]",
                    text="AUTH PLAIN [credentials hidden by PHPMailer]",
                    secret=True,
                    span=record.span,
                    time=record.time,
                )
                last_code = None
            if isinstance(record, ConnectFailed):
                if connect_failed:
                    record = Note(text=record.detail, span=record.span, time=record.time)
                connect_failed = True
            last = record
            yield record
