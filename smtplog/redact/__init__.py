"""A copy of a transcript that is safe to share, in the transcript's own dialect.

The copy is the original text line by line, with replacements: AUTH secrets
always (LOGIN passwords, PLAIN blobs, XOAUTH2 tokens, CRAM-MD5 responses),
and on request addresses, host names and IP addresses by consistent stand-ins
(``pseudonyms.py``). Nothing is re-written from events, so every dialect keeps
its exact shape and the copy analyses to the same verdict and diagnosis; the
redactor checks both before it hands the copy out::

    from smtplog.redact import redact_text
    safe = redact_text(open("session.txt").read(), addresses=True, hosts=True, ips=True)
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

from smtplog.auth import mask_command_line
from smtplog.cleanup.shell import is_prompt
from smtplog.errors import InputError, NotSmtpError
from smtplog.redact.check import RedactionError, assert_no_secret, cleaned_text, compare
from smtplog.redact.lines import fix_byte_counts, split_with_endings
from smtplog.redact.pseudonyms import Pseudonyms
from smtplog.redact.secrets import Findings, Secret, find, standing_alone
from smtplog.source import Source, source_from_bytes

__all__ = [
    "Redaction",
    "RedactionError",
    "fix_byte_counts",
    "redact_bytes",
    "redact_text",
    "split_with_endings",
]

FALLBACK_MASK = "[secret redacted]"
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{4,}={0,2}")


@dataclass(slots=True)
class Redaction:
    """The redacted copy and what was done to make it."""

    data: bytes
    dialect: str
    secrets: int  # AUTH secrets removed
    counts: dict[str, int]  # replacements: {"address": n, "host": n, "ip": n}
    mapping: list[tuple[str, str, str]]  # (kind, original, stand-in)
    changed: list[str] = field(default_factory=list)  # how the copy analyses differently
    notes: list[str] = field(default_factory=list)  # what the reader should know about it

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", errors="surrogateescape")


def _capture_as_text(data: bytes, name: str, dialect: str | None) -> bytes | None:
    """The canonical transcript of a packet capture (pcap, pcapng, gzipped), else None."""
    from smtplog.pcap.magic import is_capture

    inner = data
    if data[:2] == b"\x1f\x8b":
        import gzip
        import zlib

        try:
            inner = gzip.decompress(data)
        except (OSError, EOFError, zlib.error):
            return None
    if not is_capture(inner):
        return None
    if dialect:
        raise InputError(f"{name}: a packet capture is read as is; --dialect is for text")
    from smtplog.pcap import capture_transcript

    return capture_transcript(inner, name).text.encode("utf-8", errors="surrogateescape")


def _replace_secret(original: str, edited: str, secret: Secret) -> str:
    """The line with ``secret`` replaced; its longest base64 word, or all of it, if the
    secret cannot be found as sent (a wrapped line, text a cleanup changed)."""
    if secret.sent and secret.sent in original:
        return original.replace(secret.sent, secret.mask)
    if secret.sent and secret.sent in edited:  # typed with backspaces: use the edited line
        return edited.replace(secret.sent, secret.mask)
    # A piece of a wrapped secret is a long run; a short one ("5A" of an escape
    # cleanup removed) says nothing, and the whole line goes then.
    runs = [
        run
        for run in _BASE64_RUN.findall(original)
        if not secret.sent or (run in secret.sent and len(run) >= 4)
    ]
    if runs:
        return original.replace(max(runs, key=len), secret.mask)
    return secret.mask


def _last_line(number: int, kept: list[int], total: int) -> int:
    """The last original line a cleaned line ``number`` was made from."""
    index = bisect_right(kept, number)
    return (kept[index] - 1) if index < len(kept) else min(total, number)


def _remove_tail(original: str, secret: Secret) -> str:
    """Drop the part of a wrapped secret that continues on this line."""
    for run in sorted(_BASE64_RUN.findall(original), key=len, reverse=True):
        if len(run) >= 4 and run in secret.sent:
            original = original.replace(run, "", 1)
    return original


def _scrub(text: str, found: Findings) -> str:
    """Secrets that recur outside their AUTH line (a retry, a tool's own echo)."""
    for value in sorted(found.values, key=len, reverse=True):
        if value in text:
            if _is_sent(value, found):
                text = text.replace(value, FALLBACK_MASK)
            else:
                text = standing_alone(value).sub(FALLBACK_MASK, text)
    return text


def _redacted_lines(
    parts: list[tuple[str, str]],
    source: Source,
    found: Findings,
    secrets: tuple[dict[int, list[Secret]], dict[int, list[Secret]]],
    names: Pseudonyms,
) -> list[str]:
    """Every original line with its secrets (and, if asked, names) replaced;
    ``secrets``: the secrets by line they were sent on, and by line their tail is on."""
    by_line, tails = secrets
    texts: list[str] = []
    for (original, _ending), line in zip(parts, source.lines, strict=True):
        text = original
        for secret in by_line.get(line.number, ()):
            text = _replace_secret(text, line.text, secret)
        for secret in tails.get(line.number, ()):
            text = _remove_tail(text, secret)
        if "prompt" in line.flags or is_prompt(text):  # "$ swaks ... --auth-password X"
            text = mask_command_line(text)
        if found.values:
            text = _scrub(text, found)
        if names.active:
            text = names.text(names.base64_tokens(text))
        texts.append(text)
    if found.values:
        _hidden_secrets(source, [original for original, _ in parts], texts, found)
    return texts


def _holds(text: str, found: Findings) -> set[str]:
    return {
        value
        for value in found.values
        if ((value in text) if _is_sent(value, found) else standing_alone(value).search(text))
    }


def _hidden_secrets(
    source: Source, originals: list[str], texts: list[str], found: Findings
) -> None:
    """Lines where a secret shows only once cleanup has read them (behind escapes a
    paste added, split by markup): a secret cannot be cut out of bytes it is not
    in, so the whole original line goes."""
    from smtplog.cleanup import clean

    for line in clean(source).source.lines:
        numbers = range(line.number, min(line.last, len(texts)) + 1)
        raw = "\n".join(originals[n - 1] for n in numbers)
        if _holds(line.text, found) - _holds(raw, found):
            for number in numbers:
                texts[number - 1] = FALLBACK_MASK


def _is_sent(value: str, found: Findings) -> bool:
    return any(secret.sent == value for secret in found.secrets)


def redact_bytes(
    data: bytes,
    name: str = "<stdin>",
    *,
    addresses: bool = False,
    hosts: bool = False,
    ips: bool = False,
    dialect: str | None = None,
    cleanup: bool = True,
    check: bool = True,
) -> Redaction:
    """Redact a transcript given as bytes.

    Raises:
        InputError: the input is empty, binary or unreadable.
        NotSmtpError: nothing in it looks like an SMTP session.
        RedactionError: a secret survived (nothing is returned then).
    """
    from smtplog.reading import read

    given, notes = data, []
    capture = _capture_as_text(data, name, dialect)
    if capture is not None:
        # A capture cannot be redacted in place: its copy is the transcript smtplog
        # reads from it (canonical dialect), which is text and can be shared.
        data, dialect, cleanup = capture, "smtplog", False
        notes.append("a packet capture: the copy is smtplog's transcript of it")
    source = source_from_bytes(data, name)
    # Read it the way `analyze` does: the dialect may read a cleaned variant
    # (unquoted, unwrapped...); its lines keep their original numbers.
    reading = read(source, dialect, cleanup)
    detection, cleaned = reading.detection, reading.source
    found = find(detection.dialect, cleaned)
    if not found.smtp:
        # The dialect understood nothing (forced with --dialect, most likely): where
        # the credentials are is unknown, so no copy can be called safe to share.
        raise NotSmtpError(
            f"{name}: no SMTP session found in the {detection.dialect.name} text; "
            "nothing was redacted"
        )
    names = Pseudonyms(addresses=addresses, hosts=hosts, ips=ips)
    if hosts:
        names.learn_domains(source.text)
        names.learn_domains(cleaned.text)
    for helo in found.helo_names:
        names.learn_word(helo)
    for _line, login in found.logins:
        names.learn_login(login)

    parts = split_with_endings(data)
    if len(parts) != len(source.lines):  # cannot happen; never write a misaligned copy
        raise RedactionError(f"{name}: lines do not line up ({len(parts)} != {len(source.lines)})")
    by_line: dict[int, list[Secret]] = {}
    for secret in found.secrets:
        by_line.setdefault(secret.line, []).append(secret)
    # A line cleanup joined (a secret hard-wrapped by a mailer) spans the
    # original lines up to the next line it kept: the secret's tail is there.
    kept = sorted({line.number for line in cleaned.lines})
    tails: dict[int, list[Secret]] = {}
    for secret, last in ((s, _last_line(s.line, kept, len(parts))) for s in found.secrets):
        for number in range(secret.line + 1, last + 1):
            tails.setdefault(number, []).append(secret)

    texts = _redacted_lines(parts, source, found, (by_line, tails), names)
    if hosts:  # every name is known now: catch those glued to other text
        texts = [names.glued(text) for text in texts]
    fix_byte_counts([original for original, _ in parts], texts)
    result = "".join(text + ending for text, (_, ending) in zip(texts, parts, strict=True))
    assert_no_secret(result, found, name)
    assert_no_secret(cleaned_text(result, name), found, name)  # not even once unwrapped
    redaction = Redaction(
        data=result.encode("utf-8", errors="surrogateescape"),
        dialect=detection.dialect.name,
        secrets=len(found.secrets),
        counts=dict(names.counts),
        mapping=names.mapping(),
    )
    redaction.notes = notes
    if check:
        if capture is not None:
            redaction.changed = compare(given, redaction.data, name)
        else:
            redaction.changed = compare(data, redaction.data, name, dialect, cleanup)
    return redaction


def redact_text(
    text: str,
    *,
    addresses: bool = False,
    hosts: bool = False,
    ips: bool = False,
    dialect: str | None = None,
    cleanup: bool = True,
) -> str:
    """The Python API: a transcript as a string in, its redacted copy out."""
    data = text.encode("utf-8", errors="surrogateescape")
    return redact_bytes(
        data,
        "<text>",
        addresses=addresses,
        hosts=hosts,
        ips=ips,
        dialect=dialect,
        cleanup=cleanup,
        check=False,
    ).text
