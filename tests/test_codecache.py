"""Dataclass methods compiled once (smtplog/codecache.py): the classes are the same."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from smtplog import codecache

from .conftest import ROOT

METHODS = ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__")


def make_class() -> type:
    @dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
    class Sample:
        code: int
        lines: tuple[str, ...] = ()
        note: str | None = None

    return Sample


def fingerprint(cls: type) -> dict[str, object]:
    methods = {name: getattr(cls, name) for name in METHODS}
    return {
        **{name: (f.__code__.co_code, f.__code__.co_consts[1:]) for name, f in methods.items()},
        "annotations": cls.__init__.__annotations__,  # type: ignore[misc]
    }


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("SMTPLOG_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(codecache, "_codes", {})
    monkeypatch.setattr(codecache, "_new", [])
    codecache.install()
    yield
    codecache.uninstall()


def test_a_class_is_the_same_with_the_cache(installed: None) -> None:
    cached = make_class()
    codecache.uninstall()
    plain = make_class()
    assert fingerprint(cached) == fingerprint(plain)
    first = cached(code=250, lines=("ok",))
    assert first == cached(code=250, lines=("ok",))
    assert repr(first).endswith("Sample(code=250, lines=('ok',), note=None)")
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.code = 550  # type: ignore[misc]
    assert dataclasses.replace(first, code=550).code == 550


def test_the_second_time_nothing_is_compiled(installed: None) -> None:
    make_class()
    assert codecache._new
    codecache.save()
    assert not codecache._new
    make_class()
    assert not codecache._new


def test_the_cache_is_read_by_the_next_process(tmp_path: Path) -> None:
    code = (
        "import dataclasses, sys\n"
        "from smtplog import codecache\n"
        "codecache.install()\n"
        "@dataclasses.dataclass(frozen=True)\n"
        "class Probe:\n"
        "    a: int = 1\n"
        "print(len(codecache._new), Probe() == Probe(), Probe(2))\n"
    )
    env = {"SMTPLOG_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    runs = [
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            check=True,
        ).stdout.split()
        for _ in range(2)
    ]
    assert int(runs[0][0]) > 0  # compiled, then saved at exit
    assert runs[1] == ["0", "True", "Probe(a=2)"]  # all from the cache


def test_a_damaged_cache_is_compiled_again(tmp_path: Path, installed: None) -> None:
    (tmp_path / codecache.ENTRY).write_bytes(b"\x00not marshal")
    codecache.uninstall()
    codecache.install()
    cls = make_class()
    assert cls(code=1).code == 1
