"""Python smtplib debug output, debuglevel 1 and 2 (knowledge/transcript-formats.md §5).

Every payload is a Python literal (``repr``): read with ``ast.literal_eval``,
never by hand (quotes switch to ``"`` when the text holds ``'``, bytes show as
``\\xNN``). Commands are str reprs; the whole message is one ``send:`` of a
bytes repr, split here into its lines (a ``\\n`` without ``\\r`` in it is a bare
LF). smtplib logs no errors: they are the traceback the application prints.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from smtplog.assemble import ClientLine, Record, ServerLine
from smtplog.dialects._client import Continuation, reply_of, time_of_day, widen
from smtplog.dialects.base import LineDialect, LineTransformer, failure_reason
from smtplog.events import (
    ClientError,
    Closed,
    Connected,
    ConnectFailed,
    Connecting,
    Event,
    Note,
    Span,
    Timeout,
    TlsFailed,
)

_CONNECT_TO = re.compile(r"^(?:to )?\(['\"](?P<host>[^'\"]*)['\"], (?P<port>\d+)\)")


@dataclass(frozen=True, slots=True)
class _Send:
    """One ``send:`` payload, decoded."""

    payload: str
    span: Span
    time: float | None


@dataclass(frozen=True, slots=True)
class _Exception:
    """The application's exception line (``smtplib.SMTPRecipientsRefused: {...}``)."""

    name: str
    text: str
    span: Span
    time: float | None = None


@dataclass(frozen=True, slots=True)
class _TracebackMark:
    span: Span


def literal(text: str) -> str | None:
    """The value of a Python str or bytes literal as text; None if it is not one."""
    import warnings

    try:
        # An invalid escape ("\\c") makes the compiler warn, on stderr and with the
        # transcript's own characters in the message: the text is data, not code.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = ast.literal_eval(text.strip())
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None  # TypeError: an unhashable key or member ("{[]: 1}")
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="surrogateescape")
    return value if isinstance(value, str) else None


class SmtplibTransformer(LineTransformer):
    time: float | None = None

    def start(self, items: list[Any]) -> Any:
        self.time = time_of_day(str(items[0])) if len(items) == 2 else None
        record = items[-1] if items else None
        if self.time is not None and record is not None and hasattr(record, "time"):
            from dataclasses import replace

            return replace(record, time=self.time)
        return record

    def send(self, items: list[Any]) -> Record:
        payload = literal(str(items[0]))
        if payload is None:
            return Note(text=self.line.text, span=self.span)
        return _Send(payload, self.span, None)  # type: ignore[return-value]

    def reply(self, items: list[Any]) -> Record:
        payload = literal(str(items[0]))
        if payload is None:
            return Note(text=self.line.text, span=self.span)
        text = payload.removesuffix("\n").removesuffix("\r")
        return reply_of(text, self.span) or Note(text=text, span=self.span)

    def summary(self, items: list[Any]) -> None:
        return None  # "reply: retcode (250); Msg: ..." repeats the reply lines above it

    def data(self, items: list[Any]) -> None:
        return None  # "data: (354, b'...')" repeats the reply to DATA

    def connect(self, items: list[Any]) -> Record | None:
        label, text = str(items[0]), str(items[1])
        if label.startswith("connect fail"):
            return ConnectFailed(reason="other", detail=self.line.text, span=self.span)
        if match := _CONNECT_TO.match(text):
            return Connecting(target=f"{match.group('host')}:{match.group('port')}", span=self.span)
        return None  # "connect: b'<greeting>'" repeats the 220 above it

    def traceback(self, items: list[Any]) -> _TracebackMark:
        return _TracebackMark(self.span)

    def chained(self, items: list[Any]) -> _TracebackMark:
        return _TracebackMark(self.span)

    def frame(self, items: list[Any]) -> Continuation:
        return Continuation(str(items[1]), self.span)

    def exception(self, items: list[Any]) -> _Exception:
        name = str(items[0]).rstrip(": ")
        text = str(items[1]) if len(items) > 1 else ""
        return _Exception(name, text, self.span)

    def other(self, items: list[Any]) -> Note:
        return Note(text=str(items[0]), span=self.span)


class SmtplibDialect(LineDialect):
    name = "smtplib"
    title = "Python smtplib set_debuglevel(1) or (2) output"
    example = "reply: b'250 2.1.0 Ok\\r\\n'"
    grammar = "smtplib"
    transformer_class = SmtplibTransformer

    def post(self, records: Iterator[Record]) -> Iterator[Record]:
        """Split the message blob into lines and fold tracebacks into one event."""
        last_code: int | None = None
        seen_reply = False
        trace: Span | None = None  # lines of the traceback(s) before the exception line
        for record in records:
            if isinstance(record, _TracebackMark):
                trace = record.span if trace is None else Span(trace.first, record.span.last)
                continue
            if isinstance(record, Continuation):
                if trace is not None:
                    trace = Span(trace.first, record.span.last)
                continue
            if isinstance(record, _Exception):
                span = record.span if trace is None else Span(trace.first, record.span.last)
                trace = None
                yield from _exception_events(record, span, seen_reply)
                continue
            if isinstance(record, ServerLine):
                seen_reply = True
                last_code = record.code
                yield record
                continue
            if isinstance(record, _Send):
                if last_code == 354 or record.payload.count("\r\n") > 1:
                    yield from _message_lines(record)
                else:
                    text = record.payload.removesuffix("\n").removesuffix("\r")
                    yield ClientLine(text, record.span, time=record.time)
                last_code = None
                continue
            yield record


def _message_lines(send: _Send) -> Iterator[ClientLine]:
    """The lines of the message smtplib sent in one write, the final "." included."""
    payload = send.payload.removesuffix("\r\n")
    for line in payload.split("\r\n"):
        parts = line.split("\n")
        for index, part in enumerate(parts):
            bare = index < len(parts) - 1  # this part ended in a bare LF
            yield ClientLine(part, send.span, time=send.time, body=True, bare_lf=bare)


# What the application's exception says happened (smtplib, socket and ssl exceptions).
_REFUSED = re.compile(r"ConnectionRefused|Errno 111|Errno 61|WinError 10061")
_DNS = re.compile(r"gaierror|Name or service not known|nodename nor servname")


def _exception_events(error: _Exception, span: Span, seen_reply: bool) -> Iterator[Event]:
    name, text = error.name, error.text
    full = f"{name}: {text}" if text else name
    short = name.rsplit(".", 1)[-1]
    connect_error = (
        _REFUSED.search(full) or _DNS.search(full) or short in ("timeout", "TimeoutError")
    )
    if connect_error and not seen_reply:
        reason = "dns" if _DNS.search(full) else failure_reason(full)
        yield ConnectFailed(reason=reason, detail=full, span=span)
        return
    if short == "SMTPServerDisconnected" or short in ("timeout", "TimeoutError"):
        if "timed out" in text:
            if not seen_reply:
                # getreply() timed out: the socket was connected, the greeting never came.
                yield Connected(span=None)
            yield Timeout(waiting_for="reply", detail=full, span=span)
            return
        yield Closed(by="server", unexpected=True, detail=full, span=span)
        return
    if short.startswith("SSL") or name.startswith("ssl."):
        yield TlsFailed(reason=full, span=span)
        return
    yield ClientError(text=full, span=span)


__all__ = ["SmtplibDialect", "literal", "widen"]
