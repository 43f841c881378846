"""The SMTP session state machine, reply pairing, inference and the verdict.

A sans-I/O machine in the style of h11: a table says, for every command, in
which states a client may send it and which state each class of reply leads
to, with the RFC section that says so. Walking a session's events through it
pairs every reply with the command it answers (PIPELINING included: replies
come back in order, RFC 2920 §3.1), records protocol violations as data, and
infers the commands of a one-sided log from the replies (334 VXNlcm5hbWU6
answers AUTH LOGIN, 354 answers DATA...).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache

from smtplog.events import (
    AuthResponse,
    ClientError,
    Closed,
    Command,
    Connected,
    ConnectFailed,
    Connecting,
    DataBody,
    DataEnd,
    Encrypted,
    Event,
    Reply,
    Span,
    Timeout,
    TlsFailed,
    TlsStarted,
)
from smtplog.quickinit import quick_init
from smtplog.smtp import command_address, decode_auth_prompt, prompt_role


class State(str, Enum):
    DISCONNECTED = "disconnected"  # no connection yet
    CONNECTED = "connected"  # TCP is up, the 220 greeting has not come
    GREETED = "greeted"  # greeting received; EHLO/HELO expected
    READY = "ready"  # EHLO accepted, no mail transaction open
    TLS = "tls"  # 220 to STARTTLS received; the handshake follows
    AUTH = "auth"  # inside an AUTH exchange (334 challenges)
    MAIL = "mail"  # MAIL accepted: a transaction is open, RCPT expected
    RCPT = "rcpt"  # a recipient accepted: RCPT or DATA
    DATA = "data"  # 354 received: message content is being sent
    CLOSED = "closed"


S = State
_OPEN = frozenset({S.GREETED, S.READY, S.MAIL, S.RCPT})
_ANY = frozenset({S.CONNECTED, *_OPEN})


@dataclass(frozen=True, slots=True)
class Transition:
    """One row of the table: where a command may be sent and where replies lead.

    ``None`` as a next state means "unchanged".
    """

    allowed: frozenset[State]
    success: State | None  # after 2yz
    intermediate: State | None  # after 3yz
    failure: State | None  # after 4yz / 5yz
    phase: str | None  # the verdict's failed_at when this command fails
    rfc: str


_READY = frozenset({S.READY})
_IN_AUTH, _IN_MAIL, _IN_RCPT, _IN_DATA = (frozenset({s}) for s in (S.AUTH, S.MAIL, S.RCPT, S.DATA))
_ALWAYS = _ANY | {S.DISCONNECTED}
_T = Transition

# fmt: off
TABLE: dict[str, Transition] = {
    # verb:          allowed in    2yz ->    3yz ->  4yz/5yz ->  failed_at   why
    "EHLO":        _T(_OPEN,        S.READY,  None,   None,      "ehlo",     "RFC 5321 §4.1.1.1"),
    "HELO":        _T(_OPEN,        S.READY,  None,   None,      "ehlo",     "RFC 5321 §4.1.1.1"),
    "LHLO":        _T(_OPEN,        S.READY,  None,   None,      "ehlo",     "RFC 2033 §4.1"),
    "STARTTLS":    _T(_READY,       S.TLS,    None,   None,      "starttls", "RFC 3207 §4"),
    "AUTH":        _T(_READY,       S.READY,  S.AUTH, S.READY,   "auth",     "RFC 4954 §4"),
    "AUTH-RESPONSE": _T(_IN_AUTH,     S.READY,  S.AUTH, S.READY,   "auth",     "RFC 4954 §4"),
    "MAIL":        _T(_READY,       S.MAIL,   None,   None,      "mail",     "RFC 5321 §3.3"),
    "RCPT":        _T(_IN_MAIL | _IN_RCPT, S.RCPT, None, None, "rcpt",     "RFC 5321 §3.3"),
    "DATA":        _T(_IN_RCPT,     None,     S.DATA, None,      "data",     "RFC 5321 §3.3"),
    "BDAT":        _T(_IN_RCPT,     S.RCPT,   None,   S.READY,   "message",  "RFC 3030 §2"),
    ".":           _T(_IN_DATA,     S.READY,  None,   S.READY,   "message",  "RFC 5321 §4.1.1.4"),
    "RSET":        _T(_OPEN,        S.READY,  None,   None,      None,       "RFC 5321 §4.1.1.5"),
    "NOOP":        _T(_ANY,         None,     None,   None,      None,       "RFC 5321 §4.1.1.9"),
    "HELP":        _T(_ANY,         None,     None,   None,      None,       "RFC 5321 §4.1.1.8"),
    "VRFY":        _T(_OPEN,        None,     None,   None,      None,       "RFC 5321 §3.5"),
    "EXPN":        _T(_OPEN,        None,     None,   None,      None,       "RFC 5321 §3.5"),
    "QUIT":        _T(_ALWAYS,      S.CLOSED, None,   S.CLOSED,  "quit",     "RFC 5321 §4.1.1.10"),
}
# fmt: on
# Notes on the rows: EHLO also resets an open transaction (RFC 5321 §4.1.4);
# STARTTLS and AUTH are refused inside a transaction (RFC 3207 §4, RFC 4954 §4);
# after "." the transaction ends whatever the reply (RFC 5321 §4.1.1.4).


# Commands RFC 4954 §6 / RFC 3207 §4 still allow after a 530 reply.
_AFTER_530 = frozenset(
    {"EHLO", "HELO", "LHLO", "STARTTLS", "AUTH", "AUTH-RESPONSE", "NOOP", "RSET", "QUIT"}
)

# What a client sends next from each state: the phase it was in when it stopped.
STATE_PHASE: dict[State, str] = {
    S.DISCONNECTED: "connect",
    S.CONNECTED: "banner",
    S.GREETED: "ehlo",
    S.READY: "mail",
    S.TLS: "starttls",
    S.AUTH: "auth",
    S.MAIL: "rcpt",
    S.RCPT: "data",
    S.DATA: "message",
    S.CLOSED: "quit",
}

PHASES = (
    "connect",
    "banner",
    "ehlo",
    "starttls",
    "auth",
    "mail",
    "rcpt",
    "data",
    "message",
    "quit",
)

_VERB_GROUP = {"HELO": "EHLO", "LHLO": "EHLO", "AUTH-RESPONSE": "AUTH", "BDAT": "."}

# Where a client program's own error text says it stopped.
_CLIENT_ERROR_PHASES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"message size \d+ exceeds|exceeds size limit", re.I), "mail"),
    (re.compile(r"STARTTLS|TLS", re.I), "starttls"),
    (re.compile(r"auth", re.I), "auth"),
    (re.compile(r"recipient|RCPT", re.I), "rcpt"),
    (re.compile(r"sender|MAIL FROM", re.I), "mail"),
    (re.compile(r"\bDATA\b|data not accepted", re.I), "data"),
    (re.compile(r"connect", re.I), "connect"),
)

_EXTENSION = re.compile(r"^(?P<keyword>[A-Z0-9][A-Z0-9-]*)(?:[ =](?P<params>.*))?$")
_GREETING_WORDS = re.compile(r"\b(hello|helo|greets|pleased to meet)\b", re.I)


@quick_init  # built for every session of a long log
@dataclass(frozen=True, slots=True)
class Exchange:
    """A reply and what it answered (None for the greeting or an unsolicited reply)."""

    request: Command | AuthResponse | DataEnd | None
    reply: Reply
    verb: str  # "BANNER", "EHLO", ..., "AUTH-RESPONSE", ".", or "-" if unsolicited
    phase: str | None
    state_before: State

    @property
    def failed(self) -> bool:
        return self.reply.code >= 400


@quick_init  # built for every session of a long log
@dataclass(frozen=True, slots=True)
class Violation:
    """Something the client did that the protocol does not allow."""

    span: Span | None
    message: str
    rfc: str


@quick_init  # one per session of a long log
@dataclass(frozen=True, slots=True)
class Verdict:
    """How the session ended (``outcome``), where it failed, and what decided it."""

    outcome: str  # delivered | failed | deferred | no-connection | incomplete | unknown
    failed_at: str | None
    decisive: Exchange | None = None  # the reply that decided it, if a reply did
    reason: Event | None = None  # the structural event that decided it, if one did


# Until Machine.run gives its own: one shared value (frozen) rather than one built per session
# and then thrown away.
_NO_VERDICT = Verdict("unknown", None)


@dataclass(slots=True)
class SessionAnalysis:
    """Everything the rules need to know about one session."""

    events: list[Event]
    exchanges: list[Exchange] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    banner: Reply | None = None
    ehlo: Reply | None = None
    capabilities: dict[str, str] = field(default_factory=dict)
    capabilities_before_tls: dict[str, str] | None = None
    tls: TlsStarted | None = None
    tls_failure: TlsFailed | None = None
    encrypted: Encrypted | None = None  # traffic after TLS that could not be read
    auth_mechanism: str | None = None
    authenticated: bool = False
    connected: bool = False
    connect_failure: ConnectFailed | None = None
    end: Closed | Timeout | None = None  # the first abnormal end, else the last close
    end_phase: str | None = None  # where the session stood when ``end`` happened
    client_errors: list[ClientError] = field(default_factory=list)
    unanswered: list[Event] = field(default_factory=list)
    delivered: Reply | None = None
    recipients_accepted: list[str] = field(default_factory=list)
    recipients_rejected: list[tuple[str, Exchange]] = field(default_factory=list)
    sender: str | None = None
    one_sided: str | None = None  # "server" or "client" when only one side is shown
    state: State = S.DISCONNECTED
    verdict: Verdict = _NO_VERDICT
    # ``target``, once asked (the rules ask often); False: not yet known.
    _target: str | bool | None = field(default=False, init=False, repr=False, compare=False)

    @property
    def target(self) -> str | None:
        if self._target is False:
            self._target = next(
                (
                    e.target
                    for e in self.events
                    if isinstance(e, (Connected, Connecting)) and e.target
                ),
                None,
            )
        return self._target  # type: ignore[return-value]

    def phase_of(self, event: Event) -> str | None:
        for exchange in self.exchanges:
            if exchange.reply is event or exchange.request is event:
                return exchange.phase
        return None


def _begun(events: list[Event]) -> SessionAnalysis:
    """``SessionAnalysis(events=events)``, made a third faster (one per session): each
    field set directly, without the generated __init__'s 27 parameters and 8 default
    factories (tests/test_protocol_fast.py proves every field the same)."""
    analysis = _new(SessionAnalysis)
    analysis.events = events
    analysis.exchanges, analysis.violations, analysis.notes = [], [], []
    analysis.client_errors, analysis.unanswered = [], []
    analysis.recipients_accepted, analysis.recipients_rejected = [], []
    analysis.capabilities = {}
    analysis.banner = analysis.ehlo = analysis.capabilities_before_tls = None
    analysis.tls = analysis.tls_failure = analysis.encrypted = analysis.auth_mechanism = None
    analysis.connect_failure = analysis.end = analysis.end_phase = analysis.delivered = None
    analysis.sender = analysis.one_sided = None
    analysis.authenticated = analysis.connected = False
    analysis.state = S.DISCONNECTED
    analysis.verdict = _NO_VERDICT
    analysis._target = False
    return analysis


_new = object.__new__


def parse_capabilities(reply: Reply) -> dict[str, str]:
    """ESMTP keywords of an EHLO reply (RFC 5321 §4.1.1.1): {"SIZE": "5242880", ...}."""
    return dict(_capabilities(reply.lines))


@lru_cache(maxsize=256)  # a log holds the same few servers' EHLO replies over and over
def _capabilities(lines: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    capabilities: dict[str, str] = {}
    for index, line in enumerate(lines):
        match = _EXTENSION.match(line.strip())
        if not match:
            continue
        # The first line is the server's greeting ("mx.example.com Hello ..."),
        # unless the transcript lost it and a keyword came first.
        if index == 0 and (len(lines) == 1 or _GREETING_WORDS.search(line)):
            continue
        keyword = match.group("keyword")
        if keyword.startswith("AUTH") and keyword != "AUTH":
            keyword = "AUTH"  # old "AUTH=LOGIN PLAIN" form
        capabilities.setdefault(keyword, (match.group("params") or "").strip())
    return tuple(capabilities.items())


class Machine:
    """Walks one session's events through the table."""

    def __init__(self) -> None:
        self.state = S.DISCONNECTED
        self.pending: deque[tuple[Event, str]] = deque()
        self.banner_seen = False
        self.after_530 = False
        self.auth_prompt: str | None = None
        self.out: list[Event] = []
        self.inferred_requests = 0  # every request passes through _request once

    def run(self, events: list[Event]) -> SessionAnalysis:
        analysis = _begun(self.out)
        analysis.one_sided = _one_side(events)
        handlers = _HANDLERS
        for event in events:
            kind = event.__class__
            (handlers.get(kind) or _handler(kind))(self, event, analysis)
        pending = self.pending
        if pending:  # (else it stays the empty list it began with)
            analysis.unanswered = [event for event, _verb in pending]
        analysis.state = self.state
        if analysis.one_sided is not None:  # (_one_sided_notes says nothing of the rest)
            analysis.notes.extend(_one_sided_notes(analysis, self.inferred_requests))
        analysis.verdict = verdict(analysis)
        return analysis

    # -- events ------------------------------------------------------------
    # One handler per kind of event (_handler says which, run() calls it): a dict lookup by
    # type instead of a chain of isinstance tests, most of which fail for most events.

    def _other(self, event: Event, analysis: SessionAnalysis) -> None:
        self.out.append(event)

    def _connected(self, event: Connected, analysis: SessionAnalysis) -> None:
        self.out.append(event)
        analysis.connected = True
        if self.state is S.DISCONNECTED:
            # A client-only log never shows the greeting: assume it came,
            # so that its commands are judged in the states they were sent in.
            self.state = S.GREETED if analysis.one_sided == "client" else S.CONNECTED

    def _connect_failed(self, event: ConnectFailed, analysis: SessionAnalysis) -> None:
        self.out.append(event)
        analysis.connect_failure = event

    def _command(self, event: Command, analysis: SessionAnalysis) -> None:
        self.out.append(event)
        self._request(event, event.verb, analysis)

    def _auth_response(self, event: AuthResponse, analysis: SessionAnalysis) -> None:
        self.out.append(event)
        self._request(event, "AUTH-RESPONSE", analysis)

    def _data_end(self, event: DataEnd, analysis: SessionAnalysis) -> None:
        self.out.append(event)
        self._request(event, ".", analysis)

    def _tls_event(self, event: TlsStarted, analysis: SessionAnalysis) -> None:
        self.out.append(event)
        self._tls_started(event, analysis)

    def _tls_failed(self, event: TlsFailed, analysis: SessionAnalysis) -> None:
        self.out.append(event)
        analysis.tls_failure = event

    def _encrypted(self, event: Encrypted, analysis: SessionAnalysis) -> None:
        self.out.append(event)
        analysis.encrypted = event

    def _end(self, event: Closed | Timeout, analysis: SessionAnalysis) -> None:
        self.out.append(event)
        # A timeout or a drop is what matters; the client's own close
        # after it (swaks: "Connection closed with remote host.") is not.
        if analysis.end is None or not _abnormal(analysis.end):
            analysis.end = event
            analysis.end_phase = self._current_phase()

    def _client_error(self, event: ClientError, analysis: SessionAnalysis) -> None:
        self.out.append(event)
        analysis.client_errors.append(event)

    def _current_phase(self) -> str:
        """The phase the session is in: the first unanswered request's, else the state's."""
        for request, verb in self.pending:
            row = TABLE.get(verb)
            if row is not None and row.phase:
                return row.phase
            if isinstance(request, DataEnd):
                return "message"
        return STATE_PHASE[self.state]

    def _predicted_state(self) -> State:
        """The state the client may assume once its pipelined commands succeed."""
        state = self.state
        for _event, verb in self.pending:
            row = TABLE.get(verb)
            if row is None:
                continue
            nxt = row.intermediate if verb in ("DATA", "AUTH", "AUTH-RESPONSE") else row.success
            if nxt is not None:
                state = nxt
        return state

    def _request(self, event: Event, verb: str, analysis: SessionAnalysis) -> None:
        if self.state is S.TLS:
            self._implicit_handshake(analysis)
        inferred = event.span is None  # (event.inferred)
        row = TABLE.get(verb)
        # An inferred request (a log that summarises the session) stands for a
        # dialogue the log left out: what came before it is unknown, not illegal
        # (so the state it was sent in is not even worked out).
        if row is not None and not inferred:
            state = self._predicted_state()
            if state not in row.allowed and state is not S.DISCONNECTED:
                analysis.violations.append(
                    Violation(
                        event.span, f"{verb} is not allowed in state '{state.value}'", row.rfc
                    )
                )
        if self.after_530 and verb not in _AFTER_530:
            analysis.violations.append(
                Violation(
                    event.span,
                    f"{verb} sent after a 530 reply without STARTTLS or AUTH first",
                    "RFC 4954 §6; RFC 3207 §4",
                )
            )
        if verb == "AUTH" and isinstance(event, Command):
            analysis.auth_mechanism = event.argument.split(" ", 1)[0].upper() or None
        if verb == "MAIL" and not inferred and isinstance(event, Command):
            analysis.sender = command_address(event.argument)
        if inferred:
            self.inferred_requests += 1
        self.pending.append((event, verb))

    def _implicit_handshake(self, analysis: SessionAnalysis) -> None:
        """The client spoke after a 220 to STARTTLS: TLS began, though the log does not say."""
        if analysis.tls is None:
            self._tls_started(TlsStarted(detail="handshake not shown in the transcript"), analysis)
        self.state = S.GREETED

    def _tls_started(self, event: TlsStarted, analysis: SessionAnalysis) -> None:
        analysis.tls = event
        analysis.capabilities_before_tls = dict(analysis.capabilities)
        analysis.capabilities.clear()
        analysis.authenticated = False
        # RFC 3207 §4.2: after the handshake the session starts over.
        self.state = S.GREETED

    # -- replies -----------------------------------------------------------

    def _reply(self, reply: Reply, analysis: SessionAnalysis) -> None:
        # The server speaks first (RFC 5321 §3.1): when the transcript shows the
        # connection opening, its first reply is the greeting even if the
        # client talked before it.
        # A log that summarises (requests inferred from it, or TLS already
        # up) has simply not shown the greeting.
        if (
            not self.banner_seen
            and _is_greeting(reply)
            and self._first_after_connect(reply, analysis)
        ):
            request, verb = None, "BANNER"
        elif self.pending:
            request, verb = self.pending.popleft()
        else:
            inferred = self._infer(reply, analysis)
            if inferred is None:
                request, verb = None, "-"
            else:
                request, verb = inferred
                self.out.append(request)
                self._request(request, verb, analysis)
                self.pending.pop()
        self.out.append(reply)
        if verb == "BANNER":
            self._banner(reply, analysis)
            return
        phase = self._phase(verb)
        exchange = Exchange(request, reply, verb, phase, self.state)  # type: ignore[arg-type]
        analysis.exchanges.append(exchange)
        self._apply(exchange, analysis)

    def _first_after_connect(self, reply: Reply, analysis: SessionAnalysis) -> bool:
        """May ``reply`` be the greeting, by where it comes (asked until the greeting came)?"""
        if not self.pending or reply.code == 220:
            return True
        if not analysis.connected or analysis.tls is not None:
            return False
        return all(not request.inferred for request, _verb in self.pending)  # (else: summarised)

    def _banner(self, reply: Reply, analysis: SessionAnalysis) -> None:
        self.banner_seen = True
        for event, verb in self.pending:  # the client spoke first (RFC 5321 §3.1)
            analysis.violations.append(
                Violation(
                    event.span, f"{verb} sent before the server's greeting", "RFC 5321 §3.1, §4.3.1"
                )
            )
        analysis.connected = True
        analysis.banner = reply
        exchange = Exchange(None, reply, "BANNER", "banner", self.state)
        analysis.exchanges.append(exchange)
        if reply.code == 220:
            self.state = S.GREETED
        else:  # 554 "no SMTP service here" or 421: the server will close
            self.state = S.CLOSED

    def _phase(self, verb: str) -> str | None:
        row = TABLE.get(verb)
        if row is not None:
            return row.phase
        if verb == "-":
            return STATE_PHASE[self.state]
        return None  # an unknown verb: a typo the server rejected

    def _apply(self, exchange: Exchange, analysis: SessionAnalysis) -> None:
        reply, verb = exchange.reply, exchange.verb
        row = TABLE.get(verb)
        if reply.code == 421:
            self.state = S.CLOSED  # RFC 5321 §3.8: the server is closing
            return
        self.after_530 = reply.code == 530 or (self.after_530 and reply.code >= 500)
        if verb in ("EHLO", "LHLO") and reply.code == 250:
            analysis.ehlo = reply
            analysis.capabilities = parse_capabilities(reply)
        if verb == "HELO" and reply.code == 250:
            analysis.ehlo = reply
        if verb in ("AUTH", "AUTH-RESPONSE"):
            if reply.code == 235:
                analysis.authenticated = True
                self.after_530 = False
            if reply.code == 334:
                self.auth_prompt = decode_auth_prompt(reply.text)
        if verb == "RCPT" and isinstance(exchange.request, Command):
            address = command_address(exchange.request.argument) or exchange.request.argument
            if reply.code < 400:
                analysis.recipients_accepted.append(address)
            else:
                analysis.recipients_rejected.append((address, exchange))
        if verb in (".", "BDAT") and reply.code == 250 and analysis.delivered is None:
            analysis.delivered = reply
        if row is None:
            return
        if reply.code < 300:
            nxt = row.success
        elif reply.code < 400:
            nxt = row.intermediate
        else:
            nxt = row.failure
        # RFC 5321 §4.1.4: out-of-order commands are refused and the server
        # stays where it was; only legal (or accepted) commands move the state.
        legal = self.state in row.allowed or reply.code < 400 or verb == "QUIT"
        if nxt is not None and legal:
            self.state = nxt

    # -- inference for one-sided logs ---------------------------------------

    def _infer(self, reply: Reply, analysis: SessionAnalysis) -> tuple[Event, str] | None:
        """The request a reply must have answered, when the transcript lost it."""
        if not self.banner_seen:
            self.banner_seen = True  # the greeting is not in the transcript
            analysis.notes.append("the server's greeting is not in the transcript")
        if self.state in (S.DISCONNECTED, S.CONNECTED):
            self.state = S.GREETED
        if self.state is S.TLS:
            self.state = S.GREETED  # the handshake happened off the record
        code, state = reply.code, self.state
        if code == 421 and analysis.one_sided != "server":
            return None  # an unsolicited "closing" reply, not an answer
        if code == 221:
            return _inferred(reply, "QUIT"), "QUIT"
        if state is S.DATA:
            return DataEnd(span=None, time=reply.time, stream=reply.stream), "."
        if state is S.AUTH:
            role = prompt_role(self.auth_prompt) or "response"
            text = f"[{role if role != 'response' else 'AUTH response'}: not in the transcript]"
            return (
                AuthResponse(text=text, role=role, secret=role != "username", span=None,  # type: ignore[arg-type]
                             time=reply.time, stream=reply.stream),
                "AUTH-RESPONSE",
            )  # fmt: skip
        if code == 354:
            return _inferred(reply, "DATA"), "DATA"
        if code in (334, 235, 535, 534, 538):
            prompt = prompt_role(decode_auth_prompt(reply.text))
            mechanism = "LOGIN" if prompt else ("PLAIN" if code == 334 and not reply.text else "")
            return _inferred(reply, "AUTH", mechanism), "AUTH"
        if state is S.GREETED:
            return _inferred(reply, "EHLO"), "EHLO"
        if state is S.READY:
            if code == 220:
                return _inferred(reply, "STARTTLS"), "STARTTLS"
            return _inferred(reply, "MAIL", "FROM:<…>"), "MAIL"
        if state in (S.MAIL, S.RCPT):
            return _inferred(reply, "RCPT", "TO:<…>"), "RCPT"
        return None


