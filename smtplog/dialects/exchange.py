"""Microsoft Exchange SMTP protocol logs and NDRs (knowledge/transcript-formats.md §13).

Protocol log: "#" header lines, then one CSV record per event. Sessions
interleave, so each record's session-id is its stream. The event field is
relative to Exchange: ``>`` is what Exchange sent, ``<`` what it received. In a
*Receive* log Exchange is the server (``<`` = client command); in a *Send*
log it is the client (``<`` = the remote server's reply). The #Log-type
header decides; without it, the records' shapes do (a reply-shaped ``<`` line
means a Send log).

NDR: "Diagnostic information for administrators:", "Generating server: X",
then per recipient an address line and its status line in one of the forms
``Remote Server returned '<reply>'``, ``#<reply> ##`` or
``#< #X.Y.Z smtp;<reply>> #SMTP#``. Each recipient's failure becomes an inferred
``RCPT TO`` and the reply, so the diagnosis reads it as a recipient failure.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from smtplog.assemble import ClientLine, Record, ServerLine
from smtplog.dialects.base import LineDialect, LineTransformer, failure_reason
from smtplog.dialects.sniffers import EXCHANGE_RECORD as _RECORD
from smtplog.events import (
    ClientError,
    Closed,
    Command,
    Connected,
    ConnectFailed,
    Connecting,
    Note,
    Span,
    StreamEnd,
    TlsStarted,
    Unparsed,
)
from smtplog.grammars import Token
from smtplog.source import Line

DEFAULT_FIELDS = [
    *("date-time", "connector-id", "session-id", "sequence-number"),
    *("local-endpoint", "remote-endpoint", "event", "data", "context"),
]
_REPLY = re.compile(r"^(?P<code>[2-5]\d\d)(?P<sep>[ -]|$)(?P<text>.*)$")
_TLS = re.compile(
    r"TLS protocol (?P<version>\S+) negotiation succeeded"
    r"(?:.*algorithm (?P<cipher>\S+) with strength)?"
)
_ADDRESS = re.compile(r"^\s*(?:[^<>@\s]+\s+)*<?(?P<address>[^<>@\s'\"]+@[^<>@\s'\"]+?)>?\s*$")
_RETURNED = re.compile(r"returned '(?P<reply>.*?)'?\s*$")
_HASH_REPLY = re.compile(r"^\s*#(?P<reply>[2-5]\d\d[ -].*?)\s*##")
_SMTP_HASH = re.compile(r"#(?P<enhanced>\d\.\d+\.\d+) smtp;\s*(?P<reply>.*?)>?\s*#SMTP#", re.I)


# grammar/exchange.lark: how the NDR lines (priority over a record) begin, and a field.
_NDR_FIRST = re.compile(
    r"Diagnostic information for administrators|Generating server: |Remote Server"
    r"|Original message headers:"
)
_NDR_INITIALS = frozenset("DGRO")  # what _NDR_FIRST's lines begin with (a record: a digit)


def _csv_fields(text: str) -> list[str] | None:
    """grammar: ``record: field ("," field)*``, ``field: QUOTED | BARE |``; None: not that."""
    if '"' not in text:
        return text.split(",")
    # Each field after the start or a comma. The fields found make the whole text again
    # only if it is that grammar's record: a quote in a bare field, or a quoted one that
    # does not end before a comma, makes the search skip text.
    fields = _CSV_FIELD.findall(text)
    if ",".join(fields) != text:
        return None
    return [field[1:-1].replace('""', '"') if field[:1] == '"' else field for field in fields]


_CSV_FIELD = re.compile(r'(?:^|,)("[^"]*(?:""[^"]*)*"|[^",]*)')  # (quoted: unrolled, fast)


@dataclass(slots=True)  # not frozen: one per line of a log (frozen __init__ is 3x slower)
class Csv:
    fields: tuple[str, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Header:
    name: str
    value: str
    span: Span


@dataclass(frozen=True, slots=True)
class NdrLine:
    kind: str  # heading | generating | returned | hash | original | text
    text: str
    span: Span


def _unquote(token: str) -> str:
    if token.startswith('"') and token.endswith('"') and len(token) >= 2:
        return token[1:-1].replace('""', '"')
    return token


class ExchangeTransformer(LineTransformer):
    def header(self, items: list[Any]) -> Header:
        name, _, value = str(items[0])[1:].partition(":")
        return Header(name.strip(), value.strip(), self.span)

    def field(self, items: list[Any]) -> str:
        return _unquote(str(items[0])) if items else ""

    def record(self, items: list[Any]) -> Csv:
        return Csv(tuple(str(item) for item in items), self.span)

    def _ndr(self, kind: str) -> NdrLine:
        return NdrLine(kind, self.line.text.strip(), self.span)

    def admin_heading(self, items: list[Token]) -> NdrLine:
        return self._ndr("heading")

    def generating_server(self, items: list[Token]) -> NdrLine:
        return self._ndr("generating")

    def remote_returned(self, items: list[Token]) -> NdrLine:
        return self._ndr("returned")

    def hash_status(self, items: list[Token]) -> NdrLine:
        return self._ndr("hash")

    def original_headers(self, items: list[Token]) -> NdrLine:
        return self._ndr("original")


class ExchangeDialect(LineDialect):
    name = "exchange"
    title = "Microsoft Exchange SMTP protocol log (send/receive) and NDR diagnostic text"
    example = (
        "2023-01-11T15:59:53.909Z,SERVER\\Default Frontend SERVER,08D6A8D416004F77,2,"
        "10.0.0.1:25,192.0.2.7:56026,<,EHLO client.example.org,"
    )
    grammar = "exchange"
    transformer_class = ExchangeTransformer

    def prepare(self, line: Line) -> str:
        return line.text.rstrip("\r")

    def shortcut(self, text: str, line: Line) -> Any:
        """A CSV record without the grammar (a protocol log is nothing else)."""
        if ("#" in text and (text[0] == "#" or "##" in text or "#SMTP#" in text)) or (
            text[:1] in _NDR_INITIALS and _NDR_FIRST.match(text)
        ):
            return NotImplemented  # a header or an NDR line: the grammar knows them
        fields = _csv_fields(text)
        if fields is None:
            return NotImplemented
        return Csv(tuple(fields), Span(line.number, line.last))

    def post(self, records: Iterator[Any]) -> Iterator[Record]:
        return _Walker().run(records)


def _columns(fields: list[str]) -> dict[str, int]:
    """Each field name's column (the last, if a name repeats: as a dict of the row has it)."""
    return {name: index for index, name in enumerate(fields)}


