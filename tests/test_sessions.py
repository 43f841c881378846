"""Several sessions in one input: split, each analysed, each shown."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from smtplog.analysis import analyze_text
from smtplog.events import ShellPrompt
from smtplog.render.data import document
from smtplog.render.text import render

from .conftest import BENCH_LOGS, bench_log_records, transcript

TELNET_DELIVERED = transcript(
    """
    Trying 127.0.0.1...
    Connected to 127.0.0.1.
    Escape character is '^]'.
    220 mx.example.test ESMTP Postfix
    EHLO client.example.test
    250 mx.example.test
    MAIL FROM:<sender@example.org>
    250 2.1.0 Ok
    RCPT TO:<bob@example.test>
    250 2.1.5 Ok
    DATA
    354 End data with <CR><LF>.<CR><LF>
    Subject: test

    hello
    .
    250 2.0.0 Ok: queued as 4ABCDEF0123
    QUIT
    221 2.0.0 Bye
    Connection closed by foreign host.
    """
)
TELNET_DENIED = transcript(
    """
    Trying 127.0.0.1...
    Connected to 127.0.0.1.
    Escape character is '^]'.
    220 mx.example.test ESMTP Postfix
    EHLO client.example.test
    250 mx.example.test
    MAIL FROM:<alice@example.test>
    250 2.1.0 Ok
    RCPT TO:<someone@example.org>
    554 5.7.1 <someone@example.org>: Relay access denied
    QUIT
    221 2.0.0 Bye
    Connection closed by foreign host.
    """
)
SWAKS_DELIVERED = transcript(
    """
    === Trying 127.0.0.1:2525...
    === Connected to 127.0.0.1.
    <-  220 mx.example.test ESMTP Postfix
     -> EHLO client.example.test
    <-  250 mx.example.test
     -> MAIL FROM:<sender@example.org>
    <-  250 2.1.0 Ok
     -> RCPT TO:<alice@example.test>
    <-  250 2.1.5 Ok
     -> DATA
    <-  354 End data with <CR><LF>.<CR><LF>
     -> Subject: test
     ->
     -> .
    <-  250 2.0.0 Ok: queued as 4ABCDEF0123
     -> QUIT
    <-  221 2.0.0 Bye
    === Connection closed with remote host.
    """
)
SWAKS_DENIED = transcript(
    """
    === Trying 127.0.0.1:2525...
    === Connected to 127.0.0.1.
    <-  220 mx.example.test ESMTP Postfix
     -> EHLO client.example.test
    <-  250 mx.example.test
     -> MAIL FROM:<alice@example.test>
    <-  250 2.1.0 Ok
     -> RCPT TO:<someone@example.org>
    <** 554 5.7.1 <someone@example.org>: Relay access denied
     -> QUIT
    <-  221 2.0.0 Bye
    === Connection closed with remote host.
    """
)


def replies_only(text: str) -> str:
    return "".join(f"{line}\n" for line in text.splitlines() if line[:1].isdigit())


def without_quit(text: str) -> str:
    keep = text.split("QUIT", 1)[0].splitlines()
    return "".join(f"{line}\n" for line in keep if not line.startswith(" ->"))


PROMPT = "user@vm:~$ {}\n"
BOTH = ("delivered", "failed")

SHAPES = {
    "telnet-after-telnet": TELNET_DELIVERED + TELNET_DENIED,
    "telnet-after-telnet-with-prompts": PROMPT.format("telnet 127.0.0.1 2525")
    + TELNET_DELIVERED
    + PROMPT.format("telnet 127.0.0.1 2525")
    + TELNET_DENIED
    + PROMPT.format(""),
    "swaks-after-swaks": SWAKS_DELIVERED + SWAKS_DENIED,
    "swaks-after-swaks-with-prompts": PROMPT.format("swaks --to alice@example.test")
    + SWAKS_DELIVERED
    + PROMPT.format("swaks --to someone@example.org")
    + SWAKS_DENIED,
    "replies-after-replies": replies_only(TELNET_DELIVERED) + replies_only(TELNET_DENIED),
    "blank-lines-between": TELNET_DELIVERED + "\n\n\n" + TELNET_DENIED,
}


@pytest.mark.parametrize("text", SHAPES.values(), ids=SHAPES.keys())
def test_back_to_back_pastes_become_one_session_each(text: str) -> None:
    report = analyze_text(text)
    assert tuple(session.outcome for session in report.sessions) == BOTH


def test_a_session_cut_short_then_the_next_paste_after_a_prompt() -> None:
    cut = "\n".join(TELNET_DENIED.splitlines()[3:10]) + "\n"  # no QUIT, no close
    text = cut + PROMPT.format("telnet 127.0.0.1 2525") + TELNET_DELIVERED
    outcomes = [session.outcome for session in analyze_text(text).sessions]
    assert outcomes == ["failed", "delivered"]


def test_server_replies_of_a_failed_session_then_a_new_greeting() -> None:
    first = replies_only(TELNET_DENIED).split("221")[0]  # no 221: the paste stops at the 554
    outcomes = [s.outcome for s in analyze_text(first + replies_only(TELNET_DELIVERED)).sessions]
    assert outcomes == ["failed", "delivered"]


def test_starttls_220_does_not_start_a_new_session() -> None:
    text = transcript(
        """
        220 mx.example.test ESMTP Postfix
        EHLO client.example.test
        250-mx.example.test
        250 STARTTLS
        STARTTLS
        220 Ready to start TLS
        EHLO client.example.test
        250 mx.example.test
        QUIT
        221 Bye
        """
    )
    assert len(analyze_text(text).sessions) == 1


def test_prompts_are_kept_as_notes_in_their_session() -> None:
    report = analyze_text(SHAPES["swaks-after-swaks-with-prompts"])
    firsts = [session.analysis.events[0] for session in report.sessions]
    assert all(isinstance(event, ShellPrompt) for event in firsts)
    assert [event.span.first for event in firsts if event.span] == [1, 20]


def test_every_session_is_in_the_json_and_the_text() -> None:
    report = analyze_text(SHAPES["telnet-after-telnet-with-prompts"])
    sessions = document([report])["reports"][0]["sessions"]
    assert [session["outcome"] for session in sessions] == list(BOTH)
    assert sessions[0]["events"][0]["kind"] == "prompt"
    text = render([report])
    assert "2 sessions" in text
    assert "--- session 1 of 2" in text and "--- session 2 of 2" in text
    assert "shell prompt, not part of the session" in text


def _noops(count: int) -> list:
    from smtplog.events import Command, Reply, Span

    events: list = [Reply(code=220, lines=("mx ESMTP",), span=Span.of(1))]
    for n in range(count):
        events.append(Command(verb="NOOP", text="NOOP", span=Span.of(2 * n + 2)))
        events.append(Reply(code=250, lines=("Ok",), span=Span.of(2 * n + 3)))
    return events


def test_a_session_that_just_fits_the_limit_is_kept_whole_without_a_note() -> None:
    from smtplog.sessions import Splitter

    events = [*_noops(4), *_noops(1)[1:2]]  # 10 events: the last 4 fill the tail
    assert len(events) == 10
    splitter = Splitter(max_events=10, tail_events=4)
    assert list(splitter.split(events)) == [events]
    assert splitter.notes == []


def test_a_session_over_the_limit_is_still_cut_with_a_note() -> None:
    from smtplog.sessions import Splitter

    events = _noops(10)  # 21 events
    splitter = Splitter(max_events=10, tail_events=4)
    [session] = list(splitter.split(events))
    assert len(session) < len(events)
    assert session[:6] == events[:6] and session[-3:] == events[-3:]
    assert len(splitter.notes) == 1 and "of this session were left out" in splitter.notes[0]


@pytest.mark.parametrize(
    ("limits", "named"),
    [({"max_streams": 1}, "MAX_OPEN_STREAMS"), ({"max_held": 6}, "MAX_HELD_EVENTS")],
)
def test_a_connection_cut_names_the_limit_that_cut_it(limits: dict, named: str) -> None:
    from dataclasses import replace

    from smtplog.sessions import Splitter

    a = [replace(event, stream="a") for event in _noops(3)]
    b = [replace(event, stream="b") for event in _noops(3)]
    interleaved = [event for pair in zip(a, b, strict=True) for event in pair]
    splitter = Splitter(**limits)
    assert len(list(splitter.split(interleaved))) > 2  # cut: a stream went on in a new session
    cuts = [note for note in splitter.notes if "more connections were open" in note]
    assert len(cuts) == 1 and f"smtplog.limits.{named})" in cuts[0]


# -- the fast Splitter is the plain definition (tests/reference_splitter.py) ----------------


def _event_strategy():  # type: ignore[no-untyped-def]
    from hypothesis import strategies as st

    from smtplog.events import (
        Closed,
        Command,
        Connected,
        ConnectFailed,
        Connecting,
        DataEnd,
        Note,
        Reply,
        ShellPrompt,
        StreamEnd,
        Timeout,
        TlsStarted,
    )

    greetings = ["mx.example.test ESMTP Postfix", "2.0.0 Ready to start TLS", "go ahead", "ok"]
    texts = st.sampled_from(["x", "hello", "y" * 600, "z" * 1500])
    # Lines: the splitter weighs a reply by its lines without joining them (Reply.text):
    # one short or long line, several whose joined text is long only with the newlines, none.
    reply_lines = st.one_of(
        st.builds(lambda text: (text,), st.sampled_from([*greetings, "q" * 700])),
        st.sampled_from([("a" * 300, "b" * 212), ("a" * 300, "b" * 211), ("ok", "ok"), ()]),
    )
    replies = st.builds(
        lambda code, lines, enhanced: Reply(code=code, lines=lines, enhanced=enhanced),
        st.sampled_from([220, 220, 250, 221, 421, 354, 334, 550]),
        reply_lines,
        st.sampled_from([None, "2.0.0"]),
    )
    commands = st.builds(
        lambda verb, text: Command(verb=verb, text=text),
        st.sampled_from(["EHLO", "MAIL", "STARTTLS", "QUIT"]),
        st.sampled_from(["EHLO x", "w" * 900]),
    )
    kinds = st.one_of(
        replies,
        commands,
        st.just(Connecting()),
        st.just(Connected()),
        st.just(ConnectFailed()),
        st.just(Closed()),
        st.just(Timeout()),
        st.just(DataEnd()),
        st.just(TlsStarted()),
        st.builds(lambda text: Note(text=text), texts),
        st.builds(lambda text: ShellPrompt(text=text), texts),
        st.just(StreamEnd()),
    )
    return st.tuples(
        kinds,
        st.sampled_from([None, None, "a", "b", "c", "d"]),  # the stream
        st.one_of(st.none(), st.integers(0, 30)),  # lines since the last event (None: no span)
    )


def _placed(drawn: list) -> list:  # type: ignore[type-arg]
    from dataclasses import replace

    from smtplog.events import Span

    events, line = [], 1
    for event, stream, step in drawn:
        if step is not None:
            line += step
        span = None if step is None else Span(line, line + (step % 3))
        events.append(replace(event, stream=stream, span=span))
    return events


_LIMITS = {
    "everything": [False, True],
    "reorder_events": [0, 3, 20_000],
    "max_events": [6, 12, 20_000],
    "tail_events": [0, 2, 5],
    "max_streams": [1, 2, 5_000],
    "max_held": [4, 15, 100_000],
    "idle_lines": [5, 40, 50_000],
}


def _both(events: list, settings: dict) -> tuple[tuple, tuple]:  # type: ignore[type-arg]
    from smtplog.sessions import Splitter

    from .reference_splitter import Splitter as Reference

    fast, plain = Splitter(**settings), Reference(**settings)
    one_by_one = Splitter(**settings)
    taken = [session for event in events for session in one_by_one.add(event)]
    taken += list(one_by_one.finish())
    return (
        (list(fast.split(events)), fast.notes, taken, one_by_one.notes),
        (list(plain.split(events)), plain.notes) * 2,
    )


def test_the_fast_splitter_cuts_any_events_as_the_definition_does() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    limits = st.fixed_dictionaries({name: st.sampled_from(v) for name, v in _LIMITS.items()})

    @settings(max_examples=600, deadline=None)
    @given(st.lists(_event_strategy(), max_size=80), limits)
    def check(drawn: list, chosen: dict) -> None:  # type: ignore[type-arg]
        events = _placed(drawn)
        fast, plain = _both(events, chosen)
        assert fast == plain

    check()


@pytest.mark.parametrize("kind", BENCH_LOGS)
def test_the_fast_splitter_cuts_the_bench_logs_as_the_definition_does(kind: str) -> None:
    from smtplog.assemble import Assembler

    events = list(Assembler().feed(bench_log_records(kind)))
    for settings in ({}, {"max_streams": 3, "reorder_events": 10, "max_held": 50}):
        fast, plain = _both(events, settings)
        assert fast == plain
        assert len(fast[0]) > 100


def test_the_splitter_places_prompts_as_with_prompts_does() -> None:
    """``Splitter.split(events, aside, prompt)`` is ``split(with_prompts(events, aside))``,
    the prompts set aside growing while the events are read (a long input's cleanup)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from smtplog.analysis import _prompt, with_prompts
    from smtplog.sessions import Splitter
    from smtplog.source import Line

    def growing(events: list, aside: list, grow: dict) -> Iterator:  # type: ignore[type-arg]
        for index, event in enumerate(events):
            aside.extend(grow.get(index, []))
            yield event

    @settings(max_examples=400, deadline=None)
    @given(
        st.lists(_event_strategy(), max_size=60),
        # (when it is added, the event whose line it is near, before / on / after it)
        st.lists(
            st.tuples(st.integers(0, 60), st.integers(0, 60), st.integers(-1, 1)), max_size=30
        ),
        st.sampled_from([0, 1, 2000]),  # prompts there from the start
    )
    def check(drawn: list, prompts: list, ahead: int) -> None:  # type: ignore[type-arg]
        events = _placed(drawn)
        spans = [event.span.first for event in events if event.span is not None] or [0]
        numbers = sorted(spans[near % len(spans)] + step for _, near, step in prompts)
        at = sorted(index for index, _, _ in prompts)
        lines = [Line(number, f"$ swaks --to a{number}@example.test") for number in numbers]
        first = [line for line in lines if line.number < ahead]
        later = [line for line in lines if line.number >= ahead]
        grow: dict[int, list] = {}  # type: ignore[type-arg]
        for index, line in zip(at, later, strict=False):
            grow.setdefault(index, []).append(line)
        plain_aside, fast_aside = list(first), list(first)
        plain = list(
            Splitter().split(with_prompts(growing(events, plain_aside, grow), plain_aside))
        )
        fast = list(Splitter().split(growing(events, fast_aside, grow), fast_aside, _prompt))
        assert fast == plain

    check()


def test_the_splitter_forgets_placed_prompts_as_with_prompts_does() -> None:
    """Beyond 1,024 prompts placed, both drop them from ``aside`` (memory stays flat)."""
    from smtplog.analysis import _prompt, with_prompts
    from smtplog.events import Command, Reply, Span
    from smtplog.sessions import Splitter
    from smtplog.source import Line

    events: list = []  # type: ignore[type-arg]
    for n in range(1500):
        events += [
            Reply(code=220, lines=("mx ESMTP",), span=Span.of(3 * n + 2)),
            Command(verb="QUIT", text="QUIT", span=Span.of(3 * n + 3)),
        ]
    lines = [Line(3 * n + 1, "$ swaks") for n in range(1500)]
    plain_aside, fast_aside = list(lines), list(lines)
    plain = list(Splitter().split(with_prompts(events, plain_aside)))
    fast = list(Splitter().split(events, fast_aside, _prompt))
    assert fast == plain and len(fast) == 1500
    assert fast_aside == plain_aside and len(fast_aside) < 1000


def test_connections_and_streams_begin_as_their_fields_were_defined() -> None:
    """Their ``__init__`` is written out (one of each per session): every field is set,
    to the default the dataclass fields had (a new list each; ``dropped_lines`` is None,
    not an empty list, until a line is left out)."""
    from dataclasses import fields

    from smtplog import limits
    from smtplog.sessions import Connection, _Stream

    connection = Connection(7)
    assert {item.name: getattr(connection, item.name) for item in fields(Connection)} == {
        "order": 7,
        "max_events": limits.MAX_SESSION_EVENTS,
        "tail_events": limits.SESSION_TAIL_EVENTS,
        "events": [],
        "weight": 0,
        "traffic": False,
        "connected": False,
        "ended": False,
        "replies": 0,
        "first_reply": None,
        "last_command": None,
        "reportable": False,
        "tail": None,
        "tail_weight": 0,
        "dropped": 0,
        "dropped_lines": None,
    }
    assert Connection(8, 5, 2).max_events == 5 and Connection(8, 5, 2).tail_events == 2
    assert connection.events is not Connection(7).events
    stream = _Stream("a", 3)
    assert {item.name: getattr(stream, item.name) for item in fields(_Stream)} == {
        "key": "a",
        "number": 3,
        "connections": 0,
        "current": None,
        "last_line": 0,
        "ending": False,
    }
