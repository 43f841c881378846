"""Postfix logs: delivery status lines, smtpd lines, verbose chat, posttls-finger.

A mail log interleaves many connections, so every record gets a stream key
(``Event.stream``): one per smtpd connection ("connect from" .. "disconnect
from" of one smtpd process) and one per delivery of the smtp client (a queue
id's status lines, with the chat and TLS lines of the same process around
them). Where the log only summarises a session, the session is rebuilt from
the summary so that the verdict and diagnosis come out as if the dialogue had
been captured:

    status=bounced (host H[IP] said: 550 5.1.1 ... (in reply to RCPT TO command))
        -> Connected H, an inferred "RCPT TO:<rcpt>", the reply (span = that line)
    status=deferred (connect to H[IP]:25: Connection timed out)
        -> ConnectFailed(timeout)
    status=sent (250 2.0.0 Ok: queued as ...)
        -> an inferred end of data, the 250 reply
    NOQUEUE: reject: RCPT from H[IP]: 554 5.7.1 ...; from=<s> to=<r> ...
        -> an inferred "RCPT TO:<r>", the reply

When the verbose chat (debug_peer_list) of the same process is in the log, the
chat is the session and the summary lines become notes. Shapes:
knowledge/transcript-formats.md §12.
"""

from __future__ import annotations

import calendar
import re
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from smtplog import limits
from smtplog.assemble import ClientLine, Record, ServerLine
from smtplog.dialects.base import LineDialect, LineTransformer, failure_reason
from smtplog.events import (
    ClientError,
    Closed,
    Command,
    Connected,
    ConnectFailed,
    DataEnd,
    Event,
    Note,
    Reply,
    Span,
    StreamEnd,
    Timeout,
    TlsStarted,
    Unparsed,
)
from smtplog.source import Line

# Envelopes: BSD syslog ("Nov  5 ..." or postlogd's zero-padded "Nov 05 ..."), RFC 3339,
# or none at all (journalctl -o cat keeps "postfix/smtp[123]: " only when asked; accept it).
_ENVELOPE = re.compile(
    r"^(?:(?:(?P<bsd>[A-Z][a-z]{2} [ 0-3]?\d \d\d:\d\d:\d\d(?:\.\d+)?)"
    r"|(?P<iso>\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?))"
    r"\s+(?P<host>\S+)\s+)?"
    r"(?P<program>postfix[\w.-]*(?:/[\w.-]+)+)\[(?P<pid>\d+)\]: "
    r"(?:(?P<severity>warning|error|fatal|panic): )?"
)
_FINGER = re.compile(r"^posttls-finger: ")
_MONTHS = {m: i for i, m in enumerate(calendar.month_abbr) if m}
_OTHER_DAEMON = re.compile(r"^\S+ \S+\[\d+\]: |^\S+ \d+ ")
# grammar/postfix.lark: the QUEUE_ID terminal, and how every entry but ``other`` begins.
_QUEUE_ID = re.compile(r"(NOQUEUE|[0-9A-F]{5,}|[0-9A-Za-z]{12,}): ")
_ENTRY_START = re.compile(
    r"to=<|[<>] |connect |disconnect from |client=|Connected to |reject|discard|hold|redirect"
    r"|filter|warn|milter-reject|lost connection|timeout|too many errors|Anonymous|Verified"
    r"|Trusted|Untrusted|Failed to establish"
)

# Delivery agents whose status lines describe an SMTP (or LMTP) conversation.
_SMTP_AGENTS = frozenset({"smtp", "lmtp", "relay", "error", "retry"})

# ``\bstatus=...`` and ``\b(?P<name>to|orig_to|relay|dsn)=(?P<value>...)``, written to begin
# with a literal that ``re`` searches for quickly, the word boundary asked behind it (the
# same matches: tests/dialects/test_postfix_fast.py). _FIELD: one group per name.
_STATUS = re.compile(r"status=(?<=\bstatus=)(?P<status>[a-z]+)(?: \((?P<text>.*)\))?\s*$")
_FIELD = re.compile(
    r"=(?:(?<=\b(to)=)|(?<=\b(orig_to)=)|(?<=\b(relay)=)|(?<=\b(dsn)=))(<[^>]*>|[^,\s]*)"
)
_SAID = re.compile(r"^host (?P<host>\S+) said: (?P<reply>.*?) \(in reply to (?P<what>.+?)\)$")
_REFUSED_TO_TALK = re.compile(r"^host (?P<host>\S+) refused to talk to me: (?P<reply>.*)$")
_SASL = re.compile(r"^SASL authentication failed; server (?P<host>\S+) said: (?P<reply>.*)$")
_CONNECT_TO = re.compile(r"^connect to (?P<host>\S+?): (?P<error>.*)$")
_LOST = re.compile(r"^lost connection with (?P<host>\S+) while (?P<where>.*)$")
_TIMED_OUT = re.compile(r"^conversation with (?P<host>\S+) timed out while (?P<where>.*)$")
_DNS = re.compile(r"Host or domain name not found|Name service error|Host not found", re.I)
_REPLY_START = re.compile(r"^[2-5]\d\d(?:[ -]|$)")
_REJECT_FIELDS = re.compile(r";\s+(?=(?:from|to|proto|helo)=)")
_REJECT = re.compile(
    r"^(?P<action>[\w-]+): (?P<where>[A-Z-]+)(?: [^:]*)? from "
    r"(?P<client>[^\s\[]*\[[^\]]*\](?::\d+)?): (?P<rest>.*)$"
)
_KV = re.compile(r"\b(?P<name>from|to|helo|proto)=(?P<value><[^>]*>|\S+)")
_SESSION_END = re.compile(
    r"^(?P<kind>lost connection|timeout|too many errors) after (?P<where>[A-Z-]+)"
    r"(?: \((?P<bytes>\d+) bytes\))? from (?P<client>\S+)"
)
_TLS = re.compile(
    r"TLS connection (?:established|reused) (?:to|from) (?P<peer>\S+?):? "
    r"(?P<version>\S+) with cipher (?P<cipher>\S+)"
)
_COUNTERS = re.compile(r"\b([a-z]+)=(\d+)(?:/\d+)?")  # (name, accepted) of "name=accepted[/sent]"

# "(in reply to X)" -> the request the reply answered.
_IN_REPLY_TO: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^end of DATA", re.I), "."),
    (re.compile(r"^DATA command", re.I), "DATA"),
    (re.compile(r"^RCPT TO", re.I), "RCPT"),
    (re.compile(r"^MAIL FROM", re.I), "MAIL"),
    (re.compile(r"^(EHLO|HELO|LHLO)", re.I), "EHLO"),
    (re.compile(r"^STARTTLS", re.I), "STARTTLS"),
    (re.compile(r"^AUTH", re.I), "AUTH"),
    (re.compile(r"^BDAT", re.I), "BDAT"),
    (re.compile(r"^QUIT", re.I), "QUIT"),
    (re.compile(r"^RSET", re.I), "RSET"),
    (re.compile(r"^XFORWARD", re.I), "XFORWARD"),
    (re.compile(r"^XCLIENT", re.I), "XCLIENT"),
)

