"""The Exchange dialect's CSV shortcut gives exactly what the grammar gives.

A protocol log is CSV records; the dialect splits them without the grammar
(``ExchangeDialect.shortcut``) and leaves headers and NDR lines to it. Every
real sample, and lines made to sit on the edges of the shortcut, must come out
the same both ways.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smtplog.assemble import assemble
from smtplog.dialects import get
from smtplog.dialects.base import LineDialect
from smtplog.dialects.exchange import (
    _CONNECT_ERROR,
    _NDR_FIRST,
    _NDR_INITIALS,
    _connect_error,
    _csv_fields,
)
from smtplog.source import Line, source_from_text

SAMPLES = Path(__file__).resolve().parent.parent.parent / "samples" / "exchange"
RECORD = "2026-11-28T15:59:51.430Z,EX1\\Default Frontend EX1,08DE2F5A1B3C4D01,0,10.0.0.5:25,192.0.2.30:56026,"
EDGES = [
    "#Software: Microsoft Exchange Server",
    "#Log-type: SMTP Send Protocol Log",
    "#Fields: date-time,connector-id,session-id,sequence-number,local-endpoint,remote-endpoint,event,data,context",
    RECORD + "+,,",
    RECORD + '>,"220 EX1.contoso.test Microsoft ESMTP MAIL Service ready",',
    RECORD + "<,EHLO mail.fabrikam.test,",
    RECORD + '<,"MAIL FROM:<a@b> SIZE=10",',
    RECORD + '>,"250 2.1.0 Sender ""quoted"" OK",',
    RECORD + '>,"unterminated,',
    RECORD + '>,bare"quote,',
    RECORD + '>,"quoted"trailing,',
    RECORD + ">,550 5.1.1 ## not an ndr,",
    RECORD + ">,550 5.1.1 #SMTP# also,",
    RECORD + "-,,Local",
    RECORD + "*,,TLS protocol SP_PROT_TLS1_2_SERVER negotiation succeeded",
    RECORD + "<,,",
    ",,,",
    ",",
    '""',
    '"a","b"',
    "a,b",
    "Diagnostic information for administrators:",
    "Generating server: EX1.contoso.test",
    "Remote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'",
    "Remote Server at mx.example.com (192.0.2.1) returned '550 5.1.1 no'",
    "user@example.com",
    "#550 5.1.1 RESOLVER.ADR.ExRecipNotFound; not found ##",
    "Original message headers:",
    "Received: from x by y",
    "plain words, with a comma",
]


def _events(lines: list[Line], fast: bool) -> list[object]:
    dialect = get("exchange")
    return assemble(dialect.post(dialect._line_records(lines, fast=fast)))  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES.iterdir()))
def test_every_sample_reads_the_same_both_ways(name: str) -> None:
    lines = source_from_text((SAMPLES / name).read_text(), name).lines
    assert _events(lines, fast=True) == _events(lines, fast=False)


@pytest.mark.parametrize("header", ["", "#Log-type: SMTP Send Protocol Log\n"])
def test_lines_on_the_edges_of_the_shortcut_read_the_same_both_ways(header: str) -> None:
    lines = source_from_text(header + "\n".join(EDGES) + "\n", "edges").lines
    fast, slow = _events(lines, fast=True), _events(lines, fast=False)
    assert fast == slow
    assert len(slow) > 20


def test_records_never_reach_the_grammar(monkeypatch: pytest.MonkeyPatch) -> None:
    dialect = get("exchange")
    parser, transformer = dialect._parser()  # type: ignore[attr-defined]
    calls: list[str] = []
    original = parser.parse

    def counting(text: str):  # type: ignore[no-untyped-def]
        calls.append(text)
        return original(text)

    lines = source_from_text((SAMPLES / "receive-interleaved.txt").read_text(), "r").lines
    parsers = {
        **LineDialect._parsers,
        type(dialect): (parser._replace(parse=counting), transformer),
    }
    monkeypatch.setattr(LineDialect, "_parsers", parsers)
    list(dialect.post(dialect._line_records(lines, fast=True)))  # type: ignore[attr-defined]
    assert calls and all(text.startswith("#") for text in calls)


_QUOTED = re.compile(r'"(?:[^"]|"")*"')


def _csv_fields_part_by_part(text: str) -> list[str] | None:
    """_csv_fields as it was: the parts between commas, a quoted field joined part by part
    until it is whole (the grammar's QUOTED)."""
    parts = text.split(",")
    fields: list[str] = []
    index, count = 0, len(parts)
    while index < count:
        part = parts[index]
        if not part.startswith('"'):
            if '"' in part:
                return None
            fields.append(part)
            index += 1
            continue
        end, field = index, part
        while not _QUOTED.fullmatch(field):
            end += 1
            if end >= count:
                return None
            field += "," + parts[end]
        fields.append(field[1:-1].replace('""', '"'))
        index = end + 1
    return fields


@settings(max_examples=1000, deadline=None)
@given(
    text=st.text(alphabet='",a ', max_size=16)
    | st.lists(st.sampled_from(['"', '""', ",", "a", '"a,b"', "x y"]), max_size=8).map("".join)
)
def test_fields_are_split_as_part_by_part(text: str) -> None:
    assert _csv_fields(text) == _csv_fields_part_by_part(text)


def test_the_shortcut_asks_the_grammar_for_every_line_an_ndr_line_can_begin() -> None:
    """shortcut tries _NDR_FIRST only on lines beginning with one of _NDR_INITIALS."""
    assert {alternative[0] for alternative in _NDR_FIRST.pattern.split("|")} <= _NDR_INITIALS


@settings(max_examples=1000, deadline=None)
@given(
    st.lists(
        st.sampled_from(["SocketError", "TimedOut", "ConnectionRefused", "failed to connect"])
        | st.text(alphabet="sSkKtT \u017f\u212a", max_size=3),
        max_size=3,
    )
    .map("".join)
    .map(lambda text: "".join(c.upper() if i % 3 == 0 else c for i, c in enumerate(text)))
    | st.text(max_size=10)
)
def test_connect_errors_are_found_as_the_expression_finds_them(text: str) -> None:
    assert _connect_error(text, text.lower()) == (_CONNECT_ERROR.search(text) is not None)


@pytest.mark.parametrize("text", ["\u017focketError", "Soc\u212aetError", "ConnectionRefused: x"])
def test_connect_errors_beyond_ascii_are_found_as_the_expression_finds_them(text: str) -> None:
    assert _connect_error(text, text.lower()) == (_CONNECT_ERROR.search(text) is not None)