# The columns a record is read from, in the order of _Walker._at.
_READ = ("session-id", "date-time", "event", "data", "context", "local-endpoint", "remote-endpoint")
_ABSENT = sys.maxsize  # the column of a name #Fields does not have: past every record's end


class _Walker:
    def __init__(self) -> None:
        self.fields = list(DEFAULT_FIELDS)
        self.columns = _columns(self.fields)
        self._at = self._read_columns()
        self.send_log: bool | None = None  # None: not known yet
        self.ndr = False
        self.ndr_headers = False  # inside "Original message headers:"
        self.generating: str | None = None
        self.recipient: str | None = None
        self.ndr_count = 0

    def _read_columns(self) -> tuple[int, ...]:
        return tuple(self.columns.get(name, _ABSENT) for name in _READ)

    def run(self, records: Iterator[Any]) -> Iterator[Record]:
        for record in records:
            if isinstance(record, Csv):  # first: nearly every line of a protocol log
                yield from self._csv(record)
            elif isinstance(record, Header):
                yield from self._header(record)
            elif isinstance(record, NdrLine):
                yield from self._ndr_line(record)
            else:
                yield record

    # -- protocol log ---------------------------------------------------------------

    def _header(self, header: Header) -> Iterator[Record]:
        if header.name == "Fields":
            self.fields = [name.strip() for name in header.value.split(",")]
            self.columns = _columns(self.fields)
            self._at = self._read_columns()
        elif header.name == "Log-type":
            lowered = header.value.lower()
            if "send" in lowered:
                self.send_log = True
            elif "receive" in lowered:
                self.send_log = False
        yield Note(text=f"#{header.name}: {header.value}", span=header.span)

    def _csv(self, csv: Csv) -> tuple[Record, ...]:
        values = csv.fields
        count = len(values)
        if count < 7:
            return tuple(self._ndr_text(csv))
        # The row as a dict of the #Fields names would give it: "" where it is too short.
        at_session, at_time, at_event, at_data, at_context, at_local, at_remote = self._at
        # A record begins with a stamp: read in Exchange's own form, it is the time as well.
        time = _stamp_time(values[0]) if at_time == 0 else None
        if time is None:
            if not _STAMP_FIRST.match(values[0]):
                return tuple(self._ndr_text(csv))
            time = _time(values[at_time] if at_time < count else "")
        stream = (values[at_session] if at_session < count else "") or None
        event = values[at_event] if at_event < count else ""
        data = values[at_data] if at_data < count else ""
        context = values[at_context] if at_context < count else ""
        span = csv.span
        if self.send_log is None and event in "<>" and event:
            # No #Log-type header: a reply-shaped "<" line means Exchange was the client.
            if event == "<" and _REPLY.match(data):
                self.send_log = True
            elif event == ">" and _REPLY.match(data):
                self.send_log = False
        if event in {"<", ">"}:
            if (event == "<") != bool(self.send_log):  # from the client
                return (ClientLine(data, span, time=time, stream=stream),)
            match = _REPLY.match(data)
            if match is None:
                return (Note(text=data, span=span, time=time, stream=stream),)
            code, sep, text = match.groups()
            return (ServerLine(int(code), sep, text, span, time=time, stream=stream),)
        if event == "*":
            remote = values[at_remote] if at_remote < count else ""
            return (_information(f"{data} {context}".strip(), remote, span, time, stream),)
        if event == "+":
            at = at_remote if self.send_log else at_local
            target = values[at] if at < count else ""
            return (Connected(target=target, span=span, time=time, stream=stream),)
        if event == "-":
            by = _closer(context, self.send_log)
            closed = Closed(
                by=by, detail=context or "disconnected", span=span, time=time, stream=stream
            )
            if stream is None:
                return (closed,)
            return (closed, StreamEnd(stream=stream))  # the session is complete
        return (Unparsed(text=",".join(values), span=span, time=time, stream=stream),)

    # -- NDR ------------------------------------------------------------------------

    def _ndr_text(self, csv: Csv) -> Iterator[Record]:
        text = ",".join(csv.fields).strip()
        yield from self._ndr_line(NdrLine("text", text, csv.span))

    def _ndr_line(self, line: NdrLine) -> Iterator[Record]:
        kind, text, span = line.kind, line.text, line.span
        stream = f"ndr-{self.ndr_count}" if self.ndr else None
        if kind == "heading":
            self.ndr, self.ndr_headers = True, False
            yield Note(text=text, span=span)
            return
        if kind == "original":
            self.ndr_headers = True
            yield Note(text=text, span=span)
            return
        if self.ndr_headers:
            return  # the original message's header block: not part of the dialogue
        if kind == "generating":
            self.ndr = True
            self.generating = text.split(":", 1)[1].strip()
            yield Note(text=text, span=span)
            return
        if kind in ("returned", "hash"):
            self.ndr = True
            yield from self._recipient_failure(text, span)
            return
        match = _ADDRESS.match(text)
        if self.ndr and match:
            self.recipient = match.group("address")
            yield Note(text=text, span=span, stream=f"ndr-{self.ndr_count + 1}")
            return
        yield Note(text=text, span=span, stream=stream)

    def _recipient_failure(self, text: str, span: Span) -> Iterator[Record]:
        reply, enhanced = _ndr_reply(text)
        self.ndr_count += 1
        stream = f"ndr-{self.ndr_count}"
        target = self.generating or ""
        host = re.search(r"Remote Server at (?P<host>.+?) returned", text)
        if host:
            target = host.group("host")
        if target:
            yield Connecting(target=target, span=span, stream=stream)
        recipient = self.recipient or "…"
        self.recipient = None
        yield Command(
            verb="RCPT",
            argument=f"TO:<{recipient}>",
            text=f"RCPT TO:<{recipient}>",
            span=None,
            stream=stream,
        )
        match = _REPLY.match(reply or "")
        if match is None:
            detail = f"{enhanced} {reply}".strip() if enhanced else (reply or text)
            yield ClientError(text=detail, span=span, stream=stream)
            return
        code, sep, rest = int(match.group("code")), match.group("sep"), match.group("text")
        if enhanced and not re.match(r"^\d\.\d+\.\d+", rest):
            rest = f"{enhanced} {rest}"
        yield ServerLine(code, sep if sep == " " else " ", rest, span, stream=stream)