# The table as one expression: group "vN" is its Nth row (the first that matches wins, as
# in the table; a row's own group closes before the row's: lastgroup is the row's).
_IN_REPLY_TO_ANY = re.compile(
    "|".join(f"(?P<v{row}>{pattern.pattern})" for row, (pattern, _verb) in enumerate(_IN_REPLY_TO)),
    re.I,
)

# "lost connection ... while X" / "timed out while X" -> the request left unanswered.
_WHILE: tuple[tuple[re.Pattern[str], str | None], ...] = (
    (re.compile(r"initial server greeting|server greeting", re.I), None),
    (re.compile(r"(EHLO|HELO|LHLO) handshake", re.I), "EHLO"),
    (re.compile(r"STARTTLS", re.I), "STARTTLS"),
    (re.compile(r"MAIL FROM", re.I), "MAIL"),
    (re.compile(r"RCPT TO", re.I), "RCPT"),
    (re.compile(r"end of data|message body", re.I), "."),
    (re.compile(r"DATA command", re.I), "DATA"),
    (re.compile(r"RSET", re.I), "RSET"),
    (re.compile(r"QUIT", re.I), "QUIT"),
    (re.compile(r"XFORWARD", re.I), "XFORWARD"),
    (re.compile(r"AUTH|SASL", re.I), "AUTH"),
)

# smtpd "lost connection after X": the command after which the client went away.
_SMTPD_WHERE = {
    "CONNECT": None,
    "EHLO": "EHLO",
    "HELO": "EHLO",
    "STARTTLS": "STARTTLS",
    "AUTH": "AUTH",
    "MAIL": "MAIL",
    "RCPT": "RCPT",
    "DATA": "DATA",
    "END-OF-MESSAGE": ".",
    "BDAT": "BDAT",
    "RSET": "RSET",
    "QUIT": "QUIT",
    "VRFY": "VRFY",
    "ETRN": "ETRN",
}


@dataclass(slots=True)  # not frozen: one per line of a log (frozen __init__ is 3x slower)
class Envelope:
    service: str  # "smtp", "smtpd", "qmgr", "posttls-finger", ...
    program: str  # "postfix/submission/smtpd"
    pid: str
    time: float | None
    severity: str | None = None


@dataclass(slots=True)  # not frozen: one per line of a log (frozen __init__ is 3x slower)
class Entry:
    """One parsed log message before it is placed into a session."""

    kind: str
    envelope: Envelope
    span: Span
    text: str
    queue_id: str | None = None
    reply: ServerLine | None = None  # chat lines shaped like a reply
    peer: str = ""  # the chat line's "host[ip]:port"


_JOINED_REPLY_START = re.compile(r"^([2-5]\d\d)([ -]|$)")


def split_joined_reply(text: str) -> list[tuple[int, str, str]]:
    """Undo Postfix's joining of a multi-line reply with spaces.

    ``550-5.1.1 first 550-5.1.1 second 550 5.1.1 last`` -> three (code, sep, text)
    lines. Only "CODE-" and the final "CODE " of the same code split, and only
    while the previous piece was a continuation, so a reply that merely
    mentions a number is left alone. Text without a leading code gives [].
    """
    if text[3:4] == " " and text[:1] in "2345" and text[1:3].isdecimal():
        return [(int(text[:3]), " ", text[4:])]  # one line (what the expression finds)
    match = _JOINED_REPLY_START.match(text)
    if not match:
        return []
    code = match.group(1)
    rest, sep = text[4:], match.group(2)
    if sep != "-":
        return [(int(code), " ", rest)]
    lines: list[tuple[int, str, str]] = []
    boundary = re.compile(rf" {code}([ -])")
    while sep == "-":
        nxt = boundary.search(rest)
        if nxt is None:
            break
        lines.append((int(code), "-", rest[: nxt.start()]))
        rest, sep = rest[nxt.end() :], nxt.group(1)
    lines.append((int(code), " ", rest))
    return lines


def _time(match: re.Match[str]) -> float | None:
    return _stamp_time(match.group("bsd"), match.group("iso"))


@lru_cache(maxsize=1024)  # a busy log writes many lines a second: same stamp, same time
def _stamp_time(bsd: str | None, iso: str | None) -> float | None:
    if bsd:
        month, day, clock = bsd.split()
        hours, minutes, seconds = clock.split(":")
        # No year in BSD syslog: seconds since the start of the month's year 2000
        # keep the order and the gaps, which is all the analysis uses.
        base = calendar.timegm((2000, _MONTHS.get(month, 1), int(day), 0, 0, 0))
        return base + int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    if iso:
        from datetime import datetime

        try:
            return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


def _envelope_of(match: re.Match[str]) -> Envelope:
    program = match.group("program")
    return Envelope(
        service=program.rsplit("/", 1)[-1],
        program=program,
        pid=match.group("pid"),
        time=_time(match),
        severity=match.group("severity"),
    )


_FINGER_ENVELOPE = Envelope("posttls-finger", "posttls-finger", "", None)


def _envelope(text: str) -> tuple[Envelope | None, str]:
    """The envelope of a line (None: not a Postfix line) and the log message after it."""
    envelope, start = _parse_envelope(text)
    if envelope is not None:
        return envelope, text[start:]
    match = _FINGER.match(text)
    if match:
        return _FINGER_ENVELOPE, text[match.end() :]
    return None, text


_SEVERITIES = ("warning: ", "error: ", "fatal: ", "panic: ")
_SEVERITY_FIRSTS = "wefp"  # what each begins with: most messages are asked one character

MAX_KNOWN_PREFIXES = 4096  # each of the three caches below
# What a line names up to the "[" before its pid ("Nov 28 20:46:41 mx postfix/smtp"): the
# service, the program, the time and whether a message of it is skipped (``_skips``).
_Program = tuple[str, str, "float | None", "Callable[[str, int], re.Match[str] | None]"]
_known_programs: dict[str, _Program] = {}
# The same apart, for a line of a new second: " mx postfix/smtp" and "Nov 28 20:46:41".
_known_names: dict[str, tuple[str, str, Callable[[str, int], re.Match[str] | None]]] = {}
_known_stamps: dict[str, float | None] = {}


def _parse_envelope(text: str) -> tuple[Envelope | None, int]:
    """``_ENVELOPE`` on a line, as (envelope, where the message starts); (None, 0): no match."""
    end = text.find("]: ") + 3
    bracket = text.rfind("[", 0, end)
    envelope, start, _known = _envelope_at(text, end, bracket, None)
    return envelope, start


