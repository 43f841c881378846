"""A quicker ``__init__`` for frozen slotted dataclasses built in great numbers.

``dataclass(frozen=True)`` generates an ``__init__`` that sets each field with
``object.__setattr__`` (the class's own ``__setattr__`` refuses). Setting the
slot through its descriptor does the same for about half the cost, which
matters for values a long log makes millions of (events, spans).
"""

from __future__ import annotations

from dataclasses import MISSING, fields

from smtplog import codecache


def quick_init(cls: type) -> type:
    """Replace the ``__init__`` of ``cls``: same signature, defaults and result
    (tests/test_quickinit.py). Kept as generated where a field has a default
    factory or is not an ``__init__`` parameter."""
    namespace: dict[str, object] = {}
    positional: list[str] = []
    keywords: list[str] = []
    body: list[str] = []
    for index, item in enumerate(fields(cls)):
        if item.default_factory is not MISSING or not item.init:
            return cls
        slot = next(k.__dict__[item.name] for k in cls.__mro__ if item.name in k.__dict__)
        namespace[f"_set{index}"] = slot.__set__
        param = item.name
        if item.default is not MISSING:
            namespace[f"_default{index}"] = item.default
            param = f"{item.name}=_default{index}"
        (keywords if item.kw_only else positional).append(param)
        body.append(f"    _set{index}(self, {item.name})")
    params = ", ".join(["self", *positional, *(["*", *keywords] if keywords else [])])
    source = f"def __init__({params}):\n" + "\n".join(body) + "\n"
    codecache.run(source, namespace)  # (compiled once: start-up)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"  # type: ignore[attr-defined]
    cls.__init__ = init  # type: ignore[misc]
    return cls