_Handler = Callable[[Machine, Event, SessionAnalysis], None]
# Which handler takes each kind, by the first of these that it is (subclasses included).
_HANDLED: tuple[tuple[type | tuple[type, ...], _Handler], ...] = (
    (Reply, Machine._reply),
    (Connected, Machine._connected),
    (ConnectFailed, Machine._connect_failed),
    (Command, Machine._command),
    (AuthResponse, Machine._auth_response),
    (DataEnd, Machine._data_end),
    (TlsStarted, Machine._tls_event),
    (TlsFailed, Machine._tls_failed),
    (Encrypted, Machine._encrypted),
    ((Closed, Timeout), Machine._end),
    (ClientError, Machine._client_error),
)
_HANDLERS: dict[type, _Handler] = {}


def _handler(kind: type) -> _Handler:
    """The handler of a kind of event, found (and kept) the first time one comes."""
    handle = next((h for types, h in _HANDLED if issubclass(kind, types)), Machine._other)
    _HANDLERS[kind] = handle
    return handle


def _one_side(events: list[Event]) -> str | None:
    """ "server" or "client" when the transcript shows only that side (one pass)."""
    has_client = has_server = timeout = False
    sides = _SIDES
    for event in events:
        kind = event.__class__
        side = sides.get(kind) or _side(kind)
        if side == "server":
            has_server = True
        elif side == "client":
            has_client = has_client or event.span is not None  # (not event.inferred)
        elif side == "timeout":
            timeout = True
    if has_server and not has_client:
        return "server"
    if has_client and not has_server and not timeout:
        return "client"  # (a timeout says the server was silent: then nothing is missing)
    return None