def _envelope_at(
    text: str, end: int, bracket: int, known: _Program | None
) -> tuple[Envelope | None, int, bool]:
    """``_parse_envelope``, given where the line's first "]: " ends (``end``, 2 if it has
    none), the last "[" before it (``bracket``) and what ``_known_programs`` holds for the
    line up to there (``known``); and whether the line's program was known then.

    A busy log repeats the same stamp, host and program ("Nov 28 20:46:41 mx
    postfix/smtp[") line after line, with the same pid or another one, and the same
    stamp and the same host and program in other pairs: an envelope that ends at the
    line's first "]: " is parsed once and what it names up to the pid is kept, and its
    stamp and the rest of it apart (the expression finds the same in any line made of a
    known beginning, or of a known stamp and a known rest, and "[", a pid and "]: ":
    tests/dialects/test_postfix_fast.py). Other lines are matched as they are. The
    severity after the envelope belongs to each line."""
    was_known = known is not None
    if known is None and end > 2:
        known = _composed_program(text, bracket)
    pid = text[bracket + 1 : end - 3]
    if known is None or end < 3 or not pid.isdecimal():  # (\d+ is what isdecimal says)
        envelope, start = _matched_envelope(text, end)
        return envelope, start, False
    service, program, time, _skips = known
    if text[end : end + 1] in _SEVERITY_FIRSTS and text.startswith(_SEVERITIES, end):
        severity = text[end : text.index(":", end)]
        envelope = Envelope(service, program, pid, time, severity)
        return envelope, end + len(severity) + 2, was_known
    return Envelope(service, program, pid, time), end, was_known


def _composed_program(text: str, bracket: int) -> _Program | None:
    """What a line names up to ``bracket``, if it is a known stamp and a known rest."""
    cut = _stamp_end(text)
    if not 0 < cut < bracket:
        return None
    time = _known_stamps.get(text[:cut], _UNKNOWN)
    names = _known_names.get(text[cut:bracket])
    if time is _UNKNOWN or names is None:
        return None
    service, program, skips = names
    known = service, program, time, skips
    _remember(_known_programs, text[:bracket], known)
    return known


_UNKNOWN = float("nan")  # not a stamp seen yet (a stamp's time may be None)


def _stamp_end(text: str) -> int:
    """Where the stamp would end: "Nov 28 20:46:41", "Nov 5 20:46:41", RFC 3339 up to a space."""
    if text[3:4] == " ":
        return 15 if text[6:7] == " " else 14
    return text.find(" ")


def _matched_envelope(text: str, end: int) -> tuple[Envelope | None, int]:
    """``_parse_envelope`` by the expression; for an envelope ending at ``end`` (the first
    "]: "), what the line names up to its pid is remembered, and its stamp and the rest
    of that apart."""
    match = _ENVELOPE.match(text)
    if match is None:
        return None, 0
    envelope = _envelope_of(match)
    if match.end("pid") + 3 != end:  # not at the first "]: ": not a beginning to keep
        return envelope, match.end()
    bracket = match.start("pid") - 1
    service, program, time = envelope.service, envelope.program, envelope.time
    skips = _skips(service)
    _remember(_known_programs, text[:bracket], (service, program, time, skips))
    stamp = match.group("bsd") or match.group("iso")
    if stamp is not None and len(stamp) == _stamp_end(text):
        _remember(_known_stamps, stamp, time)
        _remember(_known_names, text[len(stamp) : bracket], (service, program, skips))
    return envelope, match.end()


def _remember(cache: dict[str, Any], key: str, value: Any) -> None:
    if len(cache) >= MAX_KNOWN_PREFIXES:
        cache.clear()
    cache[key] = value


def _ours(service: str) -> bool:
    """Does this Postfix service's log describe an SMTP conversation?"""
    return service in _SMTP_AGENTS or service.endswith("smtpd")


def _skipped(envelope: Envelope, message: str) -> bool:
    """A line the dialect explains with nothing, known without parsing it. Most of a
    mail.log: other Postfix daemons' lines (pickup, cleanup, qmgr, bounce, local...)
    that are neither warnings nor delivery status lines, and the smtp client's and
    smtpd's verbose internals (``smtp_stream_setup: ...``); the grammar would make
    each an "other" entry that ``_Sessions`` drops."""
    if _ENTRY_OR_BLANK.match(message):
        return False  # not an "other" entry (or one the grammar refuses)
    service, severity = envelope.service, envelope.severity
    if service in _SMTP_AGENTS:
        return True  # the smtp client's internals: dropped, warnings too
    if service.endswith("smtpd"):
        # Dropped too (a queue id is remembered, a warning noted). Before "connect
        # from" it would open a stream that stays empty: nothing to see either.
        return severity is None and _QUEUE_ID.match(message) is None
    return severity is None and "status=" not in message


# After a queue id if there is one (taken as _QUEUE_ID.match takes it: the atomic
# group does not give it back), the start of an entry or nothing but blanks: one
# match for what ``_skipped`` asks first of every line.
_ENTRY_OR_BLANK = re.compile(rf"(?>(?:{_QUEUE_ID.pattern})?)(?:{_ENTRY_START.pattern}|\s*$)")

# ``_skipped`` of a line without a severity, as one match from the pid on ("1234]: "...):
# the pid (``\d+``), no severity, and for each kind of service what ``_skipped`` asks.
_PID_PLAIN = r"\d+\]: (?!(?:warning|error|fatal|panic): )"
_NO_ENTRY = rf"(?>(?:{_QUEUE_ID.pattern})?)(?!{_ENTRY_START.pattern}|\s*$)"
_SKIPPED_SMTP = re.compile(rf"{_PID_PLAIN}{_NO_ENTRY}")
_SKIPPED_SMTPD = re.compile(rf"{_PID_PLAIN}(?!{_QUEUE_ID.pattern}){_NO_ENTRY}")
_SKIPPED_ELSEWHERE = re.compile(rf"{_PID_PLAIN}(?!(?s:.*)status=){_NO_ENTRY}")


def _skips(service: str) -> Callable[[str, int], re.Match[str] | None]:
    """How to tell, from the pid on, that a line of ``service`` without a severity is
    skipped (a match) or not (None)."""
    if service in _SMTP_AGENTS:
        return _SKIPPED_SMTP.match
    return _SKIPPED_SMTPD.match if service.endswith("smtpd") else _SKIPPED_ELSEWHERE.match


