"""AUTH exchanges: decode what may be shown, mask what must not (RFC 4954).

The user name may be shown decoded; passwords, PLAIN blobs, OAuth tokens and
challenge responses never leave this module unmasked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from smtplog.smtp import b64decode_text, is_base64

# How tools print credentials they already hid (knowledge/transcript-formats.md,
# "Cross-format pitfalls" 4).
_TOOL_PLACEHOLDERS = re.compile(
    r"\[credentials hidden\]|PROVIDED_BUT_REMOVED|/\* secret \*/|^\*{3,}$|"
    r"<authentication response>|\[(?:password|credentials|token|secret) redacted|"
    r"AUTH dialogue|trace suppressed",
    re.IGNORECASE,
)

SECRET_MECHANISMS = {"PLAIN", "XOAUTH2", "OAUTHBEARER", "XOAUTH", "NTLM", "GSSAPI"}


@dataclass(slots=True)
class AuthExchange:
    """The client side of one AUTH exchange as far as it has gone."""

    mechanism: str
    responses: int = 0


@dataclass(frozen=True, slots=True)
class Masked:
    """An AUTH client line as it may be shown: masked when secret."""

    text: str  # safe to display
    role: str
    decoded: str | None  # only for non-secret values
    secret: bool
    valid_base64: bool


_ALREADY_MASKED = re.compile(r"^\[[^\]]* (redacted|hidden)[^\]]*\]$")


def already_masked(text: str) -> bool:
    """A mask written by smtplog itself (the canonical transcript keeps it as is)."""
    return bool(_ALREADY_MASKED.match(text.strip()))


def hidden_by_tool(text: str) -> bool:
    decoded = b64decode_text(text) if is_base64(text) else None
    return bool(_TOOL_PLACEHOLDERS.search(text) or (decoded and _TOOL_PLACEHOLDERS.search(decoded)))


def _redacted(what: str, length: int) -> str:
    return f"[{what} redacted, {length} characters]"


def mask_plain_blob(blob: str) -> tuple[str, str | None]:
    """Mask an AUTH PLAIN blob (base64 of authzid NUL user NUL password)."""
    decoded = b64decode_text(blob)
    if decoded is not None and decoded.count("\x00") == 2:
        _authzid, user, password = decoded.split("\x00")
        shown = "hidden by the client" if hidden_by_tool(blob) else f"{len(password)} characters"
        return f"[credentials redacted: user {user}, password {shown}]", user
    return _redacted("credentials", len(blob.strip())), None


def mask_initial_response(mechanism: str, response: str) -> tuple[str, str | None]:
    """Mask the initial response of ``AUTH <mechanism> <response>``.

    Returns the masked text and the user name when it can be shown.
    """
    mech = mechanism.upper()
    if already_masked(response):
        return response.strip(), None
    if hidden_by_tool(response) and b64decode_text(response) is None:
        return "[credentials hidden by the client tool]", None
    if response.strip() == "=":  # RFC 4954: "=" is an empty initial response
        return "=", None
    if mech == "PLAIN":
        return mask_plain_blob(response)
    if mech == "LOGIN":  # the initial response of LOGIN is the user name
        user = b64decode_text(response)
        return response.strip(), user
    if mech in ("XOAUTH2", "OAUTHBEARER"):
        decoded = b64decode_text(response) or ""
        match = re.search(r"user=([^\x01,]+)", decoded)
        user = match.group(1) if match else None
        what = f"token redacted: user {user}" if user else "token redacted"
        return f"[{what}, {len(response.strip())} characters]", user
    return _redacted("credentials", len(response.strip())), None


def mask_response(text: str, exchange: AuthExchange | None, prompt_role: str | None) -> Masked:
    """Classify and mask one client line sent in answer to a 334 challenge."""
    stripped = text.strip()
    if stripped == "*":
        return Masked("*", "cancel", None, secret=False, valid_base64=True)
    mechanism = exchange.mechanism.upper() if exchange else ""
    valid = is_base64(stripped)
    if already_masked(stripped):
        role = prompt_role or ("password" if "password" in stripped else "credentials")
        return Masked(stripped, role, None, True, True)
    if hidden_by_tool(stripped):
        role = prompt_role or ("password" if mechanism == "LOGIN" else "credentials")
        # The tool replaced what it sent: whether that was base64 is unknown, not wrong.
        return Masked(f"[{role} hidden by the client tool]", role, None, True, True)
    if mechanism == "LOGIN" or prompt_role in ("username", "password"):
        role = prompt_role or ("username" if exchange and exchange.responses == 0 else "password")
        if role == "username":
            return Masked(stripped, "username", b64decode_text(stripped), False, valid)
        decoded = b64decode_text(stripped)
        length = len(decoded) if decoded is not None else len(stripped)
        return Masked(_redacted("password", length), "password", None, True, valid)
    if mechanism == "PLAIN":
        masked, user = mask_plain_blob(stripped)
        return Masked(masked, "credentials", user, True, valid)
    if mechanism in ("CRAM-MD5", "CRAM-SHA1", "DIGEST-MD5"):
        decoded = b64decode_text(stripped) or ""
        user = decoded.split(" ")[0] if " " in decoded else None
        label = (
            f"challenge response redacted: user {user}" if user else "challenge response redacted"
        )
        return Masked(f"[{label}]", "response", user, True, valid)
    role = "token" if mechanism in ("XOAUTH2", "OAUTHBEARER") else "credentials"
    return Masked(_redacted(role, len(stripped)), role, None, True, valid)


# -- secrets on a pasted command line -----------------------------------------


# What a shell prompt pasted with a session may carry ("$ swaks ... --auth-password X"):
# the password options of the tools people test with, curl's user:password, a variable
# such as SMTPLOG_PASSWORD=..., and an AUTH command with its initial response.
@cache
def _command_line_patterns() -> tuple[re.Pattern[str], ...]:
    """Compiled on first use: most inputs have no shell prompt (start-up time)."""
    option = re.compile(
        r"(?P<name>(?<!\S)(?:--auth-password|-ap|--password|--passwd|--pass|--auth-token"
        r"|--oauth2-bearer|--oauth2-token)(?:=|\s+))(?P<value>\S+)"
    )
    user_password = re.compile(r"(?P<name>(?<!\S)(?:-u|--user)(?:=|\s+)[^\s:]+:)(?P<value>\S+)")
    variable = re.compile(
        r"(?P<name>(?<![\w-])\w*(?:PASSWORD|PASSWD|PASS|TOKEN|SECRET)\w*=)(?P<value>\S+)",
        re.IGNORECASE,
    )
    auth_initial = re.compile(
        r"(?<![A-Za-z0-9-])AUTH\s+(?P<mechanism>PLAIN|LOGIN|XOAUTH2?|OAUTHBEARER)\s+(?P<value>\S+)",
        re.IGNORECASE,
    )
    return option, user_password, variable, auth_initial


def mask_command_line(text: str) -> str:
    """A shell command line with the secrets it was given replaced by a mask."""
    if "=" not in text and "-" not in text and "auth" not in text.lower():
        return text

    def option(match: re.Match[str]) -> str:
        return match["name"] + _redacted("password", len(match["value"]))

    def initial(match: re.Match[str]) -> str:
        masked, _user = mask_initial_response(match["mechanism"], match["value"])
        return match.group(0)[: match.start("value") - match.start()] + masked

    *secrets, auth_initial = _command_line_patterns()
    for pattern in secrets:
        text = pattern.sub(option, text)
    return auth_initial.sub(initial, text)
