"""swaks output: every line starts with a transaction hint (knowledge/transcript-formats.md §2)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from smtplog.assemble import ClientLine, Record, ServerLine
from smtplog.dialects.base import LineDialect, LineTransformer, failure_reason
from smtplog.events import (
    ClientError,
    Closed,
    Connected,
    ConnectFailed,
    Connecting,
    Note,
    Span,
    Timeout,
    TlsFailed,
    TlsStarted,
    Unparsed,
)

_CIPHER = re.compile(r"TLS started with cipher (?P<version>[^:]+):(?P<cipher>[^:]+)")
_SUBJECT = re.compile(r'peer DN="(?P<dn>[^"]*)"|subject=\[(?P<subject>[^\]]*)\]')
_NOT_AFTER = re.compile(r"notAfter=\[(?P<date>[^\]]*)\]")
_LATENCY = re.compile(r"response in (?P<seconds>[0-9.]+)s")
_TIMEOUT = re.compile(r"Timeout \((?P<secs>\d+) secs?\)")

# "***" lines are swaks' own errors (stderr); their wording is in swaks' source.
_ERROR_EVENTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^Remote host closed connection unexpectedly"), "closed"),
    (re.compile(r"^(Socket|Child process) closed"), "closed"),
    (re.compile(r"^TLS startup failed"), "tls-failed"),
    (re.compile(r"^STARTTLS attempted but failed"), "tls-failed"),
    (re.compile(r"^Timeout"), "timeout"),
)


class SwaksTransformer(LineTransformer):
    def sent(self, items: list[Any]) -> ClientLine:
        # The anonymous " " after the hint is filtered out by lark.
        text = str(items[1]) if len(items) > 1 else ""
        return ClientLine(text, self.span)

    def received(self, items: list[Any]) -> Record:
        record = items[1]
        if isinstance(record, (ServerLine, Timeout)):
            return record
        # A receive hint followed by text that is no reply (or another tool's
        # arrow, e.g. Ruby's '<- "EHLO"'): keep it visible, never crash.
        return Unparsed(text=self.line.text, span=self.span)

    def reply_line(self, items: list[Any]) -> ServerLine:
        return self.server_line(items)

    def receive_timeout(self, items: list[Any]) -> Timeout:
        return Timeout(waiting_for="reply", detail=str(items[0]), span=self.span)

    def info(self, items: list[Any]) -> Record:
        return items[-1] if items else Note(text="", span=self.span)

    def trying(self, items: list[Any]) -> Connecting:
        target = str(items[0])[len("Trying ") :].rstrip(".")
        return Connecting(target=target, span=self.span)

    def connected_to(self, items: list[Any]) -> Connected:
        return Connected(target=str(items[0])[len("Connected to ") :].rstrip("."), span=self.span)

    def tls_started(self, items: list[Any]) -> TlsStarted:
        text = str(items[0])
        match = _CIPHER.search(text)
        return TlsStarted(
            version=match.group("version") if match else None,
            cipher=match.group("cipher") if match else None,
            detail=text,
            span=self.span,
        )

    def tls_detail(self, items: list[Any]) -> Note:
        return Note(text=str(items[0]), span=self.span)

    def response_time(self, items: list[Any]) -> Note:
        return Note(text=str(items[0]), span=self.span)

    def connection_closed(self, items: list[Any]) -> Closed:
        return Closed(by="client", detail=str(items[0]), span=self.span)

    def info_other(self, items: list[Any]) -> Note:
        return Note(text=str(items[0]), span=self.span)

    def error(self, items: list[Any]) -> Record:
        text = str(items[0]) if items else ""
        for pattern, kind in _ERROR_EVENTS:
            if pattern.search(text):
                if kind == "closed":
                    return Closed(by="server", detail=text, unexpected=True, span=self.span)
                if kind == "tls-failed":
                    return TlsFailed(reason=text, span=self.span)
                return Timeout(waiting_for="reply", detail=text, span=self.span)
        return ClientError(text=text, span=self.span)

    def raw_dump(self, items: list[Any]) -> Note:
        return Note(text=self.line.text, span=self.span)


class SwaksDialect(LineDialect):
    name = "swaks"
    title = "swaks (Swiss Army Knife for SMTP) output"
    example = "<-  250 2.0.0 Ok: queued as 4ABCDEF0123"
    grammar = "swaks"
    transformer_class = SwaksTransformer

    def post(self, records: Iterator[Record]) -> Iterator[Record]:
        """Join what swaks spreads over several lines.

        - "*** Error connecting to H:" + "*** <TAB>reason" is one connect failure;
        - the "=== TLS ..." lines after "TLS started" describe the certificate;
        - "=== response in 0.123s" times the reply that follows it.
        """
        tls: TlsStarted | None = None
        latency: float | None = None
        connect_error: ClientError | None = None
        for record in records:
            if isinstance(record, ClientError) and record.text.startswith("Error connecting to"):
                connect_error = record
                continue
            if connect_error is not None:
                assert connect_error.span is not None
                if isinstance(record, ClientError) and record.span is not None:
                    yield ConnectFailed(
                        reason=failure_reason(record.text),
                        detail=f"{connect_error.text} {record.text.strip()}",
                        span=Span(connect_error.span.first, record.span.last),
                    )
                    connect_error = None
                    continue
                yield ConnectFailed(
                    reason="other", detail=connect_error.text, span=connect_error.span
                )
                connect_error = None
            if isinstance(record, TlsStarted):
                tls = record
                continue
            if tls is not None:
                # Certificate lines, and their indented continuation lines.
                if isinstance(record, Note) and (
                    record.text.startswith("TLS ") or record.text[:1].isspace()
                ):
                    tls = _with_certificate(tls, record)
                    continue
                yield tls
                tls = None
            if isinstance(record, Note) and (match := _LATENCY.search(record.text)):
                latency = float(match.group("seconds"))
                yield record
                continue
            if isinstance(record, ServerLine) and latency is not None:
                timed = replace(record, latency=latency)
                if timed.sep != "-":
                    latency = None
                yield timed
                continue
            if isinstance(record, Unparsed) and record.text.startswith(("<-", "<~", "<*")):
                # A receive hint whose text is not a reply: keep it visible.
                yield Note(text=record.text, span=record.span)
                continue
            yield record
        if connect_error is not None:
            yield ConnectFailed(reason="other", detail=connect_error.text, span=connect_error.span)
        if tls is not None:
            yield tls


def _with_certificate(tls: TlsStarted, note: Note) -> TlsStarted:
    """Fold a "=== TLS ..." detail line into the TlsStarted event."""
    text = note.text
    changes: dict[str, Any] = {"detail": f"{tls.detail}\n{text}".strip()}
    if tls.span is not None and note.span is not None:
        changes["span"] = Span(tls.span.first, note.span.last)
    if (match := _SUBJECT.search(text)) and tls.subject is None:
        changes["subject"] = match.group("dn") or match.group("subject")
    if match := _NOT_AFTER.search(text):
        changes["not_after"] = match.group("date")
    if "failed CA verification" in text or "failed host verification" in text:
        changes["verified"] = False
    elif "verification succeeded" in text or "passed" in text:
        changes["verified"] = True
    return replace(tls, **changes)