# The entries that are one terminal (or a literal and the rest of the line), and how the
# grammar's transformer names them; True: the entry's text is the whole message.
# (grammar/postfix.lark's terminals, as written there)
_SESSION_END_TERMINAL = (
    r"(?:lost connection|timeout|too many errors) after [A-Z-]+(?: \(\d+ bytes\))? from .*"
)
_REJECT_PREFIX_TERMINAL = (
    r"(?:reject|reject_warning|discard|hold|redirect|filter|warn|milter-reject): [A-Z-]+"
    r"(?: [^:]*)? from [^\s\[]*\[[^\]]*\](?::\d+)?: "
)
_TLS_SUMMARY = (
    r"(?:Anonymous|Verified|Trusted|Untrusted) TLS connection (?:established|reused) (?:to|from) .*"
)
_ONE_TERMINAL: tuple[tuple[re.Pattern[str], str, bool], ...] = (
    # grammar: /to=<[^>]*>,.*\bstatus=[a-z]+.*/, the boundary asked behind the literal:
    # ``.*`` gives back only where an "s" follows (the same match: test_postfix_fast.py)
    (re.compile(r"to=<[^>]*>,.*status=(?<=\bstatus=)[a-z]+.*"), "delivery", False),
    (re.compile(r"connect from (?=.)"), "connect-from", True),
    (re.compile(r"disconnect from (?=.)"), "disconnect-from", True),
    (re.compile(r"client=(?=.)"), "client", True),
    (re.compile(_TLS_SUMMARY), "tls", False),
    (re.compile(r"connect to [^\s:]+(?::\d+)?: .*"), "connect-to", False),
    (re.compile(_SESSION_END_TERMINAL), "session-end", False),
    (re.compile(r"timeout while reading server greeting.*"), "greeting-timeout", False),
    (re.compile(r"Failed to establish session to .*"), "finger-failed", False),
)
# The first characters each of them can begin with (tests/dialects/test_postfix_fast.py
# reads them from the expressions): a message is asked only of those it can be.
_ONE_TERMINAL_FIRSTS = ("t", "c", "d", "c", "AVTU", "c", "lt", "t", "F")
_REJECT_FIRSTS = "rdhfwm"  # _REJECT_PREFIX_TERMINAL's
_one_terminal_by_first: dict[str, tuple[tuple[re.Pattern[str], str, bool], ...]] = {}


def _one_terminals(first: str) -> tuple[tuple[re.Pattern[str], str, bool], ...]:
    """The entries of ``_ONE_TERMINAL`` a message beginning with ``first`` can be, in order."""
    if not _one_terminal_by_first:
        for entry, firsts in zip(_ONE_TERMINAL, _ONE_TERMINAL_FIRSTS, strict=True):
            for char in firsts:
                _one_terminal_by_first[char] = (*_one_terminal_by_first.get(char, ()), entry)
    return _one_terminal_by_first.get(first, ())


# grammar: ``reject: REJECT_PREFIX TEXT``; the entry's text is both.
_REJECT_PREFIX = re.compile(_REJECT_PREFIX_TERMINAL)
# Every terminal an entry can begin with, but TEXT: a message that starts with none of
# them can only be TEXT, so the grammar makes it ``other``.
_ENTRY_TERMINALS = re.compile(
    "|".join(
        (
            r"to=<[^>]*>,.*\bstatus=[a-z]+",
            r"[<>] ",
            "connect from ",
            "disconnect from ",
            "client=",
            "Connected to ",
            _REJECT_PREFIX_TERMINAL,
            _SESSION_END_TERMINAL,
            _TLS_SUMMARY,
            r"connect to [^\s:]+(?::\d+)?: ",
            "Failed to establish session to ",
            "timeout while reading server greeting",
        )
    )
)
_CHAT_PREFIX = re.compile(r"[<>] (?:[^\s\[\]]*\[[^\]]*\](?::\d+)?: )?")
_REPLY_CODE = re.compile(r"[1-5][0-9][0-9](?=[ -]|$)")


# A message without a queue id that a log repeats ("connect from H[IP]", a TLS summary,
# "lost connection after RCPT from H[IP]"...): the (kind, text, peer) of its entry.
_known_entries: dict[str, tuple[str, str, str]] = {}


def _fast_entry(message: str, envelope: Envelope, line: Line) -> Entry | None:
    """``_made_entry``, the entry of a message seen before (without a queue id, not chat)
    made from what was kept of it (tests/dialects/test_postfix_fast.py)."""
    known = _known_entries.get(message)
    if known is not None:
        kind, text, peer = known
        end = line.end
        span = Span(line.number, line.number if end is None else end)
        return Entry(kind, envelope, span, text, None, None, peer)
    entry = _made_entry(message, envelope, line)
    if entry is not None and entry.queue_id is None and entry.kind[:4] != "chat":
        _remember(_known_entries, message, (entry.kind, entry.text, entry.peer))
    return entry


def _made_entry(message: str, envelope: Envelope, line: Line) -> Entry | None:
    """The entry the grammar makes of the commonest messages, made without it: verbose
    internals (``other``), chat lines, and the entries that are one terminal. None:
    ask the grammar (tests/dialects/test_postfix_fast.py proves both agree)."""
    match = _QUEUE_ID.match(message)
    queue_id = match.group(0)[:-2] if match else None
    rest = message[match.end() :] if match else message
    if not rest:
        return None
    end = line.end
    span = Span(line.number, line.number if end is None else end)  # (line.last)
    first = rest[0]
    if first in "<>" and (prefix := _CHAT_PREFIX.match(rest)) is not None:
        return _chat(prefix.group(0), rest[prefix.end() :], envelope, line, queue_id, span)
    for pattern, kind, whole in _one_terminals(first):
        found = pattern.match(rest)
        if found is not None and (whole or found.end() == len(rest)):
            text = message if whole else rest
            if kind == "connect-from":
                return Entry(kind, envelope, span, text, queue_id, peer=rest[found.end() :].strip())
            return Entry(kind, envelope, span, text, queue_id)
    if first in _REJECT_FIRSTS and (reject := _REJECT_PREFIX.match(rest)) is not None:
        return Entry("reject", envelope, span, rest, queue_id) if reject.end() < len(rest) else None
    if not _ENTRY_TERMINALS.match(rest):
        return Entry("other", envelope, span, rest, queue_id)  # only TEXT fits
    return None


def _chat(  # noqa: PLR0917 (the pieces _fast_entry has at hand)
    prefix: str, after: str, envelope: Envelope, line: Line, queue_id: str | None, span: Span
) -> Entry:
    """grammar: ``chat: CHAT_PREFIX (reply_line | TEXT)?``."""
    reply, text = None, after
    code = _REPLY_CODE.match(after)
    if code is not None:
        sep = after[3:4]
        reply = ServerLine(int(code.group(0)), sep, after[4:], span, time=envelope.time)
        text = line.text[line.text.find(prefix) + len(prefix) :]
    peer = prefix[2:].rstrip().rstrip(":")
    return Entry("chat" + prefix[0], envelope, span, text, queue_id, reply, peer)