def _ndr_reply(text: str) -> tuple[str | None, str | None]:
    """The SMTP reply quoted by an NDR status line, and an enhanced code given apart."""
    if match := _SMTP_HASH.search(text):
        return match.group("reply").strip(), match.group("enhanced")
    if match := _HASH_REPLY.match(text):
        return match.group("reply").strip(), None
    if match := _RETURNED.search(text):
        return match.group("reply").strip().strip("'"), None
    return None, None


def _information(text: str, remote: str, span: Span, time: float | None, stream: Any) -> Record:
    """A "*" record (data and context): TLS, certificates, notes, connection attempts."""
    if match := _TLS.search(text):
        return TlsStarted(
            version=match.group("version"),
            cipher=match.group("cipher"),
            detail=text,
            span=span,
            time=time,
            stream=stream,
        )
    lowered = text.lower()
    if "attempting to connect" in lowered:
        return Connecting(target=remote, span=span, time=time, stream=stream)
    if _connect_error(text, lowered):
        return ConnectFailed(
            reason=failure_reason(text), detail=text, span=span, time=time, stream=stream
        )
    return Note(text=text, span=span, time=time, stream=stream)


_CONNECT_ERROR = re.compile(r"SocketError|TimedOut|ConnectionRefused|failed to connect", re.I)


