"""The Postfix dialect's fast paths give exactly what the grammar gives.

A mail.log is mostly lines the dialect explains with nothing (qmgr, cleanup,
pickup...) and verbose internals; the dialect skips the first and builds the
grammar's ``other`` entry for the second without parsing (smtplog/dialects/
postfix.py: ``_skips``, ``_skipped``, ``_fast_entry``). The grammar stays the definition: every
real sample, and lines built to sit on each edge of the fast paths, must come
out the same both ways.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from smtplog.assemble import assemble
from smtplog.dialects import get
from smtplog.dialects.base import LineDialect
from smtplog.source import Line, source_from_text

SAMPLES = Path(__file__).resolve().parent.parent.parent / "samples"
ENVELOPE = "Nov 28 20:46:41 out "

# Each on an edge of a fast path: the same text from an SMTP service and from another one.
EDGE_MESSAGES = [
    "6BCDD216004: removed",
    "6BCDD216004: ",  # a bare queue id: the grammar refuses it (Unparsed)
    "6BCDD216004:",
    "NOQUEUE: reject: RCPT from x[192.0.2.1]: 554 5.7.1 <a@b>: Relay access denied; from=<> to=<a@b> proto=ESMTP helo=<x>",
    "6BCDD216004: to=<a@b>, relay=none, delay=0, dsn=2.0.0, status=sent (delivered to mailbox)",
    "6BCDD216004: to=<a@b>, relay=mx[192.0.2.1]:25, dsn=5.1.1, status=bounced (host mx[192.0.2.1] said: 550 5.1.1 no (in reply to RCPT TO command))",
    "status=sent without a recipient",
    "warning: hostname x does not resolve to address 192.0.2.1",
    "connect from x[192.0.2.1]",
    "connect to x[192.0.2.1]:25: Connection refused",
    "connectionless thing",
    "disconnect from x[192.0.2.1] ehlo=1 quit=1 commands=2",
    "lost connection after RCPT from x[192.0.2.1]",
    "lost connection with x[192.0.2.1] while sending RCPT TO",
    "timeout after DATA from x[192.0.2.1]",
    "timeout while reading server greeting",
    "too many errors after RCPT from x[192.0.2.1]",
    "Untrusted TLS connection established to x[192.0.2.1]:25: TLSv1.3 with cipher X (256/256 bits)",
    "Anonymous TLS connection established from x[192.0.2.1]: TLSv1.3 with cipher X",
    "Trusted-ish words",
    "client=x[192.0.2.1]",
    "Connected to x[192.0.2.1]:25",
    "Failed to establish session to x",
    "> x[192.0.2.1]:25: EHLO out.example.test",
    "< x[192.0.2.1]:25: 250-PIPELINING",
    "< x[192.0.2.1]:25: 250 8BITMIME",
    ">no space after the marker",
    "reject_warning: RCPT from x[192.0.2.1]: 450 4.1.1 <a@b>: nope; from=<> to=<a@b>",
    "hold: header Subject: x from x[192.0.2.1]; from=<a@b> to=<c@d>",
    "warn: something",
    "filtered words",
    "milter-reject: END-OF-MESSAGE from x[192.0.2.1]: 5.7.1 Spam; from=<a@b> to=<c@d>",
    "redirect: x",
    "connect to subsystem private/defer",
    "connect to x[192.0.2.1]:25 no colon",
    "reject_unauth_destination: localhost[127.0.0.1]",
    "reject: RCPT from x[192.0.2.1]: ",
    "reject: RCPT from x[192.0.2.1]: 554 5.7.1 nope",
    "reject_warning: RCPT from x[192.0.2.1]: 450 4.1.1 nope",
    "milter-reject: END-OF-MESSAGE from x[192.0.2.1]:25: 5.7.1 Spam",
    "discard: RCPT from x[192.0.2.1]: <a@b>: discarded",
    "lost connection after END-OF-MESSAGE (1234 bytes) from x[192.0.2.1]",
    "lost connection after",
    "too many errors after DATA from x[192.0.2.1]",
    "timeout after RCPT from",
    "timeout while reading server greeting",
    "timeout while reading server greeting from x",
    "Failed to establish session to x via y: z",
    "Failed to establish",
    "Connected to x[192.0.2.1]:25",
    "Connected to ",
    "connect from ",
    "disconnect from",
    "client=",
    "to=<a@b>, status=",
    "to=<a@b>, relay=none, status=sent",
    "< ",
    ">",
    "filter",
    "holding: nothing",
    "warnings: many",
    "discard: RCPT from x[192.0.2.1]: <a@b>: Recipient address triggers DISCARD action; from=<> to=<a@b>",
    "match_list_match: localhost: no match",
    "ABCDEFABCDEF12: message-id=<x@y>",
    "abcdefghijklmnop: long lowercase queue id",
    "to=<a@b> without status",
    "  leading spaces",
    "\t",
    "smtp_stream_setup: maxtime=300 enable_deadline=0",
    "Untrusted TLS connection foo",
    "Verified TLS connection reused from x[192.0.2.1]: TLSv1.2 with cipher Y",
    "connect from ",
    "client=",
    "disconnect from",
    "connect to x: ",
    "connect to x:25 no colon space",
    "to=<a@b>, status=",
    "to=<a@b>,status=sent",
    "< 250",
    "< 250-",
    "< 250 ",
    "> 250x",
    "< ",
    "<  220 double space",
    "< x[192.0.2.1]:25: 221 2.0.0 Bye",
    "> x[192.0.2.1]:25: QUIT",
    "> x[192.0.2.1]: ",
    "< 999 not a reply code",
    "< 220-teaser",
    "ABCDE12345: > x[192.0.2.1]:25: RCPT TO:<a@b>",
    "ABCDE12345: connect from x[192.0.2.1]",
    "NOQUEUE: client=x[192.0.2.1]",
]
SERVICES = [
    "postfix/smtp[100]",
    "postfix/smtpd[101]",
    "postfix/submission/smtpd[102]",
    "postfix/lmtp[103]",
    "postfix/qmgr[104]",
    "postfix/cleanup[105]",
    "postfix/discard[106]",
    "postfix/local[107]",
    "postfix/postscreen[108]",
]
SEVERITIES = ["", "warning: ", "fatal: "]


def _records(lines: list[Line], fast: bool) -> list[object]:
    """The events, their streams named by order of appearance (a stream the fast path
    does not open, because it would stay empty, shifts the dialect's numbering)."""
    dialect = get("postfix")
    records = dialect._line_records(lines, fast=fast)  # type: ignore[attr-defined]
    names: dict[str | None, str | None] = {None: None}
    out = []
    for event in assemble(dialect.post(records)):
        names.setdefault(event.stream, f"stream-{len(names)}")
        out.append(replace(event, stream=names[event.stream]))
    return out


def _edge_text() -> str:
    rows = [
        f"{ENVELOPE}{service}: {severity}{message}"
        for service in SERVICES
        for severity in SEVERITIES
        for message in EDGE_MESSAGES
    ]
    rows += [f"posttls-finger: {message}" for message in EDGE_MESSAGES]
    rows += ["Nov 28 20:46:41 out sshd[12]: Accepted publickey", "free text"]
    return "\n".join(rows) + "\n"


@pytest.mark.parametrize(
    "path", sorted(p.name for p in (SAMPLES / "postfix").iterdir()), ids=lambda name: name
)
def test_every_sample_reads_the_same_both_ways(path: str) -> None:
    source = source_from_text((SAMPLES / "postfix" / path).read_text(), path)
    assert _records(source.lines, fast=True) == _records(source.lines, fast=False)


def test_lines_on_the_edges_of_the_fast_paths_read_the_same_both_ways() -> None:
    source = source_from_text(_edge_text(), "edges")
    fast, slow = _records(source.lines, fast=True), _records(source.lines, fast=False)
    assert fast == slow
    assert len(slow) > 100  # the edges do produce events: the comparison is not empty


def test_the_fast_path_parses_only_what_matters(monkeypatch: pytest.MonkeyPatch) -> None:
    """Other daemons' lines, verbose internals and the common entries never reach the
    grammar: a verbose smtpd log is read without it (the tests above prove it equal)."""
    dialect = get("postfix")
    parser, transformer = dialect._parser()  # type: ignore[attr-defined]
    calls = []
    original = parser.parse

    def counting(text: str):  # type: ignore[no-untyped-def]
        calls.append(text)
        return original(text)

    text = (SAMPLES / "postfix" / "verbose-smtpd.txt").read_text()
    lines = source_from_text(text, "v").lines
    parsers = {
        **LineDialect._parsers,
        type(dialect): (parser._replace(parse=counting), transformer),
    }
    monkeypatch.setattr(LineDialect, "_parsers", parsers)
    list(dialect.post(dialect._line_records(lines, fast=True)))  # type: ignore[attr-defined]
    assert len(lines) > 100
    assert calls == []


# -- the envelope, parsed once per distinct prefix -----------------------------------------------

ENVELOPE_EDGES = [
    "Nov 28 20:46:41 out postfix/smtp[31105]: 6BCDD216004: removed",
    "Nov 28 20:46:41 out postfix/smtp[31105]: warning: no such thing",
    "Nov 28 20:46:41 out postfix/smtp[31105]: warning:no space",
    "Nov 28 20:46:41 out postfix/smtp[31105]: panic: x",
    "Nov 28 20:46:41 out postfix/smtp[31105]:",
    "Nov 28 20:46:41 out postfix/smtp[31105]: ",
    "2026-11-28T20:46:41.123+01:00 out postfix/submission/smtpd[7]: connect from x[192.0.2.1]",
    "postfix/smtp[31105]: journalctl -o cat",
    "Nov 28 20:46:41 out sshd[31105]: Accepted key for root",
    "Nov 28 20:46:41 out postfix/smtp[31105] no colon",
    "Nov 28 20:46:41 out postfix/smtp[x]: bad pid",
    "Nov 28 20:46:41 host]: postfix/smtp[1]: a host that ends like an envelope",
    "Nov 28 20:46:41 out postfix/smtp[1]: < x[192.0.2.1]:25: 250 ok]: again",
    "postfix/smtp[1]: fatal: ]: inside",
]


@pytest.mark.parametrize(
    "text",
    ENVELOPE_EDGES
    + [
        line
        for path in sorted((SAMPLES / "postfix").glob("*.txt"))
        for line in path.read_text(errors="replace").splitlines()
    ],
)
def test_the_cached_envelope_is_the_expressions(text: str) -> None:
    from smtplog.dialects import postfix

    for _twice in range(2):  # parsed, then from the cache
        envelope, start = postfix._parse_envelope(text)
        match = postfix._ENVELOPE.match(text)
        if match is None:
            assert envelope is None
            continue
        assert envelope == postfix._envelope_of(match)
        assert start == match.end()


def test_the_envelope_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from smtplog.dialects import postfix

    monkeypatch.setattr(postfix, "MAX_KNOWN_PREFIXES", 10)
    for cache in ("_known_programs", "_known_names", "_known_stamps"):
        monkeypatch.setattr(postfix, cache, {})
    for pid in range(100):
        stamp, host = f"Nov 28 20:{pid // 60:02}:{pid % 60:02}", f"out{pid % 13}"
        envelope, _start = postfix._parse_envelope(f"{stamp} {host} postfix/smtp[{pid}]: x")
        assert envelope is not None and envelope.pid == str(pid)
        assert len(postfix._known_programs) <= 10
        assert len(postfix._known_names) <= 10
        assert len(postfix._known_stamps) <= 10


STAMPS = [
    "Nov 28 20:46:41",
    "Nov  5 20:46:41",
    "Nov 05 20:46:41",
    "Nov 5 20:46:41",
    "Nov 28 20:46:41.123",
    "Nov 28 20:46:4",
    "Nov 28 20:46:41x",
    "nov 28 20:46:41",
    "2026-11-28T20:46:41",
    "2026-11-28T20:46:41.123456+01:00",
    "2026-11-28 20:46:41Z",
    "2026-11-28T20:46:41Z.",
    "",
]
RESTS = [
    " out postfix/smtp[31105]: ",
    "  out  postfix/submission/smtpd[7]: warning: ",
    " out postfix/smtp[31105]:",
    " postfix/smtp[1]: ",
    " out sshd[1]: ",
    ".5 out postfix/smtp[2]: ",
    "\tout\tpostfix/qmgr[3]: ",
    "out postfix/smtp[4]: ",
]


def test_known_stamps_and_rests_combine_as_the_expression_does() -> None:
    """A stamp seen in one line and a process seen in another make an envelope that
    was never parsed: it must be what the expression finds in that line."""
    from smtplog.dialects import postfix

    lines = [f"{stamp}{rest}x" for stamp in STAMPS for rest in RESTS]
    for _round in range(2):  # parsed (and remembered), then from what was remembered
        for text in lines:
            envelope, start = postfix._parse_envelope(text)
            match = postfix._ENVELOPE.match(text)
            assert (envelope is None) == (match is None), text
            if match is not None:
                assert envelope == postfix._envelope_of(match), text
                assert start == match.end(), text
        lines.reverse()
        postfix._known_programs.clear()  # now every line is made of known parts


HOSTS = [" out ", "  out\t", " o[u]t ", " x]:y ", " ", " out postfix/smtp[1]: "]
PROGRAMS = ["postfix/smtp", "postfix/submission/smtpd", "postfix-2/qmgr", "postfix", "sshd"]
TAILS = ["]: x", "]: warning: x", "]:", "]: ", "]]: x", "] : x"]


@given(
    st.sampled_from(STAMPS),
    st.sampled_from(HOSTS),
    st.sampled_from(PROGRAMS),
    st.text(alphabet="01\u0663\u00b2x[]: ", max_size=4),
    st.sampled_from(TAILS),
)
@example("Nov 28 20:46:41", " out ", "postfix/smtp", "\u0663", "]: x")  # a decimal digit, not ASCII
@example("Nov 28 20:46:41", " out ", "postfix/smtp", "\u00b2", "]: x")  # a digit, not decimal
def test_a_known_stamp_host_and_program_with_any_pid_read_as_the_expression(
    stamp: str, host: str, program: str, pid: str, tail: str
) -> None:
    """A line made of a stamp and a host and program seen before, and a pid never seen:
    its envelope is composed, and must be what the expression finds in it."""
    from smtplog.dialects import postfix

    postfix._parse_envelope(f"{stamp}{host}{program}[1]: seen")  # remembers the parts
    postfix._known_programs.clear()
    text = f"{stamp}{host}{program}[{pid}{tail}"
    for _twice in range(2):  # composed (and remembered), then from what was remembered
        envelope, start = postfix._parse_envelope(text)
        match = postfix._ENVELOPE.match(text)
        assert (envelope is None) == (match is None)
        if match is not None:
            assert envelope == postfix._envelope_of(match)
            assert start == match.end()


@given(st.text())
@example("\u0663\u0664")
@example("\u00b2")
def test_a_decimal_pid_is_what_the_expression_calls_digits(pid: str) -> None:
    assert pid.isdecimal() == (re.fullmatch(r"\d+", pid) is not None)


def _skipped_by_definition(envelope: object, message: str) -> bool:
    """``_skipped`` as first written: the queue id, then the rest, asked apart."""
    from smtplog.dialects import postfix

    service, severity = envelope.service, envelope.severity  # type: ignore[attr-defined]
    queue_id = postfix._QUEUE_ID.match(message)
    rest = message[queue_id.end() :] if queue_id else message
    if not rest.strip() or postfix._ENTRY_START.match(rest):
        return False
    if service in postfix._SMTP_AGENTS:
        return True
    if service.endswith("smtpd"):
        return queue_id is None and severity is None
    return severity is None and "status=" not in message


_MESSAGE_PARTS = [
    "6BCDD216004: ",
    "NOQUEUE: ",
    "rejectrejectx: ",
    "ABCDEF0123456789ab: ",
    "12345:",
    "connect from x",
    "reject: RCPT",
    "smtp_stream_setup: maxtime=300",
    "status=sent",
    "to=<a@b>, ",
    "< x[1]: 250 ok",
    " ",
    "\t\n",
    "\u00a0",
    "warn",
    "",
]


@given(
    st.lists(st.sampled_from(_MESSAGE_PARTS), max_size=4).map("".join),
    st.sampled_from(["smtp", "smtpd", "submission/smtpd", "qmgr", "lmtp", "cleanup"]),
    st.sampled_from([None, "warning", "fatal"]),
)
@example("rejectrejectx: smtp_stream_setup: x", "smtp", None)  # the queue id is not given back
@example("6BCDD216004: \u00a0", "qmgr", None)
def test_skipping_asks_what_the_definition_asks(
    message: str, service: str, severity: str | None
) -> None:
    from smtplog.dialects import postfix

    envelope = postfix.Envelope(service, f"postfix/{service}", "1", None, severity)
    assert postfix._skipped(envelope, message) == _skipped_by_definition(envelope, message)


@given(
    st.lists(st.sampled_from(_MESSAGE_PARTS), max_size=4).map("".join),
    st.sampled_from(["smtp", "smtpd", "submission/smtpd", "qmgr", "lmtp", "cleanup", "error"]),
    st.sampled_from(["", "warning: ", "error: ", "panic: ", "fatal:", "warnings: "]),
    st.sampled_from(["1234", "0", "", "12x", "\u0663", "\u00b2"]),
)
@example("6BCDD216004: status=sent", "qmgr", "", "1")
@example("smtp_stream_setup: \nstatus=sent", "qmgr", "", "1")
def test_skipping_from_the_pid_on_asks_what_skipping_asks(
    message: str, service: str, severity: str, pid: str
) -> None:
    """``_skips(service)``, from the pid on, matches a line exactly when it has a pid and no
    severity and ``_skipped`` skips it."""
    from smtplog.dialects import postfix

    before = f"Nov 28 20:46:41 out postfix/{service}["
    text = f"{before}{pid}]: {severity}{message}"
    skips = postfix._skips(service)(text, len(before)) is not None
    envelope = postfix.Envelope(service, f"postfix/{service}", pid, None)
    plain = re.fullmatch(r"\d+", pid) is not None and severity in ("", "fatal:", "warnings: ")
    assert skips == (plain and postfix._skipped(envelope, severity + message))


_FIELD_TEXTS = [
    "to=<a@b>, orig_to=<c@d>, relay=mx[192.0.2.1]:25, delay=1, dsn=2.0.0, status=sent (ok)",
    "to=<a@b>, relay=none, status=bounced (host x said: 550 to=<z> relay=q (in reply to RCPT))",
    "to=<a to=b>, relay=, dsn=",
    "orig_to=<x>,to=<y>,relay=z",
    "disconnect from x[192.0.2.1] ehlo=1 mail=1/2 rcpt=0/1 data=1 data=2/3 bdat=4 commands=5/7",
    "",
]


# The expressions as first written (and as the grammar's DELIVERY terminal is written).
STATUS_DEFINITION = re.compile(r"\bstatus=(?P<status>[a-z]+)(?: \((?P<text>.*)\))?\s*$")
FIELD_DEFINITION = re.compile(r"\b(?P<name>to|orig_to|relay|dsn)=(?P<value><[^>]*>|[^,\s]*)")
DELIVERY_DEFINITION = re.compile(r"to=<[^>]*>,.*\bstatus=[a-z]+.*")
_STATUS_PARTS = [
    *_FIELD_TEXTS,
    " ",
    ",",
    "x",
    "_to=<q>",
    "to=<",
    ">",
    "status=",
    "status=sent",
    "xstatus=sent",
    "_status=bounced",
    "é",
    "\n",
    "(",
    ")",
    "sent",
    "Status=x",
    "status=s\u017f",
]
_status_texts = st.lists(st.sampled_from(_STATUS_PARTS), max_size=6).map("".join)


@given(_status_texts)
@example("to=<a>,x status=ok\nstatus=bounced (no)")
@example("to=<a>, xstatus=sent y_status=deferred (later) ")
def test_fields_and_counters_read_as_the_definition_reads_them(text: str) -> None:
    """``_fields`` in rebuild_delivery and ``dict(findall)`` in _smtpd_disconnect: the last
    of a name wins, as in the first written {name: value for each match}."""
    from smtplog.dialects import postfix

    fields = {m.group("name"): m.group("value") for m in FIELD_DEFINITION.finditer(text)}
    assert postfix._fields(text) == fields
    counters = re.compile(r"\b(?P<name>[a-z]+)=(?P<ok>\d+)(?:/(?P<total>\d+))?")
    expected = {m.group("name"): m.group("ok") for m in counters.finditer(text)}
    assert dict(postfix._COUNTERS.findall(text)) == expected


@given(_status_texts)
@example("to=<a>,x status=ok\nstatus=bounced (no)")
@example("to=<a>, xstatus=sent y_status=deferred (later) ")
@example("to=<a>, status=sent (ok) status=bounced (no) ")
def test_status_and_delivery_read_as_the_definitions_read_them(text: str) -> None:
    """The status of a line, and whether the grammar's DELIVERY takes it and how far, as the
    expressions first written (the word boundary before "status" asked first) say."""
    from smtplog.dialects import postfix

    status, expected = postfix._STATUS.search(text), STATUS_DEFINITION.search(text)
    assert (status is None) == (expected is None)
    if status is not None and expected is not None:
        assert status.group("status", "text") == expected.group("status", "text")
    delivery = postfix._ONE_TERMINAL[0][0].match(text)
    expected = DELIVERY_DEFINITION.match(text)
    assert (delivery and delivery.end()) == (expected and expected.end())


def _first_characters(tree: Any) -> set[str]:
    """The characters a match of the parsed expression ``tree`` can begin with; an error
    for anything this test does not read (so a changed expression is looked at again)."""
    op, value = tree[0]
    name = str(op)
    if name == "LITERAL":
        return {chr(value)}
    if name == "SUBPATTERN":  # a group: (group, add flags, del flags, its tree)
        return _first_characters(value[3])
    if name == "BRANCH":
        return set().union(*(_first_characters(branch) for branch in value[1]))
    if name == "IN" and all(str(kind) == "LITERAL" for kind, _ in value):
        return {chr(char) for _, char in value}
    raise AssertionError(f"{name} {value}: not read by this test")


def test_each_entry_is_asked_of_the_messages_that_can_begin_it() -> None:
    """``_fast_entry`` asks an expression only of a message that begins with one of the
    characters it lists for it: they are the expression's own first characters."""
    from re import _parser  # type: ignore[attr-defined]  # the expressions' syntax trees

    from smtplog.dialects import postfix

    for (pattern, kind, _whole), firsts in zip(
        postfix._ONE_TERMINAL, postfix._ONE_TERMINAL_FIRSTS, strict=True
    ):
        assert set(firsts) == _first_characters(_parser.parse(pattern.pattern)), kind
    reject = _first_characters(_parser.parse(postfix._REJECT_PREFIX.pattern))
    assert set(postfix._REJECT_FIRSTS) == reject
    assert set("<>") == _first_characters(_parser.parse(postfix._CHAT_PREFIX.pattern))


def test_status_texts_are_asked_only_of_the_expressions_they_begin_like() -> None:
    """rebuild_delivery asks a status text an expression only when the text begins with
    the literal the expression begins with."""
    from smtplog.dialects import postfix

    dispatched = {
        postfix._SAID: "host ",
        postfix._REFUSED_TO_TALK: "host ",
        postfix._SASL: "SASL authentication failed; server ",
        postfix._CONNECT_TO: "connect to ",
        postfix._LOST: "lost connection with ",
        postfix._TIMED_OUT: "conversation with ",
    }
    for pattern, literal in dispatched.items():
        assert pattern.pattern.startswith("^" + literal), pattern.pattern
        assert re.escape(literal) == literal.replace(" ", "\\ ")  # nothing in it is special


_REPLY_TO_PARTS = ["end of ", "DATA", "data", " command", "RCPT TO", "rcpt to", "MAIL FROM"]
_REPLY_TO_PARTS += ["EHLO", "helo", "LHLO", "STARTTLS", "AUTH", "BDAT", "QUIT", "RSET", "x"]
_REPLY_TO_PARTS += ["XFORWARD", "XCLIENT", " ", "\u0131", "\u017f"]


@given(st.lists(st.sampled_from(_REPLY_TO_PARTS), max_size=4).map("".join))
@example("starttls")
@example("helo x")
def test_in_reply_to_reads_the_table_in_order(what: str) -> None:
    from smtplog.dialects import postfix

    expected = next((verb for p, verb in postfix._IN_REPLY_TO if p.search(what)), None)
    assert postfix._in_reply_to(what) == expected


def test_lines_like_a_known_program_but_not_an_envelope_read_the_same_both_ways() -> None:
    """The fast path looks a line's program up by what comes before its last "[" (or before
    its last character when there is none): lines that begin like a known one but have no
    pid, a pid that is not one, or no "]: " must read as the expression says."""
    known = "Nov 28 20:46:41 out postfix/smtp"
    text = "\n".join(
        [
            f"{known}[1]: smtp_stream_setup: x",  # the program becomes known
            f"{known}X",
            f"{known}[",
            f"{known}[2]",
            f"{known}[2]:x",
            f"{known}[x]: smtp_stream_setup: x",
            f"{known}[]: smtp_stream_setup: x",
            f"{known}[\u0663]: smtp_stream_setup: x",
            f"{known}[2]: warning: smtp_stream_setup: x",
            f"{known}[2]: to=<a@b>, relay=none, status=sent (ok)",
            "2026-11-28T20:46:41 out postfix/qmgr[3]: 6BCDD216004: removed",
            "2026-11-28T20:46:41 out postfix/qmgrX",
        ]
    )
    source = source_from_text(text + "\n", "like")
    fast, slow = _records(source.lines, fast=True), _records(source.lines, fast=False)
    assert fast == slow
    assert len(slow) >= 2


_DNS_PARTS = [
    "Host or domain name not found",
    "host OR DOMAIN name not FOUND",
    "Name service error",
    "NAME SERVICE ERROR",
    "Host not found",
    "hoſt not found",  # U+017F: case-folds to "s" under re.I
    "\u212aey",  # KELVIN SIGN: case-folds to "k"
    "Host not foun",
    "Host ",
    "not found",
    "Name service",
    " error",
    "é",
    "\n",
    "250 2.0.0 Ok: queued as 4F2",
    " ",
]


@given(st.lists(st.sampled_from(_DNS_PARTS), max_size=5).map("".join))
@example("Host or domain name not found. Name service error for name=x type=MX")
def test_a_dns_failure_is_named_as_the_expression_says(text: str) -> None:
    from smtplog.dialects import postfix

    assert postfix._names_dns_failure(text) == (postfix._DNS.search(text) is not None)


_COUNTER_PARTS = [
    "disconnect from localhost[127.0.0.1]",
    " ehlo=1",
    " data=1",
    " data=0/1",
    " bdat=2/3",
    " commands=5/6",
    " data=1=2",
    " data=1/2/3",
    "x=1",
    "_data=1",
    "Data=1",
    "data=",
    "=1",
    "/",
    "\u0663",  # a decimal digit, not ASCII
    "\u00b2",  # a digit, not decimal
    "é",
    "\t",
    "\n",
    " ",
    "h=1[",
]


@given(st.lists(st.sampled_from(_COUNTER_PARTS), max_size=7).map("".join))
@example("disconnect from localhost[127.0.0.1] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5")
@example("disconnect from x[1] data=1 data=2/3 rcpt=0/1 commands=2/4")
def test_disconnect_counters_read_as_the_expression_finds_them(text: str) -> None:
    from smtplog.dialects import postfix

    assert postfix._counters(text) == dict(postfix._COUNTERS.findall(text))


_SAID_PARTS = [
    "host ",
    "mx.example.test[192.0.2.1]",
    " said: ",
    "550 5.1.1 <a@b>: Recipient address rejected",
    " (in reply to ",
    "RCPT TO command",
    "end of DATA command",
    ")",
    "(",
    " ",
    "\t",
    "\n",
    "\u00a0",  # white space to \\S, not ASCII
    "é",
    "said:",
    "x",
]


@given(st.lists(st.sampled_from(_SAID_PARTS), max_size=9).map("".join))
@example("host h[1] said: 550 no (in reply to RCPT TO command)")
@example("host h[1] said: 550 a (in reply to b) (in reply to RCPT TO command)")
@example("host h[1] said: 550 a (in reply to )")
@example("host h[1] said: 550 a (in reply to ))")
@example("host h[1] said:  (in reply to x)")
@example("host h[1] said: 550 a (in reply to x)\n")
@example("host h said: x said: 550 a (in reply to x)")
@example("host  said: 550 a (in reply to x)")
def test_host_said_reads_as_the_expression(text: str) -> None:
    from smtplog.dialects import postfix

    match = postfix._SAID.match(text)
    expected = match.group("host", "reply", "what") if match else None
    assert postfix._host_said(text) == expected


# -- what a text says, read once per distinct text (lru_cache) ---------------------------------
# Each cached reader is the expression it stands for, on any text, the first time (reading)
# and the next (from the cache).

_TLS_PARTS = [
    "Untrusted ",
    "Anonymous ",
    "Verified ",
    "Trusted ",
    "TLS connection established to ",
    "TLS connection reused from ",
    "127.0.0.1[127.0.0.1]:2525",
    ":",
    " ",
    "TLSv1.3",
    " with cipher ",
    "TLS_AES_256_GCM_SHA384",
    " (256/256 bits)",
    "\n",
    "\u00a0",
    "x",
]


@given(st.lists(st.sampled_from(_TLS_PARTS), max_size=9).map("".join))
@example(
    "Untrusted TLS connection established to 127.0.0.1[127.0.0.1]:2525: TLSv1.3 with cipher "
    "TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS"
)
@example("Verified TLS connection reused from x[1]: TLSv1.2 with cipher Y")
def test_tls_facts_read_as_the_expression(text: str) -> None:
    from smtplog.dialects import postfix

    match = postfix._TLS.search(text)
    expected = (
        (None, None, None, None)
        if match is None
        else (
            match.group("version"),
            match.group("cipher"),
            not text.startswith(("Untrusted", "Anonymous")),
            match.group("peer"),
        )
    )
    assert postfix._tls_facts(text) == expected
    assert postfix._tls_facts(text) == expected


@given(st.lists(st.sampled_from(_COUNTER_PARTS), max_size=7).map("".join))
@example("disconnect from localhost[127.0.0.1] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5")
@example("disconnect from x[1] data=1 bdat=2/3 data=4 commands=2/4")
def test_accepted_counts_as_the_expression_finds_them(text: str) -> None:
    from smtplog.dialects import postfix

    counters = dict(postfix._COUNTERS.findall(text))
    expected = sum(int(counters[name]) for name in ("data", "bdat") if name in counters)
    assert postfix._accepted(text) == expected
    assert postfix._accepted(text) == expected


_END_PARTS = [
    "lost connection",
    "timeout",
    "too many errors",
    "connect to ",
    " after ",
    "RCPT",
    "END-OF-MESSAGE",
    " (1234 bytes)",
    " from ",
    "x[192.0.2.1]",
    ":25",
    ": ",
    "Connection refused",
    "\n",
    " ",
    "\u00a0",
]


@given(st.lists(st.sampled_from(_END_PARTS), max_size=8).map("".join))
@example("lost connection after RCPT from localhost[127.0.0.1]")
@example("connect to 127.0.0.1[127.0.0.1]:2526: Connection refused")
def test_session_ends_and_connect_failures_read_as_the_expressions(text: str) -> None:
    from smtplog.dialects import base, postfix

    end = postfix._SESSION_END.match(text)
    connect = postfix._CONNECT_TO.match(text)
    for _twice in range(2):
        assert postfix._session_end(text) == (end.group("kind", "where") if end else None)
        assert postfix._connect_to(text) == (connect.group("host", "error") if connect else None)
        assert postfix._failure_reason(text) == base.failure_reason(text)


def _sample_messages() -> list[str]:
    """The messages of every Postfix sample line (after the envelope), and the edges."""
    from smtplog.dialects import postfix

    messages = list(EDGE_MESSAGES)
    for path in sorted((SAMPLES / "postfix").iterdir()):
        for text in path.read_text().splitlines():
            envelope, message = postfix._envelope(text)
            if envelope is not None:
                messages.append(message)
    return messages


@pytest.mark.parametrize("end", [None, 9])
def test_a_repeated_message_makes_the_entry_it_made_the_first_time(
    monkeypatch: pytest.MonkeyPatch, end: int | None
) -> None:
    """``_fast_entry`` keeps the entry of a message without a queue id (not chat): made
    again from what was kept, on another line and in another envelope, it is the entry
    ``_made_entry`` makes there."""
    from smtplog.dialects import postfix

    monkeypatch.setattr(postfix, "_known_entries", {})
    first = postfix.Envelope("smtpd", "postfix/smtpd", "1", 1.0)
    again = postfix.Envelope("smtp", "postfix/smtp", "2", None, "warning")
    for message in _sample_messages():
        if not message.strip():
            continue  # (_line_records asks no blank message)
        made = postfix._made_entry(message, first, Line(3, message))
        assert postfix._fast_entry(message, first, Line(3, message)) == made
        line = Line(7, f"x {message}", end=end)
        assert postfix._fast_entry(message, again, line) == postfix._made_entry(
            message, again, line
        )
    assert postfix._known_entries  # the comparisons did read kept entries
    kinds = {kind for kind, _text, _peer in postfix._known_entries.values()}
    assert {"connect-from", "disconnect-from", "tls", "other"} <= kinds


def test_every_severity_begins_with_a_character_asked_first() -> None:
    from smtplog.dialects import postfix

    assert {severity[0] for severity in postfix._SEVERITIES} <= set(postfix._SEVERITY_FIRSTS)
    assert len(postfix._SEVERITY_FIRSTS) == len(set(postfix._SEVERITY_FIRSTS))


@given(st.text(alphabet=" \t\n\r\x0b\x0c\x1c\x85\u00a0\u2028\u3000\u200bx", max_size=6))
def test_a_blank_message_is_what_strip_calls_blank(message: str) -> None:
    """_line_records asks ``not message or message.isspace()`` for ``not message.strip()``."""
    assert (not message or message.isspace()) == (not message.strip())


@given(st.text(alphabet="0123456789 -x\u0663\u00b2\n", max_size=7))
@example("550 5.1.1 no")
@example("150 not a reply code")
@example("5\u0663\u0663 x")  # decimal digits, not ASCII: \\d takes them, int() reads them
@example("5\u00b20 x")  # a digit, not decimal
def test_a_one_line_reply_splits_as_the_expression_reads_it(text: str) -> None:
    """``split_joined_reply`` reads "DDD text" without the expression: the same line."""
    from smtplog.dialects import postfix

    match = postfix._JOINED_REPLY_START.match(text)
    if match is not None and match.group(2) == " ":
        assert postfix.split_joined_reply(text) == [(int(match.group(1)), " ", text[4:])]
    elif match is None:
        assert postfix.split_joined_reply(text) == []
