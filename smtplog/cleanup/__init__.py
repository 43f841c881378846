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

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from operator import attrgetter

from smtplog import limits
from smtplog.cleanup import escapes, markup, prefixes, shell, wrapping
from smtplog.cleanup.shapes import blank
from smtplog.source import Line, Source

Apply = Callable[[list[Line]], "list[Line] | None"]
_text = attrgetter("text")
Learn = Callable[[list[Line]], Apply]


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
    # For the rest of a long input (read as a stream): an ``apply`` that keeps what
    # the head showed (the wrap width, the kind of timestamp) instead of judging
    # each window again. None: ``apply`` works on any window as it is.
    learn: Learn | None = None
    # A quick test on a window's text (lines joined by newlines): no match means
    # ``apply`` would change nothing, so a long log is not walked line by line.
    maybe: Callable[[str], bool] | None = None


# Stage 0: what no transcript format ever contains; always undone.
ALWAYS: tuple[Normaliser, ...] = (
    Normaliser(
        "colour",
        "terminal colour escapes (\\x1b[34m, #033[34m, ^[[34m)",
        escapes.colour,
        maybe=escapes.may_have_colour,
    ),
    Normaliser(
        "fence",
        "markdown code fences (```)",
        markup.fences,
        # (one character first: a search for one character is many times faster)
        maybe=lambda text: ("`" in text and "```" in text) or ("~" in text and "~~~" in text),
    ),
    Normaliser(
        "backticks",
        "inline-code backticks around lines",
        markup.backticks,
        maybe=lambda text: "`" in text,
    ),
    Normaliser(
        "prompt",
        "shell prompts (and the commands typed at them)",
        shell.prompts,
        "set aside",
        maybe=shell.may_have_prompt,
    ),
)
# Stage 1: the transport, run to a fixpoint with stage 0 (a fence inside a
# quote inside an indented block...). Some look like a dialect's own format
# (PHPMailer's html output is HTML-escaped), hence a stage of its own.
TRANSPORT: tuple[Normaliser, ...] = (
    Normaliser(
        "literal-newlines",
        "line breaks written as literal \\r\\n",
        escapes.literal_breaks,
        learn=escapes.literal_breaks_as,
    ),
    Normaliser(
        "html", "HTML escaping (&lt; &gt; &amp; &nbsp; <br>)", markup.html, learn=markup.html_as
    ),
    Normaliser("indent", "a tab or four spaces in front of every line", markup.indentation),
    Normaliser("quote", "e-mail / forum quote prefixes (> , nested)", markup.quotes),
)
# Stage 1, once the lines are whole again.
REJOIN: tuple[Normaliser, ...] = (
    Normaliser(
        "unwrap",
        "lines hard-wrapped by a forum or mailer (~72-80 columns)",
        wrapping.unwrap,
        learn=wrapping.unwrap_as,
    ),
)
# Stage 2: per-line prefixes that a dialect may own (a Postfix log is syslog lines).
PREFIXES: tuple[Normaliser, ...] = (
    Normaliser(
        "timestamps",
        "syslog / ISO timestamps in front of every line",
        prefixes.timestamps,
        learn=prefixes.timestamps_as,
    ),
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
    # What the head taught the normalisers that need it, for the rest of a stream.
    learned: dict[str, Apply] = field(default_factory=dict)
    # Lines changed by each normaliser in the rest of a stream (see ``stream``).
    streamed: Counter[str] = field(default_factory=Counter)
    # The head's counts of lines each normaliser changed, and the lines they count.
    _counted: tuple[Source, list[Line], dict[str, int]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @property
    def notes(self) -> list[str]:
        notes = []
        for name in self.applied:
            normaliser = BY_NAME[name]
            count = self._head_count(name) + self.streamed[name]
            lines = f" ({count} line{'s' if count != 1 else ''})" if count else ""
            notes.append(f"cleanup: {normaliser.verb} {normaliser.undoes}{lines}")
        return notes

    def _head_count(self, name: str) -> int:
        """Lines of the head ``name`` changed, counted once: a long input's report asks
        for the notes with every session."""
        counted = self._counted
        if counted is None or counted[0] is not self.source or counted[1] is not self.aside:
            counted = self._counted = (self.source, self.aside, {})
        counts = counted[2]
        if name not in counts:
            counts[name] = sum(1 for line in self.source.lines if name in line.flags) + sum(
                1 for line in self.aside if name in line.flags
            )
        return counts[name]


BY_NAME = {normaliser.name: normaliser for normaliser in ALL}


def _run(
    normalisers: Sequence[Normaliser],
    lines: list[Line],
    applied: list[str],
    learned: dict[str, Apply] | None = None,
) -> tuple[list[Line], bool]:
    changed = False
    text: str | None = None  # the lines joined, for the quick tests
    for normaliser in normalisers:
        if normaliser.maybe is not None:
            if text is None:
                text = "\n".join(map(_text, lines))
            if not normaliser.maybe(text):
                continue
        result = normaliser.apply(lines)
        if result is not None and result != lines:
            if learned is not None and normaliser.learn and normaliser.name not in learned:
                learned[normaliser.name] = normaliser.learn(lines)
            lines, changed, text = result, True, None
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
    learned: dict[str, Apply] = {}
    lines, _ = _run(ALWAYS, list(source.lines), applied)
    lines, aside = _split_aside(lines)
    out = [Cleaning(_source(source, lines), list(applied), aside, stage=0)]
    before = len(applied)
    for _round in range(FIXPOINT_ROUNDS):
        lines, changed = _run(TRANSPORT + ALWAYS, lines, applied, learned)
        if not changed:
            break
    lines, more_aside = _split_aside(lines)
    lines, _ = _run(REJOIN, lines, applied, learned)
    aside = sorted(aside + more_aside, key=lambda line: line.number)
    if len(applied) > before:
        out.append(Cleaning(_source(source, lines), list(applied), aside, 1, dict(learned)))
    before = len(applied)
    lines, _ = _run(PREFIXES, lines, applied, learned)
    if len(applied) > before:
        out.append(Cleaning(_source(source, lines), list(applied), aside, 2, dict(learned)))
    return out


def clean(source: Source) -> Cleaning:
    """The most cleaned variant (what a paste looks like with every normaliser applied)."""
    return variants(source)[-1]


# -- the rest of a long input ------------------------------------------------------------------


def stream(cleaning: Cleaning, lines: Iterable[Line | None], aside: list[Line]) -> Iterator[Line]:
    """Clean the lines after the head the way the head was cleaned.

    ``cleaning`` is the variant chosen for the head: the same stages run on
    the rest, window by window (``limits.CLEANUP_WINDOW`` lines, cut at a blank
    line when one is near the end, so that quotes and code blocks stay whole).
    Stage 0 always runs; a stage 1 or 2 normaliser runs only if it cleaned the
    head, with what it learned there. ``lines`` start with what ``hold_back``
    took from the end of the head; a None in them (a live input paused) ends
    a window there. Lines set aside are appended to
    ``aside``; the count of lines each normaliser changed goes to
    ``cleaning.streamed`` (for the notes).
    """
    for out in _cleaned(cleaning, windows(lines), aside):
        yield from out


def stream_batches(
    cleaning: Cleaning, batches: Iterable[list[Line] | None], aside: list[Line]
) -> Iterator[list[Line]]:
    """``stream`` of the lines in ``batches`` (a None: a pause), a cleaned window at a
    time: a long log's lines pass with no step of their own here."""
    return _cleaned(cleaning, batch_windows(batches), aside)


def _cleaned(
    cleaning: Cleaning, windows: Iterable[list[Line]], aside: list[Line]
) -> Iterator[list[Line]]:
    """Each window cleaned (see ``stream``)."""
    applied = set(cleaning.applied)

    def chosen(normalisers: Sequence[Normaliser]) -> list[Normaliser]:
        out = []
        for normaliser in normalisers:
            if normaliser.name not in applied:
                continue
            learned = cleaning.learned.get(normaliser.name)
            out.append(normaliser if learned is None else _with_apply(normaliser, learned))
        return out

    transport = chosen(TRANSPORT) if cleaning.stage >= 1 else []
    rejoin = chosen(REJOIN) if cleaning.stage >= 1 else []
    prefix = chosen(PREFIXES) if cleaning.stage >= 2 else []
    seen: list[str] = []
    for window in windows:
        out, changed = _run(ALWAYS, window, seen)
        if not (changed or transport or rejoin or prefix):
            yield out  # nothing to undo here (a log read natively, mostly)
            continue
        out, set_aside = _split_aside(out)
        if transport:
            for _round in range(FIXPOINT_ROUNDS):
                out, changed = _run([*transport, *ALWAYS], out, seen)
                if not changed:
                    break
            out, more = _split_aside(out)
            set_aside += more
        out, _ = _run(rejoin, out, seen)
        out, _ = _run(prefix, out, seen)
        for line in out:
            if line.flags:
                cleaning.streamed.update(name for name in line.flags if name in BY_NAME)
        for line in set_aside:
            cleaning.streamed.update(name for name in line.flags if name in BY_NAME)
        aside.extend(sorted(set_aside, key=lambda line: line.number))
        for name in seen:
            if name not in applied:  # stage 0 found something only later in the input
                applied.add(name)
                cleaning.applied.append(name)
        yield out


# Normalisers that judge a line by the lines around it (a quote run, a code block).
_IN_CONTEXT = frozenset({"quote", "indent"})


def hold_back(cleaning: Cleaning, head: list[Line]) -> list[Line]:
    """Take the head's last lines out of ``cleaning``, and return them raw.

    ``head`` is the raw head that ``cleaning`` was made of. The lines returned
    go to ``stream`` first, cleaned again together with what follows: a quote
    run, an indented block or a wrapped line that the end of the head cuts in
    two is then judged whole, as if the head had been longer. The choice of the
    variant and the dialect still saw the whole head.
    """
    held = head[_seam(cleaning, head) :]
    if held:
        first = held[0].number
        kept = [line for line in cleaning.source.lines if line.number < first]
        cleaning.source = replace(cleaning.source, lines=kept)
        cleaning.aside = [line for line in cleaning.aside if line.number < first]
    return held


def _seam(cleaning: Cleaning, head: list[Line]) -> int:
    """The index in ``head`` where the rest's cleanup takes over (``len(head)``: nowhere).

    The last place in the head's last quarter where a line starts afresh, the
    way the first line of a window does: after a blank line, or at a line that
    the head's cleanup neither unquoted, unindented nor joined to the line
    before, and that does not look quoted or indented. Without one, the whole
    last quarter is held back (from a line that starts a cleaned line), so that
    each side of the cut holds a long piece of the quote or block it cuts.
    """
    start = (len(head) * 3) // 4
    if start >= len(head):
        return len(head)
    first = head[start].number
    starting: dict[int, Line] = {}  # the cleaned line each head line starts, by number
    for line in (*cleaning.source.lines, *cleaning.aside):
        if line.number >= first:
            starting.setdefault(line.number, line)
    for index in range(len(head), start, -1):
        if blank(head[index - 1]):
            return index
        if index < len(head) and _afresh(starting.get(head[index].number)):
            return index
    return next((i for i in range(start, len(head)) if head[i].number in starting), len(head))


def _afresh(line: Line | None) -> bool:
    """Would this cleaned line be cleaned the same at the start of a window?

    None: no cleaned line starts here (a wrapped fragment, a dropped fence)."""
    return line is not None and not line.flags & _IN_CONTEXT and not markup.may_go_on(line.text)


def _with_apply(normaliser: Normaliser, apply: Apply) -> Normaliser:
    return Normaliser(normaliser.name, normaliser.undoes, apply, normaliser.verb, None)


def windows(lines: Iterable[Line | None]) -> Iterator[list[Line]]:
    """Consecutive runs of about ``limits.CLEANUP_WINDOW`` lines, ending after a blank line
    where there is one in the last quarter; never more than ``limits.HEAD_BYTES`` of text.
    A None (a live input paused: nothing more for now) ends a window at once."""
    size, budget = limits.CLEANUP_WINDOW, limits.HEAD_BYTES
    window: list[Line] = []
    chars = 0
    for line in lines:
        if line is None:
            if window:
                yield window
            window, chars = [], 0
            continue
        window.append(line)
        chars += len(line.text)
        if len(window) < size and chars < budget:
            continue
        cut = _cut(window)
        yield window[:cut]
        window = window[cut:]
        chars = sum(map(len, map(_text, window)))
    if window:
        yield window


def batch_windows(batches: Iterable[list[Line] | None]) -> Iterator[list[Line]]:
    """``windows`` of the lines in ``batches``, a None a pause, made a slice at a time
    (tests/test_cleanup.py proves them the windows of the line-at-a-time definition)."""
    size, budget = limits.CLEANUP_WINDOW, limits.HEAD_BYTES
    window: list[Line] = []
    chars = 0
    for batch in batches:
        if batch is None:
            if window:
                yield window
            window, chars = [], 0
            continue
        start, end = 0, len(batch)
        while start < end:
            room = size - len(window)
            take = batch[start : start + room]
            added = sum(map(len, map(_text, take)))
            if chars + added < budget:  # windows() would take every line of ``take``
                window += take
                chars += added
                start += len(take)
                if len(window) < size:
                    continue
            else:  # the budget ends the window within ``take``: find where, line by line
                for line in take:
                    window.append(line)
                    chars += len(line.text)
                    start += 1
                    if chars >= budget:
                        break
            cut = _cut(window)
            yield window[:cut]
            window = window[cut:]
            chars = sum(map(len, map(_text, window)))
    if window:
        yield window


def _cut(window: list[Line]) -> int:
    """Where a full window ends: after its last blank line in its last quarter, if any."""
    for index in range(len(window) - 1, (len(window) * 3) // 4, -1):
        if not window[index].text.strip():
            return index + 1
    return len(window)
