"""curl -v and --trace-ascii output for smtp:// URLs (knowledge/transcript-formats.md §3).

``>`` is the client and ``<`` the server, every such line with its CR; ``*``
lines are curl's own notices and errors (connect, TLS, "RCPT failed: 550").
curl -v does not show the message (``} [N bytes data]``); --trace-ascii does,
as hex-offset dump rows that the dialect joins back into lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from smtplog.assemble import ClientLine, Record, ServerLine
from smtplog.dialects._client import reply_of, time_of_day, widen
from smtplog.dialects.base import LineDialect, LineTransformer, failure_reason
from smtplog.events import (
    ClientError,
    Closed,
    Connected,
    ConnectFailed,
    Connecting,
    DataBody,
    Note,
    Span,
    Timeout,
    TlsFailed,
    TlsStarted,
)
from smtplog.source import Line

_CLOCK = re.compile(r"^(\d\d:\d\d:\d\d\.\d{6}) ")
_METER_ROW = re.compile(
    r"\r?\s*\d{1,3}\s+[\d.]+[kMGTP]?\s+\d{1,3}\s+[\d.]+[kMGTP]?\s+\d{1,3}\s+[\d.]+[kMGTP]?"
    r"\s+[\d.]+[kMGTP]?\s+[\d.]+[kMGTP]?(?:\s+(?:--:--:--|\d+:\d\d:\d\d|\d+d \d\dh)){3}"
    r"\s+[\d.]+[kMGTP]?\r?"
)

# What curl's "*" notices mean (lib/connect.c, lib/smtp.c, lib/vtls/*.c, lib/pingpong.c).
_TRYING = re.compile(r"^\s*Trying (?P<target>\S+?)(\.\.\.)?$")
_CONNECTED = re.compile(
    r"^Connected to (?P<host>\S+) \((?P<ip>[^)]*)\) port (?P<port>\d+)"
    r"|^Established connection to (?P<host2>\S+) \((?P<ip2>\S+) port (?P<port2>\d+)\)"
)
_CONNECT_FAILED = re.compile(
    r"^(connect to .* failed: |Failed to connect to |Could not resolve host: |"
    r"Connection timed out after |Immediate connect fail|Couldn't connect to server)"
)
_TIMEOUT = re.compile(r"^(Operation timed out after |server response timeout|Response timeout)")
_TLS_SESSION = re.compile(r"^SSL connection using (?P<version>\S+) / (?P<cipher>[^/\s]+)")
_TLS_DETAIL = re.compile(
    r"^(Server certificate:| subject: | start date: | expire date: | issuer: "
    r"| subjectAltName: | SSL certificate verify |ALPN|SSL certificate verify)"
)
_TLS_NOISE = re.compile(
    r"^(TLSv\d\.\d|SSLv\d) \((IN|OUT)\), |^ (CAfile|CApath): |^successfully set"
)
_TLS_ERROR = re.compile(r"^(OpenSSL SSL_connect|SSL certificate problem|SSL: |schannel: |gnutls_)")
_SMTP_ERROR = re.compile(
    r"^(RCPT failed|MAIL failed|DATA failed|Command failed|Got unexpected smtp-server response"
    r"|STARTTLS denied|STARTTLS not supported|Remote access denied|Login denied"
    r"|Authentication failed|No known authentication mechanisms|Failure sending|"
    r"Weird server reply|Recv failure|Send failure)"
)
_CLOSED = re.compile(r"^(Closing connection|Connection died|Connection #\d+ .* left intact)")
_BLOCK = re.compile(r"^(=>|<=) (Send|Recv) (header|data|SSL data), (\d+) bytes")


@dataclass(frozen=True, slots=True)
class _Payload:
    """``} [N bytes data]``: content curl -v does not show."""

    sent: bool
    size: int
    span: Span
    time: float | None


@dataclass(frozen=True, slots=True)
class _Block:
    """A --trace-ascii block header: what the dump rows below it are."""

    kind: str  # "send header" | "recv header" | "send data" | "recv data" | ssl
    size: int
    span: Span
    time: float | None


@dataclass(frozen=True, slots=True)
class _Row:
    offset: int
    text: str
    span: Span


class CurlTransformer(LineTransformer):
    @property
    def time(self) -> float | None:
        match = _CLOCK.match(self.line.text)
        return time_of_day(match.group(1)) if match else None

    def info(self, items: list[Any]) -> Record | None:
        return self._info(str(items[0]) if items else "")

    def trace_info(self, items: list[Any]) -> Record | None:
        return self._info(str(items[0]) if items else "")

    def _info(self, text: str) -> Record | None:
        span, time = self.span, self.time
        text = text.rstrip()
        if _TLS_NOISE.search(text):
            return None  # handshake messages: the summary below says what was agreed
        if match := _TRYING.match(text):
            return Connecting(target=match.group("target"), span=span, time=time)
        if match := _CONNECTED.match(text):
            host = match.group("host") or match.group("host2")
            port = match.group("port") or match.group("port2")
            address = match.group("ip") or match.group("ip2")
            return Connected(target=f"{host}:{port}", address=address, span=span, time=time)
        if _CONNECT_FAILED.match(text):
            reason = "dns" if text.startswith("Could not resolve") else failure_reason(text)
            return ConnectFailed(reason=reason, detail=text, span=span, time=time)
        if _TIMEOUT.match(text):
            return Timeout(waiting_for="reply", detail=text, span=span, time=time)
        if match := _TLS_SESSION.match(text):
            return TlsStarted(
                version=match.group("version"),
                cipher=match.group("cipher"),
                detail=text,
                span=span,
                time=time,
            )
        if _TLS_DETAIL.match(text):
            return Note(text=text, span=span, time=time)
        if _TLS_ERROR.match(text):
            return TlsFailed(reason=text, span=span, time=time)
        if _SMTP_ERROR.match(text):
            return ClientError(text=text, span=span, time=time)
        if _CLOSED.match(text):
            by = "client" if text.startswith("Closing") else "unknown"
            if "left intact" in text:
                return Note(text=text, span=span, time=time)
            return Closed(by=by, detail=text, span=span, time=time)
        return Note(text=text, span=span, time=time)

    def sent(self, items: list[Any]) -> ClientLine:
        text = str(items[0]) if items else ""
        return ClientLine(text.rstrip("\r"), self.span, time=self.time)

    def received(self, items: list[Any]) -> Record:
        if items and isinstance(items[0], ServerLine):
            return items[0]
        text = str(items[0]) if items else ""
        return Note(text=text.rstrip("\r"), span=self.span, time=self.time)

    def reply_line(self, items: list[Any]) -> ServerLine:
        line = self.server_line(items, time=self.time)
        return replace(line, text=line.text.rstrip("\r"))

    def payload(self, items: list[Any]) -> _Payload:
        text = str(items[0])
        size = re.search(r"\d+", text)
        return _Payload(
            text.startswith("}"), _count(size.group()) if size else 0, self.span, self.time
        )

    def trace_block(self, items: list[Any]) -> _Block:
        match = _BLOCK.match(str(items[0]))
        assert match is not None  # the terminal has the same shape
        direction, _, what, size = match.groups()
        kind = "ssl" if what == "SSL data" else f"{'send' if direction == '=>' else 'recv'} {what}"
        return _Block(kind, _count(size), self.span, self.time)

    def trace_row(self, items: list[Any]) -> _Row:
        offset = int(str(items[0]).rstrip(": "), 16)
        return _Row(offset, str(items[1]) if len(items) > 1 else "", self.span)

    def curl_error(self, items: list[Any]) -> ClientError:
        text = f"{str(items[0]).strip()} {items[1] if len(items) > 1 else ''}".strip()
        return ClientError(text=text, span=self.span, time=self.time)

    def meter_header(self, items: list[Any]) -> None:
        return None


class CurlDialect(LineDialect):
    name = "curl"
    title = "curl -v / --trace-ascii with an smtp:// or smtps:// URL"
    example = "> MAIL FROM:<alice@example.com>"
    grammar = "curl"
    transformer_class = CurlTransformer

    def prepare(self, line: Line) -> str:
        text = line.text
        if "--:--" in text or "\r" in text:
            text = _METER_ROW.sub("", text).lstrip("\r")
        return _CLOCK.sub("", text, count=1)

    def post(self, records: Iterator[Record]) -> Iterator[Record]:  # noqa: PLR0915 one pass, one state
        """Fold what curl spreads over lines.

        - TLS: "SSL connection using ..." and the certificate lines after it;
        - curl -v: "} [N bytes data]" after a 354 is the message, not shown;
        - --trace-ascii: dump rows under a block header are joined into lines.
        """
        tls: TlsStarted | None = None
        after_354 = False
        body: DataBody | None = None
        block: _Block | None = None
        rows: list[_Row] = []
        failed = False
        timed_out = False
        for record in records:
            if isinstance(record, _Row):
                if block is not None:
                    rows.append(record)
                continue
            if tls is not None:
                if isinstance(record, Note) and _TLS_DETAIL.match(record.text):
                    tls = _with_certificate(tls, record)
                    continue
                if not (isinstance(record, _Block) and record.kind == "ssl"):
                    yield tls
                    tls = None
            if block is not None:
                yield from _trace_lines(block, rows)
                block, rows = None, []
            if isinstance(record, _Block):
                block = record
                if record.kind == "send data" and after_354:
                    after_354 = False
                continue
            if isinstance(record, TlsStarted):
                tls = record
                continue
            if isinstance(record, _Payload):
                if record.sent and after_354:
                    body = _add_payload(body, record)
                continue
            if body is not None and not (isinstance(record, Note) and "uploaded" in record.text):
                yield body
                body, after_354 = None, False
            if isinstance(record, ServerLine):
                after_354 = record.code == 354
            if isinstance(record, Timeout):
                timed_out = True
            elif isinstance(record, Closed) and timed_out:
                # curl closing after its own timeout: the timeout is how it ended.
                yield Note(text=record.detail, span=record.span, time=record.time)
                continue
            if isinstance(record, ConnectFailed):
                if failed:  # "connect to ... failed" then "Failed to connect to ..."
                    yield Note(text=record.detail, span=record.span, time=record.time)
                    continue
                failed = True
            yield record
        if block is not None:
            yield from _trace_lines(block, rows)
        if tls is not None:
            yield tls
        if body is not None:
            yield body


def _count(digits: str) -> int:
    """A byte count curl wrote; 0 (unknown) for a damaged one longer than any size, which
    int() would refuse (its 4,300-digit limit)."""
    return int(digits) if len(digits) <= 18 else 0


def _add_payload(body: DataBody | None, payload: _Payload) -> DataBody:
    if body is None:
        return DataBody(
            summary=f"{payload.size} bytes (curl -v does not show the message)",
            span=payload.span,
            time=payload.time,
        )
    size = int(body.summary.split()[0]) + payload.size if body.summary else payload.size
    return replace(
        widen(body, payload.span), summary=f"{size} bytes (curl -v does not show the message)"
    )


def _trace_lines(block: _Block, rows: list[_Row]) -> Iterator[Record]:
    """Join --trace-ascii dump rows into the lines that were sent or received.

    A row ends where curl met CRLF (the CRLF is not shown) or after 64
    characters; the offset of the next row tells which: it is 2 further on
    than the text when a CRLF was swallowed.
    """
    if block.kind == "ssl" or not rows:
        return
    if block.kind in ("send data", "recv data"):
        span = Span(rows[0].span.first, rows[-1].span.last)
        yield DataBody(
            lines=tuple(row.text for row in rows),
            line_numbers=tuple(row.span.first for row in rows),
            line_count=len(rows),
            summary=f"{block.size} bytes",
            span=span,
            time=block.time,
        )
        return
    text, first = "", rows[0].span
    for index, row in enumerate(rows):
        end = rows[index + 1].offset if index + 1 < len(rows) else block.size
        text += row.text
        if end - row.offset == len(row.text):
            continue  # wrapped at 64 characters: the line goes on in the next row
        span = Span(first.first, row.span.last)
        if block.kind == "recv header":
            yield reply_of(text, span, time=block.time) or Note(text=text, span=span)
        else:
            yield ClientLine(text, span, time=block.time)
        text = ""
        if index + 1 < len(rows):
            first = rows[index + 1].span


def _with_certificate(tls: TlsStarted, note: Note) -> TlsStarted:
    text = note.text.strip()
    changes: dict[str, Any] = {"detail": f"{tls.detail}\n{text}"}
    key, _, value = text.partition(": ")
    if key == "subject":
        changes["subject"] = value
    elif key == "issuer":
        changes["issuer"] = value
    elif key == "expire date":
        changes["not_after"] = value
    elif text.startswith("SSL certificate verify"):
        changes["verified"] = "verify ok" in text
    return widen(replace(tls, **changes), note.span)
