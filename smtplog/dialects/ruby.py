"""Ruby Net::SMTP ``set_debug_output`` (knowledge/transcript-formats.md §14b).

``<- "EHLO ..."`` is the client writing and ``-> "250 ..."`` the client
reading: the arrows point the other way round from swaks. The strings are
``String#dump`` literals, undumped here. The message itself is not logged
(``writing message from String`` / ``wrote N bytes``); errors are the
exception and backtrace the application prints.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from smtplog.assemble import ClientLine, Record, ServerLine
from smtplog.dialects._client import reply_of
from smtplog.dialects._exceptions import exception_event
from smtplog.dialects.base import LineDialect, LineTransformer
from smtplog.events import Connected, DataBody, Note, Span, TlsFailed, TlsStarted

_ESCAPES = re.compile(r"\\(u\{[0-9a-fA-F ]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)")
_SIMPLE = {"n": "\n", "r": "\r", "t": "\t", "f": "\f", "v": "\v", "b": "\b", "a": "\a",
           "e": "\x1b", "s": " ", "0": "\0"}  # fmt: skip


def undump(text: str) -> str | None:
    """The value of a Ruby ``String#dump`` literal ("..." with backslash escapes)."""
    text = text.strip()
    if len(text) < 2 or not (text.startswith('"') and text.endswith('"')):
        return None
    body = text[1:-1]

    def escape(match: re.Match[str]) -> str:
        code = match.group(1)
        if code.startswith("u{"):
            return "".join(chr(int(part, 16)) for part in code[2:-1].split())
        if code.startswith("u") and len(code) == 5:
            return chr(int(code[1:], 16))
        if code.startswith("x"):
            value = int(code[1:], 16)
            # A byte outside ASCII stays undecodable, as source.py keeps such bytes.
            return chr(0xDC00 + value) if value > 0x7F else chr(value)
        if code.isdigit():
            return chr(int(code, 8))
        return _SIMPLE.get(code, code)  # \" \\ \# stand for themselves

    return _ESCAPES.sub(escape, body)


@dataclass(frozen=True, slots=True)
class _Trace:
    text: str
    head: bool
    span: Span


class RubyTransformer(LineTransformer):
    def opened(self, items: list[Any]) -> Connected:
        return Connected(target=str(items[0]).strip(), span=self.span)

    def written(self, items: list[Any]) -> Record:
        text = undump(str(items[0]))
        if text is None:
            return Note(text=self.line.text, span=self.span)
        return ClientLine(text.removesuffix("\n").removesuffix("\r"), self.span)

    def read(self, items: list[Any]) -> Record:
        text = undump(str(items[0]))
        if text is None:
            return Note(text=self.line.text, span=self.span)
        text = text.removesuffix("\n").removesuffix("\r")
        return reply_of(text, self.span) or Note(text=text, span=self.span)

    def tls(self, items: list[Any]) -> TlsStarted:
        return TlsStarted(detail="TLS connection started", span=self.span)

    def writing(self, items: list[Any]) -> None:
        return None  # "writing message from String": the "wrote N bytes" line says the rest

    def wrote(self, items: list[Any]) -> DataBody:
        size = str(items[0]).split()[1]
        return DataBody(
            summary=f"{size} bytes (Net::SMTP does not log the message)", span=self.span
        )

    def reading(self, items: list[Any]) -> Note:
        return Note(text=self.line.text, span=self.span)

    def exception(self, items: list[Any]) -> _Trace:
        return _Trace(self.line.text, True, self.span)

    def backtrace(self, items: list[Any]) -> _Trace:
        return _Trace(self.line.text, False, self.span)

    def other(self, items: list[Any]) -> Note:
        return Note(text=str(items[0]), span=self.span)


_HEAD = re.compile(r"^\S+:\d+:in [`'][^']*': (?P<message>.*?)(?: \((?P<cls>[\w:]+)\))?$")


class RubyDialect(LineDialect):
    name = "ruby"
    title = "Ruby Net::SMTP debug output (set_debug_output)"
    example = '-> "250 2.1.0 Ok\\r\\n"'
    grammar = "ruby"
    transformer_class = RubyTransformer

    def post(self, records: Iterator[Record]) -> Iterator[Record]:
        """Fold an exception and its backtrace into one event.

        Net::SMTP logs "TLS connection started" before the handshake: when the
        next thing is a TLS failure, the handshake never completed.
        """
        trace: list[_Trace] = []
        seen_reply = False
        tls: TlsStarted | None = None
        for record in records:
            if isinstance(record, ServerLine):
                seen_reply = True
            if isinstance(record, _Trace):
                if record.head and trace:
                    yield from self._flush(_trace_event(trace, seen_reply), tls)
                    trace, tls = [], None
                trace.append(record)
                continue
            if trace:
                yield from self._flush(_trace_event(trace, seen_reply), tls)
                trace, tls = [], None
            if isinstance(record, TlsStarted):
                tls = record
                continue
            yield from self._flush(record, tls)
            tls = None
        if trace:
            yield from self._flush(_trace_event(trace, seen_reply), tls)
        elif tls is not None:
            yield tls

    @staticmethod
    def _flush(record: Any, tls: TlsStarted | None) -> Iterator[Any]:
        if tls is not None:
            if isinstance(record, TlsFailed):
                yield Note(text="TLS connection started (the handshake then failed)", span=tls.span)
            else:
                yield tls
        yield record


def _trace_event(trace: list[_Trace], seen_reply: bool) -> Any:
    match = _HEAD.match(trace[0].text)
    text = trace[0].text
    if match:
        cls = match.group("cls")
        text = f"{cls}: {match.group('message')}" if cls else match.group("message")
    return exception_event(text, Span(trace[0].span.first, trace[-1].span.last), seen_reply)
