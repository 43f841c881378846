"""Choose what the dialect reads: the raw text or a cleaned variant of it.

Cleanup (smtplog/cleanup) offers the text after stage 0 and up to two more
cleaned variants. The dialects decide, in two steps:

1. scores: a more cleaned variant is read when some dialect (the named one,
   with ``--dialect``) recognises it clearly better (by CLEANER_MARGIN);
2. when the same dialect wins both, a tie (scores saturate: a swaks paste
   with one wrapped line still looks like swaks) is broken by parsing: the
   variant that leaves fewer lines ``Unparsed`` wins, then the one where more
   replies are found (curl reads a quoted paste as client lines only), the
   less cleaned one if that ties too;
3. when different dialects win, scores are not comparable: a transport
   cleanup (stage 1, done only on strong evidence) is read when it destroyed
   the first reading (curl's "> " lines were quote marks) and its own reading
   is not far worse; a timestamp removal (stage 2) needs step 1.

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
from smtplog.events import Event, Reply, Unparsed
from smtplog.source import Source

CLEANER_MARGIN = 0.02  # a cleaned variant must score this much better to win on score
DESTROYED = 0.3  # a reading that loses this much to the cleanup depended on the damage
TRANSPORT_TRUST = 0.5  # how much lower a transport-cleaned reading may then score


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

    def understood(self, dialect: str | None) -> tuple[int, int]:
        """How well the dialect reads this text: (-unparsed lines, replies), more is better."""
        if self.events is None:
            self.events = dialects.get(self.dialect_name(dialect)).events(self.cleaning.source)
        unparsed = sum(1 for event in self.events if isinstance(event, Unparsed))
        replies = sum(1 for event in self.events if isinstance(event, Reply))
        return -unparsed, replies


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
        if _cleaner_wins(chosen, option, dialect):
            chosen = option
    return chosen


def _cleaner_wins(current: Candidate, cleaner: Candidate, dialect: str | None) -> bool:
    mine, theirs = cleaner.score(dialect), current.score(dialect)
    if mine > theirs + CLEANER_MARGIN:
        return True
    if mine < dialects.MIN_SCORE:
        return False
    if dialect is not None or cleaner.dialect_name(None) == current.dialect_name(None):
        # The same dialect reads both: the one it understands more of.
        return mine >= theirs - CLEANER_MARGIN and cleaner.understood(dialect) > current.understood(
            dialect
        )
    # Different dialects claim the two texts, and dialects' scores are not
    # calibrated against each other (a quoted session looks like curl's "> "
    # client lines, at a higher score than a bare reply log ever gets). The
    # transport cleanup (stage 1) is read when it took away what the first
    # reading relied on and its own reading is not far worse; a reading that
    # survives the cleanup (PHPMailer's html output, unescaped) stays. Removing
    # timestamps (stage 2) must win on score.
    if cleaner.cleaning.stage != 1:
        return False
    first = current.dialect_name(None)
    destroyed = cleaner.score(first) <= current.score(first) - DESTROYED
    return destroyed and mine >= theirs - TRANSPORT_TRUST


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
