"""A jsonl line written directly is the text json_text(report_to_dict(...)) gives.

smtplog/render/jsonl.py writes ``--format jsonl`` lines without building the dicts
of render/data.py, and splices in the encoded knowledge text of a finding made once
per diagnosis. render/data.py stays the definition: for every sample, for hostile
text in every field of every event kind, and for findings that share a diagnosis id
but differ elsewhere (the cache must tell them apart), the two texts are equal.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smtplog import analyze_bytes
from smtplog.analysis import ReportStream, analyze_stream
from smtplog.cli.output import json_text
from smtplog.events import (
    AuthResponse,
    ClientError,
    Closed,
    Command,
    Connected,
    ConnectFailed,
    Connecting,
    DataBody,
    DataEnd,
    Encrypted,
    Note,
    Reply,
    ShellPrompt,
    Span,
    StreamEnd,
    Timeout,
    TlsFailed,
    TlsStarted,
    Unparsed,
)
from smtplog.protocol import SessionAnalysis, Verdict, Violation
from smtplog.render.data import report_to_dict
from smtplog.render.jsonl import StreamLines, report_line
from smtplog.report import Evidence, Finding, Report, SessionReport

from .hostile import HOSTILE
from .samples import load_samples

SAMPLES = load_samples()
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def by_dicts(report: Report, session_number: int | None = None) -> str:
    data = report_to_dict(report)
    if session_number is not None:
        data["session_number"] = session_number
    return json_text(data)


@pytest.mark.parametrize("sample", SAMPLES, ids=str)
def test_every_sample_is_written_as_the_dicts_give_it(sample) -> None:  # type: ignore[no-untyped-def]
    report = analyze_bytes(sample.file.read_bytes(), name=sample.path)
    assert report_line(report) == by_dicts(report)
    for number, session in enumerate(report.sessions, 1):  # as --format jsonl writes them
        line = Report(
            source=report.source,
            dialect=report.dialect,
            confidence=report.confidence,
            sessions=[session],
            notes=report.notes,
            runner_up=report.runner_up,
            forced=report.forced,
            cleanup=report.cleanup,
        )
        assert report_line(line, number) == by_dicts(line, number)


@pytest.mark.parametrize("sample", SAMPLES, ids=str)
def test_the_lines_of_a_stream_are_the_report_lines_of_its_sessions(sample) -> None:  # type: ignore[no-untyped-def]
    """--format jsonl (cli/streaming.py) writes StreamLines: each session's report_line."""
    stream = analyze_stream(sample.file.read_bytes(), name=str(sample.path))
    lines = StreamLines(stream)
    for number, session in enumerate(stream, 1):
        expected = report_line(stream.header([session]), number) + "\n"
        assert lines.line(session, number) == expected


# -- hypothesis: any value in any field -------------------------------------------------

TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(list(HOSTILE.values())),
    st.text(alphabet=st.characters(min_codepoint=0xDC80, max_codepoint=0xDCFF), max_size=3),
    st.just("\\udc80 a\\\\udc81"),  # what looks like an escaped lone surrogate
)
MAYBE_TEXT = st.none() | TEXT
NUMBER = st.one_of(st.integers(-(2**70), 2**70), st.floats(allow_nan=True, allow_infinity=True))
TIME = st.none() | st.floats(-1e12, 1e12) | st.integers(0, 2**40) | st.just(math.inf)
SPAN = st.none() | st.builds(
    lambda first, more: Span(first, first + more), st.integers(1, 10**6), st.integers(0, 3)
)


def event(kind: type, **fields: st.SearchStrategy) -> st.SearchStrategy:
    return st.builds(kind, span=SPAN, time=TIME, stream=st.none() | TEXT, **fields)


