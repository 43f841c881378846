"""The protocol machine's quicker forms equal their definitions.

``unrecovered_failures`` walks the exchanges once, from the end; its definition (kept
here) asks, for every failed exchange, whether a later one of the same kind succeeded.
The handlers of the machine are found by type once per kind, in the order of the
isinstance chain they replace, subclasses included.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from smtplog import events as ev
from smtplog.events import Event, Reply
from smtplog.protocol import (
    _HANDLED,
    _VERB_GROUP,
    Exchange,
    Machine,
    SessionAnalysis,
    State,
    _handler,
    _side,
    unrecovered_failures,
)


def _group(verb: str) -> str:
    return _VERB_GROUP.get(verb, verb)


def _succeeded(exchange: Exchange) -> bool:
    code = exchange.reply.code
    return code < 300 or (code == 354 and exchange.verb == "DATA")


def defined_failures(analysis: SessionAnalysis) -> list[Exchange]:
    """The definition: failed exchanges that no later success of the same kind made good."""
    failures: list[Exchange] = []
    exchanges = analysis.exchanges
    for index, exchange in enumerate(exchanges):
        if not exchange.failed or exchange.phase is None:
            continue
        group = _group(exchange.verb)
        later = exchanges[index + 1 :]
        if exchange.reply.code != 421 and any(
            _group(other.verb) == group and _succeeded(other) for other in later
        ):
            continue
        failures.append(exchange)
    return failures


VERBS = st.sampled_from(
    ["BANNER", "EHLO", "HELO", "LHLO", "AUTH", "AUTH-RESPONSE", "MAIL", "RCPT", "DATA", ".",
     "BDAT", "STARTTLS", "QUIT", "-", "XYZZY"]
)  # fmt: skip
CODES = st.sampled_from([220, 221, 235, 250, 251, 334, 354, 421, 450, 451, 452, 530, 535, 550])
EXCHANGE = st.builds(
    lambda verb, code, phase: Exchange(None, Reply(code=code), verb, phase, State.READY),
    VERBS,
    CODES | st.integers(100, 699),
    st.none() | st.sampled_from(["ehlo", "auth", "mail", "rcpt", "data", "message"]),
)


@settings(max_examples=500, deadline=None)
@given(st.lists(EXCHANGE, max_size=12))
def test_unrecovered_failures_are_the_defined_ones(exchanges: list[Exchange]) -> None:
    analysis = SessionAnalysis(events=[], exchanges=exchanges)
    found = unrecovered_failures(analysis)
    expected = defined_failures(analysis)
    assert len(found) == len(expected)
    assert all(a is b for a, b in zip(found, expected, strict=True))


def _kinds() -> list[type]:
    found: list[type] = []
    todo = [Event]
    while todo:
        kind = todo.pop()
        found.append(kind)
        todo.extend(kind.__subclasses__())
    return found


def test_every_kind_has_the_handler_of_the_first_isinstance_that_holds() -> None:
    kinds = [kind for kind in _kinds() if kind.__module__ == ev.__name__]
    assert len(kinds) > 15
    for kind in kinds:
        expected = next((h for types, h in _HANDLED if issubclass(kind, types)), Machine._other)
        assert _handler(kind) is expected
    assert _handler(ev.ShellPrompt) is Machine._other  # a Note: nothing to do but keep it
    assert _handler(ev.Closed) is _handler(ev.Timeout) is Machine._end


def test_sides_of_the_kinds() -> None:
    assert _side(ev.Reply) == "server"
    for kind in (ev.Command, ev.AuthResponse, ev.DataEnd, ev.DataBody):
        assert _side(kind) == "client"
    assert _side(ev.Timeout) == "timeout"
    assert _side(ev.Note) == _side(ev.Closed) == "-"


def test_a_begun_analysis_is_the_generated_one() -> None:
    """``_begun(events)`` (Machine.run's first step) sets every field, and each to what
    ``SessionAnalysis(events=events)`` gives: equal values, new lists and dicts."""
    from dataclasses import fields

    from smtplog.protocol import _begun

    events: list[Event] = []
    fast, plain = _begun(events), SessionAnalysis(events=events)
    for item in fields(SessionAnalysis):
        mine, theirs = getattr(fast, item.name), getattr(plain, item.name)
        assert mine == theirs and type(mine) is type(theirs), item.name
        if isinstance(theirs, list | dict) and item.name != "events":
            assert mine is not getattr(_begun(events), item.name)  # not shared
    assert fast.events is events and fast == plain
