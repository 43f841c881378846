"""The canonical smtplog transcript, read back with full fidelity (see transcript.py)."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from smtplog.assemble import ClientLine, Record, ServerLine
from smtplog.dialects.base import LineDialect, LineTransformer
from smtplog.events import (
    ClientError,
    Closed,
    Connected,
    ConnectFailed,
    DataBody,
    Encrypted,
    Note,
    Timeout,
    TlsFailed,
    TlsStarted,
    Unparsed,
)

_CONNECT = re.compile(r"^(?P<target>\S+)(?: \((?P<address>[^)]*)\))?")
_CLOSED = re.compile(
    r"^(?P<by>server|client|unknown)(?P<unexpected> unexpected)?(?::\s*(?P<detail>.*))?$"
)
_ENCRYPTED = re.compile(r"^client=(?P<client>\d+) server=(?P<server>\d+)(?::\s*(?P<detail>.*))?$")
_FAILURES = {"timeout", "refused", "unreachable", "dns", "reset", "other"}


@dataclass(frozen=True, slots=True)
class SessionMark:
    """``** session LABEL``: the records after it belong to that connection."""

    label: str


def _unescape(text: str) -> str:
    return text.replace("\\r", "\r").replace("\\n", "\n")


class CanonicalTransformer(LineTransformer):
    time: float | None = None

    def start(self, items: list[Any]) -> Any:
        self.time = None
        if len(items) == 2:  # TIME entry
            self.time = float(str(items[0]).strip().lstrip("+"))
            return _timed(items[1], self.time)
        return items[0]

    def header(self, items: list[Any]) -> Note:
        return Note(text=str(items[0]), span=self.span)

    def comment(self, items: list[Any]) -> Note:
        return Note(text=str(items[0]), span=self.span)

    def server(self, items: list[Any]) -> Record:
        if items and isinstance(items[0], ServerLine):
            return items[0]
        return Unparsed(text=self.line.text, span=self.span)

    def reply_line(self, items: list[Any]) -> ServerLine:
        return self.server_line(items)

    def client(self, items: list[Any]) -> ClientLine:
        return ClientLine(str(items[0]) if items else "", self.span)

    def meta(self, items: list[Any]) -> Record:
        verb = str(items[0])
        text = str(items[1]) if len(items) > 1 else ""
        span = self.span
        if verb in ("connect", "connected"):
            match = _CONNECT.match(text)
            target = match.group("target") if match else text
            address = match.group("address") if match else None
            return Connected(target=target, address=address, span=span)
        if verb == "connect-failed":
            reason, _, detail = text.partition(" ")
            if reason not in _FAILURES:
                reason, detail = "other", text
            return ConnectFailed(reason=reason, detail=_unescape(detail), span=span)  # type: ignore[arg-type]
        if verb == "tls":
            return _tls(text, span)
        if verb == "encrypted":
            found = _ENCRYPTED.match(text)
            if found is None:
                return Encrypted(detail=_unescape(text), span=span)
            return Encrypted(
                client_bytes=int(found.group("client")),
                server_bytes=int(found.group("server")),
                detail=_unescape(found.group("detail") or ""),
                span=span,
            )
        if verb == "tls-failed":
            return TlsFailed(reason=_unescape(text), span=span)
        if verb == "timeout":
            waiting_for, _, detail = text.partition(" ")
            return Timeout(waiting_for=waiting_for or "reply", detail=_unescape(detail), span=span)
        if verb == "closed":
            match = _CLOSED.match(text)
            if match:
                return Closed(
                    by=match.group("by"),  # type: ignore[arg-type]
                    unexpected=bool(match.group("unexpected")),
                    detail=_unescape(match.group("detail") or ""),
                    span=span,
                )
            return Closed(detail=text, span=span)
        if verb == "error":
            return ClientError(text=_unescape(text), span=span)
        if verb == "session":
            return SessionMark(_unescape(text))  # type: ignore[return-value]
        if verb == "data-summary":
            return DataBody(summary=_unescape(text), span=span)
        return Note(text=_unescape(text), span=span)


def _tls(text: str, span: Any) -> TlsStarted:
    try:
        parts = shlex.split(text)
    except ValueError:
        return TlsStarted(detail=text, span=span)
    positional = [part for part in parts if "=" not in part]
    fields = dict(part.split("=", 1) for part in parts if "=" in part)
    verified = fields.get("verified")
    return TlsStarted(
        version=positional[0] if positional and positional[0] != "unknown" else None,
        cipher=positional[1] if len(positional) > 1 and positional[1] != "unknown" else None,
        subject=fields.get("subject"),
        issuer=fields.get("issuer"),
        not_after=fields.get("not-after"),
        sans=tuple(name for name in fields.get("names", "").split(",") if name),
        verified=None if verified is None else verified == "yes",
        detail=_unescape(fields.get("detail", "")),
        span=span,
    )


def _timed(record: Any, time: float) -> Any:
    if isinstance(record, SessionMark):
        return record
    return replace(record, time=time)


class CanonicalDialect(LineDialect):
    name = "smtplog"
    title = "smtplog's own transcript (written by probe, record and proxy)"
    example = "+0.031 S: 220 mx.example.com ESMTP"
    grammar = "smtplog"
    transformer_class = CanonicalTransformer

    def post(self, records: Iterator[Record]) -> Iterator[Record]:
        stream: str | None = None
        for record in records:
            if isinstance(record, SessionMark):
                stream = record.label
                continue
            yield record if stream is None else replace(record, stream=stream)
