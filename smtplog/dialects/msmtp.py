"""msmtp --debug output (knowledge/transcript-formats.md §9).

``<--`` is the server and ``-->`` the client (the reverse of nothing else:
these arrows point along the data). msmtp pipelines MAIL/RCPT/DATA when the
server offers PIPELINING, so commands come in groups and replies after them;
the analyzer pairs them in order. Its ``msmtp:`` errors go to stderr and often
land at the top of a ``2>&1`` capture.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from smtplog.assemble import ClientLine, Record, ServerLine
from smtplog.dialects._client import Continuation, widen
from smtplog.dialects.base import LineDialect, LineTransformer, failure_reason
from smtplog.events import ClientError, ConnectFailed, Connecting, Note, Span, TlsFailed, TlsStarted
from smtplog.source import Line

_CONNECT = re.compile(r"^cannot connect to (?P<target>.+?): (?P<reason>.+)$")
_TLS_TUPLE = re.compile(r"^\((?P<version>[^)]+)\)-(?P<rest>.*)$")


@dataclass(frozen=True, slots=True)
class _Config:
    key: str
    value: str
    span: Span


@dataclass(frozen=True, slots=True)
class _TlsHeader:
    title: str
    span: Span


class MsmtpTransformer(LineTransformer):
    def received(self, items: list[Any]) -> Record:
        if items and isinstance(items[0], ServerLine):
            return items[0]
        return Note(text=str(items[0]) if items else "", span=self.span)

    def reply_line(self, items: list[Any]) -> ServerLine:
        return self.server_line(items)

    def sent(self, items: list[Any]) -> ClientLine:
        return ClientLine(str(items[0]) if items else "", self.span)

    def tls_header(self, items: list[Any]) -> _TlsHeader:
        return _TlsHeader(str(items[0]), self.span)

    def indented(self, items: list[Any]) -> Continuation:
        return Continuation(str(items[1]).strip(), self.span)

    def error(self, items: list[Any]) -> Record:
        text = str(items[0]).strip()
        if match := _CONNECT.match(text):
            reason = match.group("reason")
            kind = "dns" if "not known" in reason or "resolve" in reason else failure_reason(reason)
            return ConnectFailed(reason=kind, detail=f"msmtp: {text}", span=self.span)
        if text.startswith("server message: "):
            return Note(text=f"msmtp: {text}", span=self.span)  # repeats a reply shown in the trace
        if text.startswith(("TLS handshake failed", "cannot use a secure authentication", "TLS ")):
            return TlsFailed(reason=f"msmtp: {text}", span=self.span)
        return ClientError(text=f"msmtp: {text}", span=self.span)

    def config(self, items: list[Any]) -> _Config:
        key = str(items[0]).split("=")[0].strip()
        return _Config(key, str(items[1]).strip() if len(items) > 1 else "", self.span)

    def other(self, items: list[Any]) -> Note:
        return Note(text=str(items[0]), span=self.span)


class MsmtpDialect(LineDialect):
    name = "msmtp"
    title = "msmtp --debug output"
    example = "--> MAIL FROM:<alice@example.com>"
    grammar = "msmtp"
    transformer_class = MsmtpTransformer

    def prepare(self, line: Line) -> str:
        return line.text.removesuffix("\r")

    def post(self, records: Iterator[Record]) -> Iterator[Record]:
        """Fold the configuration dump and the TLS blocks into one event each."""
        config: list[_Config] = []
        tls: TlsStarted | None = None
        section = ""
        for record in records:
            if isinstance(record, _Config):
                config.append(record)
                continue
            if config:
                yield from _configuration(config)
                config = []
            if isinstance(record, _TlsHeader):
                if tls is None:
                    tls = TlsStarted(detail=record.title, span=record.span)
                else:
                    tls = widen(replace_detail(tls, record.title), record.span)
                section = ""
                continue
            if isinstance(record, Continuation):
                if tls is not None:
                    tls, section = _tls_field(tls, record, section)
                continue
            if tls is not None:
                yield tls
                tls = None
            yield record
        if config:
            yield from _configuration(config)
        if tls is not None:
            yield tls


def replace_detail(tls: TlsStarted, text: str) -> TlsStarted:
    from dataclasses import replace

    return replace(tls, detail=f"{tls.detail}\n{text}".strip())


def _tls_field(tls: TlsStarted, line: Continuation, section: str) -> tuple[TlsStarted, str]:
    """Read one indented line of "TLS session parameters:" / "TLS certificate information:"."""
    from dataclasses import replace

    text = line.text
    changes: dict[str, Any] = {"detail": f"{tls.detail}\n    {text}"}
    if text.endswith(":") and " " not in text.rstrip(":"):
        section = text.rstrip(":")
    elif match := _TLS_TUPLE.match(text):
        # "(TLS1.3)-(ECDHE-SECP256R1)-(RSA-PSS-RSAE-SHA256)-(AES-256-GCM)"
        changes["version"] = match.group("version").replace("TLS", "TLSv")
        changes["cipher"] = text
    elif section == "Subject" and tls.subject is None:
        changes["subject"] = text
    elif section == "Issuer" and tls.issuer is None:
        changes["issuer"] = text
    elif text.startswith("Expiration time: "):
        changes["not_after"] = text.removeprefix("Expiration time: ")
    return widen(replace(tls, **changes), line.span), section


def _configuration(config: list[_Config]) -> Iterator[Record]:
    values = {item.key: item.value for item in config}
    span = Span(config[0].span.first, config[-1].span.last)
    host, port = values.get("host"), values.get("port")
    if host:
        yield Connecting(target=f"{host}:{port}" if port else host, span=span)
    shown = ("host", "port", "tls", "tls_starttls", "tls_certcheck", "auth", "user", "from")
    summary = ", ".join(f"{key}={values[key]}" for key in shown if key in values)
    yield Note(text=f"msmtp configuration: {summary}", span=span)


__all__ = ["MsmtpDialect"]
