"""SMTP vocabulary shared by every stage: verbs, enhanced codes, base64, addresses."""

from __future__ import annotations

import base64
import binascii
import re

# RFC 5321 §4.1 commands plus the extensions that show up in transcripts.
KNOWN_VERBS = frozenset(
    {
        "EHLO", "HELO", "LHLO", "MAIL", "RCPT", "DATA", "BDAT", "RSET", "NOOP", "QUIT",
        "VRFY", "EXPN", "HELP", "STARTTLS", "AUTH", "ETRN", "TURN", "ATRN", "XCLIENT",
        "XFORWARD", "XEXCH50", "X-EXPS", "X-LINK2STATE", "SEND", "SOML", "SAML", "XOORG",
        "XSHADOW", "PROXY",
    }
)  # fmt: skip

_ENHANCED = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})(?=[\s;:,.]|$)")
_VERB = re.compile(r"^\s*([A-Za-z][A-Za-z0-9-]*)\s*(.*)$", re.DOTALL)
_ADDRESS = re.compile(r"<([^<>]*)>")
_BARE_ADDRESS = re.compile(r"(?i)^(?:from|to)\s*:\s*(\S+)")
_BASE64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")


def enhanced_code(text: str) -> str | None:
    """The RFC 3463 enhanced status code at the start of a reply text, if any."""
    match = _ENHANCED.match(text.lstrip())
    return ".".join(match.groups()) if match else None


def split_command(text: str) -> tuple[str, str]:
    """Split a client line into (VERB, argument); the verb is upper-cased."""
    match = _VERB.match(text)
    if not match:
        return "", text.strip()
    verb, argument = match.groups()
    return verb.upper(), argument.strip()


def command_address(argument: str) -> str | None:
    """The path of a MAIL FROM / RCPT TO argument (without brackets), if present.

    Tolerates what people type: ``FROM:<a@b>``, ``from: a@b``, ``TO :<a@b>``.
    """
    match = _ADDRESS.search(argument)
    if match:
        return match.group(1)
    match = _BARE_ADDRESS.match(argument.replace(" :", ":"))
    return match.group(1).strip("<>") if match else None


def is_base64(text: str) -> bool:
    stripped = text.strip()
    return bool(stripped) and len(stripped) % 4 == 0 and bool(_BASE64.match(stripped))


def b64decode_text(text: str) -> str | None:
    """Decode base64 to text (UTF-8, else latin-1); None when it is not base64."""
    stripped = text.strip()
    if not is_base64(stripped):
        return None
    try:
        raw = base64.b64decode(stripped, validate=True)
    except (binascii.Error, ValueError):
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def decode_auth_prompt(challenge: str) -> str | None:
    """Decode a 334 challenge: ``VXNlcm5hbWU6`` is "Username:"."""
    if not challenge.strip():
        return None
    decoded = b64decode_text(challenge)
    if decoded is None or not decoded.isprintable():
        return None
    return decoded


def prompt_role(prompt: str | None) -> str | None:
    """Map a decoded AUTH LOGIN prompt to the field it asks for."""
    if prompt is None:
        return None
    lowered = prompt.lower()
    if lowered.startswith(("user", "login", "name")):
        return "username"
    if lowered.startswith(("pass", "pwd")):
        return "password"
    return None


def reply_class_name(code: int) -> str:
    return {
        2: "success",
        3: "intermediate",
        4: "temporary failure",
        5: "permanent failure",
    }.get(code // 100, "unknown")
