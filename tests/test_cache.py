"""The user cache: parsed data kept between runs, never read stale, never trusted blindly."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from smtplog import cache, knowledge


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SMTPLOG_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_an_entry_is_read_back_only_with_its_key(folder: Path) -> None:
    data = {"a": [1, 2.5, "x", None, True], "b": {"c": ("t", "u")}}
    cache.store("entry", "key-1", data)
    assert cache.load("entry", "key-1") == data
    assert cache.load("entry", "key-2") is None
    assert cache.load("missing", "key-1") is None
    assert (folder.stat().st_mode & 0o777) == 0o700


def test_the_key_changes_with_the_content() -> None:
    assert cache.checksum(b"abc") == cache.checksum(b"abc")
    assert cache.checksum(b"abc") != cache.checksum(b"abd")
    assert cache.checksum(b"abc") != cache.checksum(b"abc ")


@pytest.mark.parametrize("damage", [b"", b"\x00garbage", b"\xff" * 40])
def test_a_damaged_entry_is_ignored(folder: Path, damage: bytes) -> None:
    cache.store("entry", "key", {"a": 1})
    (folder / "entry").write_bytes(damage)
    assert cache.load("entry", "key") is None


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_a_file_others_can_write_is_not_trusted(folder: Path) -> None:
    cache.store("entry", "key", {"a": 1})
    (folder / "entry").chmod(0o666)
    assert cache.load("entry", "key") is None


def test_off_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMTPLOG_CACHE_DIR", "off")
    cache.store("entry", "key", {"a": 1})
    assert cache.load("entry", "key") is None
    assert cache.cache_dir() is None


def test_an_unwritable_folder_is_not_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("SMTPLOG_CACHE_DIR", str(blocker / "cache"))
    cache.store("entry", "key", {"a": 1})
    assert cache.load("entry", "key") is None


def test_xdg_cache_home_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SMTPLOG_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.cache_dir() == str(tmp_path / "smtplog")


def test_knowledge_is_the_same_from_the_cache(folder: Path) -> None:
    name = "diagnoses.toml"
    parsed = knowledge.read_toml(name)  # parsed, then stored
    assert any(folder.iterdir())
    assert knowledge.read_toml(name) == parsed  # from the cache


def test_an_edited_knowledge_file_is_parsed_again(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "timing.toml").write_text("slow = 1.0\n")
    monkeypatch.setattr(knowledge, "DATA_DIR", data)
    assert knowledge.read_toml("timing.toml") == {"slow": 1.0}
    (data / "timing.toml").write_text("slow = 2.0\n")
    assert knowledge.read_toml("timing.toml") == {"slow": 2.0}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFOs")
def test_a_fifo_in_place_of_an_entry_is_not_waited_on(folder: Path) -> None:
    # Opening a FIFO for reading blocks until a writer comes: every command would hang.
    cache.store("entry", "key", {"a": 1})
    (folder / "entry").unlink()
    os.mkfifo(folder / "entry", 0o600)
    assert cache.load("entry", "key") is None  # returns at once


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="POSIX links")
def test_a_link_in_place_of_an_entry_is_not_followed(folder: Path, tmp_path: Path) -> None:
    cache.store("entry", "key", {"a": 1})
    elsewhere = tmp_path / "elsewhere"
    (folder / "entry").rename(elsewhere)  # a valid entry, but reached through a link
    (folder / "entry").symlink_to(elsewhere)
    assert cache.load("entry", "key") is None


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_a_folder_others_can_write_is_neither_read_nor_written(folder: Path) -> None:
    cache.store("entry", "key", {"a": 1})
    folder.chmod(0o777)  # e.g. made under a shared /tmp by someone else
    assert cache.load("entry", "key") is None
    cache.store("other", "key", {"b": 2})
    assert not (folder / "other").exists()


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="POSIX links")
def test_a_folder_that_is_a_link_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(real)
    monkeypatch.setenv("SMTPLOG_CACHE_DIR", str(tmp_path / "link"))
    cache.store("entry", "key", {"a": 1})
    assert not any(real.iterdir())


def test_grammars_without_generated_tables_use_no_pickle_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """lark's cache is a pickle: a file planted in its place would run code. The
    fallback builds the grammar without it and leaves nothing in the cache folder."""
    from smtplog import grammars
    from smtplog.dialects.telnet import TelnetTransformer

    monkeypatch.setenv("SMTPLOG_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(grammars, "_generated_tables", lambda name: None)
    from smtplog.source import Line

    transformer = TelnetTransformer()
    transformer.line = Line(1, "250 OK")
    parser = grammars.build_parser("telnet", transformer)
    assert not parser.standalone
    assert parser.parse("250 OK") is not None
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())
