"""JavaMail / Jakarta Mail debug output (knowledge/transcript-formats.md §7).

Three kinds of line: ``DEBUG:`` (the Session), ``DEBUG SMTP:`` (the
transport's own notes) and unprefixed raw protocol lines in both directions.
Direction comes from the shape (a reply code or a verb) and from the DATA
state: between 354 and "." everything is message content. JavaMail hides the
AUTH exchange itself ("AUTH LOGIN command trace suppressed").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from smtplog.assemble import Record, ServerLine, UnmarkedLine
from smtplog.dialects._exceptions import exception_event
from smtplog.dialects.base import LineDialect, LineTransformer
from smtplog.events import Closed, Connecting, Note, Span, Timeout

_TRYING = re.compile(
    r'trying to connect to host "(?P<host>[^"]*)", port (?P<port>\d+), isSSL (?P<ssl>\w+)'
)
_NOISE = re.compile(
    r"^(Found extension |use8bit |useEhlo |need username|protocolConnect |Attempt to "
    r"authenticate|Using mechanism |  \S+@\S+$|Verified Addresses|Invalid Addresses"
    r"|Valid Unsent Addresses|Sending failed because)"
)


@dataclass(frozen=True, slots=True)
class _Trace:
    """A line of a Java exception: ``head`` starts one, the others continue it."""

    text: str
    head: bool
    span: Span


class JavaMailTransformer(LineTransformer):
    def debug(self, items: list[Any]) -> Note:
        return Note(text=self.line.text, span=self.span)

    def debug_smtp(self, items: list[Any]) -> Record | None:
        text = str(items[1]).rstrip() if len(items) > 1 else ""
        if match := _TRYING.search(text):
            return Connecting(target=f"{match.group('host')}:{match.group('port')}", span=self.span)
        if _NOISE.search(text):
            return None  # capability list and address lists repeat what the trace shows
        if text.startswith(("EOF:", "exception reading response")):
            if "timed out" in text:
                return Timeout(waiting_for="reply", detail=self.line.text, span=self.span)
            return Closed(by="server", unexpected=True, detail=self.line.text, span=self.span)
        return Note(text=self.line.text, span=self.span)

    def exception(self, items: list[Any]) -> _Trace:
        return _Trace(self.line.text, True, self.span)

    def trace_line(self, items: list[Any]) -> _Trace:
        return _Trace(self.line.text, False, self.span)

    def reply_line(self, items: list[Any]) -> UnmarkedLine:
        return UnmarkedLine(self.line.text, self.span, reply=self.server_line(items))

    def raw(self, items: list[Any]) -> UnmarkedLine:
        return UnmarkedLine(self.line.text, self.span)


class JavaMailDialect(LineDialect):
    name = "javamail"
    title = "JavaMail / Jakarta Mail debug output (session.setDebug(true))"
    example = 'DEBUG SMTP: trying to connect to host "mx.example.com", port 25, isSSL false'
    grammar = "javamail"
    transformer_class = JavaMailTransformer

    def post(self, records: Iterator[Record]) -> Iterator[Record]:
        """Keep message content whole; fold each stack trace into one event."""
        in_data = False
        seen_reply = False
        trace: list[_Trace] = []
        for record in records:
            if isinstance(record, _Trace):
                if in_data:  # a folded header line ("\tboundary=...") of the message
                    yield UnmarkedLine(record.text, record.span)
                    continue
                if record.head and trace and not trace[-1].text.endswith(":"):
                    yield _trace_event(trace, seen_reply)
                    trace = []
                trace.append(record)
                continue
            if trace:
                yield _trace_event(trace, seen_reply)
                trace = []
            if isinstance(record, UnmarkedLine):
                reply: ServerLine | None = record.reply
                if in_data:
                    in_data = record.text != "."
                elif reply is not None:
                    seen_reply = True
                    in_data = reply.code == 354
            yield record
        if trace:
            yield _trace_event(trace, seen_reply)


def _trace_event(trace: list[_Trace], seen_reply: bool) -> Any:
    """One event for a stack trace: its first line, and the nested cause if it names one."""
    head = trace[0].text.removeprefix("Exception in thread ").strip()
    head = re.sub(r'^"[^"]*" ', "", head)
    nested = [
        line.text.strip()
        for line in trace[1:]
        if not line.text.lstrip().startswith(("at ", "..."))
        and line.text.strip()
        and "nested exception is" not in line.text
    ]
    text = head if not nested else f"{head} ({nested[0]})"
    span = Span(trace[0].span.first, trace[-1].span.last)
    return exception_event(text, span, seen_reply)
