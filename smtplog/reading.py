"""Choose what the dialect reads: the raw text or a cleaned variant of it.

Cleanup (smtplog/cleanup) offers the text after stage 0 and up to two more
cleaned variants. The dialects decide, in two steps:

1. scores: a more cleaned variant is read when some dialect (the named one,
   with ``--dialect``) recognises it clearly better (by CLEANER_MARGIN);
2. a tie (scores saturate: a swaks paste with one wrapped line still looks
   like swaks) is broken by parsing: the variant that leaves fewer lines
   ``Unparsed`` wins, the less cleaned one if that ties too.

So a Postfix log keeps its syslog prefixes and a PHPMailer html log its
``-&gt;`` arrows when their dialects read them natively, while an
HTML-escaped swaks paste is read unescaped. No dialect needs to know about
cleanup, and cleanup knows no dialect.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from smtplog import cleanup, dialects
from smtplog.cleanup import Cleaning
from smtplog.errors import NotSmtpError
from smtplog.events import Event, Unparsed
from smtplog.source import Source

CLEANER_MARGIN = 0.02  # a cleaned variant must score this much better to win on score


@dataclass(slots=True)
class Candidate:
    cleaning: Cleaning
    scores: tuple[tuple[str, float], ...]  # best first
    events: list[Event] | None = field(default=None)  # parsed when a tie needed it

    def score(self, dialect: str | None = None) -> float:
        if dialect is None:
            return self.scores[0][1] if self.scores else 0.0
        return dict(self.scores).get(dialect, 0.0)

    def dialect_name(self, dialect: str | None) -> str:
        return dialect if dialect is not None else self.scores[0][0]

    def unparsed(self, dialect: str | None) -> int:
        if self.events is None:
            self.events = dialects.get(self.dialect_name(dialect)).events(self.cleaning.source)
        return sum(1 for event in self.events if isinstance(event, Unparsed))


@dataclass(frozen=True, slots=True)
class Reading:
    """What the analysis reads, the dialect it reads it with, and the alternatives."""

    cleaning: Cleaning
    detection: dialects.Detection
    candidates: tuple[Candidate, ...]
    events: list[Event] | None = None  # already parsed while choosing, if it was

    @property
    def source(self) -> Source:
        return self.cleaning.source


def candidates(source: Source, use_cleanup: bool = True) -> list[Candidate]:
    variants = cleanup.variants(source) if use_cleanup else [Cleaning(source)]
    return [Candidate(v, tuple(dialects.scores(v.source))) for v in variants]


def choose(options: list[Candidate], dialect: str | None = None) -> Candidate:
    """The variant to read (see the module docstring)."""
    chosen = options[0]
    for option in options[1:]:
        mine, theirs = option.score(dialect), chosen.score(dialect)
        better = mine > theirs + CLEANER_MARGIN
        as_good = mine >= max(theirs - CLEANER_MARGIN, dialects.MIN_SCORE)
        if better or (as_good and option.unparsed(dialect) < chosen.unparsed(dialect)):
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
    events = chosen.events if chosen.dialect_name(dialect) == detection.dialect.name else None
    return Reading(chosen.cleaning, detection, tuple(options), events)
