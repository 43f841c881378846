"""Every AUTH secret in the samples, found without smtplog's own AUTH code.

A test that used smtplog to find the secrets would pass when smtplog misses
one. So this scans the raw sample files: every base64 word that decodes to a
PLAIN blob (two NULs), an XOAUTH2 string, a known lab password, or that
answers a "Password:" prompt; plus the clear-text passwords themselves.
"""

from __future__ import annotations

import base64
import binascii
import re
from functools import cache
from pathlib import Path

from .samples import load_samples

LAB_PASSWORDS = ("S3cr3t-Pa55", "wrong-password")  # lab/postfix-lab.sh, samples/README.md
_WORD = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{4,}={0,2}(?![A-Za-z0-9+/=])")
_PASSWORD_PROMPT = re.compile(r"334 UGFzc3dvcmQ6")  # base64 of "Password:"
# How tools print a credential they hid themselves (knowledge/transcript-formats.md).
_PLACEHOLDERS = re.compile(r"/\* secret \*/|\*{3,}|PROVIDED_BUT_REMOVED|redacted|hidden", re.I)


def _decode(word: str) -> bytes | None:
    if len(word) % 4:
        return None
    try:
        return base64.b64decode(word, validate=True)
    except (binascii.Error, ValueError):
        return None


def _encodings(password: str) -> set[str]:
    """The base64 forms a password takes on the wire (alone, and inside PLAIN blobs)."""
    raw = password.encode()
    forms = {base64.b64encode(raw).decode()}
    for user in (b"alice@example.test", b"alice", b""):
        for authzid in (b"", user):
            forms.add(base64.b64encode(authzid + b"\0" + user + b"\0" + raw).decode())
    return forms


def _text(decoded: bytes) -> str | None:
    """Decoded credentials are text; certificates and other binary base64 are not."""
    try:
        text = decoded.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if text.replace("\0", "").replace("\x01", "").isprintable() else None


def secrets_in(path: Path) -> set[str]:
    lines = path.read_bytes().decode("utf-8", "surrogateescape").splitlines()
    found: set[str] = set()
    for index, line in enumerate(lines):
        answers_prompt = (
            index > 0 and bool(_PASSWORD_PROMPT.search(lines[index - 1])) and "334" not in line
        )
        for word in _WORD.findall(line):
            decoded = _decode(word)
            text = _text(decoded) if decoded is not None and len(word) >= 8 else None
            if text is None or _PLACEHOLDERS.search(text):
                continue  # not text, or a tool's own mask ("/* secret */")
            if (
                text.count("\0") == 2
                or "auth=Bearer" in text
                or any(p in text for p in LAB_PASSWORDS)
                or (answers_prompt and text not in ("Password:", "Username:"))
            ):
                found.add(word)
                if text.count("\0") == 2:
                    found.add(text.split("\0")[2])
    return found


@cache
def all_secrets() -> frozenset[str]:
    """Every secret of every sample, and the lab passwords in all their forms."""
    found: set[str] = set(LAB_PASSWORDS)
    for password in LAB_PASSWORDS:
        found |= _encodings(password)
    for sample in load_samples():
        found |= secrets_in(sample.file)
    return frozenset(found)


def leaked(text: str) -> list[str]:
    return sorted(secret for secret in all_secrets() if secret in text)