def _side(kind: type) -> str:
    """Whose side an event of this kind shows ("-" for neither), as _one_side asks it."""
    if issubclass(kind, Reply):
        side = "server"
    elif issubclass(kind, (Command, AuthResponse, DataEnd, DataBody)):
        side = "client"
    else:
        side = "timeout" if issubclass(kind, Timeout) else "-"
    _SIDES[kind] = side
    return side


_SIDES: dict[type, str] = {}


def _one_sided_notes(analysis: SessionAnalysis, inferred: int) -> list[str]:
    """Say what a one-sided transcript is missing, and what was inferred (``inferred``
    requests: the Commands, AuthResponses and DataEnds of the events without a span)."""
    if analysis.one_sided == "client":
        count = len(analysis.unanswered)
        return [
            "only the client's side is in the transcript: the server's replies are missing, "
            f"so nothing shows whether the server accepted the {count} "
            f"request{'s' if count != 1 else ''} marked 'no reply in the transcript'"
        ]
    if analysis.one_sided == "server":
        note = _SERVER_NOTES.get(inferred)
        if note is None:
            note = (
                "only the server's replies are in the transcript: "
                f"{inferred} client request{'s were' if inferred != 1 else ' was'} inferred from "
                "them (marked inferred; their exact text is unknown)"
            )
            if inferred < 64:  # (the counts of most sessions: each text made once)
                _SERVER_NOTES[inferred] = note
        return [note]
    return []


