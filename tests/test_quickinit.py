"""quick_init: the quicker ``__init__`` (events, findings, exchanges) builds exactly what the
dataclass's would."""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import FrozenInstanceError, dataclass, field

import pytest

from smtplog import events
from smtplog.protocol import Exchange, Violation
from smtplog.quickinit import quick_init
from smtplog.report import Evidence, Finding

CLASSES = [
    events.Span,
    *(v for v in vars(events).values() if isinstance(v, type) and issubclass(v, events.Event)),
    Evidence,
    Finding,
    Exchange,
    Violation,
]


def _value(item: dataclasses.Field[object], index: int) -> object:
    return ("value", item.name, index)  # distinct for every field, of no field's default


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_every_field_is_set_from_its_argument(cls: type) -> None:
    items = dataclasses.fields(cls)
    args = {item.name: _value(item, index) for index, item in enumerate(items)}
    positional = [args[item.name] for item in items if not item.kw_only]
    keywords = {item.name: args[item.name] for item in items if item.kw_only}
    made = cls(*positional, **keywords)
    assert {item.name: getattr(made, item.name) for item in items} == args
    assert "_set0" in cls.__init__.__code__.co_names  # the quick one is in place


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_the_signature_is_the_dataclass_one(cls: type) -> None:
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    items = dataclasses.fields(cls)
    expected = [item for item in items if not item.kw_only] + [i for i in items if i.kw_only]
    assert [p.name for p in parameters] == [item.name for item in expected]
    for parameter, item in zip(parameters, expected, strict=True):
        kind = (
            inspect.Parameter.KEYWORD_ONLY
            if item.kw_only
            else inspect.Parameter.POSITIONAL_OR_KEYWORD
        )
        assert parameter.kind == kind
        default = inspect.Parameter.empty if item.default is dataclasses.MISSING else item.default
        assert parameter.default is default


def test_events_stay_frozen_equal_and_hashable() -> None:
    reply = events.Reply(code=250, lines=("ok",), span=events.Span(1, 1))
    assert reply == events.Reply(code=250, lines=("ok",), span=events.Span.of(1))
    assert hash(reply) == hash(dataclasses.replace(reply))
    with pytest.raises(FrozenInstanceError):
        reply.code = 550  # type: ignore[misc]
    with pytest.raises(TypeError, match="code"):
        events.Reply()  # type: ignore[call-arg]


def test_a_class_it_cannot_serve_keeps_its_own_init() -> None:
    @dataclass(frozen=True, slots=True)
    class Held:
        items: list[int] = field(default_factory=list)

    generated = Held.__init__
    assert quick_init(Held) is Held and Held.__init__ is generated


def test_positional_and_keyword_fields_mix_as_in_a_dataclass() -> None:
    @quick_init
    @dataclass(frozen=True, slots=True)
    class Mixed:
        a: int
        b: int = 2
        _: dataclasses.KW_ONLY
        c: int
        d: int = 4

    assert Mixed(1, c=3) == Mixed(a=1, b=2, c=3, d=4)
    assert (Mixed(1, 5, c=3, d=6).b, Mixed(1, 5, c=3, d=6).d) == (5, 6)
    with pytest.raises(TypeError):
        Mixed(1, 2, 3)  # type: ignore[misc]