class PostfixTransformer(LineTransformer):
    envelope: Envelope | None = None
    message: str = ""  # the log message after the envelope

    def _entry(self, kind: str, text: str, reply: ServerLine | None = None) -> Entry:
        assert self.envelope is not None
        return Entry(kind, self.envelope, self.span, text, reply=reply)

    def start(self, items: list[Any]) -> Entry | None:
        if not items:
            return None
        entry = items[-1]
        if len(items) == 2 and isinstance(items[0], str) and isinstance(entry, Entry):
            entry = replace(entry, queue_id=str(items[0])[:-2])
        return entry  # type: ignore[no-any-return]

    def delivery(self, items: list[Any]) -> Entry:
        return self._entry("delivery", str(items[0]))

    def chat(self, items: list[Any]) -> Entry:
        prefix = str(items[0])
        direction = prefix[0]
        reply = None
        text = ""
        if len(items) > 1:
            if isinstance(items[1], ServerLine):
                reply = items[1]
                text = self.line.text[self.line.text.find(prefix) + len(prefix) :]
            else:
                text = str(items[1])
        entry = self._entry("chat" + direction, text, reply=reply)
        return replace(entry, peer=prefix[2:].rstrip().rstrip(":"))

    def reply_line(self, items: list[Any]) -> ServerLine:
        return self.server_line(items, time=self.envelope.time if self.envelope else None)

    def connect_from(self, items: list[Any]) -> Entry:
        return replace(self._entry("connect-from", self.message), peer=str(items[0]).strip())

    def disconnect_from(self, items: list[Any]) -> Entry:
        return self._entry("disconnect-from", self.message)

    def reject(self, items: list[Any]) -> Entry:
        return self._entry("reject", f"{items[0]}{items[1]}")

    def session_end(self, items: list[Any]) -> Entry:
        return self._entry("session-end", str(items[0]))

    def tls_summary(self, items: list[Any]) -> Entry:
        return self._entry("tls", str(items[0]))

    def connect_to(self, items: list[Any]) -> Entry:
        return self._entry("connect-to", str(items[0]))

    def client_info(self, items: list[Any]) -> Entry:
        return self._entry("client", self.message)

    def connected_to(self, items: list[Any]) -> Entry:
        return self._entry("connected-to", str(items[0]))

    def finger_failed(self, items: list[Any]) -> Entry:
        return self._entry("finger-failed", str(items[0]))

    def greeting_timeout(self, items: list[Any]) -> Entry:
        return self._entry("greeting-timeout", str(items[0]))

    def other(self, items: list[Any]) -> Entry:
        return self._entry("other", str(items[0]))


@dataclass(slots=True)
class _Process:
    """Session bookkeeping of one Postfix process (service + pid)."""

    key: str | None = None
    chat: bool = False  # the current session has verbose chat lines
    quit: bool = False  # the client sent QUIT in the current session
    connected: bool = False  # a Connected event opened the current session
    ended: bool = False  # smtpd logged "lost connection/timeout after X"
    queue_ids: set[str] = field(default_factory=set)
    connect_failures: set[str] = field(default_factory=set)
    client: str | None = None
    helo: str | None = None


class PostfixDialect(LineDialect):
    name = "postfix"
    title = "Postfix mail log (delivery, smtpd, verbose chat) and posttls-finger"
    example = (
        "Nov 28 19:37:26 mx postfix/smtp[1234]: 4ABCDEF0123: to=<u@example.com>, "
        "relay=mx.example.com[192.0.2.10]:25, ..., status=bounced (host mx.example.com"
        "[192.0.2.10] said: 550 5.1.1 User unknown (in reply to RCPT TO command))"
    )
    grammar = "postfix"
    transformer_class = PostfixTransformer

    def prepare(self, line: Line) -> str:
        transformer = self._parser()[1]
        assert isinstance(transformer, PostfixTransformer)
        transformer.envelope, transformer.message = _envelope(line.text.rstrip("\r"))
        return transformer.message

    def _line_records(self, lines: Any, fast: bool = True) -> Iterator[Record]:
        """Records of each line. ``fast``: skip what the grammar would only turn into
        nothing (see ``_skipped``) and build the commonest entries without it (``_fast_entry``);
        tests/dialects/test_postfix_fast.py proves both ways give the same records."""
        parser, transformer = self._parser()
        assert isinstance(transformer, PostfixTransformer)
        known_programs = _known_programs
        for line in lines:
            text = line.text.rstrip("\r")
            end = text.find("]: ") + 3
            bracket = text.rfind("[", 0, end)
            known = known_programs.get(text[:bracket])
            if fast and known is not None and known[3](text, bracket + 1) is not None:
                continue  # most lines: skipped as soon as their program is known
            if not fast:  # the definition: the expression on every line
                match = _ENVELOPE.match(text)
                envelope = _envelope_of(match) if match else None
                start, was_known = (match.end() if match else 0), False
            else:
                envelope, start, was_known = _envelope_at(text, end, bracket, known)
            if envelope is not None:
                message = text[start:]
                asked = was_known and envelope.severity is None  # by known[3] above
                if fast and not asked and _skipped(envelope, message):
                    continue
            elif finger := _FINGER.match(text):
                envelope, message = _FINGER_ENVELOPE, text[finger.end() :]
            else:
                # Not a Postfix line: another daemon in a shared syslog is not
                # ours to explain; anything else is shown as not understood.
                if text.strip() and not _OTHER_DAEMON.match(text):
                    yield Unparsed(text=line.text, span=Span.of(line.number))
                continue
            if not message or message.isspace():  # (not message.strip(), without a copy)
                continue
            if fast:
                entry = _fast_entry(message, envelope, line)
                if entry is not None:
                    yield entry
                    continue
            transformer.envelope, transformer.message = envelope, message
            transformer.line = line
            try:
                result = parser.parse(message)
            except parser.errors:  # keep the line visible, never abort
                yield Unparsed(text=line.text, span=Span.of(line.number))
                continue
            if result is not None:
                yield result

    def post(self, records: Iterator[Any]) -> Iterator[Record]:
        return _Sessions().run(records)