_SERVER_NOTES: dict[int, str] = {}


def _inferred(reply: Reply, verb: str, argument: str = "") -> Command:
    """The command ``reply`` answered, inferred (no span), at the reply's time."""
    text = f"{verb} {argument}".rstrip()
    return Command(verb=verb, argument=argument, text=text, span=None,
                   time=reply.time, stream=reply.stream)  # fmt: skip


def _is_greeting(reply: Reply) -> bool:
    """A first reply that is the 220 greeting (or its 421/554 refusals, RFC 5321 §3.1)."""
    if reply.code == 220:
        return True
    return reply.code in (421, 554) and len(reply.lines) <= 2


# -- verdict -------------------------------------------------------------------


def unrecovered_failures(analysis: SessionAnalysis) -> list[Exchange]:
    """Failed exchanges that no later success of the same kind made good."""
    failures: list[Exchange] = []
    recovered: set[str] = set()  # the groups that succeed after the exchange at hand
    for exchange in reversed(analysis.exchanges):  # (one pass, from the end)
        verb, code = exchange.verb, exchange.reply.code
        group = _VERB_GROUP.get(verb, verb)
        if code >= 400:  # (exchange.failed)
            if exchange.phase is not None and (code == 421 or group not in recovered):
                failures.append(exchange)
        elif code < 300 or (code == 354 and verb == "DATA"):  # done (a 334 is not a login)
            recovered.add(group)
    failures.reverse()
    return failures


