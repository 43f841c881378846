"""Regular expressions compiled from the user cache (smtplog/recache.py) are re's own."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from smtplog import cache, recache
from smtplog.rules.classify import all_rules, providers

from .conftest import ROOT

PATTERNS = [
    (r"^(?P<code>[2-5]\d\d)(?P<sep>[ -]|$)(?P<text>.*)$", 0),
    (r"relay(ing)? access denied|unable to relay", re.IGNORECASE),
    (r"(?<=[<=])([A-Za-z0-9._%+-]+)(?=@)", 0),
    (rb"\x16\x03[\x00-\x04]", 0),
    (r"(?x) a \s+ b  # verbose", 0),
    (r"(a)(?(1)b|c)", re.MULTILINE | re.DOTALL),
    *((rule.pattern.pattern, re.IGNORECASE) for rule in all_rules() if rule.pattern is not None),
    *(
        (marker.pattern, re.IGNORECASE)
        for provider in providers().values()
        for variant in provider.variants
        for marker in variant.markers
    ),
]
TEXTS = [
    "250-mx.example.com Hello",
    "554 5.7.1 <a@b.example>: Relay access denied",
    "550 5.1.1 user unknown",
    "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred",
    "x=<alice@example.test>",
    "a  b",
    "ab\nac",
]


def describe(pattern: re.Pattern) -> tuple[object, ...]:  # type: ignore[type-arg]
    texts = [t.encode() for t in TEXTS] if isinstance(pattern.pattern, bytes) else TEXTS
    found = [pattern.search(text) for text in texts]
    return (
        pattern.pattern,
        pattern.flags,
        pattern.groups,
        dict(pattern.groupindex),
        [m and (m.span(), m.groups(), m.groupdict()) for m in found],
    )


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("SMTPLOG_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(recache, "_codes", {})
    monkeypatch.setattr(recache, "_new", [])
    monkeypatch.setattr(recache, "_warm_codes", {})
    monkeypatch.setattr(recache, "_warm_new", [])
    monkeypatch.setattr(recache, "_warm_read", [False])
    yield tmp_path
    recache.uninstall()


def compiled_by(pattern: str | bytes, flags: int) -> re.Pattern:  # type: ignore[type-arg]
    from re import _compiler  # re's cache in front would hide the compiler

    return _compiler.compile(pattern, flags)


def test_patterns_from_the_cache_are_res_own(fresh: Path) -> None:
    plain = [describe(compiled_by(p, f)) for p, f in PATTERNS]
    recache.install()
    first = [describe(compiled_by(p, f)) for p, f in PATTERNS]  # compiled, then kept
    recache.save()
    recache.uninstall()
    recache._codes.clear()
    recache.install()  # read back from the file
    assert len(recache._codes) >= len({(p, f) for p, f in PATTERNS})
    second = [describe(compiled_by(p, f)) for p, f in PATTERNS]
    assert first == plain
    assert second == plain


def test_a_damaged_entry_is_compiled_again(fresh: Path) -> None:
    recache.install()
    pattern = r"^(?P<code>[2-5]\d\d) damaged?$"
    key = (False, pattern, 0)
    recache._codes[key] = (0, [1, 2, 3, 999], 0, {}, (None,))  # not SRE code
    assert compiled_by(pattern, 0).match("250 damage")
    assert recache._codes[key][1] != [1, 2, 3, 999]


def test_a_foreign_file_is_ignored(fresh: Path) -> None:
    cache.store(recache.ENTRY, "another python", {(False, "x", 0): (0, [999], 0, {}, (None,))})
    recache.install()
    assert recache._codes == {}
    assert compiled_by("x", 0).match("x")


def test_the_cli_fills_and_uses_the_cache(tmp_path: Path) -> None:
    env = {"SMTPLOG_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    sample = ROOT / "samples" / "telnet" / "relay-denied.txt"
    command = [sys.executable, "-m", "smtplog", "analyze", "-f", "json", str(sample)]
    first = subprocess.run(command, check=False, capture_output=True, text=True, env=env, cwd=ROOT)
    assert (tmp_path / recache.ENTRY).is_file()
    second = subprocess.run(command, check=False, capture_output=True, text=True, env=env, cwd=ROOT)
    assert first.returncode == second.returncode == 1
    assert first.stdout == second.stdout
    assert '"relay-denied"' in second.stdout


def test_no_secret_or_name_of_a_transcript_is_kept(tmp_path: Path) -> None:
    """redact compiles expressions from a transcript's secrets and names: never cached."""
    from .sample_secrets import all_secrets

    cache_dir = tmp_path / "cache"
    cache_dir.mkdir(mode=0o700)
    env = {"SMTPLOG_CACHE_DIR": str(cache_dir), "PATH": "/usr/bin:/bin"}
    sample = ROOT / "samples" / "telnet" / "postfix-auth-login-delivered.txt"
    for command in (["redact", "--all"], ["analyze", "-f", "json"]):
        subprocess.run(
            [sys.executable, "-m", "smtplog", *command, str(sample)],
            check=False,
            capture_output=True,
            env=env,
            cwd=ROOT,
        )
    stored = (cache_dir / recache.ENTRY).read_bytes()
    assert stored  # the CLI kept its own expressions
    secrets = [s for s in all_secrets() if len(s) >= 6 and s.encode() in sample.read_bytes()]
    assert secrets, "the sample holds secrets"
    assert [s for s in secrets if s.encode() in stored or re.escape(s).encode() in stored] == []