class _Sessions:
    """Places entries into sessions and rebuilds sessions from summaries.

    Each handler appends the records an entry stands for to ``out``, and a
    StreamEnd where a stream is known to be over, in the order they happen."""

    def __init__(self) -> None:
        # Least recently heard of first; bounded: a week of logs names many pids.
        self.processes: OrderedDict[str, _Process] = OrderedDict()
        self.counter = 0
        self.out: list[Record] = []  # what the entry being placed stands for
        self.handlers: dict[str, Callable[[Entry], None]] = {}  # by service

    def _process(self, envelope: Envelope) -> _Process:
        key = f"{envelope.program}[{envelope.pid}]"
        process = self.processes.get(key)
        if process is None:
            process = self.processes[key] = _Process()
            if len(self.processes) > limits.MAX_OPEN_STREAMS:
                _name, gone = self.processes.popitem(last=False)
                if gone.key is not None:
                    self._ended(gone.key)
        else:
            self.processes.move_to_end(key)
        return process

    def _ended(self, key: str) -> None:
        """The stream is over: its session is complete (smtplog/sessions.py)."""
        self.out.append(StreamEnd(stream=key))

    def _new_key(self, envelope: Envelope, process: _Process, label: str = "") -> str:
        if process.key is not None:
            self._ended(process.key)  # a process does one conversation at a time
        self.counter += 1
        name = f"{envelope.program}[{envelope.pid}]" if envelope.pid else envelope.program
        process.key = f"{name}#{self.counter}{' ' + label if label else ''}"
        process.chat = False
        process.quit = False
        process.connected = False
        process.ended = False
        if process.queue_ids:  # (an empty one is nobody else's: kept)
            process.queue_ids = set()
        if process.connect_failures:
            process.connect_failures = set()
        process.client = None
        process.helo = None
        return process.key

    def run(self, records: Iterator[Any]) -> Iterator[Record]:
        out, handlers = self.out, self.handlers
        for record in records:
            if not isinstance(record, Entry):
                yield record
                continue
            service = record.envelope.service
            handler = handlers.get(service)
            if handler is None:
                handler = handlers[service] = self._handler(service)
            handler(record)
            if out:
                yield from out
                out.clear()

    def _handler(self, service: str) -> Callable[[Entry], None]:
        if service == "posttls-finger":
            return self._finger
        if service.endswith("smtpd"):
            return self._smtpd
        return self._smtp if service in _SMTP_AGENTS else self._other

    # -- helpers -------------------------------------------------------------

    @staticmethod
    def _note(entry: Entry, key: str | None) -> Note:
        return Note(text=entry.text, span=entry.span, time=entry.envelope.time, stream=key)

    @staticmethod
    def _chat_record(entry: Entry, key: str, server_marker: str) -> Record:
        time = entry.envelope.time
        if entry.kind == "chat" + server_marker:
            if entry.reply is not None:
                reply = entry.reply  # the entry's own, placed in its stream (entries are spent)
                reply.time, reply.stream, reply.latency = time, key, None
                return reply
            return Note(text=entry.text, span=entry.span, time=time, stream=key)
        return ClientLine(entry.text, entry.span, time=time, stream=key)

    # -- the smtp client (and lmtp, error, retry) --------------------------------

    def _smtp(self, entry: Entry) -> None:
        envelope, process = entry.envelope, self._process(entry.envelope)
        kind, out = entry.kind, self.out
        if kind in ("chat<", "chat>"):
            greeting = kind == "chat<" and entry.reply is not None and entry.reply.code == 220
            starts = process.key is None or (greeting and (process.chat or process.queue_ids))
            if not starts and process.queue_ids and not process.chat:
                starts = True  # chat after a summarised delivery: a new connection
            if starts:
                self._new_key(envelope, process)
            assert process.key is not None
            if not process.connected and entry.peer:
                process.connected = True
                out.append(
                    Connected(
                        target=entry.peer, span=entry.span, time=envelope.time, stream=process.key
                    )
                )
            process.chat = True
            if kind == "chat>" and entry.text.strip().upper() == "QUIT":
                process.quit = True
            out.append(self._chat_record(entry, process.key, "<"))
            return
        if kind in ("tls", "connect-to"):
            if process.key is None or process.queue_ids or (process.chat and process.quit):
                self._new_key(envelope, process)
            assert process.key is not None
            if kind == "tls":
                tls = _tls_event(entry, process.key)
                peer = _tls_facts(entry.text)[3]
                if not process.connected and peer is not None:
                    process.connected = True
                    out.append(
                        Connected(
                            target=peer, span=entry.span, time=envelope.time, stream=process.key
                        )
                    )
                out.append(tls)
                return
            connect_to = _connect_to(entry.text)
            error = connect_to[1] if connect_to else entry.text
            process.connect_failures.add(entry.text)
            out.append(
                ConnectFailed(
                    reason=_failure_reason(error),
                    detail=entry.text,
                    span=entry.span,
                    time=envelope.time,
                    stream=process.key,
                )
            )
            return
        if kind == "delivery":
            self._delivery(entry, process)
            return
        if process.key is not None and kind != "other":
            out.append(self._note(entry, process.key))
        # Internal debug lines of a verbose process carry no SMTP meaning.

    def _delivery(self, entry: Entry, process: _Process) -> None:
        envelope = entry.envelope
        queue_id = entry.queue_id or ""
        if process.chat and not process.quit and process.key is not None:
            # The dialogue itself is in the log: the status line is its summary.
            process.queue_ids.add(queue_id)
            self.out.append(self._note(entry, process.key))
            return
        other_delivery = bool(process.queue_ids) and queue_id not in process.queue_ids
        if process.key is None or other_delivery or (process.chat and process.quit):
            self._new_key(envelope, process, queue_id)
        key = process.key
        assert key is not None
        first = not process.connected
        process.connected = True
        process.queue_ids.add(queue_id)
        _rebuild_delivery(entry, key, first, process.connect_failures, self.out)

    # -- smtpd -----------------------------------------------------------------

    def _smtpd(self, entry: Entry) -> None:
        envelope, process = entry.envelope, self._process(entry.envelope)
        kind, time, out = entry.kind, envelope.time, self.out
        if kind == "connect-from":
            key = self._new_key(envelope, process)
            process.client = entry.peer
            out.append(Connected(target=process.client, span=entry.span, time=time, stream=key))
            return
        if process.key is None:
            self._new_key(envelope, process)
        key = process.key
        assert key is not None
        if kind in ("chat<", "chat>"):
            process.chat = True
            out.append(self._chat_record(entry, key, ">"))
            return
        if kind == "reject":
            self._reject(entry, process, key)
            return
        if kind == "session-end":
            process.ended = True
            _smtpd_end(entry, key, process.chat, out)
            return
        if kind == "disconnect-from":
            _smtpd_disconnect(entry, key, process, out)
            process.key = None
            self._ended(key)
            return
        if kind == "tls":
            out.append(_tls_event(entry, key))
            return
        if entry.queue_id is not None and entry.queue_id != "NOQUEUE":
            process.queue_ids.add(entry.queue_id)
        if kind == "other" and entry.queue_id is None and entry.envelope.severity is None:
            return  # verbose internals (smtpd_check_..., maps_find ...)
        out.append(self._note(entry, key))

    def _reject(self, entry: Entry, process: _Process, key: str) -> None:
        text, time, out = entry.text, entry.envelope.time, self.out
        if process.chat:
            out.append(self._note(entry, key))  # the reply itself is in the chat
            return
        match = _REJECT.match(text)
        if match is None or match.group("action") not in ("reject", "milter-reject"):
            out.append(self._note(entry, key))  # warn/hold/discard...: the client was not refused
            return
        reply_text, fields = _split_reject(match.group("rest"))
        values = {m.group("name"): m.group("value") for m in _KV.finditer(fields)}
        request = _smtpd_request(match.group("where"), values, entry, key)
        if request is not None:
            out.append(request)
        lines = split_joined_reply(reply_text)
        if not lines:
            out.append(ClientError(text=text, span=entry.span, time=time, stream=key))
            return
        for code, sep, line_text in lines:
            out.append(ServerLine(code, sep, line_text, entry.span, time=time, stream=key))

    # -- posttls-finger ---------------------------------------------------------

    def _finger(self, entry: Entry) -> None:
        envelope, process = entry.envelope, self._process(entry.envelope)
        kind, time, out = entry.kind, envelope.time, self.out
        if kind in ("connected-to", "finger-failed") or process.key is None:
            self._new_key(envelope, process)
        key = process.key
        assert key is not None
        if kind == "connected-to":
            out.append(Connected(target=entry.text.strip(), span=entry.span, time=time, stream=key))
        elif kind == "finger-failed":
            reason = failure_reason(entry.text)
            out.append(ConnectFailed(reason=reason, detail=entry.text, span=entry.span, stream=key))
        elif kind in ("chat<", "chat>"):
            out.append(self._chat_record(entry, key, "<"))
        elif kind == "tls":
            out.append(_tls_event(entry, key))
        elif kind == "greeting-timeout":
            waiting = "greeting"
            out.append(Timeout(waiting_for=waiting, detail=entry.text, span=entry.span, stream=key))
        else:
            out.append(self._note(entry, key))

    # -- everything else (qmgr, cleanup, pickup, bounce, local, discard...) -----

    def _other(self, entry: Entry) -> None:
        # Context for a reader, not part of any SMTP session: a stream of its
        # own keeps it out of the sessions (it has no SMTP traffic).
        if entry.envelope.severity is not None or entry.kind == "delivery":
            key = f"{entry.envelope.program}:{entry.queue_id or '-'}"
            self.out.append(self._note(entry, key))
            self._ended(key)  # nothing to wait for: it is never a session


