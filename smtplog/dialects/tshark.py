"""tshark / Wireshark "Follow TCP Stream" ASCII output (knowledge/transcript-formats.md §15).

The only direction marker is the TAB before the length line of the second
node's chunks; the data lines themselves are not marked. Chunks are TCP
segments, not SMTP lines, so the dialect counts each chunk's bytes to know
where it ends (a message body may hold blank lines or a line "42"). After a
220 reply to STARTTLS the rest of the stream is TLS records shown as dots:
the session stops there with a TlsStarted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from smtplog.assemble import ClientLine, Record, ServerLine
from smtplog.dialects.base import LineDialect, LineTransformer
from smtplog.events import Connecting, Note, Span, TlsStarted, Unparsed
from smtplog.smtp import split_command
from smtplog.source import Line

_ANY_FOLLOW = re.compile(r"^Follow: [a-z0-9]+,[a-z0-9-]+$")
_REPLY = re.compile(r"^(?P<code>[2-5]\d\d)(?P<sep>[ -]|$)(?P<text>.*)$")
_WIRE_EOL = 2  # SMTP lines end in CRLF on the wire


@dataclass(frozen=True, slots=True)
class Piece:
    """One line of the follow output before direction and chunking are applied."""

    kind: str  # separator | follow | filter | node | length | data | blank
    text: str
    span: Span


class TsharkTransformer(LineTransformer):
    def _piece(self, kind: str) -> Piece:
        return Piece(kind, self.line.text, self.span)

    def separator(self, items: list[Any]) -> Piece:
        return self._piece("separator")

    def follow(self, items: list[Any]) -> Piece:
        return self._piece("follow")

    def filter(self, items: list[Any]) -> Piece:
        return self._piece("filter")

    def node(self, items: list[Any]) -> Piece:
        return self._piece("node")

    def chunk_length(self, items: list[Any]) -> Piece:
        return self._piece("length")

    def data(self, items: list[Any]) -> Piece:
        return self._piece("data")


class TsharkDialect(LineDialect):
    name = "tshark"
    title = 'tshark -z follow,tcp,ascii / Wireshark "Follow TCP Stream" output'
    example = "Follow: tcp,ascii"
    grammar = "tshark"
    transformer_class = TsharkTransformer

    def prepare(self, line: Line) -> str:
        return line.text.rstrip("\r")

    def blank(self, line: Line) -> Iterable[Record]:
        return (Piece("blank", "", Span.of(line.number)),)  # type: ignore[list-item]

    def post(self, records: Iterator[Any]) -> Iterator[Record]:
        return _Chunks().run(records)


class _Chunks:
    """Walks the pieces: header, chunks (direction, byte counts), TLS cut-off."""

    def __init__(self) -> None:
        self.remaining = 0  # bytes of the current chunk not yet seen
        self.chunk_tabbed = False  # the current chunk's length line had a TAB
        self.tab_is_server: bool | None = None  # decided by the first chunk
        self.in_block = False
        self.nodes: list[str] = []
        self.starttls_sent = False
        self.encrypted = False  # after STARTTLS: the rest is TLS records

    def run(self, records: Iterator[Any]) -> Iterator[Record]:
        for record in records:
            if not isinstance(record, Piece):
                yield record
                continue
            if self.remaining > 0:
                yield from self._data(record)
                continue
            yield from self._outside(record)

    def _outside(self, piece: Piece) -> Iterator[Record]:
        kind = piece.kind
        if kind == "separator":
            if self.in_block:
                self.in_block = False  # the block's closing separator
            else:
                self._start_block()
            yield Note(text=piece.text, span=piece.span)
        elif kind in ("follow", "filter"):
            if kind == "follow":
                self._start_block()
            yield Note(text=piece.text, span=piece.span)
        elif kind == "node":
            address = piece.text.split(": ", 1)[1].strip()
            self.nodes.append(address)
            if len(self.nodes) == 2:
                # Node 0 opened the connection (current tshark): Node 1 is the server.
                yield Connecting(target=self.nodes[1], span=piece.span)
            else:
                yield Note(text=piece.text, span=piece.span)
        elif kind == "length":
            self.remaining = int(piece.text.strip())
            self.chunk_tabbed = piece.text.startswith("\t")
        elif kind == "blank":
            return  # the newline tshark appends after each chunk
        else:
            # Around the block: "Running as user ..." warnings, a shell prompt.
            yield Note(text=piece.text, span=piece.span)

    def _start_block(self) -> None:
        if not self.in_block:
            self.in_block = True
            self.nodes = []
            self.tab_is_server = None
            self.starttls_sent = False
            self.encrypted = False

    def _data(self, piece: Piece) -> Iterator[Record]:
        text = "" if piece.kind == "blank" else piece.text
        self.remaining -= len(text.encode("utf-8", "surrogateescape")) + _WIRE_EOL
        # Below zero: a segment that ended mid-line, or bare LF line ends.
        self.remaining = max(self.remaining, 0)
        if self.tab_is_server is None:
            # Old Wireshark made the first sender (the server's greeting) Node 0, so
            # its chunks were the untabbed ones.
            old_style = not self.chunk_tabbed and bool(_REPLY.match(text))
            self.tab_is_server = not old_style
        server = self.chunk_tabbed == self.tab_is_server
        if self.encrypted:
            return  # TLS records: unreadable, already summarised
        if server:
            match = _REPLY.match(text)
            if match is None:
                yield Unparsed(text=piece.text, span=piece.span)
                return
            code = int(match.group("code"))
            yield ServerLine(code, match.group("sep"), match.group("text"), piece.span)
            if self.starttls_sent and match.group("sep") != "-":
                self.starttls_sent = False
                if code == 220:
                    self.encrypted = True
                    yield TlsStarted(
                        detail="the rest of the stream is encrypted (TLS records)", span=None
                    )
            return
        if split_command(text)[0] == "STARTTLS":
            self.starttls_sent = True
        yield ClientLine(text, piece.span)
