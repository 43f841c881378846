"""Perl Net::SMTP with ``Debug => 1`` (knowledge/transcript-formats.md §14a).

``Pkg=GLOB(0x...)>>> `` is the client and ``<<< `` the server. Commands keep
their CR; message lines are shown before dot-stuffing (as the application
passed them). The class tree printed when debugging starts means the TCP
connection was made. What goes wrong is printed by the application (its
``die``), or by Net::Cmd for a timeout.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from smtplog.assemble import ClientLine, Record, ServerLine
from smtplog.dialects._client import widen
from smtplog.dialects.base import LineDialect, LineTransformer
from smtplog.events import ClientError, Connected, Note, Timeout
from smtplog.source import Line

_ERRORISH = re.compile(
    r"fail|error|cannot|can't|couldn't|unable|denied|refused|timeout| at \S+ line \d+", re.I
)


class PerlTransformer(LineTransformer):
    def class_tree(self, items: list[Any]) -> Connected:
        return Connected(span=self.span)

    def sent(self, items: list[Any]) -> ClientLine:
        text = str(items[1]) if len(items) > 1 else ""
        return ClientLine(text.removesuffix("\r"), self.span)

    def received(self, items: list[Any]) -> Record:
        if len(items) > 1 and isinstance(items[1], ServerLine):
            return items[1]
        return Note(text=str(items[1]) if len(items) > 1 else "", span=self.span)

    def reply_line(self, items: list[Any]) -> ServerLine:
        return self.server_line(items)

    def timeout(self, items: list[Any]) -> Timeout:
        return Timeout(waiting_for="reply", detail=self.line.text, span=self.span)

    def other(self, items: list[Any]) -> Record:
        text = str(items[0])
        if _ERRORISH.search(text):
            return ClientError(text=text, span=self.span)
        return Note(text=text, span=self.span)


class PerlDialect(LineDialect):
    name = "perl"
    title = "Perl Net::SMTP with Debug => 1"
    example = "Net::SMTP=GLOB(0x55ea37d4fca0)<<< 250 2.1.0 Ok"
    grammar = "perl"
    transformer_class = PerlTransformer

    def prepare(self, line: Line) -> str:
        return line.text.removesuffix("\r")

    def post(self, records: Iterator[Record]) -> Iterator[Record]:
        """The class tree is one "connected" event, however many lines it has."""
        connected: Connected | None = None
        for record in records:
            if isinstance(record, Connected):
                connected = record if connected is None else widen(connected, record.span)
                continue
            if connected is not None:
                yield connected
                connected = None
            yield record
        if connected is not None:
            yield connected