EVENTS = st.one_of(
    event(Connecting, target=TEXT),
    event(Connected, target=TEXT, address=MAYBE_TEXT),
    event(ConnectFailed, reason=st.sampled_from(["timeout", "refused", "other"]), detail=TEXT),
    event(
        Reply,
        code=st.integers(200, 599),
        enhanced=MAYBE_TEXT,
        lines=st.lists(TEXT, max_size=3).map(tuple),
        latency=st.none() | NUMBER,
    ),
    event(Command, verb=TEXT, argument=TEXT, text=TEXT, secret=st.booleans()),
    event(
        AuthResponse,
        text=TEXT,
        role=st.sampled_from(["username", "password", "response"]),
        decoded=MAYBE_TEXT,
        secret=st.booleans(),
    ),
    event(DataBody, line_count=st.integers(0, 10**9), summary=MAYBE_TEXT),
    event(DataEnd),
    event(
        TlsStarted,
        version=MAYBE_TEXT,
        cipher=MAYBE_TEXT,
        subject=MAYBE_TEXT,
        issuer=MAYBE_TEXT,
        not_after=MAYBE_TEXT,
        sans=st.lists(TEXT, max_size=3).map(tuple),
        verified=st.none() | st.booleans(),
        detail=TEXT,
    ),
    event(TlsFailed, reason=TEXT),
    event(
        Encrypted,
        client_bytes=st.integers(0, 10**10),
        server_bytes=st.integers(0, 10**10),
        detail=TEXT,
    ),
    event(Timeout, waiting_for=TEXT, detail=TEXT),
    event(Closed, by=st.sampled_from(["client", "server"]), detail=TEXT, unexpected=st.booleans()),
    event(ClientError, text=TEXT),
    event(Note, text=TEXT),
    event(ShellPrompt, text=TEXT),
    event(Unparsed, text=TEXT),
    event(StreamEnd),
)
EVIDENCE = st.lists(st.builds(Evidence, line=st.none() | st.integers(1, 10**6), text=TEXT))
# Few ids and texts, so that findings often share a diagnosis id and differ elsewhere.
FEW = st.sampled_from(["delivered", "relay-denied", "é §"])
FINDING = st.builds(
    Finding,
    id=FEW,
    severity=st.sampled_from(["error", "info"]),
    confidence=st.sampled_from(["high", "low"]),
    title=FEW | TEXT,
    summary=TEXT,
    explanation=FEW | TEXT,
    causes=st.lists(FEW, max_size=2).map(tuple),
    next_steps=st.lists(FEW | TEXT, max_size=2).map(tuple),
    references=st.lists(FEW, max_size=2).map(tuple),
    evidence=EVIDENCE.map(tuple),
    consequences=EVIDENCE.map(tuple),
    phase=st.none() | FEW,
    provider=st.none() | FEW,
    matched_by=st.none() | FEW,
    group=FEW,
)


@st.composite
def sessions(draw: st.DrawFn) -> SessionReport:
    analysis = SessionAnalysis(
        events=draw(st.lists(EVENTS, max_size=6)),
        violations=draw(
            st.lists(st.builds(Violation, span=SPAN, message=TEXT, rfc=MAYBE_TEXT), max_size=2)
        ),
        notes=draw(st.lists(TEXT, max_size=2)),
        capabilities=draw(st.dictionaries(TEXT, TEXT, max_size=2)),
        tls=draw(st.none() | st.just(TlsStarted())),
        authenticated=draw(st.booleans()),
        one_sided=draw(st.sampled_from([None, "server", "client"])),
        verdict=Verdict(draw(st.sampled_from(["delivered", "failed"])), draw(MAYBE_TEXT)),
    )
    return SessionReport(
        analysis,
        findings=draw(st.lists(FINDING, max_size=2)),
        observations=draw(st.lists(FINDING, max_size=2)),
    )