def _tls_event(entry: Entry, key: str) -> TlsStarted:
    version, cipher, verified, _peer = _tls_facts(entry.text)
    return TlsStarted(
        version=version,
        cipher=cipher,
        verified=verified,
        detail=entry.text,
        span=entry.span,
        time=entry.envelope.time,
        stream=key,
    )


@lru_cache(maxsize=256)  # a log repeats a few TLS summaries (per peer, cipher): one parse each
def _tls_facts(text: str) -> tuple[str | None, str | None, bool | None, str | None]:
    """What a TLS summary line says: (version, cipher, verified, peer); all None if it
    is not one ``_TLS`` reads."""
    match = _TLS.search(text)
    if match is None:
        return None, None, None, None
    verified = not text.startswith(("Untrusted", "Anonymous"))
    return match.group("version"), match.group("cipher"), verified, match.group("peer")


@lru_cache(maxsize=256)  # "connect to H[IP]:25: Connection timed out", again and again
def _connect_to(text: str) -> tuple[str, str] | None:
    """``_CONNECT_TO.match(text)`` as (host, error)."""
    match = _CONNECT_TO.match(text)
    return match.group("host", "error") if match else None  # type: ignore[return-value]


# failure_reason asks a list of expressions: each error text (a few in a log) once.
_failure_reason = lru_cache(maxsize=256)(failure_reason)


def _split_reject(rest: str) -> tuple[str, str]:
    """ "554 5.7.1 <u>: Relay access denied; from=<> to=<u> proto=ESMTP" -> (reply, fields)."""
    parts = _REJECT_FIELDS.split(rest, maxsplit=1)
    if len(parts) == 2:
        return parts[0], parts[1]
    return rest, ""


def _inferred_command(verb: str, argument: str, entry: Entry, key: str) -> Event:
    if verb == ".":
        return DataEnd(span=None, time=entry.envelope.time, stream=key)
    text = f"{verb} {argument}".rstrip()
    return Command(
        verb=verb, argument=argument, text=text, span=None, time=entry.envelope.time, stream=key
    )


def _request_for(verb: str | None, recipient: str, sender: str | None, entry: Entry, key: str):  # type: ignore[no-untyped-def]
    if verb is None:
        return None
    if verb == "RCPT":
        return _inferred_command("RCPT", f"TO:{recipient}", entry, key)
    if verb == "MAIL":
        return _inferred_command("MAIL", f"FROM:{sender}" if sender else "FROM:<…>", entry, key)
    return _inferred_command(verb, "", entry, key)


def _smtpd_request(where: str, values: dict[str, str], entry: Entry, key: str) -> Event | None:
    verb = _SMTPD_WHERE.get(where)
    if verb == "EHLO":
        return _inferred_command("EHLO", values.get("helo", "").strip("<>"), entry, key)
    return _request_for(verb, values.get("to", "<…>"), values.get("from"), entry, key)


def _smtpd_end(entry: Entry, key: str, chat: bool, out: list[Record]) -> None:
    """smtpd "lost connection after X" / "timeout after X": the client went away.

    Without the chat, the command named is the last one the client sent; the
    session is taken to have stopped in its phase.
    """
    ended = _session_end(entry.text)
    time = entry.envelope.time
    kind, where = ended if ended else ("", "")
    if ended and not chat:
        verb = _SMTPD_WHERE.get(where)
        if verb not in (None, "QUIT"):
            out.append(_request_for(verb, "<…>", None, entry, key))
    if kind == "timeout":
        out.append(
            Timeout(
                waiting_for="command", detail=entry.text, span=entry.span, time=time, stream=key
            )
        )
        return
    # "after CONNECT": the client left before saying anything (a probe or a scanner).
    out.append(
        Closed(
            by="client",
            unexpected=where != "CONNECT",
            detail=entry.text,
            span=entry.span,
            time=time,
            stream=key,
        )
    )


@lru_cache(maxsize=256)  # "lost connection after RCPT from H[IP]", again and again
def _session_end(text: str) -> tuple[str, str] | None:
    """``_SESSION_END.match(text)`` as (kind, where)."""
    match = _SESSION_END.match(text)
    return match.group("kind", "where") if match else None  # type: ignore[return-value]


def _smtpd_disconnect(entry: Entry, key: str, process: _Process, out: list[Record]) -> None:
    """ "disconnect from H[IP] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5".

    Without the chat, the counters (accepted[/sent]) are the only record of a
    message accepted: data=1 with a queue id means "250 queued" was sent.
    """
    time = entry.envelope.time
    accepted = _accepted(entry.text)
    if not process.chat and accepted and process.queue_ids:
        queue_id = sorted(process.queue_ids)[-1]
        out.append(DataEnd(span=None, time=time, stream=key))
        out.append(
            Reply(
                code=250,
                lines=(f"Ok: queued as {queue_id} (a 250 reply: the log counts data={accepted})",),
                span=None,
                time=time,
                stream=key,
            )
        )
    if process.ended:  # the abnormal end is already recorded
        out.append(Note(text=entry.text, span=entry.span, time=time, stream=key))
        return
    out.append(Closed(by="client", detail=entry.text, span=entry.span, time=time, stream=key))


@lru_cache(maxsize=256)  # a log repeats a few disconnect lines (per client, per counts)
def _accepted(text: str) -> int:
    """The messages a disconnect line counts as accepted (data= and bdat=; the last of a
    name wins)."""
    counters = _counters(text)
    return sum(int(counters[n]) for n in ("data", "bdat") if n in counters)


def _counters(text: str) -> dict[str, str]:
    """``dict(_COUNTERS.findall(text))``, read word by word: where every word with an "="
    is "name=accepted[/sent]" in ASCII lower-case letters and digits, each is one match of
    the expression (which cannot span a space) and no other word holds one; any other
    word with an "=" is left to the expression (tests/dialects/test_postfix_fast.py)."""
    counters: dict[str, str] = {}
    for word in text.split(" "):
        if "=" not in word:
            continue
        name, _, value = word.partition("=")
        accepted, slash, sent = value.partition("/")
        if not (
            name.isalpha()
            and name.isascii()
            and name.islower()
            and accepted.isdigit()
            and accepted.isascii()
            and (not slash or (sent.isdigit() and sent.isascii()))
        ):
            return dict(_COUNTERS.findall(text))
        counters[name] = accepted
    return counters


