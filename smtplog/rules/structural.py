"""Structural evidence: what the shape of the session says, before any reply code.

Detectors in ``BEFORE_REPLIES`` run before the decisive reply is classified
(taxonomy §2.1 step 1): when the client spoke before the greeting, the 554
that followed is a consequence, not "no SMTP service here". ``in_context``
corrects the classification of one failed exchange with what the session
shows (AUTH sent although the EHLO reply did not offer it). ``tls_failure``
and ``ended`` explain sessions that ended without a deciding reply.

The texts these detectors look for are data: ``knowledge/structural.toml`` and
``knowledge/client-errors.tsv``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING

from smtplog.events import (
    AuthResponse,
    ClientError,
    Closed,
    Command,
    ConnectFailed,
    Note,
    Reply,
    ShellPrompt,
    Timeout,
    TlsFailed,
    Unparsed,
)
from smtplog.knowledge import read_toml
from smtplog.protocol import Exchange, parse_capabilities, unrecovered_failures
from smtplog.report import Evidence, Finding
from smtplog.rules.classify import Classification
from smtplog.rules.client_errors import client_error_diagnosis, may_name
from smtplog.rules.evidence import event_text, evidence_of, reply_wire_text, target_port

if TYPE_CHECKING:
    from smtplog.rules.engine import Diagnoser


@cache
def _signals() -> dict[str, re.Pattern[str]]:
    data = read_toml("structural.toml")
    return {
        "pregreet": re.compile(data["pregreet"]["replies"], re.IGNORECASE),
        "tls-client": re.compile(data["tls-bytes"]["client"]),
        "tls-replies": re.compile(data["tls-bytes"]["replies"]),
    }


@cache
def implicit_tls_ports() -> frozenset[int]:
    return frozenset(read_toml("structural.toml")["ports"]["implicit_tls"])


def _consequences(diagnoser: Diagnoser, *shown: Evidence) -> list[Evidence]:

    lines = {item.line for item in shown}
    return [
        evidence_of(exchange.reply)
        for exchange in unrecovered_failures(diagnoser.analysis)
        if (exchange.reply.span.first if exchange.reply.span else None) not in lines
    ]


# -- before the replies ----------------------------------------------------------


def early_commands(diagnoser: Diagnoser) -> list[Command]:
    """The commands a session with replies shows sent before its greeting.

    Without a command none came early; an inferred one never does, so a session
    whose commands are all inferred (a summary log) is not walked
    (tests/rules/reference_rules.py keeps the walk as it was)."""
    analysis = diagnoser.analysis
    commands = diagnoser.of_kind(Command)
    if not commands:
        return []
    early: list[Command] = []
    if not all(command.inferred for command in commands):
        first_reply = next(i for i, e in enumerate(analysis.events) if isinstance(e, Reply))
        early = [
            e for e in analysis.events[:first_reply] if isinstance(e, Command) and not e.inferred
        ]
    # Postfix postscreen sends a "220-" teaser first: a command typed before the
    # rest of the greeting is "answered" by that greeting's final 220 line.
    early += [
        x.request
        for x in analysis.exchanges
        if x.verb in ("EHLO", "HELO") and x.reply.code == 220 and isinstance(x.request, Command)
    ]
    return early


def pregreet(diagnoser: Diagnoser) -> Finding | None:
    """The client sent a command before the 220 greeting, and was refused for it."""

    analysis = diagnoser.analysis
    if not analysis.connected or not diagnoser.has(Reply):
        return None
    early = early_commands(diagnoser)
    if not early:
        return None
    signal = _signals()["pregreet"]
    refusal: Exchange | None = None
    for exchange in analysis.exchanges:
        if not exchange.failed:
            continue
        at_greeting = exchange.verb == "BANNER" and exchange.reply.code in (554, 550, 521)
        if at_greeting or signal.search(exchange.reply.text):
            refusal = exchange
            break
    if refusal is None:
        return None
    shown = [evidence_of(early[0]), evidence_of(refusal.reply)]
    facts = diagnoser.facts(refusal)
    facts["command"] = early[0].display
    return diagnoser.finding(
        "pregreet",
        confidence="high",
        evidence=shown,
        facts=facts,
        phase="banner",
        matched_by="a command before the greeting, then a refusal",
        consequences=_consequences(diagnoser, *shown),
    )


# Replies whose own classification is only a generic protocol complaint: what
# the session shows (no AUTH in the EHLO reply...) may say more.
GENERIC = frozenset(
    {"command-syntax-error", "command-sequence-error", "command-not-supported", "unclassified"}
)

# What the client program says about the session's shape, strongest first: a
# "did not advertise STARTTLS" explains the "wrong version number" after it.
CLIENT_SAYS = ("tls-not-offered", "tls-port-mismatch", "auth-not-offered")
_SAYS = frozenset(CLIENT_SAYS)
_SAYING_EVENTS = (TlsFailed, ClientError, ConnectFailed, Closed, Timeout, Note)
_SAYING_KINDS = (*_SAYING_EVENTS, ShellPrompt)  # the classes, subclasses included
_SAYING_TYPES = frozenset(_SAYING_KINDS)


def client_says(diagnoser: Diagnoser) -> Finding | None:
    """The client program names a structural problem (knowledge/client-errors.tsv)."""

    if not diagnoser.has(*_SAYING_KINDS):
        return None
    said = [
        (event, known)
        for event in diagnoser.analysis.events
        if type(event) in _SAYING_TYPES
        and may_name(text := event_text(event), _SAYS)
        and (known := client_error_diagnosis(text)) is not None
        and known[0] in CLIENT_SAYS
    ]
    for diagnosis in CLIENT_SAYS:
        for event, (found, words) in said:
            if found != diagnosis:
                continue
            if diagnosis == "tls-port-mismatch":
                detail = (
                    f"the client started TLS and the server answered with something that is not "
                    f'TLS ("{words}"): implicit TLS was used on a port that expects plain SMTP '
                    "and STARTTLS (or the other way round)"
                )
                return _mismatch(diagnoser, [evidence_of(event)], detail, "TLS error text")
            keyword = "STARTTLS" if diagnosis == "tls-not-offered" else "AUTH"
            detail = f'the client program says so ("{event_text(event)}")'
            offered = _last_ehlo(diagnoser)
            if offered is not None and keyword not in offered[0]:
                detail += "; " + _not_offered(keyword, offered, None)
            shown = [evidence_of(event)]
            return diagnoser.finding(
                diagnosis,
                confidence="high",
                evidence=shown,
                facts=diagnoser.facts(detail=detail),
                phase="starttls" if keyword == "STARTTLS" else "auth",
                matched_by=f'the client program\'s words "{words}"',
                consequences=_consequences(diagnoser, *shown),
            )
    return None


def tls_port_mismatch(diagnoser: Diagnoser) -> Finding | None:
    """Implicit TLS to a STARTTLS port, or plain SMTP to an implicit-TLS port."""

    analysis = diagnoser.analysis
    signals = _signals()
    events = analysis.events if diagnoser.has(Command, Unparsed, Reply) else ()
    for event in events:
        if isinstance(event, (Command, Unparsed)) and signals["tls-client"].search(event.text):
            detail = (
                "the client sent a TLS handshake where the server expected an SMTP command: "
                "it uses implicit TLS on a port that expects plain SMTP and STARTTLS"
            )
            return _mismatch(diagnoser, [evidence_of(event)], detail, "TLS handshake bytes")
        if (
            isinstance(event, Reply)
            and event.is_error
            and signals["tls-replies"].search(event.text)
        ):
            detail = (
                "the server quotes TLS handshake bytes (\\x16\\x03...) as a command it did not "
                "understand: the client uses implicit TLS on a port that expects STARTTLS"
            )
            return _mismatch(diagnoser, [evidence_of(event)], detail, "TLS bytes in the reply")
    if analysis.exchanges or analysis.banner is not None or analysis.tls is not None:
        return None  # (most sessions: the cheap tests first)
    port = target_port(analysis)
    if (
        port in implicit_tls_ports()
        and analysis.connected
        and (analysis.end is not None or analysis.client_errors)
    ):
        end = analysis.end or analysis.client_errors[-1]
        detail = (
            f"the client connected to port {port} without TLS and waited for a greeting, but "
            "on this port the server waits for a TLS handshake first (implicit TLS), so "
            "neither side spoke"
        )
        return _mismatch(diagnoser, [evidence_of(end)], detail, f"no greeting on port {port}")
    return None


def _mismatch(
    diagnoser: Diagnoser, evidence: list[Evidence], detail: str, matched_by: str
) -> Finding:
    return diagnoser.finding(
        "tls-port-mismatch",
        confidence="high",
        evidence=evidence,
        facts=diagnoser.facts(detail=detail),
        phase="starttls" if diagnoser.analysis.banner is not None else "banner",
        matched_by=matched_by,
        consequences=_consequences(diagnoser, *evidence),
    )


def tls_failed_first(diagnoser: Diagnoser) -> Finding | None:
    """A TLS failure the client went on after (a fallback to plain text): it is the root."""
    analysis = diagnoser.analysis
    failure, decisive = analysis.tls_failure, analysis.verdict.decisive
    if failure is None or decisive is None or failure.span is None:
        return None
    decisive_line = decisive.reply.span.first if decisive.reply.span else 0
    if failure.span.first > decisive_line:
        return None
    return tls_failure(diagnoser, failure)


BEFORE_REPLIES: tuple[Callable[[Diagnoser], Finding | None], ...] = (
    pregreet,
    client_says,
    tls_port_mismatch,
    tls_failed_first,
)


# -- one exchange in its context ---------------------------------------------------


def in_context(
    diagnoser: Diagnoser, exchange: Exchange, result: Classification
) -> tuple[Classification, str] | None:
    """A better diagnosis for a failed exchange, from what the session shows."""

    reply = exchange.reply
    quoted = reply_wire_text(reply, " ")
    request = exchange.request
    if (
        exchange.verb == "AUTH-RESPONSE"
        and isinstance(request, AuthResponse)
        and not request.valid_base64
        and not request.inferred
    ):
        line = f" (line {request.span.first})" if request.span else ""
        what = {"username": "user name", "password": "password"}.get(request.role, "response")
        detail = (
            f"the {what} sent after the server's prompt{line} is not base64, and the server "
            f'refused it: "{quoted}". In AUTH LOGIN every answer must be base64-encoded'
        )
        return _context("auth-protocol-error", "a non-base64 AUTH response, then an error"), detail
    if exchange.verb in ("AUTH", "AUTH-RESPONSE") and (
        result.diagnosis in GENERIC | {"auth-not-offered", "auth-protocol-error"}
        or result.tier == "code"
    ):
        offered = _offered_before(diagnoser, exchange)
        if offered is not None and "AUTH" not in offered[0]:
            detail = _not_offered("AUTH", offered, quoted)
            return _context("auth-not-offered", "AUTH was not in the EHLO reply"), detail
    if exchange.verb == "STARTTLS" and (
        result.diagnosis in GENERIC | {"tls-not-offered"} or result.tier == "code"
    ):
        offered = _offered_before(diagnoser, exchange)
        if offered is not None and "STARTTLS" not in offered[0]:
            detail = _not_offered("STARTTLS", offered, quoted)
            return _context("tls-not-offered", "STARTTLS was not in the EHLO reply"), detail
    return None


def _context(diagnosis: str, matched_by: str) -> Classification:
    return Classification(diagnosis, "high", matched_by)


def _offered_before(
    diagnoser: Diagnoser, exchange: Exchange | None
) -> tuple[dict[str, str], Exchange] | None:
    """The extensions of the last successful EHLO/HELO before ``exchange`` (same TLS layer).

    With None: the last of the whole session.
    """
    found: tuple[dict[str, str], Exchange] | None = None
    for other in diagnoser.analysis.exchanges:
        if other is exchange:
            return found
        if other.verb == "STARTTLS" and other.reply.code == 220:
            found = None  # RFC 3207 §4.2: after TLS the extensions are announced again
        if other.verb in ("EHLO", "LHLO") and other.reply.code == 250:
            found = (parse_capabilities(other.reply), other)
        if other.verb == "HELO" and other.reply.code == 250:
            found = ({}, other)  # HELO: no ESMTP extensions at all
    return found


def _last_ehlo(diagnoser: Diagnoser) -> tuple[dict[str, str], Exchange] | None:
    """The extensions of the last successful EHLO/HELO of the session (same TLS layer)."""
    return _offered_before(diagnoser, None)


def _not_offered(keyword: str, offered: tuple[dict[str, str], Exchange], quoted: str | None) -> str:
    capabilities, greeting = offered
    line = greeting.reply.span.first if greeting.reply.span else None
    where = f" (line {line})" if line else ""
    if greeting.verb == "HELO":
        said = (
            f"the client greeted with HELO{where}, which turns off every ESMTP extension, "
            f"{keyword} included; it must use EHLO"
        )
    else:
        said = f"the EHLO reply{where} does not list {keyword}"
        if keyword == "AUTH" and "STARTTLS" in capabilities:
            said += (
                ", but it lists STARTTLS: this server offers AUTH only on an encrypted "
                "connection, so send STARTTLS and EHLO again first"
            )
    if quoted is None:
        return said
    return f'{said}. The server answered {keyword} with "{quoted}"'


# -- sessions that ended without a deciding reply -------------------------------------


def tls_failure(diagnoser: Diagnoser, failure: TlsFailed) -> Finding:

    shown = [evidence_of(failure)]
    return diagnoser.finding(
        "tls-handshake-failed",
        confidence="high",
        evidence=shown,
        facts=diagnoser.facts(detail=failure.reason or "the client reported a TLS failure"),
        phase="starttls",
        matched_by="TLS failure reported by the client",
        consequences=_consequences(diagnoser, *shown),
    )


def ended(diagnoser: Diagnoser, end: Closed | Timeout) -> Finding:
    """No greeting, or a connection lost mid-session."""

    analysis = diagnoser.analysis
    phase = analysis.verdict.failed_at
    evidence = [evidence_of(end)]
    if analysis.unanswered:
        evidence.insert(0, evidence_of(analysis.unanswered[0]))
    if phase == "banner" and analysis.banner is None:
        detail = (
            "; the client gave up waiting"
            if isinstance(end, Timeout)
            else "; the connection was closed instead"
        )
        return diagnoser.finding(
            "no-greeting",
            confidence="high",
            evidence=evidence,
            facts=diagnoser.facts(detail=detail),
            phase=phase,
            matched_by="no 220 greeting after connect",
        )
    if isinstance(end, Timeout) and analysis.unanswered:
        detail = (
            f"no reply came to {event_text(analysis.unanswered[0])} and the client gave up waiting"
        )
    elif isinstance(end, Timeout):
        detail = "the client timed out waiting for the server"
    elif analysis.unanswered:
        detail = (
            f"the connection closed while {event_text(analysis.unanswered[0])} was still "
            "waiting for its reply, without a 221 or 421 from the server"
        )
    else:
        detail = "the connection closed without a 221 or 421 reply from the server"
    return diagnoser.finding(
        "connection-dropped",
        confidence="high" if isinstance(end, Closed) else "medium",
        evidence=evidence,
        facts=diagnoser.facts(detail=detail),
        phase=phase,
        matched_by="connection ended without a final reply",
    )
