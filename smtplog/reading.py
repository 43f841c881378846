"""Choose what the dialect reads: the raw text or a cleaned variant of it.

Cleanup (smtplog/cleanup) offers the raw text and up to two cleaned variants.
The dialects' own scores decide: a more cleaned variant is read only when some
dialect (the named one, with ``--dialect``) recognises it clearly better. A
Postfix log keeps its syslog prefixes, a PHPMailer html log its ``-&gt;``
arrows; an HTML-escaped swaks paste is read unescaped. No dialect needs to
know about cleanup, and cleanup needs to know no dialect.
"""

from __future__ import annotations

from dataclasses import dataclass

from smtplog import cleanup, dialects
from smtplog.cleanup import Cleaning
from smtplog.errors import NotSmtpError
from smtplog.source import Source

CLEANER_MARGIN = 0.02  # a cleaned variant must score this much better to be read


@dataclass(frozen=True, slots=True)
class Candidate:
    cleaning: Cleaning
    scores: tuple[tuple[str, float], ...]  # best first

    def score(self, dialect: str | None = None) -> float:
        if dialect is None:
            return self.scores[0][1] if self.scores else 0.0
        return dict(self.scores).get(dialect, 0.0)


@dataclass(frozen=True, slots=True)
class Reading:
    """What the analysis reads, the dialect it reads it with, and the alternatives."""

    cleaning: Cleaning
    detection: dialects.Detection
    candidates: tuple[Candidate, ...]

    @property
    def source(self) -> Source:
        return self.cleaning.source


def candidates(source: Source, use_cleanup: bool = True) -> list[Candidate]:
    variants = cleanup.variants(source) if use_cleanup else [Cleaning(source)]
    return [Candidate(v, tuple(dialects.scores(v.source))) for v in variants]


def choose(options: list[Candidate], dialect: str | None = None) -> Candidate:
    """The least cleaned variant, unless a more cleaned one is recognised clearly better."""
    chosen = options[0]
    for option in options[1:]:
        if option.score(dialect) > chosen.score(dialect) + CLEANER_MARGIN:
            chosen = option
    return chosen


def read(source: Source, dialect: str | None = None, use_cleanup: bool = True) -> Reading:
    """Pick the variant and the dialect of ``source``.

    Raises:
        NotSmtpError: no dialect recognises anything in any variant.
        UnknownDialectError: ``dialect`` is not a known dialect name.
    """
    if dialect is not None:
        dialects.get(dialect)  # a bad name fails before any work
    options = candidates(source, use_cleanup)
    chosen = choose(options, dialect)
    if dialect is not None:
        detection = dialects.forced(dialect, chosen.cleaning.source)
    else:
        try:
            detection = dialects.detect(chosen.cleaning.source)
        except NotSmtpError:
            raise NotSmtpError(
                f"{source.name}: no SMTP session found (no reply codes, no known log)"
            ) from None
    return Reading(chosen.cleaning, detection, tuple(options))
