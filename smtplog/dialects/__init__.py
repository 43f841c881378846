"""The dialect registry and detection.

Each dialect's sniffer (``sniffers.py``) scores the head of the input; the
best wins. Dialect modules are named here and imported on first use: only the
chosen dialect's module (grammar, transformer) is loaded. Adding a dialect is
one line here and its sniffer.
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
    """The dialect chosen for a text, how sure, and every dialect's score."""

    dialect: Dialect
    confidence: float
    scores: tuple[tuple[str, float], ...]  # every dialect's score, best first
    forced: bool = False  # chosen with --dialect, not detected

    @property
    def score(self) -> float:
        return self.scores[0][1] if self.scores else 0.0

    @property
    def runner_up(self) -> tuple[str, float] | None:
        """The best other dialect that recognised anything, if one did."""
        for name, score in self.scores:
            if name != self.dialect.name and score > 0:
                return name, score
        return None


def scores(source: Source) -> list[tuple[str, float]]:
    """Every dialect's score for ``source``, best first (ties: registry order)."""
    from smtplog.dialects.sniffers import SNIFFERS

    scored = [(name, round(SNIFFERS[name](source.lines), 4)) for name in REGISTRY]
    return sorted(scored, key=lambda item: -item[1])  # stable: REGISTRY order breaks ties


def confidence(best: float, runner_up: float) -> float:
    """How sure the choice is: the winner's score, discounted by a narrow lead.

    A lead of CLEAR_LEAD or more keeps the full score; no lead at all (two
    dialects claim the text equally) halves it; in between it scales linearly.
    """
    lead = max(0.0, best - runner_up)
    return round(best * (0.5 + 0.5 * min(1.0, lead / CLEAR_LEAD)), 2)


def detect(source: Source) -> Detection:
    """Pick the dialect of ``source``.

    Raises:
        NotSmtpError: no dialect recognises anything in the text.
    """
    ranked = scores(source)
    best_name, best = ranked[0]
    if best < MIN_SCORE:
        raise NotSmtpError(f"{source.name}: no SMTP session found (no reply codes, no known log)")
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    return Detection(get(best_name), confidence(best, runner_up), tuple(ranked))


def forced(name: str, source: Source | None = None) -> Detection:
    """The dialect the user named; its score is kept when a source is given."""
    dialect = get(name)
    score = round(dialect.sniff(source.lines), 4) if source is not None else 1.0
    return Detection(dialect, 1.0, ((name, score),), forced=True)
