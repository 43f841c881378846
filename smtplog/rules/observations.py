"""Observations: what a mail administrator notes even when the mail went through.

Each check returns at most one finding of the ``observation`` group (severity
warning or info). They never change the verdict, and since only ``error``
findings make the exit code 1, never the exit code either.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING

from smtplog.events import AuthResponse, Command, Connected, DataBody, Event, TlsStarted
from smtplog.knowledge import read_toml, read_tsv
from smtplog.protocol import Exchange, parse_capabilities
from smtplog.report import SEVERITY_ORDER, Evidence, Finding
from smtplog.rules.evidence import event_text, target_port
from smtplog.rules.structural import implicit_tls_ports

if TYPE_CHECKING:
    from smtplog.rules.engine import Diagnoser

# Mechanisms that put the password (or a bearer token) on the wire as is.
CLEARTEXT_MECHANISMS = frozenset({"PLAIN", "LOGIN", "XOAUTH2", "OAUTHBEARER", "XOAUTH"})


@cache
def thresholds() -> dict[str, float]:
    return {key: float(value) for key, value in read_toml("timing.toml").items()}


@cache
def capability_titles() -> dict[str, tuple[str, str]]:
    return {row["keyword"]: (row["title"], row["rfc"]) for row in read_tsv("capabilities.tsv")}


def _line(event: Event | None) -> int | None:
    return event.span.first if event is not None and event.span is not None else None


def _at(line: int | None) -> str:
    return f" (line {line})" if line else ""


def _tls_port(diagnoser: Diagnoser) -> bool:
    """Implicit TLS by the target: port 465 or an smtps:// URL."""

    target = (diagnoser.analysis.target or "").lower()
    return target.startswith("smtps://") or target_port(diagnoser.analysis) in implicit_tls_ports()


def _tls_start(diagnoser: Diagnoser) -> int | None:
    """Index in the session's events from which the connection was encrypted, if ever."""
    if "tls_start" not in diagnoser.memo:
        diagnoser.memo["tls_start"] = _find_tls_start(diagnoser)
    return diagnoser.memo["tls_start"]  # type: ignore[return-value]


def _find_tls_start(diagnoser: Diagnoser) -> int | None:
    if _tls_port(diagnoser):
        return -1
    analysis = diagnoser.analysis
    starttls_ok = {
        id(x.reply) for x in analysis.exchanges if x.verb == "STARTTLS" and x.reply.code == 220
    }
    for index, event in enumerate(analysis.events):
        if isinstance(event, TlsStarted) or id(event) in starttls_ok:
            return index
    return None


def _tls_active_at(diagnoser: Diagnoser, event: Event) -> bool:
    """Was the connection encrypted when ``event`` happened?"""
    start = _tls_start(diagnoser)
    if start is None:
        return False
    # Encrypted unless the event is among those up to the start (TLS starts early).
    return not any(other is event for other in diagnoser.analysis.events[: start + 1])


def _ehlo_exchanges(diagnoser: Diagnoser) -> list[tuple[Exchange, bool]]:
    """Successful EHLO exchanges, each with whether TLS was active at the time."""
    known = diagnoser.memo.get("ehlo_exchanges")
    if known is None:
        known = diagnoser.memo["ehlo_exchanges"] = [
            (exchange, _tls_active_at(diagnoser, exchange.reply))
            for exchange in diagnoser.analysis.exchanges
            if exchange.verb in ("EHLO", "LHLO") and exchange.reply.code == 250
        ]
    return known  # type: ignore[return-value]


def auth_without_tls(diagnoser: Diagnoser, ids: set[str]) -> Finding | None:
    events = diagnoser.analysis.events
    for event in diagnoser.of_kind(Command):
        if not (event.verb == "AUTH" and not event.inferred):
            continue
        mechanism = (event.argument.split() or [""])[0].upper()
        if mechanism not in CLEARTEXT_MECHANISMS or _tls_active_at(diagnoser, event):
            continue
        initial = len(event.argument.split()) > 1
        index = next(i for i, other in enumerate(events) if other is event)
        answered = any(
            isinstance(e, AuthResponse) and not e.inferred and e.role != "cancel"
            for e in events[index + 1 : index + 6]
        )
        if not (initial or answered):
            continue  # refused before any credentials went out: the root cause covers it
        offered = any(
            "STARTTLS" in parse_capabilities(x.reply) for x, _tls in _ehlo_exchanges(diagnoser)
        )
        detail = (
            f"The client sent its credentials with AUTH {mechanism} on an unencrypted "
            f"connection{_at(_line(event))}: base64 is an encoding, not encryption, so anyone "
            "on the network path can read them."
        )
        if offered:
            detail += " The server offers STARTTLS, so the client could have encrypted first."
        return _note(diagnoser, "auth-without-tls", detail, [event], "warning")
    for exchange, tls in _ehlo_exchanges(diagnoser):
        mechanisms = set(parse_capabilities(exchange.reply).get("AUTH", "").upper().split())
        exposed = sorted(mechanisms & CLEARTEXT_MECHANISMS)
        if tls or not exposed:
            continue
        detail = (
            f"The server offers password login (AUTH {' '.join(exposed)}) on an unencrypted "
            f"connection{_at(_line(exchange.reply))}. RFC 4954 says these mechanisms need TLS; "
            "a client that logs in here sends its password readable on the network "
            "(Postfix: smtpd_tls_auth_only = yes prevents it)."
        )
        return _note(diagnoser, "auth-without-tls", detail, [exchange.reply], "info")
    return None


