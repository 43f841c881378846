"""openssl s_client output (knowledge/transcript-formats.md §6).

``s_client -starttls smtp`` reads the greeting, sends EHLO and STARTTLS and
reads the replies without printing any of it; ``-connect host:465`` starts
with TLS. Either way the transcript opens with the handshake summary, which
becomes one TlsStarted event (version, cipher, subject, issuer, verification);
the SMTP part after it shows the server's replies only (typed commands appear
only when a terminal echoed them), and the analyzer infers the commands.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from smtplog.assemble import Record, UnmarkedLine
from smtplog.dialects.base import LineDialect, LineTransformer, failure_reason
from smtplog.events import (
    Closed,
    Connected,
    ConnectFailed,
    Event,
    Note,
    Span,
    TlsFailed,
    TlsStarted,
)
from smtplog.source import Line

_ERROR = re.compile(r":error:[0-9A-F]{8}:(?P<library>[^:]*):(?P<function>[^:]*):(?P<reason>[^:]*):")


@dataclass(frozen=True, slots=True)
class _Fact:
    """One line of the handshake summary: ``key`` is the label, ``value`` the rest."""

    key: str
    value: str
    span: Span


@dataclass(frozen=True, slots=True)
class _Skip:
    """A line that belongs to a block carrying nothing for SMTP (PEM, session ticket)."""

    span: Span
    kind: str  # separator | pem-begin | pem | pem-end | session | ticket | read


@dataclass(slots=True)
class _Handshake:
    facts: list[_Fact] = field(default_factory=list)

    @property
    def span(self) -> Span | None:
        if not self.facts:
            return None
        return Span(self.facts[0].span.first, self.facts[-1].span.last)

    def value(self, *keys: str) -> str | None:
        for fact in self.facts:
            if fact.key in keys:
                return fact.value.strip()
        return None

    def event(self) -> Event | None:
        """TlsStarted when a cipher was agreed, TlsFailed when the summary says none was."""
        if not self.facts:
            return None
        span = self.span
        detail = "\n".join(f"{fact.key}{fact.value}" for fact in self.facts)
        cipher_line = self.value("New, ", "Reused, ") or ""
        version, cipher = None, None
        if match := re.match(r"(?P<version>[^,]+), Cipher is (?P<cipher>\S+)", cipher_line):
            version, cipher = match.group("version"), match.group("cipher")
        version = self.value("Protocol version: ") or version
        cipher = self.value("Ciphersuite: ") or cipher
        if version == "(NONE)" or cipher == "(NONE)":
            return TlsFailed(
                reason="no cipher was agreed (New, (NONE), Cipher is (NONE))", span=span
            )
        subject = self.value("subject=", "Peer certificate: ")
        if subject is None:
            subject = self.value("depth=0 ")
        verified: bool | None = None
        code = self.value("Verify return code: ")
        if code is not None:
            verified = code.startswith("0 ")
        elif self.value("Verification: ") == "OK":
            verified = True
        elif self.value("Verification error: ", "verify error:") is not None:
            verified = False
        if version is None and cipher is None and subject is None:
            return None
        return TlsStarted(
            version=version,
            cipher=cipher,
            subject=subject,
            issuer=self.value("issuer="),
            verified=verified,
            detail=detail,
            span=span,
        )


class OpensslTransformer(LineTransformer):
    def _fact(self, items: list[Any]) -> _Fact:
        key = str(items[0])
        value = str(items[1]) if len(items) > 1 else ""
        return _Fact(key, value, self.span)

    def connected(self, items: list[Any]) -> Connected:
        return Connected(span=self.span)

    def verify(self, items: list[Any]) -> _Fact:
        return self._fact(items)

    def handshake(self, items: list[Any]) -> _Fact:
        return self._fact(items)

    def separator(self, items: list[Any]) -> _Skip:
        return _Skip(self.span, "separator")

    def pem(self, items: list[Any]) -> _Skip:
        text = str(items[0])
        kind = "pem-begin" if "-BEGIN " in text else "pem-end" if "-END " in text else "pem"
        return _Skip(self.span, kind)

    def session_field(self, items: list[Any]) -> _Skip:
        return _Skip(self.span, "session")

    def ticket_start(self, items: list[Any]) -> _Skip:
        return _Skip(self.span, "ticket")

    def read_block(self, items: list[Any]) -> _Skip:
        return _Skip(self.span, "read")

    def renegotiating(self, items: list[Any]) -> Note:
        return Note(text=self.line.text, span=self.span)

    def servername(self, items: list[Any]) -> None:
        return None  # a warning about the -name option, nothing about the session

    def done(self, items: list[Any]) -> Closed:
        return Closed(
            by="client", detail="DONE (s_client reached the end of its input)", span=self.span
        )

    def closed(self, items: list[Any]) -> Closed:
        return Closed(by="server", detail="closed", span=self.span)

    def ssl_error(self, items: list[Any]) -> Record:
        text = self.line.text
        match = _ERROR.search(text)
        library = match.group("library") if match else ""
        reason = match.group("reason") if match else text
        if library == "system library" or "BIO_connect" in text or "BIO routines" in library:
            return ConnectFailed(reason=failure_reason(reason), detail=text, span=self.span)
        if "unexpected eof" in reason:
            return Closed(by="server", unexpected=True, detail=text, span=self.span)
        return TlsFailed(reason=f"{reason} ({text})", span=self.span)

    def errno(self, items: list[Any]) -> Note:
        return Note(text=self.line.text, span=self.span)

    def no_starttls(self, items: list[Any]) -> Note:
        return Note(text=self.line.text, span=self.span)

    def reply_line(self, items: list[Any]) -> UnmarkedLine:
        line = self.server_line(items)
        return UnmarkedLine(self.line.text, self.span, reply=line)

    def typed(self, items: list[Any]) -> UnmarkedLine:
        return UnmarkedLine(self.line.text, self.span)


class OpensslDialect(LineDialect):
    name = "openssl"
    title = "openssl s_client -starttls smtp / -connect host:465 (also -quiet, -brief)"
    example = "New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384"
    grammar = "openssl"
    transformer_class = OpensslTransformer

    def prepare(self, line: Line) -> str:
        return line.text.rstrip("\r")

    def post(self, records: Iterator[Record]) -> Iterator[Record]:  # noqa: PLR0915 one pass, one state
        """Fold the handshake summary into one event; drop session-ticket blocks.

        The summary ends where SMTP begins (the first reply or typed line). A
        session-ticket block runs from "Post-Handshake New Session Ticket
        arrived:" to the next "---".
        """
        handshake = _Handshake()
        in_ticket = in_pem = connect_failed = False
        first_reply: UnmarkedLine | None = None
        started = False
        for record in records:
            if isinstance(record, _Skip):
                if record.kind == "ticket":
                    in_ticket = True
                elif record.kind == "separator":
                    in_ticket = False
                in_pem = record.kind in ("pem-begin", "pem") or (
                    in_pem and record.kind != "pem-end"
                )
                continue
            if in_pem and isinstance(record, UnmarkedLine):
                continue  # the last, shorter line of the PEM certificate
            in_pem = False
            if isinstance(record, ConnectFailed):
                if connect_failed:  # OpenSSL's error stack: the first line says why
                    yield Note(text=record.detail, span=record.span)
                    continue
                connect_failed = True
            if in_ticket and isinstance(record, UnmarkedLine) and record.reply is None:
                continue  # an indented field of the ticket
            if isinstance(record, _Fact):
                handshake.facts.append(record)
                continue
            if isinstance(record, UnmarkedLine) and not started:
                started = True
                event = handshake.event()
                handshake = _Handshake()
                if event is not None:
                    yield event
                if (
                    record.reply is not None
                    and record.reply.code == 250
                    and record.reply.sep == " "
                ):
                    first_reply = record  # maybe the EHLO reply's tail from before STARTTLS
                    continue
            if first_reply is not None:
                assert first_reply.reply is not None
                reply = record.reply if isinstance(record, UnmarkedLine) else None
                if reply is not None and reply.code == 250 and reply.sep == "-":
                    # OpenSSL 3.0 prints the last line of the pre-TLS EHLO reply, which
                    # its STARTTLS code had buffered, before the first reply inside TLS.
                    yield Note(
                        text=f"{first_reply.text} (end of the EHLO reply before STARTTLS, "
                        "printed late by s_client)",
                        span=first_reply.span,
                    )
                else:
                    yield first_reply
                first_reply = None
            if isinstance(record, (TlsFailed, ConnectFailed)) and handshake.facts:
                event = handshake.event()
                handshake = _Handshake()
                if isinstance(event, TlsFailed):
                    yield event
            yield record
        if first_reply is not None:
            yield first_reply
        event = handshake.event()
        if event is not None:
            yield event