@SETTINGS
@given(
    sessions=st.lists(sessions(), max_size=2),
    source=TEXT,
    confidence=NUMBER,
    runner_up=st.none() | st.tuples(TEXT, NUMBER),
    notes=st.lists(TEXT, max_size=2),
    number=st.none() | st.integers(1, 10**9),
)
def test_any_report_is_written_as_the_dicts_give_it(  # noqa: PLR0917
    sessions: list[SessionReport],
    source: str,
    confidence: float,
    runner_up: tuple[str, float] | None,
    notes: list[str],
    number: int | None,
) -> None:
    report = Report(
        source=source,
        dialect="exchange",
        confidence=confidence,
        sessions=sessions,
        notes=notes,
        runner_up=runner_up,
        cleanup=["escapes"] if notes else [],
    )
    assert report_line(report, number) == by_dicts(report, number)


def test_findings_of_one_diagnosis_keep_their_own_text() -> None:
    """The cache of encoded knowledge is keyed on all of it, not on the id."""
    first = Finding("delivered", "info", "high", "t", "s", "one", (), ("a",), ())
    second = Finding("delivered", "info", "high", "t", "s", "one", (), ("b",), ())
    analysis = SessionAnalysis(events=[])
    for finding in (first, second, first):
        report = Report("x", "exchange", 1.0, [SessionReport(analysis, [finding])])
        assert report_line(report) == by_dicts(report)
        assert f'"next_steps": ["{finding.next_steps[0]}"]' in report_line(report)


@pytest.mark.parametrize(
    "times",
    [(1.0, 2.0, 3.5), (1, 2, 3), (1.0, 2.0, 3.5), (0.0, -0.0, 1.0), (-0.0, 0.0, 1.0), (0, 0.0, 1)],
)
def test_times_equal_as_keys_keep_their_own_text(times: tuple[float, ...]) -> None:
    """The kept texts of time offsets: 2 == 2.0 and 0.0 == -0.0, but each is written as is."""
    events = [Note(text="n", span=Span(i, i), time=time) for i, time in enumerate(times, 1)]
    report = Report("x", "postfix", 1.0, [SessionReport(SessionAnalysis(events=events))])
    assert report_line(report) == by_dicts(report)


def test_findings_with_equal_values_of_other_types_keep_their_own_text() -> None:
    """1 == 1.0 == True as keys: only findings whose fields are all text are kept."""
    for phase in (1, 1.0, True, 0.0, -0.0, "1"):
        finding = Finding("x", "info", "high", "t", "s", "e", (), (), (), phase=phase)  # type: ignore[arg-type]
        report = Report(
            "x", "exchange", 1.0, [SessionReport(SessionAnalysis(events=[]), [finding])]
        )
        assert report_line(report) == by_dicts(report)


@SETTINGS
@given(
    changes=st.lists(
        st.tuples(
            st.lists(TEXT, max_size=2),  # notes
            st.sampled_from([[], ["escapes"], ["escapes", "telnet"]]),  # cleanup
            st.sampled_from([1, 1.0, True, 0.5, math.nan]),  # confidence
            st.booleans(),  # forced
            st.sampled_from([None, ("telnet", 0.5), ("telnet", 1)]),  # runner_up
            st.sampled_from(["x", "y", "\udc80"]),  # source
        ),
        min_size=1,
        max_size=4,
    ),
    session=sessions(),
)
def test_stream_lines_follow_every_change_of_the_input_fields(changes, session) -> None:  # type: ignore[no-untyped-def]
    """The head is encoded again when any field changes, even to an equal value of
    another type (1, 1.0, True) or an equal list (the notes grow while a log is read)."""
    notes: list[str] = []
    stream = ReportStream(
        source="x",
        dialect="postfix",
        confidence=1.0,
        sessions=iter(()),
        notes=lambda: notes,
        line_count=lambda: 0,
        cleanup=[],
    )  # (notes: the reader's own list, which grows in place)
    lines = StreamLines(stream)
    for number, (new_notes, cleanup, confidence, forced, runner_up, source) in enumerate(
        changes * 2, 1
    ):
        notes[:] = new_notes
        stream.cleanup[:] = cleanup
        stream.confidence, stream.forced = confidence, forced
        stream.runner_up, stream.source = runner_up, source
        expected = report_line(stream.header([session]), number) + "\n"
        assert lines.line(session, number) == expected