def starttls_not_used(diagnoser: Diagnoser, ids: set[str]) -> Finding | None:
    if not _ehlo_exchanges(diagnoser):
        return None  # nothing offered STARTTLS (checked first: it is the cheapest)
    analysis = diagnoser.analysis
    if (
        analysis.tls is not None
        or _tls_port(diagnoser)
        or ids & {"tls-required", "tls-port-mismatch", "auth-without-tls:warning"}
    ):
        return None
    commands = diagnoser.of_kind(Command)
    if any(e.verb == "STARTTLS" for e in commands):
        return None
    offers = [
        x for x, _tls in _ehlo_exchanges(diagnoser) if "STARTTLS" in parse_capabilities(x.reply)
    ]
    went_on = any(e.verb in ("MAIL", "AUTH") and not e.inferred for e in commands)
    if not offers or not went_on:
        return None
    return _note(diagnoser, "starttls-not-used", "", [offers[0].reply])


def tls_certificate_unverified(diagnoser: Diagnoser, ids: set[str]) -> Finding | None:
    if "tls-handshake-failed" in ids:
        return None
    for event in diagnoser.of_kind(TlsStarted):
        if event.verified is False:
            subject = f" (certificate subject {event.subject})" if event.subject else ""
            return _note(diagnoser, "tls-certificate-unverified", subject, [event])
    return None


def no_enhanced_status_codes(diagnoser: Diagnoser, ids: set[str]) -> Finding | None:
    ehlos = [x for x, _tls in _ehlo_exchanges(diagnoser)]
    with_extensions = [x for x in ehlos if parse_capabilities(x.reply)]
    if not with_extensions:
        return None
    if any("ENHANCEDSTATUSCODES" in parse_capabilities(x.reply) for x in with_extensions):
        return None
    return _note(diagnoser, "no-enhanced-status-codes", "", [with_extensions[-1].reply])


def bare_lf(diagnoser: Diagnoser, ids: set[str]) -> Finding | None:
    if "message-format-invalid" in ids:
        return None
    for event in diagnoser.of_kind(DataBody):
        if event.bare_lf:
            return _note(diagnoser, "bare-lf", _at(_line(event)), [event])
    return None


_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")


def ehlo_not_fqdn(diagnoser: Diagnoser, ids: set[str]) -> Finding | None:
    if "helo-rejected" in ids:
        return None
    for event in diagnoser.of_kind(Command):
        if not (event.verb in ("EHLO", "HELO") and not event.inferred):
            continue
        name = event.argument.split()[0] if event.argument.split() else ""
        if _valid_helo(name):
            continue
        return _note(diagnoser, "ehlo-not-fqdn", name or "(nothing)", [event])
    return None


def _valid_helo(name: str) -> bool:
    """A fully-qualified domain name or an address literal (RFC 5321 §4.1.1.1, §4.1.3)."""
    if name.startswith("[") and name.endswith("]"):
        literal = name[1:-1]
        if literal.lower().startswith("ipv6:"):
            literal = literal[5:]
        import ipaddress  # here: address literals are rare, and the module is not small

        try:
            ipaddress.ip_address(literal)
        except ValueError:
            return False
        return True
    if _IPV4.match(name):
        return False  # an address must be written as a literal: [192.0.2.1]
    labels = name.rstrip(".").split(".")
    return len(labels) >= 2 and all(labels) and not name.lower().startswith("localhost")


