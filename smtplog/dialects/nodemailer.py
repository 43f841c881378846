"""Nodemailer logger output (knowledge/transcript-formats.md §8).

Every line of a connection carries its id (``[sid]``); the lines of several
connections sent at once interleave, so each line's events carry the id as
their ``stream`` and the analysis groups them back into sessions. ``C:`` is
the client, ``S:`` the server; message lines have neither prefix. Nodemailer
writes ``/* secret */`` in place of the password inside the AUTH base64.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from smtplog.assemble import ClientLine, Record, ServerLine
from smtplog.dialects._client import date_time
from smtplog.dialects.base import LineDialect, LineTransformer, failure_reason
from smtplog.events import (
    ClientError,
    Closed,
    Connected,
    ConnectFailed,
    Note,
    Span,
    Timeout,
    TlsFailed,
    TlsStarted,
)

_ESTABLISHED = re.compile(r"^(?P<secure>Secure )?[Cc]onnection established to (?P<target>\S+)")
_CONNECT_ERROR = re.compile(
    r"^(connect |getaddrinfo )?(ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|"
    r"ENOTFOUND|EAI_AGAIN|ECONNRESET)\b"
)


@dataclass(frozen=True, slots=True)
class _Message:
    """A line with neither C: nor S: (message content or a notice)."""

    text: str
    level: str
    span: Span
    time: float | None
    stream: str | None


class NodemailerTransformer(LineTransformer):
    def start(self, items: list[Any]) -> Any:
        if len(items) == 1:  # "other": a line the application printed
            return items[0]
        time = date_time(str(items[0]))
        level = str(items[1]).strip()
        sid = next(
            (
                str(item).strip()[1:-1]
                for item in items[2:-1]
                if str(item).startswith("[") and "#" not in str(item)
            ),
            None,
        )
        record = items[-1]
        if isinstance(record, _Message):
            return replace(record, level=level, time=time, stream=sid)
        if isinstance(record, list):
            return [replace(item, time=time, stream=sid) for item in record]
        return replace(record, time=time, stream=sid)

    def client(self, items: list[Any]) -> ClientLine:
        return ClientLine(str(items[1]) if len(items) > 1 else "", self.span)

    def server(self, items: list[Any]) -> Record:
        if len(items) > 1 and isinstance(items[1], ServerLine):
            return items[1]
        return Note(text=str(items[1]) if len(items) > 1 else "", span=self.span)

    def reply_line(self, items: list[Any]) -> ServerLine:
        return self.server_line(items)

    def message(self, items: list[Any]) -> _Message:
        return _Message(str(items[0]) if items else "", "", self.span, None, None)

    def other(self, items: list[Any]) -> Record:
        text = str(items[0])
        if re.match(r"^\w*Error: ", text):
            return ClientError(text=text, span=self.span)
        return Note(text=text, span=self.span)


class NodemailerDialect(LineDialect):
    name = "nodemailer"
    title = "Nodemailer logger output (logger: true, debug: true)"
    example = "[2026-11-28 19:37:43] DEBUG [2WJfoc0tZQ] S: 250 2.1.0 Ok"
    grammar = "nodemailer"
    transformer_class = NodemailerTransformer

    def post(self, records: Iterator[Record]) -> Iterator[Record]:
        """Tell message content from notices, per connection."""
        in_data: dict[str | None, bool] = {}
        for record in records:
            if isinstance(record, ServerLine):
                in_data[record.stream] = record.code == 354
                yield record
                continue
            if isinstance(record, ClientLine):
                in_data[record.stream] = False
                yield record
                continue
            if isinstance(record, _Message):
                if in_data.get(record.stream) and record.level in ("DEBUG", "TRACE"):
                    if record.text == ".":
                        in_data[record.stream] = False
                    yield ClientLine(
                        record.text, record.span, record.time, record.stream, body=True
                    )
                    continue
                notice = _notice(record)
                if isinstance(notice, list):
                    yield from notice
                else:
                    yield notice
                continue
            yield record


def _notice(message: _Message) -> Any:
    text, common = (
        message.text,
        {"span": message.span, "time": message.time, "stream": message.stream},
    )
    if match := _ESTABLISHED.match(text):
        connected = Connected(target=match.group("target"), **common)
        if match.group("secure"):
            return [connected, TlsStarted(detail=text, **common)]
        return connected
    if text.startswith("Connection upgraded with STARTTLS"):
        return TlsStarted(detail=text, **common)
    if text.startswith("Failed STARTTLS upgrade"):
        return TlsFailed(reason=text, **common)
    if text == "Greeting never received":
        return Timeout(waiting_for="greeting", detail=text, **common)
    if _CONNECT_ERROR.match(text) and message.level == "WARN":
        return ConnectFailed(
            reason=failure_reason(text) if "ENOTFOUND" not in text else "dns", detail=text, **common
        )
    if text.startswith(("Connection closed", "Connection timeout")):
        if "timeout" in text:
            return Timeout(waiting_for="reply", detail=text, **common)
        return Closed(by="unknown", detail=text, **common)
    if message.level in ("ERROR", "FATAL"):
        return ClientError(text=text, **common)
    return Note(text=text, **common)
