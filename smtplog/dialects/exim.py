"""Exim: -v traces, main log delivery lines and bounces (knowledge/transcript-formats.md §11).

Trace: ``  SMTP<< reply`` (further lines of a multi-line reply indented nine
spaces with no marker), ``  SMTP>> cmd`` / ``SMTP|>`` (pipelined, not yet
flushed) / ``SMTP+>`` (more follows), ``  SMTP(errno text)<<`` when the read
failed. Main log: one line per delivery attempt, ``=>`` delivered (``C="250 ..."``),
``**`` failed, ``==`` deferred, with "SMTP error from remote mail server after
CMD: reply" (multi-line replies joined with a literal ``\\n``). Bounce: the
same error text, indented, with each reply line on its own line. Log lines and
bounces are rebuilt into sessions like Postfix's (see postfix.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from smtplog.assemble import ClientLine, Record, ServerLine
from smtplog.dialects.base import LineDialect, LineTransformer, failure_reason
from smtplog.events import (
    Closed,
    Command,
    Connected,
    ConnectFailed,
    Connecting,
    DataBody,
    DataEnd,
    Event,
    Note,
    Span,
    Timeout,
)
from smtplog.source import Line

_CONNECTING = re.compile(
    r"^Connecting to (?P<host>\S+ \[[^\]]+\](?::\d+)?)(?: \.\.\.)?(?P<rest>.*)$"
)
_LOG = re.compile(
    r"^\s*(?P<date>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(?:\.\d+)? (?:\[\d+\] )?"
    r"(?P<id>[0-9A-Za-z]{6}-[0-9A-Za-z]{6,}-[0-9A-Za-z]{2,4}) "
    r"(?P<flag>=>|->|\*\*|==|<=|\*>)? ?(?P<rest>.*)$"
)
_HOST = re.compile(r"\bH=(?P<host>\S+ \[[^\]]+\](?::\d+)?)")
_AFTER = re.compile(
    r"SMTP error from remote mail(?:er| server) after (?P<what>.+?): (?P<reply>[2-5]\d\d[ -].*)$"
)
_TIMEOUT = re.compile(r"SMTP timeout after (?P<what>.+?)(?:: .*)?$")
_CLOSED = re.compile(r"Remote host closed connection in response to (?P<what>.+)$")
_DEFER_ERROR = re.compile(r"defer \((?P<errno>-?\d+)\): (?P<error>[^H]+?)(?: H=|$)")
_CONFIRM = re.compile(r'\bC="(?P<reply>[^"]*)"')
_ERRNO_STATE = re.compile(r"SMTP\((?P<error>[^)]*)\)(?P<dir><<|>>)")


def _request(what: str, span: Span | None = None, stream: str | None = None) -> Event | None:
    """ "RCPT TO:<x>", "MAIL FROM:<x>", "end of data", "initial connection" -> the request."""
    lowered = what.lower()
    if "initial connection" in lowered or "greeting" in lowered:
        return None
    if "end of data" in lowered:
        return DataEnd(span=None, stream=stream)
    text = re.sub(r"^pipelined ", "", what, flags=re.I).strip()
    verb = text.split()[0].upper() if text.split() else ""
    argument = text[len(verb) :].strip()
    return Command(verb=verb, argument=argument, text=text, span=None, stream=stream)


@dataclass(frozen=True, slots=True)
class Piece:
    kind: str
    text: str
    span: Span
    record: Record | None = None


class EximTransformer(LineTransformer):
    def _piece(self, kind: str, record: Record | None = None) -> Piece:
        return Piece(kind, self.line.text.rstrip(), self.span, record)

    def reply_line(self, items: list[Any]) -> ServerLine:
        return self.server_line(items)

    def smtp_in(self, items: list[Any]) -> Piece:
        if len(items) > 1 and isinstance(items[1], ServerLine):
            return self._piece("reply", items[1])
        return self._piece("other")

    def smtp_out(self, items: list[Any]) -> Piece:
        text = str(items[1]) if len(items) > 1 else ""
        return self._piece("command", ClientLine(text, self.span))

    def smtp_state(self, items: list[Any]) -> Piece:
        return self._piece("state")

    def continuation(self, items: list[Any]) -> Piece:
        return self._piece("reply", items[1])

    def connecting(self, items: list[Any]) -> Piece:
        return self._piece("connecting")

    def connected(self, items: list[Any]) -> Piece:
        return self._piece("connected")

    def log_line(self, items: list[Any]) -> Piece:
        return self._piece("log")

    def bounce_error(self, items: list[Any]) -> Piece:
        return self._piece("bounce-error")

    def bounce_host(self, items: list[Any]) -> Piece:
        return self._piece("bounce-host")

    def bounce_reply(self, items: list[Any]) -> Piece:
        return self._piece("bounce-reply", items[1])

    def other(self, items: list[Any]) -> Piece:
        return self._piece("other")


class EximDialect(LineDialect):
    name = "exim"
    title = "Exim -v/-d trace, main log delivery lines, or an Exim bounce"
    example = "  SMTP<< 550 5.1.1 <user@example.com>: Recipient address rejected"
    grammar = "exim"
    transformer_class = EximTransformer

    def prepare(self, line: Line) -> str:
        return line.text.rstrip("\r")

    def post(self, records: Iterator[Any]) -> Iterator[Record]:
        return _Walker().run(records)


class _Walker:
    def __init__(self) -> None:
        self.count = 0
        self.host = ""
        self.replied = False  # a reply was read on the current connection
        self.bounce_stream: str | None = None
        # With TCP Fast Open Exim prints "connected" before the connect really
        # happened; a following "SMTP(Connection refused)<<" means it never did.
        self.pending_connected: Connected | None = None

    def run(self, records: Iterator[Any]) -> Iterator[Record]:
        for record in records:
            if not isinstance(record, Piece):
                yield record
                continue
            if self.pending_connected is not None and record.kind != "state":
                yield self.pending_connected
                self.pending_connected = None
            yield from self._piece(record)
        if self.pending_connected is not None:
            yield self.pending_connected

    def _piece(self, piece: Piece) -> Iterator[Record]:
        kind, span, text = piece.kind, piece.span, piece.text
        if kind == "connecting":
            match = _CONNECTING.match(text)
            self.host = match.group("host") if match else text
            self.replied = False
            yield Connecting(target=self.host, span=span)
            rest = match.group("rest") if match else ""
            if "failed:" in rest:
                error = rest.split("failed:", 1)[1].strip()
                yield ConnectFailed(reason=failure_reason(error), detail=text, span=span)
            elif rest.strip().endswith("connected"):
                self.pending_connected = Connected(target=self.host, span=span)
        elif kind == "connected":
            self.pending_connected = Connected(target=self.host, span=span)
        elif kind == "reply":
            self.replied = True
            assert piece.record is not None
            yield piece.record
        elif kind == "command":
            assert isinstance(piece.record, ClientLine)
            if piece.record.text.startswith(("(writing message)", "writing message")):
                yield DataBody(summary="message content (not shown by Exim)", span=span)
            else:
                yield piece.record
        elif kind == "state":
            yield from self._state(text, span)
        elif kind == "log":
            yield from self._log(text, span)
        elif kind == "bounce-host":
            self.count += 1
            self.bounce_stream = f"bounce-{self.count}"
            host = text.strip()[len("host ") :]
            yield Connected(target=host, span=span, stream=self.bounce_stream)
        elif kind == "bounce-error":
            yield from self._bounce_error(text.strip(), span)
        elif kind == "bounce-reply" and self.bounce_stream is not None:
            assert isinstance(piece.record, ServerLine)
            yield ServerLine(
                piece.record.code, piece.record.sep, piece.record.text, span,
                stream=self.bounce_stream,
            )  # fmt: skip
        else:
            yield Note(text=text, span=span, stream=self.bounce_stream)

    def _state(self, text: str, span: Span) -> Iterator[Record]:
        match = _ERRNO_STATE.search(text)
        error = match.group("error") if match else ""
        direction = match.group("dir") if match else ""
        if direction == ">>" or error in ("close", "shutdown"):
            yield Note(text=text.strip(), span=span)
            return
        if error == "closed":
            yield Closed(by="server", unexpected=True, detail=text.strip(), span=span)
            return
        reason = failure_reason(error)
        connected, self.pending_connected = self.pending_connected, None
        if reason == "refused" and not self.replied:
            yield ConnectFailed(reason=reason, detail=f"{self.host}: {error}", span=span)
            return
        if connected is not None:
            yield connected
        if reason == "refused":
            yield Closed(by="server", unexpected=True, detail=text.strip(), span=span)
        elif reason == "timeout":
            waiting = "reply" if self.replied else "greeting"
            yield Timeout(waiting_for=waiting, detail=text.strip(), span=span)
        else:
            yield Closed(by="server", unexpected=True, detail=text.strip(), span=span)

    def _bounce_error(self, text: str, span: Span) -> Iterator[Record]:
        stream = self.bounce_stream
        match = re.match(r"SMTP error from remote mail(?:er| server) after (?P<what>.+?):$", text)
        if match:
            request = _request(match.group("what"), stream=stream)
            if request is not None:
                yield request
            return
        yield from _failure_text(text, span, stream)

    def _log(self, text: str, span: Span) -> Iterator[Record]:
        match = _LOG.match(text)
        if match is None:
            yield Note(text=text.strip(), span=span)
            return
        flag, rest = match.group("flag"), match.group("rest")
        if flag not in ("=>", "->", "**", "=="):
            yield Note(text=text.strip(), span=span, stream=f"log-{match.group('id')}")
            return
        self.count += 1
        stream = f"{match.group('id')}#{self.count}"
        host = _HOST.search(rest)
        if flag in ("=>", "->"):
            yield Connected(target=host.group("host") if host else "", span=span, stream=stream)
            confirm = _CONFIRM.search(rest)
            if confirm:
                yield DataEnd(span=None, stream=stream)
                yield from _reply_lines(confirm.group("reply"), span, stream)
            else:
                yield Note(text=text.strip(), span=span, stream=stream)
            return
        after = _AFTER.search(rest)
        if after:
            yield Connected(target=host.group("host") if host else "", span=span, stream=stream)
            request = _request(after.group("what"), stream=stream)
            if request is not None:
                yield request
            yield from _reply_lines(after.group("reply"), span, stream)
            return
        if host and (_TIMEOUT.search(rest) or _CLOSED.search(rest)):
            yield Connected(target=host.group("host"), span=span, stream=stream)
            yield from _failure_text(rest, span, stream)
            return
        error = _DEFER_ERROR.search(rest)
        detail = error.group("error").strip() if error else rest
        yield ConnectFailed(reason=failure_reason(detail), detail=rest, span=span, stream=stream)


def _failure_text(text: str, span: Span, stream: str | None) -> Iterator[Record]:
    """ "SMTP timeout after X" / "Remote host closed connection in response to X"."""
    if match := _TIMEOUT.search(text):
        request = _request(match.group("what"), stream=stream)
        if request is not None:
            yield request
        waiting = "greeting" if request is None else "reply"
        yield Timeout(waiting_for=waiting, detail=text, span=span, stream=stream)
        return
    if match := _CLOSED.search(text):
        request = _request(match.group("what"), stream=stream)
        if request is not None:
            yield request
        yield Closed(by="server", unexpected=True, detail=text, span=span, stream=stream)
        return
    yield Note(text=text, span=span, stream=stream)


def _reply_lines(reply: str, span: Span, stream: str | None) -> Iterator[Record]:
    """A reply from a log line; Exim joins multi-line replies with a literal "\\n"."""
    for line in reply.split("\\n"):
        match = re.match(r"^(?P<code>[2-5]\d\d)(?P<sep>[ -]|$)(?P<text>.*)$", line)
        if match:
            yield ServerLine(
                int(match.group("code")), match.group("sep") or " ", match.group("text"), span,
                stream=stream,
            )  # fmt: skip
        else:
            yield Note(text=line, span=span, stream=stream)
