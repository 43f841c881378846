"""What every dialect provides, and the line-at-a-time lark machinery they share."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from smtplog.assemble import Record, ServerLine, assemble
from smtplog.events import ConnectFailure, Event, Span, Unparsed
from smtplog.grammars import Parser, Transformer, build_parser

if TYPE_CHECKING:
    from smtplog.source import Line, Source


class Dialect:
    """One way an SMTP session gets written down.

    Subclasses set ``name``, ``title`` (what produces it), ``example`` (one
    typical line) and implement ``records``; their sniffer is in ``sniffers``.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    example: ClassVar[str]

    def sniff(self, lines: Sequence[Line]) -> float:
        """How likely the text is in this dialect, from 0 to 1 (see ``sniffers``)."""
        from smtplog.dialects.sniffers import SNIFFERS

        return SNIFFERS[self.name](lines)

    def records(self, source: Source) -> Iterator[Record]:
        """Per-line facts for the assembler."""
        return self.stream(source.lines)

    def stream(self, lines: Iterable[Line]) -> Iterator[Record]:
        """Per-line facts for the assembler, from lines read one at a time (any number)."""
        raise NotImplementedError

    def events(self, source: Source) -> list[Event]:
        return assemble(self.records(source))


class LineTransformer(Transformer[Any, Any]):
    """Inline lark transformer that knows which input line it is looking at."""

    line: Line

    @property
    def span(self) -> Span:
        return Span(self.line.number, self.line.last)

    def start(self, items: list[Any]) -> Any:
        return items[0] if items else None

    def server_line(self, items: list[Any], **kwargs: Any) -> ServerLine:
        """Build a ServerLine from the children of common.lark's ``reply_line``."""
        code = int(items[0])
        sep = str(items[1]) if len(items) > 1 else ""
        text = str(items[2]) if len(items) > 2 else ""
        return ServerLine(code, sep, text, self.span, **kwargs)


class LineDialect(Dialect):
    """A dialect parsed one line at a time by ``grammar/<grammar>.lark``.

    The transformer returns a record, a list of records, or None for a line
    that carries nothing. ``post`` may then join records that span lines.
    """

    grammar: ClassVar[str]
    transformer_class: ClassVar[type[LineTransformer]]
    _parsers: ClassVar[dict[type, tuple[Parser, LineTransformer]]] = {}

    def _parser(self) -> tuple[Parser, LineTransformer]:
        cls = type(self)
        if cls not in LineDialect._parsers:
            transformer = self.transformer_class()
            LineDialect._parsers[cls] = (build_parser(self.grammar, transformer), transformer)
        return LineDialect._parsers[cls]

    def prepare(self, line: Line) -> str:
        """The text handed to the grammar (dialects may strip noise here)."""
        return line.text

    def blank(self, line: Line) -> Iterable[Record]:
        """Records for an empty line; most dialects ignore them."""
        return ()

    def stream(self, lines: Iterable[Line]) -> Iterator[Record]:
        return self.post(self._line_records(lines))

    def shortcut(self, text: str, line: Line) -> Any:
        """What the grammar would make of ``text``, for the hottest line shapes of a
        long log, made without it; ``NotImplemented``: ask the grammar. The grammar
        stays the definition: tests prove both ways agree (tests/dialects/test_*_fast.py)."""
        return NotImplemented

    def _line_records(self, lines: Iterable[Line], fast: bool = True) -> Iterator[Record]:
        parser, transformer = self._parser()
        for line in lines:
            text = self.prepare(line)
            if not text.strip():
                yield from self.blank(line)
                continue
            if fast:
                result = self.shortcut(text, line)
                if result is not NotImplemented:
                    if isinstance(result, list):
                        yield from result
                    elif result is not None:
                        yield result
                    continue
            transformer.line = line
            try:
                result = parser.parse(text)
            except parser.errors:
                yield Unparsed(text=line.text, span=Span(line.number, line.last))
                continue
            if result is None:
                continue
            if isinstance(result, list):
                yield from result
            else:
                yield result

    def post(self, records: Iterator[Record]) -> Iterator[Record]:
        return records


_FAILURES: tuple[tuple[re.Pattern[str], ConnectFailure], ...] = (
    (re.compile(r"refused|actively refused|10061", re.I), "refused"),
    (re.compile(r"timed? ?out|timeout|10060", re.I), "timeout"),
    (re.compile(r"no route|unreachable|10065|10051", re.I), "unreachable"),
    (re.compile(r"reset by peer|connection reset|10054", re.I), "reset"),
    (
        re.compile(
            r"name or service not known|nodename nor servname|not known|lookup fail|"
            r"could not resolve|no address associated|host not found|getaddrinfo|"
            r"temporary failure in name resolution|NXDOMAIN",
            re.I,
        ),
        "dns",
    ),
)


def failure_reason(text: str) -> ConnectFailure:
    """Classify an OS or tool error text about a failed connection."""
    for pattern, reason in _FAILURES:
        if pattern.search(text):
            return reason
    return "other"
