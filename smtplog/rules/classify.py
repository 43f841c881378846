"""Classify a failing reply from data, in the evidence order of the taxonomy (§2.1).

Knowledge comes in tiers, tried in this order:

1. ``provider``: the receiving provider's own tables (``knowledge/providers/*.toml``).
   Providers reuse enhanced codes with their own meanings (Microsoft 5.7.3,
   Gmail 4.7.29, Yahoo 5.7.9: taxonomy §2.3), so they decide first.
2. ``phrase``: wording that names its cause whatever the codes say ("Relay
   access denied", "Greylisted", "Invalid base64 data").
3. ``enhanced``: the IANA meaning of the enhanced status code (X.1.1, X.2.2...).
4. ``text``: broader wording ("try again later").
5. ``code``: the basic reply code at the phase it answered (535 at AUTH).

The generic rows live in ``knowledge/patterns.tsv``. Every column of a row that
is not ``*`` must match; phases guard every row ("user unknown" means an
unknown recipient only at RCPT).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from smtplog.events import Reply
from smtplog.knowledge import data_files, enhanced_codes, read_toml, read_tsv
from smtplog.recache import warm
from smtplog.rules.literals import longest_phrase, lower_form, lowered, needed, requirements
from smtplog.smtp import enhanced_code

WARM_AFTER = 16  # searches of a pattern before it gets its literal test and lower-case form
FITS_KEPT = 1024  # sets of phrases found whose admitted patterns a Screen keeps
PIECES_KEPT = 1024  # texts around an <address> whose phrases a Screen keeps
SCAN_FROM = 8  # phrases a pattern needs from which one expression finds them faster than `in`
TIERS = ("provider", "phrase", "enhanced", "text", "code")
TIER_RANK = {name: rank for rank, name in enumerate(TIERS)}
PHASES = (
    "banner",
    "ehlo",
    "starttls",
    "auth",
    "mail",
    "rcpt",
    "data",
    "message",
    "quit",
    "queue",
    "connect",
)
_ENHANCED_SPEC = re.compile(r"^([245X])\.(\d{1,3})\.(\d{1,3})(?:-(\d{1,3}))?$")
_CODE_SPEC = re.compile(r"^[2-5](\d\d|xx)$")


@dataclass(frozen=True, slots=True)
class EnhancedSpec:
    """``5.7.3``, ``X.1.1`` (any class) or a range of details ``4.7.500-699``."""

    cls: str
    subject: int
    first: int
    last: int

    @classmethod
    def parse(cls, spec: str) -> EnhancedSpec:
        match = _ENHANCED_SPEC.match(spec.strip())
        if not match:
            raise ValueError(f"bad enhanced status code pattern {spec!r}")
        klass, subject, first, last = match.groups()
        return cls(klass, int(subject), int(first), int(last or first))

    def matches(self, enhanced: str) -> bool:
        parts = enhanced.split(".")
        if len(parts) != 3:
            return False
        klass, subject, detail = parts
        return (
            self.cls in ("X", klass)
            and int(subject) == self.subject
            and self.first <= int(detail) <= self.last
        )

    @property
    def registered(self) -> bool:
        """Is every code this spec names in the IANA registry?"""
        table = enhanced_codes()
        return all(f"X.{self.subject}.{d}" in table for d in range(self.first, self.last + 1))

    def __str__(self) -> str:
        base = f"{self.cls}.{self.subject}.{self.first}"
        return base if self.first == self.last else f"{base}-{self.last}"


class LazyPattern:
    """A case-insensitive regular expression compiled on first use.

    Most rows never get as far as their pattern (phase, code or enhanced code
    do not fit), so compiling all of them up front would only slow start-up.
    A pattern searched often (a long log) then gets what makes each search
    cheaper, for a one-time cost that a single transcript would not repay: the
    phrases it needs (literals.needed, a test before the search: a scan for all
    of them in one expression when there are many) and, on ASCII
    text, its lower-case form run on the text lower-cased (literals.lower_form:
    the same answer, about three times faster).
    """

    __slots__ = ("_compiled", "_lower", "_needed", "_phrases", "_uses", "pattern")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._compiled: re.Pattern[str] | None = None
        self._lower: re.Pattern[str] | None = None  # once searched WARM_AFTER times
        self._needed: frozenset[str] | None = None  # the same (a few phrases)
        self._phrases: re.Pattern[str] | None = None  # the same (many phrases)
        self._uses = 0

    def _compile(self) -> re.Pattern[str]:
        compiled = self._compiled = re.compile(self.pattern, re.IGNORECASE)
        return compiled

    def _warm(self) -> None:
        need = needed(self.pattern)
        with warm():  # a long run's expressions: not in the cache every start-up reads
            if need is not None and len(need) > SCAN_FROM:
                self._phrases = re.compile(longest_phrase(need))
            else:
                self._needed = need
            form = lower_form(self.pattern)
            self._lower = re.compile(form) if form is not None else None

    def search(self, text: str, low: str | None = "") -> re.Match[str] | None:
        """Search ``text``; ``low`` is ``literals.lowered(text)`` when the caller has it."""
        compiled = self._compiled or self._compile()
        if self._needed is not None or self._phrases is not None:  # (once warm)
            if low == "":
                low = lowered(text)
            if low is not None and self.refuses(low):
                return None  # refused at once: no phrase the pattern needs is there
        return compiled.search(text)

    def found(self, text: str, low: str | None = "") -> bool:
        """Is the pattern in ``text``? ``low`` as for ``search``."""
        compiled = self._compiled or self._compile()
        if low == "":
            low = lowered(text)
        if low is None:
            return compiled.search(text) is not None
        if self.refuses(low):
            return False
        lower = self._lower
        if lower is not None:
            return lower.search(low) is not None
        return self.found_as_written(text, low)

    def words(self, text: str) -> str | None:
        """What the pattern matches in ``text``, as written there; None: no match."""
        compiled = self._compiled or self._compile()
        lower = self._lower
        if lower is not None and text.isascii():  # the same span (tests/rules/test_literals.py)
            found = lower.search(text.lower())
            return text[found.start() : found.end()] if found else None
        match = compiled.search(text)
        return match.group(0) if match else None

    def refuses(self, low: str) -> bool:
        """Is none of the phrases the pattern needs in ``low`` (an ASCII text lower-cased)?
        False until the pattern is warm."""
        phrases = self._phrases
        if phrases is not None:
            return phrases.search(low) is None
        need = self._needed
        if need is None:
            return False
        for item in need:  # noqa: SIM110 (a loop: no generator on the hottest path)
            if item in low:
                return False
        return True

    def warm(self) -> None:
        """Give the pattern its literal test and lower-case form now (``Screen`` uses them)."""
        if self._uses < WARM_AFTER:
            self._uses = WARM_AFTER
            self._warm()

    def found_as_written(self, text: str, low: str) -> bool:
        """The search while the pattern is not warm (``low``: the ASCII text lower-cased)."""
        self._uses += 1
        if self._uses == WARM_AFTER:
            self._warm()
            if self._lower is not None:
                return self._lower.search(low) is not None
        return self._compiled.search(text) is not None  # type: ignore[union-attr]

    def check(self) -> None:
        """Compile now (raises re.error for a bad pattern)."""
        if self._compiled is None:
            self._compile()

    def __repr__(self) -> str:
        return f"LazyPattern({self.pattern!r})"


@dataclass(frozen=True, slots=True)
class Rule:
    """One row of knowledge: when it applies, and the diagnosis it gives."""

    diagnosis: str
    tier: str
    source: str
    phases: frozenset[str] | None = None
    codes: tuple[str, ...] | None = None  # "550" or a class "5xx"
    enhanced: tuple[EnhancedSpec, ...] | None = None
    pattern: LazyPattern | None = None
    provider: str | None = None  # provider rows: the provider's key
    unique: bool = False  # provider rows: the pattern is this provider's own wording
    collision: bool = False  # provider rows: a registered code used with another meaning
    text: str | None = None  # provider rows: the reply as documented
    meaning: str | None = None  # provider rows: what it means there
    steps: tuple[str, ...] = ()
    references: tuple[str, ...] = ()

    def matches(self, reply: Reply, text: str, phase: str | None) -> bool:
        """Do the phase, codes, enhanced code and pattern all fit?"""
        if self.phases is not None and phase not in self.phases:
            return False
        if self.codes is not None and not any(_code_matches(c, reply.code) for c in self.codes):
            return False
        if self.enhanced is not None and not (
            reply.enhanced and any(spec.matches(reply.enhanced) for spec in self.enhanced)
        ):
            return False
        return self.pattern is None or bool(self.pattern.search(text))

    unregistered_code: bool = (
        False  # an enhanced code IANA does not define: only a provider uses it
    )


@dataclass(frozen=True, slots=True)
class Variant:
    """One service of a provider and the markers that name it."""

    name: str
    markers: tuple[LazyPattern, ...]  # case-insensitive, compiled on first use


@dataclass(frozen=True, slots=True)
class Provider:
    """A provider table (``knowledge/providers/<key>.toml``)."""

    key: str
    name: str
    source: str
    help: str | None
    variants: tuple[Variant, ...]
    rules: tuple[Rule, ...]
    names: tuple[str, ...] = ()  # how generic advice names this provider ("Gmail")


@dataclass(frozen=True, slots=True)
class ProviderMatch:
    """The provider (and variant) a session talks to."""

    key: str
    name: str  # the variant's name: "Microsoft 365 (Exchange Online)"


@dataclass(frozen=True, slots=True)
class Classification:
    """The diagnosis of a failing reply and the knowledge that gave it."""

    diagnosis: str
    confidence: str  # high | medium | low
    matched_by: str
    rule: Rule | None = None
    provider: ProviderMatch | None = None  # set when a provider table decided
    notes: tuple[str, ...] = field(default=())

    @property
    def tier(self) -> str | None:
        return self.rule.tier if self.rule else None


def _code_matches(spec: str, code: int) -> bool:
    if spec.endswith("xx"):
        return str(code)[0] == spec[0]
    return spec == str(code)


def _list(value: str) -> tuple[str, ...] | None:
    value = value.strip()
    if value in ("", "*"):
        return None
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _check_row(rule: Rule, where: str) -> Rule:
    if rule.tier not in TIERS:
        raise ValueError(f"{where}: unknown tier {rule.tier!r}")
    if rule.tier in ("phrase", "text") and rule.pattern is None:
        raise ValueError(f"{where}: a {rule.tier} row needs a pattern")
    if rule.tier == "enhanced" and not rule.enhanced:
        raise ValueError(f"{where}: an enhanced row needs an enhanced code")
    if rule.tier == "code" and (not rule.codes or rule.pattern is not None):
        raise ValueError(f"{where}: a code row needs codes and no pattern")
    for code in rule.codes or ():
        if not _CODE_SPEC.match(code):
            raise ValueError(f"{where}: bad reply code pattern {code!r}")
    for phase in rule.phases or ():
        if phase not in PHASES:
            raise ValueError(f"{where}: unknown phase {phase!r}")
    return rule


def _compile(pattern: str | None) -> LazyPattern | None:
    if pattern is None or pattern.strip() in ("", "*"):
        return None
    return LazyPattern(pattern)


@cache
def generic_rules() -> tuple[Rule, ...]:
    """The rows of patterns.tsv, in tier order (file order within a tier)."""
    rules = []
    for number, row in enumerate(read_tsv("patterns.tsv"), 2):
        phases = _list(row["phases"])
        enhanced = _list(row["enhanced"])
        rule = Rule(
            diagnosis=row["diagnosis"],
            tier=row["tier"],
            source=row["source"],
            phases=frozenset(phases) if phases else None,
            codes=_list(row["codes"]),
            enhanced=tuple(EnhancedSpec.parse(e) for e in enhanced) if enhanced else None,
            pattern=_compile(row["pattern"]),
        )
        rules.append(_check_row(rule, f"patterns.tsv line {number}"))
    return tuple(sorted(rules, key=lambda r: TIER_RANK[r.tier]))


def _provider_rule(key: str, source: str, entry: dict[str, object], where: str) -> Rule:
    def strings(name: str) -> tuple[str, ...] | None:
        value = entry.get(name)
        if value is None:
            return None
        if isinstance(value, str):
            return (value,)
        return tuple(str(item) for item in value)  # type: ignore[attr-defined]

    phases, enhanced = strings("phases"), strings("enhanced")
    rule = Rule(
        diagnosis=str(entry["diagnosis"]),
        tier="provider",
        source=str(entry.get("source", source)),
        phases=frozenset(phases) if phases else None,
        codes=strings("codes"),
        enhanced=tuple(EnhancedSpec.parse(e) for e in enhanced) if enhanced else None,
        pattern=_compile(str(entry["pattern"])) if "pattern" in entry else None,
        provider=key,
        unique=bool(entry.get("unique", False)),
        collision=bool(entry.get("collision", False)),
        unregistered_code=bool(enhanced)
        and not any(EnhancedSpec.parse(e).registered for e in enhanced or ()),
        text=str(entry["text"]),
        meaning=str(entry["meaning"]),
        steps=strings("steps") or (),
        references=strings("references") or (),
    )
    if rule.pattern is None and rule.enhanced is None and rule.codes is None:
        raise ValueError(f"{where}: a provider row needs a pattern, codes or an enhanced code")
    if rule.unique and rule.pattern is None:
        raise ValueError(f"{where}: `unique` describes a pattern, and there is none")
    return _check_row(rule, where)


@cache
def _provider_tables() -> dict[str, dict[str, Any]]:
    """The parsed ``providers/*.toml`` files, keyed by file name."""
    return {
        name.removesuffix(".toml"): read_toml(f"providers/{name}")
        for name in data_files("providers", ".toml")
    }


@cache
def provider_variants() -> dict[str, tuple[Variant, ...]]:
    """How each provider is recognised: enough for ``detect_provider``, which every
    session needs, without building the provider's rules, which a failure needs."""
    return {
        key: tuple(
            Variant(
                name=variant["name"],
                markers=tuple(LazyPattern(marker) for marker in variant["markers"]),
            )
            for variant in data.get("variants", [])
        )
        for key, data in _provider_tables().items()
    }


@cache
def providers() -> dict[str, Provider]:
    """Every provider table, keyed by file name (``microsoft``, ``google``...)."""
    table: dict[str, Provider] = {}
    for key, data in _provider_tables().items():
        source = str(data.get("source", ""))
        rules = tuple(
            _provider_rule(key, source, entry, f"providers/{key}.toml code #{index}")
            for index, entry in enumerate(data.get("codes", []), 1)
        )
        table[key] = Provider(
            key,
            data["name"],
            source,
            data.get("help"),
            provider_variants()[key],
            rules,
            tuple(data.get("names", ())),
        )
    return table


def provider_rules() -> tuple[Rule, ...]:
    return tuple(rule for provider in providers().values() for rule in provider.rules)


@cache
def all_rules() -> tuple[Rule, ...]:
    return provider_rules() + generic_rules()


class Screen:
    """Which patterns of a list may match an ASCII text, from one scan of it lower-cased.

    Each pattern's requirements (``literals.requirements``: phrases a text it
    matches holds) are checked against the phrases the scan finds. It finds all
    of them: at each position the longest phrase beginning there, which stands
    for every phrase that is a prefix of it. A pattern refused here cannot match
    the text (tests/rules/test_screen.py), so ``classify`` need not try its rule.
    (None in the list: a rule without a pattern, always admitted.)

    What a scan admits depends only on the set of phrases it found, and a log's
    replies differ mostly in addresses, not in those phrases: each set's answer
    is kept (up to ``FITS_KEPT`` sets), so most replies cost the scan alone.
    And the scan itself is mostly of text seen before: around an ``<address>``
    (``phrases``), only the address is new.
    """

    __slots__ = ("_always", "_apart", "_fits", "_found", "_needs", "_pieces", "_scan")

    def __init__(self, patterns: Sequence[LazyPattern | None]) -> None:
        self._always = 0  # the patterns with nothing to screen (bit i: pattern i)
        self._needs: list[tuple[int, ...] | None] = []  # per pattern: its requirements' bits
        bits: dict[frozenset[str], int] = {}  # each set of phrases: one bit
        meets: dict[str, list[int]] = {}  # phrase -> [bits of its sets, bits of its patterns]
        for index, pattern in enumerate(patterns):
            needs = _requirements_of(pattern)
            if needs is None:
                self._always |= 1 << index
                self._needs.append(None)
                continue
            masks = []
            for requirement in needs:
                mask = 0
                key = _most_selective(requirement)
                for phrases in requirement:
                    bit = bits.setdefault(phrases, 1 << len(bits))
                    mask |= bit
                    for phrase in phrases:
                        entry = meets.setdefault(phrase, [0, 0])
                        entry[0] |= bit
                        if phrases is key:  # a pattern is looked at when its rarest set is met
                            entry[1] |= 1 << index
                masks.append(mask)
            self._needs.append(tuple(masks))
        self._found = {phrase: _with_prefixes(phrase, meets) for phrase in meets}
        self._fits: dict[frozenset[str], tuple[int, ...]] = {}  # phrases found -> admitted
        self._pieces: dict[str, frozenset[str]] = {}  # text before or after an <address>
        # No phrase holds "<" or ">": none found in a text runs across either (``phrases``).
        self._apart = not any("<" in phrase or ">" in phrase for phrase in meets)
        with warm():  # built in a long run only: not in the cache every start-up reads
            self._scan = re.compile(f"(?=({longest_phrase(set(meets))}))") if meets else None

    def phrases(self, low: str) -> frozenset[str]:
        """The phrases the scan finds in ``low``.

        A phrase holds no "<" or ">" (``_apart``), so in ``head<inner>tail`` the
        longest phrase at each position of the head or the inner part ends before
        the next bracket, and the tail is a suffix (the same scan there). The head
        and the tail recur in a log: only the inner address is scanned each time.
        The same phrases as one scan of ``low`` (tests/rules/test_screen.py).
        """
        scan = self._scan
        if scan is None:
            return frozenset()
        if self._apart and "<" in low:
            head, _, rest = low.partition("<")
            inner, closed, tail = rest.partition(">")
            if closed:
                pieces = self._pieces
                before = pieces.get(head)
                if before is None:
                    before = self._kept(head)
                after = pieces.get(tail)
                if after is None:
                    after = self._kept(tail)
                return before.union(scan.findall(inner), after)
        return frozenset(scan.findall(low))

    def _kept(self, piece: str) -> frozenset[str]:
        found = frozenset(self._scan.findall(piece))  # type: ignore[union-attr]
        if len(self._pieces) < PIECES_KEPT:
            self._pieces[piece] = found
        return found

    def fitting(self, low: str) -> tuple[int, ...]:
        """The indices of the patterns that may match ``low`` (ASCII, lower-cased), in order."""
        phrases = self.phrases(low)
        known = self._fits.get(phrases)
        if known is None:
            known = self.admitted(phrases)
            if len(self._fits) < FITS_KEPT:
                self._fits[phrases] = known
        return known

    def admitted(self, phrases: Iterable[str]) -> tuple[int, ...]:
        """The indices of the patterns whose requirements the scan's ``phrases`` meet."""
        met, concerned = 0, self._always
        found = self._found
        for phrase in phrases:
            sets, patterns = found[phrase]
            met |= sets
            concerned |= patterns
        out = []
        needs = self._needs
        while concerned:
            bit = concerned & -concerned
            concerned ^= bit
            index = bit.bit_length() - 1
            masks = needs[index]
            if masks is None or any(mask & met == mask for mask in masks):
                out.append(index)
        return tuple(out)


def _requirements_of(pattern: LazyPattern | None) -> tuple[tuple[frozenset[str], ...], ...] | None:
    if pattern is None:
        return None
    pattern.warm()  # the survivors are searched lower-cased, as a warm pattern is
    return requirements(pattern.pattern)


def _most_selective(requirement: tuple[frozenset[str], ...]) -> frozenset[str]:
    """The set of phrases that rules out the most texts: its shortest phrase is longest."""
    return max(requirement, key=lambda phrases: (min(map(len, phrases)), -len(phrases)))


def _with_prefixes(phrase: str, meets: dict[str, list[int]]) -> tuple[int, int]:
    """What finding ``phrase`` meets: its own sets and patterns, and its prefixes'."""
    sets = patterns = 0
    for end in range(1, len(phrase) + 1):
        entry = meets.get(phrase[:end])
        if entry is not None:
            sets |= entry[0]
            patterns |= entry[1]
    return sets, patterns


class Candidates:
    """The rules that fit a reply but for their patterns, in order; once asked often,
    with a ``Screen`` (its one-time cost is repaid in a long log, not in a transcript)."""

    __slots__ = ("_screen", "_uses", "rules")

    def __init__(self, rules: tuple[Rule, ...]) -> None:
        self.rules = rules
        self._uses = 0
        self._screen: Screen | None = None

    def screen(self) -> Screen | None:
        if self._screen is None:
            self._uses += 1
            if self._uses < WARM_AFTER:
                return None
            self._screen = Screen([rule.pattern for rule in self.rules])
        return self._screen


@lru_cache(maxsize=4096)
def _candidates(
    phase: str | None,
    code: int,
    enhanced: str | None,
    tiers: tuple[str, ...],
    provider: str | None,
) -> Candidates:
    """The rules that fit all but their text pattern, in order.

    A log classifies the same few codes thousands of times: what is left to
    check for each reply is only the patterns (``classify``).
    """
    out = []
    for rule in all_rules():
        if rule.tier not in tiers:
            continue
        if rule.phases is not None and phase not in rule.phases:
            continue
        if rule.codes is not None and not any(_code_matches(c, code) for c in rule.codes):
            continue
        if rule.enhanced is not None and not (
            enhanced and any(spec.matches(enhanced) for spec in rule.enhanced)
        ):
            continue
        if rule.tier == "provider":
            if provider is not None and provider != rule.provider:
                continue
            if provider is None and not (rule.unique or rule.unregistered_code):
                continue  # generic wording or a reused IANA code: not evidence of the provider
        if rule.pattern is not None:
            rule.pattern.check()  # compiled now: ``classify`` uses it directly
        out.append(rule)
    return Candidates(tuple(out))


@cache
def _any_marker() -> LazyPattern | None:
    """Every provider marker in one expression, for the common answer: none."""
    markers = [
        marker.pattern
        for variants in provider_variants().values()
        for variant in variants
        for marker in variant.markers
    ]
    combined = LazyPattern("|".join(f"(?:{marker})" for marker in markers))
    try:
        combined.check()
    except re.error:  # a marker that cannot be combined (a back reference): ask each one
        return None
    return combined


@cache
def _marker_table() -> tuple[re.Pattern[str] | None, tuple[ProviderMatch, ...]]:
    """Every provider's markers in one expression, and the variant of each of its groups.

    Group ``v<i>`` is an optional lookahead that looks through the whole text for
    a marker of the i-th variant (in the providers' order): one match at the
    start says which variants are named anywhere in the text, exactly as asking
    each marker would, but with one expression compiled instead of dozens.
    """
    owners: list[ProviderMatch] = []
    branches: list[str] = []
    for key, variants in provider_variants().items():
        for variant in variants:
            markers = "|".join(f"(?:{marker.pattern})" for marker in variant.markers)
            branches.append(f"(?:(?=[\\s\\S]*?(?P<v{len(owners)}>{markers}))|)")
            owners.append(ProviderMatch(key, variant.name))
    try:
        combined = re.compile("".join(branches), re.IGNORECASE)
    except re.error:  # a marker that cannot be combined (a back reference): ask each one
        combined = None
    return combined, tuple(owners)


def detect_provider(texts: list[str]) -> ProviderMatch | None:
    """The provider named by a banner, an EHLO reply, reply texts or a host name."""
    return _detect_provider("\n".join(texts))


@lru_cache(maxsize=1024)  # a log names the same few servers over and over
def _detect_provider(joined: str) -> ProviderMatch | None:
    if not joined or joined.isspace():  # (not joined.strip(), without the copy)
        return None
    any_marker = _any_marker()
    if any_marker is not None and not any_marker.found(joined):
        return None  # most texts name no provider: one search (often none: see literals)
    combined, owners = _marker_table()
    if combined is not None:
        found = combined.match(joined).groupdict()  # type: ignore[union-attr] (always matches)
        return next((o for i, o in enumerate(owners) if found[f"v{i}"] is not None), None)
    return _detect_each(joined)


def names_no_provider(low: str) -> bool:
    """True when no provider marker can match a text whose ``lowered`` form is ``low``
    (none of the phrases every marker needs is in it; False until the markers are warm).
    The same holds then for any part of that text."""
    any_marker = _any_marker()
    return any_marker is not None and any_marker.refuses(low)


def _named_provider(text: str, low: str | None) -> ProviderMatch | None:
    """``detect_provider([text])``; ``low``: ``lowered(text)``, which the caller has anyway.

    Most reply texts name no provider and each is new (its address): the one
    search that says so runs on the caller's lower-cased text, not through the cache.
    """
    if low is not None and text and not text.isspace():
        any_marker = _any_marker()
        if any_marker is not None and not any_marker.found(text, low):
            return None
    return _detect_provider(text)


def _detect_each(joined: str) -> ProviderMatch | None:
    """What the combined expression says, one marker at a time (the definition)."""
    for key, variants in provider_variants().items():
        for variant in variants:
            if any(marker.search(joined) for marker in variant.markers):
                return ProviderMatch(key, variant.name)
    return None


def reply_text(reply: Reply) -> str:
    """The reply's lines as one text, without the enhanced code repeated on every line.

    Gmail writes "550-5.1.1 The email account that you tried to reach does not
    exist. Please try" / "550-5.1.1 double-checking ...": patterns must see
    the sentence, not the codes in between.
    """
    parts = []
    for index, line in enumerate(reply.lines):
        stripped = line.strip()
        if index and reply.enhanced and enhanced_code(stripped) == reply.enhanced:
            stripped = stripped[len(reply.enhanced) :].lstrip()
        parts.append(stripped)
    return " ".join(part for part in parts if part)


def classify(
    reply: Reply,
    phase: str | None,
    provider: ProviderMatch | None = None,
    *,
    tiers: tuple[str, ...] = TIERS,
    unnamed: bool = False,
) -> Classification:
    """The diagnosis a failing reply gives at ``phase`` (None: unknown phase).

    ``provider`` is the receiving provider recognised in the session; the
    reply's own text may name another one (a relay quoting Gmail) and wins.
    ``unnamed``: the caller knows the reply's text names no provider (it looked).
    """
    text = reply_text(reply)
    low = lowered(text)
    if not unnamed:
        provider = _named_provider(text, low) or provider
    key = provider.key if provider is not None else None
    candidates = _candidates(phase, reply.code, reply.enhanced, tiers, key)
    rules: tuple[Rule, ...] | list[Rule] = candidates.rules
    screen = candidates.screen() if low is not None else None
    if screen is not None:
        rules = [rules[index] for index in screen.fitting(low)]  # type: ignore[arg-type]
    for rule in rules:
        pattern = rule.pattern
        words = None  # what the pattern matched (LazyPattern.words), when the search tells
        if pattern is not None:  # (LazyPattern.found, inlined: the hottest loop of the rules)
            if low is None:
                found = pattern._compiled.search(text)  # type: ignore[union-attr]
                if not found:
                    continue
                words = found.group(0)
            else:
                if pattern.refuses(low):
                    continue  # none of the phrases the pattern needs is in the text
                lower = pattern._lower
                if lower is not None:
                    found = lower.search(low)
                    if not found:
                        continue
                    words = text[found.start() : found.end()]  # (the span: ASCII lower-cased)
                elif not pattern.found_as_written(text, low):
                    continue
        if rule.tier == "provider":
            known = provider is not None or rule.unique
            match = provider or ProviderMatch(rule.provider or "", _provider_name(rule))
            return Classification(
                rule.diagnosis,
                "high" if known else "medium",
                _explain_match(rule, reply, text, match, words),
                rule,
                match,
            )
        confidence = "medium" if rule.tier in ("code", "text") else "high"
        explained = _explain_match(rule, reply, text, None, words)
        return Classification(rule.diagnosis, confidence, explained, rule)
    return Classification("unclassified", "low", f"reply code {reply.code}")


def classify_any_phase(
    reply: Reply, provider: ProviderMatch | None = None
) -> tuple[str | None, Classification]:
    """Classify a reply whose phase is unknown: the phase with the strongest evidence.

    Returns the phase assumed (None when the deciding row has no phase guard).
    """
    best: tuple[int, int, str | None, Classification] | None = None
    for order, phase in enumerate(_GUESS_ORDER):
        result = classify(reply, phase, provider)
        if result.rule is None:
            continue
        rank = (TIER_RANK[result.rule.tier], order)
        if best is None or rank < best[:2]:
            guarded = result.rule.phases is not None
            best = (*rank, phase if guarded else None, result)
    if best is None:
        return None, classify(reply, None, provider)
    return best[2], best[3]


# When a reply comes without its command, which phase to assume first.
_GUESS_ORDER = ("rcpt", "mail", "message", "auth", "ehlo", "banner", "data", "starttls", "queue")


def _provider_name(rule: Rule) -> str:
    provider = providers().get(rule.provider or "")
    if provider is None:
        return rule.provider or "provider"
    return provider.variants[0].name if len(provider.variants) == 1 else provider.name


def _explain_match(
    rule: Rule,
    reply: Reply,
    text: str,
    provider: ProviderMatch | None = None,
    words: str | None = None,
) -> str:
    """How ``rule`` matched; ``words``: what its pattern matched in ``text``, if known."""
    if rule.tier == "enhanced":
        return f"enhanced status code {reply.enhanced}"
    if words is None and rule.pattern is not None:
        words = rule.pattern.words(text)
    if rule.tier == "provider":
        what = f"{provider.name if provider else rule.provider} table"
        if words is not None:
            code = f"{reply.enhanced} " if rule.enhanced and reply.enhanced else ""
            return f'{what}: {code}"{words}"'
        if rule.enhanced and reply.enhanced:
            return f"{what}: {reply.enhanced}"
        return f"{what}: reply code {reply.code}"
    if rule.pattern is not None:
        return f'reply text "{words if words is not None else rule.pattern.pattern}"'
    return f"reply code {reply.code}" + (
        " at " + "/".join(sorted(rule.phases)) if rule.phases else ""
    )


def merge_steps(rule: Rule | None, generic: tuple[str, ...]) -> tuple[str, ...]:
    """A provider row's own next steps replace the generic ones they make specific.

    The generic questions for the customer ("Ask the customer ...") stay.
    """
    if rule is None or not rule.steps:
        return generic
    questions = [step for step in generic if step.startswith("Ask ")]
    return tuple(dict.fromkeys((*rule.steps, *questions)))


def about_provider(rule: Rule, causes: tuple[str, ...]) -> tuple[str, ...]:
    """Generic causes without the ones that name other providers ("Gmail, Yahoo: ...")."""
    others = tuple(
        name
        for key, provider in providers().items()
        if key != rule.provider
        for name in provider.names
    )
    kept = tuple(cause for cause in causes if not cause.startswith(others)) if others else causes
    return kept or causes


def rules_for(diagnosis: str) -> list[Rule]:
    """Every row that can give ``diagnosis`` (for docs and `smtplog explain`)."""
    return [rule for rule in all_rules() if rule.diagnosis == diagnosis]


def parse_reply_line(text: str) -> Reply | None:
    """A reply typed or pasted as text: "550 5.1.1 <x@y>: ..." (lines joined by newlines)."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return None
    match = _REPLY_LINE.match(lines[0])
    if not match:
        return None
    code = int(match.group(1))
    texts = []
    for line in lines:
        found = _REPLY_LINE.match(line)
        if found and int(found.group(1)) == code:
            texts.append(found.group(3) or "")
        else:
            texts.append(line)
    return Reply(code=code, enhanced=enhanced_code(texts[0]), lines=tuple(texts))


_REPLY_LINE = re.compile(r"^([2-5]\d\d)([ -]|$)(.*)$")


@cache
def knowledge_files() -> tuple[str, ...]:
    """The data files the classifier reads (for docs)."""
    return (
        "patterns.tsv",
        *(f"providers/{name}" for name in data_files("providers", ".toml")),
    )