def _client_error_phase(text: str) -> str | None:
    for pattern, phase in _CLIENT_ERROR_PHASES:
        if pattern.search(text):
            return phase
    return None


def verdict(analysis: SessionAnalysis) -> Verdict:
    if analysis.delivered is not None:
        return Verdict("delivered", None)
    failure = analysis.connect_failure
    if failure is not None and not analysis.connected and analysis.banner is None:
        return Verdict("no-connection", "connect", reason=failure)
    if _replies_missing(analysis):
        return Verdict("unknown", None)
    failures = unrecovered_failures(analysis)
    if failures:
        root = failures[0]
        outcome = "failed" if root.reply.code >= 500 else "deferred"
        return Verdict(outcome, root.phase, decisive=root)
    if analysis.tls_failure is not None:
        return Verdict("deferred", "starttls", reason=analysis.tls_failure)
    if analysis.encrypted is not None:
        # What followed the handshake is unreadable: how the connection ended
        # says nothing about the message.
        return Verdict("unknown", None, reason=analysis.encrypted)
    stopped_at = _stopped_at(analysis)
    if analysis.end is not None and _ended_abnormally(analysis):
        return Verdict("deferred", stopped_at, reason=analysis.end)
    if analysis.client_errors:
        error = analysis.client_errors[-1]
        return Verdict("failed", _client_error_phase(error.text) or stopped_at, reason=error)
    if not analysis.exchanges:
        return Verdict("unknown", None)
    return Verdict("incomplete", None)


