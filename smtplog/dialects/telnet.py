"""Raw terminal captures: telnet, nc / ncat, PuTTY logs, and bare server-only logs.

There are no direction markers: reply-shaped lines are the server's, the
client program's notices are recognised by their wording, and everything else
is what the user typed (or prose around a pasted session, which the assembler
tells apart). Shapes: knowledge/transcript-formats.md §1.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from smtplog.assemble import Record, UnmarkedLine
from smtplog.dialects.base import LineDialect, LineTransformer, failure_reason
from smtplog.events import Closed, Connected, ConnectFailed, Connecting, Note, Span, TlsStarted
from smtplog.source import Line

_OPEN = re.compile(r"^(?:o|open)\s+(\S+)(?:\s+(\d+))?", re.I)


class TelnetTransformer(LineTransformer):
    def reply_line(self, items: list[Any]) -> UnmarkedLine:
        return UnmarkedLine(self.line.text, self.span, reply=self.server_line(items))

    def client_text(self, items: list[Any]) -> UnmarkedLine:
        return UnmarkedLine(self.line.text, self.span, edited="backspace" in self.line.flags)

    def trying(self, items: list[Any]) -> Connecting:
        return Connecting(target=str(items[0]).rstrip("."), span=self.span)

    def connected(self, items: list[Any]) -> Connected:
        return Connected(target=str(items[0]).rstrip("."), span=self.span)

    def escape_notice(self, items: list[Any]) -> Note:
        return Note(text=self.line.text, span=self.span)

    def closed(self, items: list[Any]) -> Closed:
        by = "server" if "foreign host" in self.line.text else "unknown"
        return Closed(by=by, detail=self.line.text, span=self.span)

    def connect_error(self, items: list[Any]) -> ConnectFailed:
        return ConnectFailed(
            reason=failure_reason(str(items[0])), detail=self.line.text, span=self.span
        )

    def lookup_error(self, items: list[Any]) -> ConnectFailed:
        return ConnectFailed(reason="dns", detail=self.line.text, span=self.span)

    def windows_connecting(self, items: list[Any]) -> Connecting:
        return Connecting(target=str(items[0]).rstrip("."), span=self.span)

    def windows_failed(self, items: list[Any]) -> ConnectFailed:
        # Windows telnet says "Connect failed" for refused and timed-out alike.
        return ConnectFailed(reason="other", detail=self.line.text, span=self.span)

    def nc_succeeded(self, items: list[Any]) -> Connected | UnmarkedLine:
        text = str(items[0])
        if not text.endswith("succeeded!"):
            return UnmarkedLine(self.line.text, self.span)
        return Connected(
            target=text.split(" port ", maxsplit=1)[0].replace(" ", ":"), span=self.span
        )

    def nc_failed(self, items: list[Any]) -> ConnectFailed | Note:
        text = str(items[0])
        if "connect" in text or "getaddrinfo" in text:
            return ConnectFailed(reason=failure_reason(text), detail=self.line.text, span=self.span)
        return Note(text=self.line.text, span=self.span)

    def ncat_line(self, items: list[Any]) -> Record:
        text = str(items[0]).rstrip()
        if text.startswith("Connected to "):
            return Connected(target=text[len("Connected to ") :].rstrip("."), span=self.span)
        if text.startswith("SSL connection to "):
            return TlsStarted(detail=text, span=self.span)
        if text in ("TIMEOUT.", "Connection timed out.") or text.endswith("refused."):
            return ConnectFailed(reason=failure_reason(text), detail=self.line.text, span=self.span)
        return Note(text=self.line.text, span=self.span)

    def putty_header(self, items: list[Any]) -> Note:
        return Note(text=self.line.text, span=self.span)

    def telnet_prompt(self, items: list[Any]) -> Record:
        command = str(items[1]) if len(items) > 1 else ""
        match = _OPEN.match(command)
        if match:
            host, port = match.group(1), match.group(2) or "23"
            return Connecting(target=f"{host}:{port}", span=self.span)
        return Note(text=self.line.text, span=self.span)


class TelnetDialect(LineDialect):
    name = "telnet"
    title = "terminal capture: telnet, nc/ncat, PuTTY log, or server replies only"
    example = "250-mx.example.com Hello client.example.org [192.0.2.7]"
    grammar = "telnet"
    transformer_class = TelnetTransformer

    def blank(self, line: Line) -> Iterable[Record]:
        # Blank lines matter inside a typed message body only; the assembler decides.
        return (UnmarkedLine("", Span.of(line.number)),)
