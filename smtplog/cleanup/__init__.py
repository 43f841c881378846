"""Undo what forums, tickets, chat and web pages do to a pasted transcript.

A preprocessing stage between the Source and the dialects: a list of small
normalisers, each undoing one kind of damage (HTML escaping, quote prefixes,
hard wrapping...). Each looks at the whole text first and acts only when the
text shows its kind of damage; each keeps the original line numbers.

Normalisers come in two stages. Stage 1 undoes the transport (what a paste
went through); stage 2 removes per-line prefixes (timestamps), which some
dialects own (a Postfix log *is* syslog lines). ``variants()`` returns the
raw text and the text after each stage, and ``smtplog.reading`` lets the
dialects' own scores decide which one to read: a cleaned variant is used only
when some dialect recognises it clearly better than the less cleaned one.
So cleanup needs no knowledge of any dialect, present or future.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from smtplog.cleanup import escapes, markup, prefixes, shell, wrapping
from smtplog.source import Line, Source

Apply = Callable[[list[Line]], "list[Line] | None"]


@dataclass(frozen=True, slots=True)
class Normaliser:
    """One kind of damage and how to undo it.

    ``apply`` returns the new lines, or None when the text does not show this
    damage. Lines it changed carry ``name`` in their flags.
    """

    name: str
    undoes: str  # for notes and `smtplog dialects`: what it undoes
    apply: Apply
    verb: str = "undid"  # how the note says it: "undid HTML escaping"


# Stage 0: what no transcript format ever contains; always undone.
ALWAYS: tuple[Normaliser, ...] = (
    Normaliser("colour", "terminal colour escapes (\\x1b[34m, #033[34m, ^[[34m)", escapes.colour),
    Normaliser("fence", "markdown code fences (```)", markup.fences),
    Normaliser("backticks", "inline-code backticks around lines", markup.backticks),
    Normaliser(
        "prompt", "shell prompts (and the commands typed at them)", shell.prompts, "set aside"
    ),
)
# Stage 1: the transport, run to a fixpoint with stage 0 (a fence inside a
# quote inside an indented block...). Some look like a dialect's own format
# (PHPMailer's html output is HTML-escaped), hence a stage of its own.
TRANSPORT: tuple[Normaliser, ...] = (
    Normaliser("literal-newlines", "line breaks written as literal \\r\\n", escapes.literal_breaks),
    Normaliser("html", "HTML escaping (&lt; &gt; &amp; &nbsp; <br>)", markup.html),
    Normaliser("indent", "a tab or four spaces in front of every line", markup.indentation),
    Normaliser("quote", "e-mail / forum quote prefixes (> , nested)", markup.quotes),
)
# Stage 1, once the lines are whole again.
REJOIN: tuple[Normaliser, ...] = (
    Normaliser(
        "unwrap", "lines hard-wrapped by a forum or mailer (~72-80 columns)", wrapping.unwrap
    ),
)
# Stage 2: per-line prefixes that a dialect may own (a Postfix log is syslog lines).
PREFIXES: tuple[Normaliser, ...] = (
    Normaliser("timestamps", "syslog / ISO timestamps in front of every line", prefixes.timestamps),
)

ALL: tuple[Normaliser, ...] = ALWAYS + TRANSPORT + REJOIN + PREFIXES
FIXPOINT_ROUNDS = 4  # nesting deeper than this is not seen in real pastes


@dataclass(slots=True)
class Cleaning:
    """A variant of the input: its lines after some normalisers, and what they did."""

    source: Source
    applied: list[str] = field(default_factory=list)  # normaliser names, in order
    aside: list[Line] = field(default_factory=list)  # lines set aside (shell prompts)
    stage: int = 0  # 0 raw, 1 transport undone, 2 prefixes removed too

    @property
    def notes(self) -> list[str]:
        notes = []
        for name in self.applied:
            normaliser = BY_NAME[name]
            count = sum(1 for line in self.source.lines if name in line.flags)
            count += sum(1 for line in self.aside if name in line.flags)
            lines = f" ({count} line{'s' if count != 1 else ''})" if count else ""
            notes.append(f"cleanup: {normaliser.verb} {normaliser.undoes}{lines}")
        return notes


BY_NAME = {normaliser.name: normaliser for normaliser in ALL}


def _run(
    normalisers: Sequence[Normaliser], lines: list[Line], applied: list[str]
) -> tuple[list[Line], bool]:
    changed = False
    for normaliser in normalisers:
        result = normaliser.apply(lines)
        if result is not None and result != lines:
            lines, changed = result, True
            if normaliser.name not in applied:
                applied.append(normaliser.name)
    return lines, changed


def _source(source: Source, lines: list[Line]) -> Source:
    return Source(name=source.name, lines=lines, notes=list(source.notes), size=source.size)


def _split_aside(lines: list[Line]) -> tuple[list[Line], list[Line]]:
    return (
        [line for line in lines if "prompt" not in line.flags],
        [line for line in lines if "prompt" in line.flags],
    )


def variants(source: Source) -> list[Cleaning]:
    """What the dialects may read, least cleaned first.

    Stage 0 (always), then stage 1 and stage 2 when they change something.
    Shell prompts are set aside: they are not part of any session.
    """
    applied: list[str] = []
    lines, _ = _run(ALWAYS, list(source.lines), applied)
    lines, aside = _split_aside(lines)
    out = [Cleaning(_source(source, lines), list(applied), aside, stage=0)]
    before = len(applied)
    for _round in range(FIXPOINT_ROUNDS):
        lines, changed = _run(TRANSPORT + ALWAYS, lines, applied)
        if not changed:
            break
    lines, more_aside = _split_aside(lines)
    lines, _ = _run(REJOIN, lines, applied)
    aside = sorted(aside + more_aside, key=lambda line: line.number)
    if len(applied) > before:
        out.append(Cleaning(_source(source, lines), list(applied), aside, stage=1))
    before = len(applied)
    lines, _ = _run(PREFIXES, lines, applied)
    if len(applied) > before:
        out.append(Cleaning(_source(source, lines), list(applied), aside, stage=2))
    return out


def clean(source: Source) -> Cleaning:
    """The most cleaned variant (what a paste looks like with every normaliser applied)."""
    return variants(source)[-1]