def _replies_missing(analysis: SessionAnalysis) -> bool:
    """A client-only log: the outcome is unknowable, unless the log says what went
    wrong (the client program's error, the connection lost)."""
    end = analysis.end
    return (
        analysis.one_sided == "client"
        and not analysis.client_errors
        and not (end is not None and _abnormal(end))
    )


def _stopped_at(analysis: SessionAnalysis) -> str:
    if analysis.end is not None and analysis.end_phase is not None:
        return analysis.end_phase
    if analysis.unanswered:
        first = analysis.unanswered[0]
        if isinstance(first, Command):
            row = TABLE.get(first.verb)
            if row is not None and row.phase:
                return row.phase
        if isinstance(first, DataEnd):
            return "message"
        if isinstance(first, AuthResponse):
            return "auth"
    return STATE_PHASE[analysis.state]


def _abnormal(end: Closed | Timeout) -> bool:
    return isinstance(end, Timeout) or end.unexpected


def _ended_abnormally(analysis: SessionAnalysis) -> bool:
    """Did the connection end or time out before the session was finished?"""
    end = analysis.end
    if isinstance(end, Timeout):
        return True
    if analysis.state is S.CLOSED and (end is None or not end.unexpected):
        return False  # QUIT answered, or the server closed after its 421/554
    if isinstance(end, Closed):
        if end.unexpected:
            return True
        quit_sent = any(isinstance(e, Command) and e.verb == "QUIT" for e in analysis.events)
        return not quit_sent and end.by != "client"
    return False


def analyze_session(events: list[Event]) -> SessionAnalysis:
    return Machine().run(events)
