"""sendmail -v traces and sendmail DSN transcripts (knowledge/transcript-formats.md §10).

``sendmail -v`` prints commands as ``>>> CMD`` and the server's replies bare,
between its own status lines ("rcpt... Connecting to H via relay...",
"rcpt... Sent (...)", "Closing connection to H"). A DSN bounce holds only the
failing exchanges under "----- Transcript of session follows -----": one
"... while talking to H:" per delivery attempt (several MX hosts give several
attempts), ``>>>`` the command, ``<<<`` the reply, and lines *without* a
prefix that are sendmail's own verdicts ("550 5.1.1 <x>... User unknown"),
not server output, even though they look like replies.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from smtplog.assemble import ClientLine, Record, ServerLine
from smtplog.dialects.base import LineDialect, LineTransformer, failure_reason
from smtplog.events import (
    Command,
    Connected,
    ConnectFailed,
    Connecting,
    Note,
    Span,
    Timeout,
)
from smtplog.source import Line

_CONNECTING = re.compile(
    r"\.\.\. Connecting to (?P<host>.+?)(?: port (?P<port>\d+))? via \S+?\.\.\.$"
)
_CACHED = re.compile(r"\.\.\. Using cached \S+ connection to (?P<host>.+?) via \S+?\.\.\.$")
_TALKING = re.compile(r"^\.\.\. while talking to (?P<host>.+?):?\s*$")
_DEFERRED = re.compile(r"\.\.\. Deferred: (?P<reason>.*)$")
_CONNECTION_ERROR = re.compile(
    r"^(Connection (refused|timed out|reset)|No route to host|Network is unreachable|"
    r"Host unknown|Name server timeout|Operation timed out)",
    re.I,
)
_TRANSCRIPT = re.compile(r"^\s*-+ Transcript of session follows -+\s*$")


@dataclass(frozen=True, slots=True)
class Piece:
    kind: str
    text: str
    span: Span
    record: Record | None = None


class SendmailTransformer(LineTransformer):
    def _piece(self, kind: str, record: Record | None = None) -> Piece:
        return Piece(kind, self.line.text.rstrip(), self.span, record)

    def client(self, items: list[Any]) -> Piece:
        text = str(items[1]) if len(items) > 1 else ""
        return self._piece("client", ClientLine(text, self.span))

    def dsn_reply(self, items: list[Any]) -> Piece:
        second = items[1]
        if isinstance(second, ServerLine):
            return self._piece("dsn-reply", second)
        return self._piece("other")

    def reply_line(self, items: list[Any]) -> ServerLine:
        return self.server_line(items)

    def start(self, items: list[Any]) -> Piece:
        item = items[0]
        if isinstance(item, ServerLine):
            return self._piece("reply", item)
        return item  # type: ignore[no-any-return]

    def connecting(self, items: list[Any]) -> Piece:
        return self._piece("connecting")

    def cached(self, items: list[Any]) -> Piece:
        return self._piece("cached")

    def sent(self, items: list[Any]) -> Piece:
        return self._piece("sent")

    def deferred(self, items: list[Any]) -> Piece:
        return self._piece("deferred")

    def closing(self, items: list[Any]) -> Piece:
        return self._piece("closing")

    def heading(self, items: list[Any]) -> Piece:
        return self._piece("heading")

    def talking(self, items: list[Any]) -> Piece:
        return self._piece("talking")

    def status(self, items: list[Any]) -> Piece:
        return self._piece("status")

    def other(self, items: list[Any]) -> Piece:
        return self._piece("other")


class SendmailDialect(LineDialect):
    name = "sendmail"
    title = "sendmail -v / mail -v trace, or the transcript in a sendmail bounce"
    example = "user@example.com... Connecting to mx.example.com. via esmtp..."
    grammar = "sendmail"
    transformer_class = SendmailTransformer

    def prepare(self, line: Line) -> str:
        return line.text.rstrip("\r")

    def post(self, records: Iterator[Any]) -> Iterator[Record]:
        return _Walker().run(records)


class _Walker:
    def __init__(self) -> None:
        self.dsn = False  # inside a DSN's "Transcript of session follows" block
        self.held: Piece | None = None  # a connection-level "Deferred:" awaiting context
        self.host: str = ""

    def run(self, records: Iterator[Any]) -> Iterator[Record]:
        for record in records:
            if not isinstance(record, Piece):
                yield from self._release(None)
                yield record
                continue
            yield from self._release(record)
            yield from self._piece(record)
        yield from self._release(None)

    def _release(self, following: Piece | None) -> Iterator[Record]:
        """A "Deferred: Connection timed out with H" then "Closing connection to H"
        means the connection was open: the greeting never came. Without the
        closing line the connection itself failed."""
        held, self.held = self.held, None
        if held is None:
            return
        match = _DEFERRED.search(held.text)
        reason = match.group("reason") if match else held.text
        if following is not None and following.kind == "closing":
            yield Connected(target=self.host, span=held.span)
            yield Timeout(waiting_for="greeting", detail=held.text, span=held.span)
            return
        yield ConnectFailed(reason=failure_reason(reason), detail=held.text, span=held.span)

    def _piece(self, piece: Piece) -> Iterator[Record]:
        kind, span = piece.kind, piece.span
        if kind == "heading":
            self.dsn = bool(_TRANSCRIPT.match(piece.text))
            yield Note(text=piece.text, span=span)
        elif kind == "talking":
            self.dsn = True
            match = _TALKING.match(piece.text)
            host = match.group("host") if match else piece.text
            yield Connecting(target=host.rstrip("."), span=span)
        elif kind in ("connecting", "cached"):
            self.dsn = False
            match = (_CONNECTING if kind == "connecting" else _CACHED).search(piece.text)
            host = match.group("host") if match else ""
            port = match.group("port") if match and kind == "connecting" else None
            self.host = f"{host}:{port}" if port else host
            if kind == "cached":
                yield Connected(target=self.host, span=span)
            else:
                yield Connecting(target=self.host, span=span)
        elif kind == "client":
            assert isinstance(piece.record, ClientLine)
            text = piece.record.text
            if self.dsn and text in ("STARTTLS dialogue", "AUTH dialogue"):
                # The DSN hides the secrets of these exchanges (usersmtp.c).
                verb = text.split()[0]
                yield Command(verb=verb, argument="", text=text, span=span)
            else:
                yield piece.record
        elif kind == "dsn-reply" or (kind == "reply" and not self.dsn):
            assert piece.record is not None
            yield piece.record
        elif kind == "deferred":
            match = _DEFERRED.search(piece.text)
            if match and _CONNECTION_ERROR.match(match.group("reason")):
                self.held = piece
            else:
                yield Note(text=piece.text, span=span)  # the reply is already shown
        else:
            # sendmail's own status lines ("rcpt... Sent (...)", "550 5.1.1 rcpt... User
            # unknown" in a DSN), bounce prose, MIME parts: never server output.
            yield Note(text=piece.text, span=span)