def slow_server(diagnoser: Diagnoser, ids: set[str]) -> Finding | None:
    limits = thresholds()
    analysis = diagnoser.analysis
    slow: list[tuple[float, str, Event]] = []
    banner = analysis.banner
    if banner is not None:
        waited = banner.latency
        connected = next(iter(diagnoser.of_kind(Connected)), None)
        if waited is None and connected is not None and None not in (banner.time, connected.time):
            waited = banner.time - connected.time  # type: ignore[operator]
        if waited is not None and waited >= limits["greeting"]:
            slow.append((waited, "the greeting", banner))
    for exchange in analysis.exchanges:
        if exchange.verb == "BANNER" or exchange.reply.code == 334:
            continue
        reply, request = exchange.reply, exchange.request
        waited = reply.latency
        timed = request is not None and not request.inferred and request.time is not None
        if waited is None and timed and reply.time is not None:
            waited = reply.time - request.time  # type: ignore[union-attr,operator]
        limit = limits["message"] if exchange.verb in (".", "BDAT") else limits["command"]
        if waited is not None and waited >= limit:
            what = "the end of the message" if exchange.verb == "." else _short(request)
            slow.append((waited, f"the reply to {what}", reply))
    if not slow:
        return None
    slow.sort(key=lambda item: -item[0])
    detail = "; ".join(
        f"{what} took {seconds:.1f} s{_at(_line(event))}" for seconds, what, event in slow[:3]
    )
    return _note(diagnoser, "slow-server", detail, [slow[0][2]])


def _short(request: Event | None) -> str:

    text = event_text(request)
    return text if len(text) <= 40 else text[:39] + "…"


def server_capabilities(diagnoser: Diagnoser, ids: set[str]) -> Finding | None:
    ehlos = _ehlo_exchanges(diagnoser)
    if not ehlos:
        return None
    first, first_tls = ehlos[0]
    last, last_tls = ehlos[-1]
    # A last line "250 OK" (Exchange-style servers) is a filler, not an extension.
    capabilities = {k: v for k, v in parse_capabilities(last.reply).items() if k != "OK"}
    if not capabilities:
        return None
    parts = [_describe(keyword, capabilities[keyword]) for keyword in _in_table_order(capabilities)]
    where = " after STARTTLS" if last_tls and not _tls_port(diagnoser) else ""
    detail = f"The server offers{where}: " + ", ".join(parts) + "."
    missing = [
        k
        for k in ("STARTTLS", "AUTH", "PIPELINING", "SMTPUTF8", "CHUNKING")
        if k not in capabilities
    ]
    if last_tls and "STARTTLS" in missing:
        missing.remove("STARTTLS")  # not offered again inside TLS, by design
    if missing:
        detail += f" Not offered: {', '.join(missing)}."
    if first is not last and not first_tls and last_tls:
        before = parse_capabilities(first.reply)
        only_after = [k for k in capabilities if k not in before]
        if only_after:
            detail += f" Offered only after STARTTLS: {', '.join(only_after)}."
    return _note(diagnoser, "server-capabilities", detail, [last.reply])


def _describe(keyword: str, value: str) -> str:
    if keyword == "SIZE":
        if value.isdigit() and int(value) > 0:
            size = int(value)
            return f"SIZE {size / 1e6:.1f} MB" if size >= 1_000_000 else f"SIZE {size / 1e3:.0f} kB"
        return "SIZE (no limit announced)"
    if keyword == "AUTH":
        return f"AUTH ({value})" if value else "AUTH"
    return keyword


def _in_table_order(capabilities: dict[str, str]) -> list[str]:
    known = list(capability_titles())
    return sorted(capabilities, key=lambda k: known.index(k) if k in known else len(known))


def _note(
    diagnoser: Diagnoser,
    diagnosis: str,
    detail: str,
    events: list[Event],
    severity: str | None = None,
) -> Finding:

    # One line of evidence each: an observation points at a line, it does not quote replies.
    evidence = [
        Evidence(event.span.first if event.span else None, event_text(event).split("\n", 1)[0])
        for event in events
    ]
    return diagnoser.finding(
        diagnosis,
        confidence="high",
        evidence=evidence,
        facts=diagnoser.facts(detail=detail),
        severity=severity,
        matched_by="observation",
    )


CHECKS: tuple[Callable[[Diagnoser, set[str]], Finding | None], ...] = (
    auth_without_tls,
    tls_certificate_unverified,
    bare_lf,
    ehlo_not_fqdn,
    slow_server,
    starttls_not_used,
    no_enhanced_status_codes,
    server_capabilities,
)


# The checks that look only at successful EHLO replies (``_ehlo_exchanges``): without one,
# each finds nothing (tests/rules/test_fast_paths.py), so a session without one skips them.
ABOUT_EHLO = frozenset({starttls_not_used, no_enhanced_status_codes, server_capabilities})
_WITHOUT_EHLO = tuple(check for check in CHECKS if check not in ABOUT_EHLO)


def observe(diagnoser: Diagnoser, findings: list[Finding]) -> list[Finding]:
    """The observations of one session, given the findings already made."""
    ids = {finding.id for finding in findings}
    notes = []
    for check in CHECKS if _ehlo_exchanges(diagnoser) else _WITHOUT_EHLO:
        note = check(diagnoser, ids)
        if note is not None:
            notes.append(note)
            ids.add(f"{note.id}:{note.severity}")  # later checks may defer to it
    if len(notes) > 1:
        notes.sort(key=lambda f: SEVERITY_ORDER[f.severity])
    return notes