def rebuild_delivery(
    entry: Entry, key: str, first: bool, connect_failures: set[str]
) -> list[Record]:
    """The events a delivery status line stands for (see the module docstring)."""
    out: list[Record] = []
    _rebuild_delivery(entry, key, first, connect_failures, out)
    return out


_SUSPENDED = "delivery temporarily suspended: "


def _rebuild_delivery(
    entry: Entry, key: str, first: bool, connect_failures: set[str], out: list[Record]
) -> None:
    """``rebuild_delivery``, appending to ``out``. The texts' expressions each begin with a
    literal: a text is asked only of those it begins like."""
    time, span = entry.envelope.time, entry.span
    status_match = _STATUS.search(entry.text)
    status = status_match.group("status") if status_match else ""
    text = (status_match.group("text") or "") if status_match else ""
    fields = _fields(entry.text)
    recipient = fields.get("to", "<…>")
    relay = fields.get("relay", "none")
    if text.startswith(_SUSPENDED):
        text = text[len(_SUSPENDED) :]
    if text.startswith("host "):
        if said := _host_said(text):
            host, reply, what = said
            _connected(first, relay, host, span, time, key, out)
            request = _request_for(_in_reply_to(what), recipient, None, entry, key)
            if request is not None:
                out.append(request)
            _reply_lines(reply, entry, key, out)
            return
        if match := _REFUSED_TO_TALK.match(text):
            _connected(first, relay, match.group("host"), span, time, key, out)
            _reply_lines(match.group("reply"), entry, key, out)  # the greeting
            return
    elif text.startswith("SASL authentication failed; server "):
        if match := _SASL.match(text):
            _connected(first, relay, match.group("host"), span, time, key, out)
            out.append(_inferred_command("AUTH", "", entry, key))
            _reply_lines(match.group("reply"), entry, key, out)
            return
    elif text.startswith("connect to "):
        if connect_to := _connect_to(text):
            host, error = connect_to
            if f"connect to {host}: {error}" in connect_failures:
                out.append(Note(text=entry.text, span=span, time=time, stream=key))
                return
            reason = _failure_reason(error)
            out.append(ConnectFailed(reason=reason, detail=text, span=span, time=time, stream=key))
            return
    elif text.startswith(("lost connection with ", "conversation with ")) and (
        (match := _LOST.match(text)) or (match := _TIMED_OUT.match(text))
    ):
        _connected(first, relay, match.group("host"), span, time, key, out)
        _interrupted(match.group("where"), text, recipient, entry, key, out)
        return
    if _names_dns_failure(text):
        out.append(ConnectFailed(reason="dns", detail=text, span=span, time=time, stream=key))
        return
    if status == "sent" and _REPLY_START.match(text):
        _connected(first, relay, relay, span, time, key, out)
        out.append(DataEnd(span=None, time=time, stream=key))
        _reply_lines(text, entry, key, out)
        return
    if status in ("bounced", "deferred", "expired", "undeliverable"):
        # The smtp client's own decision ("message size N exceeds size limit N of
        # server H", "mail for H loops back to myself"...).
        if relay not in ("none", ""):
            _connected(first, relay, relay, span, time, key, out)
        error = f"status={status} ({text})"
        out.append(ClientError(text=error, span=span, time=time, stream=key))
        return
    out.append(Note(text=entry.text, span=span, time=time, stream=key))


_IN_REPLY = " (in reply to "


def _host_said(text: str) -> tuple[str, str, str] | None:
    """``_SAID.match(text)`` as (host, reply, what), read with ``find``: the host is all up
    to the first " said: " if it has no white space (``\\S+``), the reply (lazy) ends at the
    first " (in reply to " after it, and what follows, up to a final ")", must not be
    empty. A text with a line break (where ``.`` and ``$`` differ) is left to the
    expression (tests/dialects/test_postfix_fast.py)."""
    if "\n" in text:
        match = _SAID.match(text)
        return match.group("host", "reply", "what") if match else None  # type: ignore[return-value]
    said = text.find(" said: ", 5)
    host = text[5:said]
    if said < 0 or not text.startswith("host ") or host.split() != [host]:
        return None
    after = said + 7
    in_reply = text.find(_IN_REPLY, after)
    what = text[in_reply + len(_IN_REPLY) : -1]
    if in_reply < 0 or not what or not text.endswith(")"):
        return None
    return host, text[after:in_reply], what


_DNS_FAILURES = ("host or domain name not found", "name service error", "host not found")


def _names_dns_failure(text: str) -> bool:
    """``_DNS.search(text)``: on ASCII text, case-insensitive is a lower-cased ``in`` (one
    pass of ``lower`` instead of a case-folding search at every position); other text is
    searched by the expression (tests/dialects/test_postfix_fast.py)."""
    if not text.isascii():
        return _DNS.search(text) is not None
    lowered = text.lower()
    return any(failure in lowered for failure in _DNS_FAILURES)


def _connected(  # noqa: PLR0917
    first: bool, relay: str, host: str, span: Span, time: float | None, key: str, out: list[Record]
) -> None:
    """The connection a delivery's first status line stands for: to the relay, if named."""
    if first:
        target = relay if relay not in ("none", "") else host
        out.append(Connected(target=target, span=span, time=time, stream=key))


def _fields(text: str) -> dict[str, str]:
    """The to=, orig_to=, relay= and dsn= fields of a status line: the last of a name wins."""
    return {
        to or orig_to or relay or dsn: value
        for to, orig_to, relay, dsn, value in _FIELD.findall(text)
    }


@lru_cache(maxsize=256)  # "RCPT TO command", "end of DATA command"...: a few in a log
def _in_reply_to(what: str) -> str | None:
    """The request "(in reply to X)" names: the first of ``_IN_REPLY_TO`` that X begins with."""
    match = _IN_REPLY_TO_ANY.match(what)
    return _IN_REPLY_TO[int(match.lastgroup[1:])][1] if match and match.lastgroup else None


def _interrupted(  # noqa: PLR0917
    where: str, text: str, recipient: str, entry: Entry, key: str, out: list[Record]
) -> None:
    """ "lost connection with H while X" / "conversation with H timed out while X"."""
    time, span = entry.envelope.time, entry.span
    verb = next((v for p, v in _WHILE if p.search(where)), None)
    request = _request_for(verb, recipient, None, entry, key)
    if request is not None:
        out.append(request)
    if text.startswith("conversation with"):
        out.append(Timeout(waiting_for="reply", detail=text, span=span, time=time, stream=key))
    else:
        closed = Closed(by="server", unexpected=True, detail=text, span=span, time=time, stream=key)
        out.append(closed)


def _reply_lines(reply: str, entry: Entry, key: str, out: list[Record]) -> None:
    lines = split_joined_reply(reply)
    time, span = entry.envelope.time, entry.span
    if not lines:
        out.append(ClientError(text=reply, span=span, time=time, stream=key))
        return
    for code, sep, text in lines:
        out.append(ServerLine(code, sep, text, span, time=time, stream=key))