def test_a_large_expression_is_not_kept(fresh: Path) -> None:
    """Every start-up reads the whole file: what a long run builds once warm stays out."""
    large = "|".join(f"phrase number {n} of many" for n in range(400))
    small = r"^(?P<code>[2-5]\d\d) kept$"
    recache.install()
    assert compiled_by(large, 0).search("x phrase number 399 of many")
    assert compiled_by(small, 0).match("250 kept")
    recache.save()
    stored = cache.load(recache.ENTRY, recache.KEY)
    assert (False, small, 0) in stored
    assert (False, large, 0) not in stored


def test_a_file_with_large_entries_is_written_again_without_them(fresh: Path) -> None:
    """An older smtplog kept large expressions: they are dropped, and the file shrinks."""
    from re import _compiler

    large = "|".join(f"phrase number {n} of many" for n in range(400))
    small = r"^(?P<code>[2-5]\d\d) kept$"
    entries = {(False, p, 0): recache._parts(p, 0) for p in (large, small)}
    assert len(entries[(False, large, 0)][1]) > recache.MAX_CODE
    cache.store(recache.ENTRY, recache.KEY, entries)
    recache.install()
    assert set(recache._codes) == {(False, small, 0)}
    recache.save()  # nothing new compiled, but the file must shrink
    assert set(cache.load(recache.ENTRY, recache.KEY)) == {(False, small, 0)}
    assert _compiler.compile(small, 0).match("250 kept")


def test_warm_rules_are_kept_apart_and_read_when_a_run_warms_up(fresh: Path) -> None:
    """A pattern's warm forms and a candidate list's screen serve long runs: they go to
    the second file, which start-up does not read, and come back from it when warm."""
    from smtplog.events import Reply
    from smtplog.rules.classify import LazyPattern, _candidates, classify

    _candidates.cache_clear()  # a candidate list, and its screen, built afresh
    re.purge()  # and compiled by the compiler, not found in re's own cache
    recache.install()
    pattern = LazyPattern(r"mailbox (is )?(full|over quota)|quota exceeded")
    for _ in range(40):
        pattern.found("452 4.2.2 mailbox full")
    for _ in range(40):  # warms the candidate list of this reply, which builds its screen
        classify(Reply(code=550, lines=("5.1.1 no such user here",)), "rcpt")
    lower = pattern._lower
    assert lower is not None
    lower_key = (False, lower.pattern, lower.flags & ~re.UNICODE)
    assert lower_key in recache._warm_new and lower_key not in recache._new
    assert (False, pattern.pattern, re.IGNORECASE) in recache._new  # what start-up compiles
    assert any(str(key[1]).startswith("(?=(") for key in recache._warm_new)  # a screen's scan
    assert not any(str(key[1]).startswith("(?=(") for key in recache._new)
    recache.save()
    recache.uninstall()
    recache._codes.clear()
    recache._warm_codes.clear()
    recache._warm_read[0] = False
    recache.install()  # a new run: start-up reads one file
    assert lower_key not in recache._codes and recache._warm_codes == {}
    with recache.warm():  # it warms up: the second file is read
        assert compiled_by(lower.pattern, 0).search("mailbox full")
    assert lower_key in recache._warm_codes and recache._warm_new == []
