"""The assembler's fast paths give exactly what its plain definition gives.

``Assembler.feed`` tells a record's kind by one dict look-up of its type, passes the
events a dialect made itself and makes one-line replies without a generator
(smtplog/assemble.py). tests/reference_assembler.py keeps the definition as it was:
for any records (hypothesis), every sample and the bench logs, both give the same events.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smtplog import limits
from smtplog.assemble import Assembler, ClientLine, ServerLine, UnmarkedLine
from smtplog.dialects import get
from smtplog.events import (
    Closed,
    Command,
    Connected,
    DataEnd,
    Note,
    ShellPrompt,
    Span,
    StreamEnd,
    Unparsed,
)
from smtplog.source import source_from_bytes

from .conftest import BENCH_LOGS, bench_log_records
from .reference_assembler import Assembler as Reference
from .samples import load_samples

TEXTS = [
    "EHLO client.example.test",
    "MAIL FROM:<a@example.test>",
    "DATA",
    ".",
    "",
    "hello",
    "250 ok",
    "AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=",
    "AUTH LOGIN",
    "dXNlcg==",
    "334 VXNlcm5hbWU6",
    "STARTTLS",
    "QUIT",
    "C: AUTH LOGIN dXNlcg==",
    "some prose about the session follows here",
    "warning: SASL Auth failed for user 334",
    "the server said 334 VXNlcm5hbWU6",
    "SMTP AUTH LOGIN dXNlcg== (from the old log)",
]
REPLY_TEXTS = ["mx.example.test ESMTP", "2.1.0 Ok", "VXNlcm5hbWU6", "UGFzc3dvcmQ6", "Bye", ""]
STREAMS = st.sampled_from([None, None, "a", "b"])


def _server(code: int, sep: str, text: str, stream: str | None) -> ServerLine:
    return ServerLine(code, sep, text, Span(1, 1), stream=stream, latency=0.5)


servers = st.builds(
    _server,
    st.sampled_from([220, 250, 334, 354, 235, 535, 221, 421]),
    st.sampled_from(["-", " ", ""]),
    st.sampled_from(REPLY_TEXTS),
    STREAMS,
)
records = st.one_of(
    servers,
    st.builds(
        lambda text, stream, body, bare: ClientLine(
            text, Span(1, 1), None, stream, body, False, bare
        ),
        st.sampled_from(TEXTS),
        STREAMS,
        st.booleans(),
        st.booleans(),
    ),
    st.builds(
        lambda text, stream, reply: UnmarkedLine(text, Span(1, 1), reply, stream=stream),
        st.sampled_from(TEXTS),
        STREAMS,
        st.one_of(st.none(), servers),
    ),
    st.builds(lambda text, stream: Note(text=text, stream=stream), st.sampled_from(TEXTS), STREAMS),
    st.builds(lambda t, stream: Unparsed(text=t, stream=stream), st.sampled_from(TEXTS), STREAMS),
    st.builds(
        lambda t, stream: ShellPrompt(text=t, stream=stream), st.sampled_from(TEXTS), STREAMS
    ),
    st.builds(lambda stream: Command(verb="NOOP", text="NOOP", stream=stream), STREAMS),
    st.builds(lambda stream: Connected(stream=stream), STREAMS),
    st.builds(lambda stream: Closed(stream=stream), STREAMS),
    st.builds(lambda stream: DataEnd(stream=stream), STREAMS),
    st.builds(lambda stream: StreamEnd(stream=stream), STREAMS),
)


def _numbered(drawn: list) -> list:  # type: ignore[type-arg]
    """Each record on a line of its own (a reply line inside an unmarked one on the same)."""
    out = []
    for number, record in enumerate(drawn, 1):
        span = Span(number, number)
        if isinstance(record, UnmarkedLine) and record.reply is not None:
            reply = ServerLine(**{**_fields(record.reply), "span": span})
            out.append(UnmarkedLine(record.text, span, reply, stream=record.stream))
        elif isinstance(record, ServerLine | ClientLine | UnmarkedLine):
            out.append(type(record)(**{**_fields(record), "span": span}))
        else:
            out.append(record)
    return out


def _fields(record: object) -> dict:  # type: ignore[type-arg]
    return {name: getattr(record, name) for name in record.__slots__}  # type: ignore[attr-defined]


def _same(records: list, max_streams: int = limits.MAX_OPEN_STREAMS) -> None:  # type: ignore[type-arg]
    fast = list(Assembler(max_streams).feed(iter(records)))
    plain = list(Reference(max_streams).feed(iter(records)))
    assert fast == plain


@settings(max_examples=1500, deadline=None)
@given(st.lists(records, max_size=40), st.sampled_from([1, 2, 5_000]), st.booleans())
def test_any_records_are_assembled_as_the_definition_does(
    drawn: list,  # type: ignore[type-arg]
    max_streams: int,
    short_replies: bool,
) -> None:
    saved = limits.MAX_REPLY_LINES
    limits.MAX_REPLY_LINES = 3 if short_replies else saved
    try:
        _same(_numbered(drawn), max_streams)
    finally:
        limits.MAX_REPLY_LINES = saved


# A capture has no records: its dialect reads packets, not lines.
@pytest.mark.parametrize("sample", [s for s in load_samples() if s.dialect != "pcap"], ids=str)
def test_every_sample_is_assembled_as_the_definition_does(sample) -> None:  # type: ignore[no-untyped-def]
    source = source_from_bytes(sample.file.read_bytes(), sample.path)
    _same(list(get(sample.dialect).records(source)))


@pytest.mark.parametrize("kind", BENCH_LOGS)
def test_the_bench_logs_are_assembled_as_the_definition_does(kind: str) -> None:
    _same(bench_log_records(kind))


def test_a_stream_begins_as_its_fields_were_defined() -> None:
    """``_Stream.__init__`` is written out (one per connection): every field is set, to
    the default the dataclass fields had (a new list each)."""
    from dataclasses import fields

    from smtplog.assemble import _Stream

    state = _Stream()
    assert {item.name: getattr(state, item.name) for item in fields(_Stream)} == {
        "pending": [],
        "pending_dropped": 0,
        "mode": "command",
        "data_requested": False,
        "data_sent": False,
        "replies": 0,
        "unparsed_auth": None,
        "auth": None,
        "last_prompt_role": None,
        "body": [],
        "body_numbers": [],
        "body_count": 0,
        "body_span": None,
        "body_time": None,
        "body_bare_lf": False,
        "seen_client": False,
        "seen_server": False,
        "auth_attempted": False,
    }
    other = _Stream()
    assert state.pending is not other.pending and state.body is not other.body
    assert state.body_numbers is not other.body_numbers and state.pending is not state.body