def _connect_error(text: str, lowered: str) -> bool:
    """_CONNECT_ERROR.search(text): for ASCII, its words in ``lowered`` (faster than a
    case-free search); beyond ASCII, re.I also matches the long s (U+017F) for "s" and the
    Kelvin sign for "k": the expression decides."""
    if text.isascii():
        return (
            "socketerror" in lowered
            or "timedout" in lowered
            or "connectionrefused" in lowered
            or "failed to connect" in lowered
        )
    return _CONNECT_ERROR.search(text) is not None


# _RECORD (a log record begins with a stamp and a comma) read on the first field alone: a
# field may hold a comma when quoted, and reading it avoids a copy with "," added.
_STAMP_FIRST = re.compile(_RECORD.pattern.removesuffix(",") + r"(?:,|\Z)")


def _closer(context: str, send_log: bool | None) -> Any:
    lowered = context.lower()
    if lowered.startswith("local"):
        return "client" if send_log else "server"
    if lowered.startswith("remote"):
        return "server" if send_log else "client"
    return "unknown"


def _time(text: str) -> float | None:
    time = _stamp_time(text)
    if time is not None:
        return time
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _stamp_time(text: str) -> float | None:
    """What Exchange writes, "2023-01-11T15:59:53.909Z", read fast; None: not that form, or
    no such date or time. The whole seconds are shared by the records of that second: read
    once (_whole_seconds)."""
    fraction = text[20:-1]
    if (
        text[19:20] == "."
        and text[-1:] == "Z"
        and 0 < len(fraction) <= 6
        and fraction.isdecimal()  # (isdecimal: what \d matches)
    ):
        whole = _whole_seconds(text[:19])
        if whole is not None:
            # In microseconds, then one division: the float datetime.timestamp() gives.
            return (whole * 1_000_000 + int(fraction) * _MICROSECONDS[len(fraction)]) / 1_000_000
    return None


_MICROSECONDS = (0, 100_000, 10_000, 1000, 100, 10, 1)  # of a fraction's last digit, by length


@lru_cache(maxsize=256)  # a second's records share it; the size holds a few seconds of a log
def _whole_seconds(stamp: str) -> int | None:
    """Seconds since the epoch at "2023-01-11T15:59:53" (UTC); None: not that, or no such
    date or time."""
    match = _UTC_SECOND.fullmatch(stamp)
    if match is None:
        return None
    day, hours, minutes, seconds = match.groups()
    start = _day_start(day)
    if start is None or hours >= "24" or minutes >= "60" or seconds >= "60":
        return None
    return start + int(hours) * 3600 + int(minutes) * 60 + int(seconds)


_UTC_SECOND = re.compile(r"(\d{4}-\d\d-\d\d)T(\d\d):(\d\d):(\d\d)")


@lru_cache(maxsize=64)  # a log covers a few days
def _day_start(day: str) -> int | None:
    """Seconds since the epoch at 00:00 UTC of an ISO date; None: no such date."""
    try:
        return int(datetime.fromisoformat(day + "T00:00:00+00:00").timestamp())
    except ValueError:
        return None
