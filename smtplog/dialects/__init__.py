"""The dialect registry and detection.

Each dialect scores the head of the input; the best wins. Modules are named
here and imported on first use, so adding a dialect is one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING

from smtplog.errors import NotSmtpError, UnknownDialectError

if TYPE_CHECKING:
    from smtplog.dialects.base import Dialect
    from smtplog.source import Source

# name -> "module:Class"; the order breaks ties (more specific first).
REGISTRY: dict[str, str] = {
    "smtplog": "smtplog.dialects.canonical:CanonicalDialect",
    "swaks": "smtplog.dialects.swaks:SwaksDialect",
    "curl": "smtplog.dialects.curl:CurlDialect",
    "phpmailer": "smtplog.dialects.phpmailer:PhpMailerDialect",
    "smtplib": "smtplog.dialects.smtplib:SmtplibDialect",
    "openssl": "smtplog.dialects.openssl:OpensslDialect",
    "msmtp": "smtplog.dialects.msmtp:MsmtpDialect",
    "javamail": "smtplog.dialects.javamail:JavaMailDialect",
    "nodemailer": "smtplog.dialects.nodemailer:NodemailerDialect",
    "ruby": "smtplog.dialects.ruby:RubyDialect",
    "perl": "smtplog.dialects.perl:PerlDialect",
    "mailkit": "smtplog.dialects.mailkit:MailKitDialect",
    "postfix": "smtplog.dialects.postfix:PostfixDialect",
    "tshark": "smtplog.dialects.tshark:TsharkDialect",
    "exchange": "smtplog.dialects.exchange:ExchangeDialect",
    "sendmail": "smtplog.dialects.sendmail:SendmailDialect",
    "exim": "smtplog.dialects.exim:EximDialect",
    "telnet": "smtplog.dialects.telnet:TelnetDialect",
}

MIN_SCORE = 0.12  # below this nothing in the text looks like SMTP
CLEAR_LEAD = 0.15  # a winner this far ahead of the runner-up is certain

_instances: dict[str, Dialect] = {}


def get(name: str) -> Dialect:
    if name not in REGISTRY:
        known = ", ".join(sorted(REGISTRY))
        raise UnknownDialectError(f"unknown dialect {name!r} (known: {known})")
    if name not in _instances:
        module_name, _, class_name = REGISTRY[name].partition(":")
        _instances[name] = getattr(import_module(module_name), class_name)()
    return _instances[name]


def all_dialects() -> list[Dialect]:
    return [get(name) for name in REGISTRY]


@dataclass(frozen=True, slots=True)
class Detection:
    dialect: Dialect
    confidence: float
    scores: tuple[tuple[str, float], ...]  # every dialect's score, best first


def detect(source: Source) -> Detection:
    """Pick the dialect of ``source``.

    Raises:
        NotSmtpError: no dialect recognises anything in the text.
    """
    scores = sorted(
        ((dialect.name, dialect.sniff(source.lines)) for dialect in all_dialects()),
        key=lambda item: -item[1],
    )
    best_name, best = scores[0]
    if best < MIN_SCORE:
        raise NotSmtpError(f"{source.name}: no SMTP session found (no reply codes, no known log)")
    runner_up = scores[1][1] if len(scores) > 1 else 0.0
    # A narrow lead halves the certainty: two dialects claim the same text.
    confidence = best if best - runner_up >= CLEAR_LEAD else best * 0.5 + 0.5 * (best - runner_up)
    return Detection(get(best_name), round(confidence, 2), tuple(scores))


def forced(name: str) -> Detection:
    return Detection(get(name), 1.0, ((name, 1.0),))
