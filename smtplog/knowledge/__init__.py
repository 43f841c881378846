"""Knowledge shipped as data: code tables, diagnoses, patterns, providers.

The TSV tables are copies of ``knowledge/*.tsv`` (IANA registry and RFC text);
nothing here is hard-coded in Python. Everything is loaded on first use.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from functools import cache
from typing import Any

from smtplog import cache as user_cache

# os.path, not pathlib: pathlib (and the urllib.parse and ipaddress it imports)
# would be loaded on every run for three path joins.
DATA_DIR = os.path.dirname(os.path.realpath(__file__))


def data_files(folder: str, suffix: str) -> list[str]:
    """The names of ``folder``'s files ending in ``suffix``, sorted."""
    return sorted(n for n in os.listdir(os.path.join(DATA_DIR, folder)) if n.endswith(suffix))


def read_tsv(name: str) -> list[dict[str, str]]:
    """The rows of a tab-separated table with a header line (no quoting: what
    ``csv.DictReader(delimiter="\\t", quoting=QUOTE_NONE)`` reads, without csv)."""
    with open(os.path.join(DATA_DIR, name), encoding="utf-8", newline="") as handle:
        lines = [line.removesuffix("\r") for line in handle.read().split("\n")]
    header = lines[0].split("\t") if lines else []
    rows = []
    for number, line in enumerate(lines[1:], 2):
        values = line.split("\t")
        if not any(values):
            continue
        if len(values) != len(header):  # shipped data: a test reads every table
            raise ValueError(f"{name} line {number}: {len(values)} fields, not {len(header)}")
        rows.append(dict(zip(header, values, strict=True)))
    return rows


def read_toml(name: str) -> dict[str, Any]:
    """A TOML file, parsed; the parse is kept in the user cache (TOML parsing is slow)."""
    with open(os.path.join(DATA_DIR, name), "rb") as handle:
        raw = handle.read()
    key = user_cache.checksum(raw)
    entry = "knowledge-" + name.replace("/", "-") + ".marshal"
    data = user_cache.load(entry, key)
    if not isinstance(data, dict):
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - Python 3.10
            import tomli as tomllib

        data = tomllib.loads(raw.decode("utf-8"))
        user_cache.store(entry, key, data)
    return data


@dataclass(frozen=True, slots=True)
class CodeMeaning:
    """What a reply code or enhanced status code means, and where that is defined."""

    code: str
    title: str
    meaning: str
    source: str


@cache
def reply_codes() -> dict[int, CodeMeaning]:
    return {
        int(row["code"]): CodeMeaning(row["code"], "", row["meaning"], row["source"])
        for row in read_tsv("reply-codes.tsv")
    }


@cache
def enhanced_codes() -> dict[str, CodeMeaning]:
    """Keyed by the subject.detail part: "X.1.1" -> meaning."""
    return {
        row["code"]: CodeMeaning(row["code"], row["title"], row["meaning"], row["source"])
        for row in read_tsv("enhanced-status-codes.tsv")
    }


@cache
def enhanced_classes() -> dict[str, CodeMeaning]:
    return {
        row["class"]: CodeMeaning(row["class"], row["title"], row["meaning"], row["source"])
        for row in read_tsv("enhanced-classes.tsv")
    }


def reply_meaning(code: int) -> CodeMeaning | None:
    """What a basic reply code means (RFC 5321 §4.2 and extensions)."""
    table = reply_codes()
    if code in table:
        return table[code]
    generic = {2: 250, 3: 354, 4: 451, 5: 554}.get(code // 100)
    if generic is None:
        return None
    base = table[generic]
    return CodeMeaning(
        str(code), "", f"not a standard code; read it as its class: {base.meaning}", base.source
    )


def enhanced_meaning(code: str) -> CodeMeaning | None:
    """What an enhanced status code means (RFC 3463, IANA registry).

    An unregistered detail falls back to the subject's "other" code (X.s.0),
    as RFC 3463 §2 asks receivers to do.
    """
    parts = code.split(".")
    if len(parts) != 3:
        return None
    _cls, subject, detail = parts
    table = enhanced_codes()
    key = f"X.{subject}.{detail}"
    if key in table:
        return table[key]
    fallback = table.get(f"X.{subject}.0")
    if fallback is None:
        return None
    return CodeMeaning(
        code,
        f"{fallback.title} (detail {detail} is not registered)",
        fallback.meaning,
        fallback.source,
    )


def enhanced_class(code: str) -> CodeMeaning | None:
    return enhanced_classes().get(code.split(".", 1)[0])


@cache
def enhanced_subjects() -> dict[str, str]:
    return {row["subject"]: row["title"] for row in read_tsv("enhanced-subjects.tsv")}


def enhanced_title(code: str) -> str | None:
    """A short title for an enhanced code, right for successes too.

    The registry's "other or undefined" titles read like errors; for a 2.x.0
    success the subject says more ("2.6.0: success, message content").
    """
    parts = code.split(".")
    if len(parts) != 3:
        return None
    cls, subject, detail = parts
    if cls == "2" and detail == "0":
        name = enhanced_subjects().get(subject)
        return f"success ({name})" if name else "success"
    meaning = enhanced_meaning(code)
    return meaning.title if meaning else None
