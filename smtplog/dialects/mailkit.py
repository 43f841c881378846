"""MailKit ProtocolLogger output (knowledge/transcript-formats.md §14c).

``C:`` / ``S:`` prefixes (the defaults of ``ClientPrefix`` / ``ServerPrefix``),
an optional UTC timestamp, ``Connected to <uri>`` where the scheme says how TLS
was asked for (``smtps://`` implicit TLS, ``?starttls=always`` ...), and
``********`` where MailKit redacted a secret.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from smtplog.assemble import ClientLine, Record, ServerLine
from smtplog.dialects._client import date_time
from smtplog.dialects._exceptions import exception_event
from smtplog.dialects.base import LineDialect, LineTransformer
from smtplog.events import Connected, Note, TlsStarted
from smtplog.source import Line

_URI = re.compile(r"^(?P<scheme>smtps?)://(?P<target>[^/?\s]+)")


class MailKitTransformer(LineTransformer):
    def start(self, items: list[Any]) -> Any:
        if len(items) == 2:
            record = items[1]
            time = date_time(str(items[0]))
            if isinstance(record, list):
                return [replace(item, time=time) for item in record]
            return replace(record, time=time)
        return items[0]

    def connected(self, items: list[Any]) -> Record | list[Record]:
        uri = str(items[0]).strip()
        match = _URI.match(uri)
        target = match.group("target") if match else uri
        connected = Connected(target=target, span=self.span)
        if match and match.group("scheme") == "smtps":
            # Implicit TLS: MailKit logs no handshake, but smtps:// means TLS from the start.
            return [connected, TlsStarted(detail=f"implicit TLS ({uri})", span=self.span)]
        return connected

    def client(self, items: list[Any]) -> ClientLine:
        return ClientLine(str(items[1]) if len(items) > 1 else "", self.span)

    def server(self, items: list[Any]) -> Record:
        if len(items) > 1 and isinstance(items[1], ServerLine):
            return items[1]
        return Note(text=str(items[1]) if len(items) > 1 else "", span=self.span)

    def reply_line(self, items: list[Any]) -> ServerLine:
        return self.server_line(items)

    def exception(self, items: list[Any]) -> Any:
        return exception_event(self.line.text.strip(), self.span, seen_reply=True)

    def other(self, items: list[Any]) -> Note:
        return Note(text=str(items[0]), span=self.span)


class MailKitDialect(LineDialect):
    name = "mailkit"
    title = "MailKit ProtocolLogger output (.NET)"
    example = "C: MAIL FROM:<alice@example.com>"
    grammar = "mailkit"
    transformer_class = MailKitTransformer

    def prepare(self, line: Line) -> str:
        return line.text.removesuffix("\r")
