"""From per-line facts to SMTP events, the same way for every dialect.

A dialect only says what each line is: a server reply line, a client line, a
line of unknown direction (telnet), or a ready-made event (a connect notice, a
TLS summary...). The assembler adds the SMTP meaning that needs context: it
joins multi-line replies, tells commands from AUTH responses and message
content, masks credentials and cuts the message body at the lone ".".
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from smtplog import limits
from smtplog.auth import AuthExchange, mask_initial_response, mask_response
from smtplog.events import (
    AuthResponse,
    Command,
    DataBody,
    DataEnd,
    Event,
    Note,
    Reply,
    Span,
    StreamEnd,
    Unparsed,
)
from smtplog.smtp import (
    KNOWN_VERBS,
    decode_auth_prompt,
    enhanced_code,
    is_base64,
    prompt_role,
    split_command,
)

BODY_LINES_KEPT = limits.BODY_LINES_KEPT  # bounded memory for huge messages; all are counted


@dataclass(slots=True)  # not frozen: one per line of a log (frozen __init__ is 3x slower)
class ServerLine:
    """One physical reply line: ``code`` + ``sep`` ("-", " " or "") + ``text``."""

    code: int
    sep: str
    text: str
    span: Span
    time: float | None = None
    stream: str | None = None
    latency: float | None = None  # seconds the server took, when the tool says


@dataclass(slots=True)  # not frozen: one per line of a log (frozen __init__ is 3x slower)
class ClientLine:
    """One line the client sent. ``body`` is set when the dialect knows it is content."""

    text: str
    span: Span
    time: float | None = None
    stream: str | None = None
    body: bool = False
    edited: bool = False  # typed with backspace/DEL (applied, or echoed as ^H / ^?)
    bare_lf: bool = False  # the tool shows this content line ended in LF without CR


@dataclass(slots=True)  # not frozen: one per line of a log (frozen __init__ is 3x slower)
class UnmarkedLine:
    """A line whose direction the transcript does not say (telnet, nc, openssl).

    ``reply`` is set when the line is shaped like a reply line.
    """

    text: str
    span: Span
    reply: ServerLine | None = None
    time: float | None = None
    stream: str | None = None
    edited: bool = False


Record = ServerLine | ClientLine | UnmarkedLine | Event


@dataclass(slots=True, init=False)
class _Stream:
    """Assembly state of one connection."""

    pending: list[ServerLine]
    pending_dropped: int  # continuation lines of a huge reply not kept (MAX_REPLY_LINES)
    mode: str  # command | auth | data
    data_requested: bool
    data_sent: bool  # a DATA command no 354 has answered yet (PIPELINING too)
    replies: int
    # The last line no rule understood was an AUTH command or a 334 challenge:
    # (mechanism, the role the challenge asks for).
    unparsed_auth: tuple[str, str | None] | None
    auth: AuthExchange | None
    last_prompt_role: str | None
    body: list[str]
    body_numbers: list[int]
    body_count: int
    body_span: Span | None
    body_time: float | None
    body_bare_lf: bool
    seen_client: bool
    seen_server: bool
    auth_attempted: bool  # an AUTH command was sent on this connection

    def __init__(self) -> None:
        # Written out (one per connection of a log): the generated __init__, a parameter
        # per field and three default factories, cost twice as much.
        self.pending, self.body, self.body_numbers = [], [], []
        self.pending_dropped = self.replies = self.body_count = 0
        self.mode = "command"
        self.data_requested = self.data_sent = self.body_bare_lf = False
        self.seen_client = self.seen_server = self.auth_attempted = False
        self.unparsed_auth = self.auth = self.last_prompt_role = None
        self.body_span = self.body_time = None


# A terminal with ECHOCTL shows a control key it did not act on as ^H / ^?:
# the character went to the server as typed.
_CARET_CONTROL = re.compile(r"\^[H?]")
# In a line no rule understood: an AUTH command (with its initial response, the
# credentials themselves for PLAIN), a 334 challenge.
_AUTH_COMMAND = re.compile(
    # Not "250-AUTH PLAIN LOGIN": a server's offer quoted by some tool.
    r"(?<![A-Za-z0-9-])AUTH\s+(?P<mechanism>PLAIN|LOGIN|XOAUTH2?|OAUTHBEARER|NTLM|GSSAPI|EXTERNAL"
    r"|CRAM-[\w-]+|DIGEST-MD5|SCRAM-[\w-]+)(?:\s+(?P<response>\S+))?(?!\S)",
    re.IGNORECASE,
)
_CHALLENGE = re.compile(r"(?:^|[\s<>:'\"])334(?:[ -](\S*)|$)")
_REPLY_START = re.compile(r"^\s*[2-5]\d\d(?:[ -]|$)")  # "250-AUTH PLAIN" offers, not sends


def _auth_command(text: str) -> re.Match[str] | None:
    """An AUTH command in a line no rule understood (not a reply quoting an offer).
    Most such lines are a log's notes: one search for the word first (the command's
    letters are ASCII, and only ASCII letters fold to them)."""
    if "auth" not in text.lower() or _REPLY_START.match(text):
        return None
    return _AUTH_COMMAND.search(text)


def _stray_credentials(state: _Stream, text: str) -> bool:
    """Could this command-mode line be a user name or password typed out of turn?"""
    token = text.strip()
    if not state.auth_attempted or not token or any(c.isspace() for c in token):
        return False
    return split_command(token)[0] not in KNOWN_VERBS and token != "."


def _looks_like_command(text: str) -> bool:
    """Is an unmarked, non-reply line something a person typed at the server?

    Prose around a pasted session ("The following example shows ...") is not.
    """
    text = _CARET_CONTROL.sub("", text)
    verb, argument = split_command(text)
    if not verb:
        return False
    if verb in KNOWN_VERBS:
        return True
    first = text.split(None, 1)[0]
    # A mistyped verb ("EHLP", "mail" typed as "mial") is short and alone or
    # followed by an argument; prose has many words.
    return first.isalpha() and len(first) <= 10 and len(argument.split()) <= 2


# What ``Assembler.feed`` does with a record, by its type (``_kind``).
_SERVER, _CLIENT, _UNMARKED, _END = "server", "client", "unmarked", "end"
_TEXT_EVENT = "text event"  # an Unparsed or a Note (not a subclass): may hold credentials
_EVENT = "event"  # any other event: passed on
_KINDS: dict[type, str] = {}


def _kind(cls: type) -> str:
    """What isinstance() says of records of type ``cls``, asked once per type."""
    if issubclass(cls, ServerLine):
        kind = _SERVER
    elif issubclass(cls, ClientLine):
        kind = _CLIENT
    elif issubclass(cls, UnmarkedLine):
        kind = _UNMARKED
    elif issubclass(cls, StreamEnd):
        kind = _END
    else:
        kind = _TEXT_EVENT if cls in (Unparsed, Note) else _EVENT
    _KINDS[cls] = kind
    return kind


class Assembler:
    """Turns a stream of records into events; one instance per input.

    The state of each connection is forgotten when its stream ends
    (``StreamEnd``, passed on) and, beyond ``limits.MAX_OPEN_STREAMS``
    connections, for the one silent for longest: memory stays bounded on a
    log of any length.
    """

    def __init__(self, max_streams: int = limits.MAX_OPEN_STREAMS) -> None:
        self._streams: OrderedDict[str | None, _Stream] = OrderedDict()  # least recent first
        self._max_streams = max_streams
        self._notes: list[Event] = []  # what a limit cut, said after the event it concerns

    def _stream(self, key: str | None) -> _Stream:
        stream = self._streams.get(key)
        if stream is None:
            stream = self._streams[key] = _Stream()
        else:
            self._streams.move_to_end(key)
        return stream

    def feed(self, records: Iterable[Record]) -> Iterator[Event]:  # noqa: PLR0915 (hot: inlined)
        # The hottest loop of a long log: a record's kind by one dict look-up of its type,
        # the events a dialect made itself and one-line replies handled here without a
        # call (tests/test_assemble_fast.py proves it equal to the plain definition).
        streams, notes, kinds, max_streams = self._streams, self._notes, _KINDS, self._max_streams
        for record in records:
            cls = type(record)
            kind = kinds.get(cls)
            if kind is None:
                kind = _kind(cls)
            if kind is _EVENT or kind is _TEXT_EVENT:
                key = record.stream
                state = streams.get(key)
                if state is None:
                    state = streams[key] = _Stream()
                else:
                    streams.move_to_end(key)
                # An event between reply lines ends a dangling multi-line reply.
                if state.pending and not isinstance(record, Unparsed):
                    yield self._flush_reply(state)
                if kind is _EVENT:
                    yield record  # type: ignore[misc]
                elif (
                    state.unparsed_auth is None
                    and state.mode != "auth"
                    and "334" not in (text := record.text)  # type: ignore[union-attr]
                    and "auth" not in text.lower()
                ):
                    yield record  # type: ignore[misc]  # what _unparsed gives a text with no AUTH
                else:
                    yield self._unparsed(state, record)  # type: ignore[arg-type]
            elif kind is _END:
                key = record.stream
                state = streams.pop(key, None)
                if state is not None:  # self._flush(state, key)
                    if state.pending:
                        yield self._flush_reply(state)
                    if state.body_span is not None:
                        yield self._flush_body(state, key)
                    if notes:
                        yield from notes
                        notes.clear()
                yield record  # type: ignore[misc]
            elif kind is _SERVER:
                key = record.stream
                state = streams.get(key)
                if state is None:
                    state = streams[key] = _Stream()
                else:
                    streams.move_to_end(key)
                if state.pending or record.sep == "-" or state.mode == "data":  # type: ignore[union-attr]
                    yield from self._server_line(record, state)  # type: ignore[arg-type]
                else:
                    yield self._one_line_reply(record, state)  # type: ignore[arg-type]
            elif kind is _CLIENT:
                yield from self._client_line(record)  # type: ignore[arg-type]
            else:
                yield from self._unmarked_line(record)  # type: ignore[arg-type]
            if notes:
                yield from notes
                notes.clear()
            if len(streams) > max_streams:
                key, state = streams.popitem(last=False)
                yield from self._flush(state, key)
        yield from self.finish()

    def finish(self) -> Iterator[Event]:
        for key, state in self._streams.items():
            yield from self._flush(state, key)
        self._streams.clear()

    def _flush(self, state: _Stream, key: str | None) -> Iterator[Event]:
        if state.pending:
            yield self._flush_reply(state)
        if state.body_span is not None:
            yield self._flush_body(state, key)
        yield from self._notes
        self._notes.clear()

    # -- server side -------------------------------------------------------

    def _server_line(self, line: ServerLine, state: _Stream | None = None) -> Iterator[Event]:
        if state is None:
            state = self._stream(line.stream)
        state.seen_server = True
        if state.mode == "data" and not state.pending:
            # A reply while content was being sent: the tool did not print
            # the final "." (curl, sendmail -v), so the content ended here.
            if state.body_span is not None:
                yield self._flush_body(state, line.stream)
            yield DataEnd(span=None, time=line.time, stream=line.stream)
            state.mode = "command"
        if state.pending and state.pending[0].code != line.code:
            yield self._flush_reply(state)
        if line.sep == "-" and len(state.pending) >= limits.MAX_REPLY_LINES - 1:
            state.pending_dropped += 1  # a reply of 100,000 lines keeps its head and last line
            state.pending[-1] = line
        else:
            state.pending.append(line)
        if line.sep != "-":
            yield self._flush_reply(state)

    def _one_line_reply(self, line: ServerLine, state: _Stream) -> Reply:
        """``_server_line`` of a reply's only line (none pending, no content being sent)."""
        state.seen_server = True
        text, span = line.text, line.span
        reply = Reply(
            code=line.code,
            enhanced=enhanced_code(text),
            lines=(text,),
            span=span,
            time=line.time,
            stream=line.stream,
            latency=line.latency,
            line_numbers=(span.first,),
        )
        self._after_reply(state, reply)
        return reply

    def _flush_reply(self, state: _Stream) -> Reply:
        lines, state.pending = state.pending, []
        first, last = lines[0], lines[-1]
        if state.pending_dropped:
            self._notes.append(
                Note(
                    text=f"the reply at lines {first.span.first:,}-{last.span.last:,} has "
                    f"{len(lines) + state.pending_dropped:,} lines; {state.pending_dropped:,} "
                    "of them are not shown (a limit: smtplog.limits.MAX_REPLY_LINES = "
                    f"{limits.MAX_REPLY_LINES:,})",
                    time=first.time,
                    stream=first.stream,
                )
            )
            state.pending_dropped = 0
        if len(lines) == 1:  # most replies: the line's own span and number
            texts, span, numbers = (first.text,), first.span, (first.span.first,)
        else:
            texts = tuple([line.text for line in lines])
            span = Span(first.span.first, last.span.last)
            numbers = tuple([line.span.first for line in lines])
        reply = Reply(
            code=first.code,
            enhanced=enhanced_code(texts[0]),
            lines=texts,
            span=span,
            time=first.time,
            stream=first.stream,
            latency=first.latency,
            line_numbers=numbers,
        )
        self._after_reply(state, reply)
        return reply

    def _after_reply(self, state: _Stream, reply: Reply) -> None:
        state.replies += 1
        if reply.code == 354 and (state.data_sent or _pasted_from_data(state)):
            state.mode = "data"
            state.data_sent = False
        elif reply.code == 334:
            state.mode = "auth"
            if state.auth is None:  # a one-sided log: the AUTH command is missing
                state.auth = AuthExchange(mechanism="")
            state.last_prompt_role = prompt_role(decode_auth_prompt(reply.text))
        else:
            state.mode = "command"
            if state.auth is not None and reply.code != 334:
                state.auth = None
        state.data_requested = False

    # -- client side -------------------------------------------------------

    def _client_line(self, line: ClientLine) -> Iterator[Event]:
        state = self._stream(line.stream)
        if state.pending:
            yield self._flush_reply(state)
        state.seen_client = True
        if line.body or state.mode == "data":
            yield from self._body_line(state, line)
            return
        if state.data_requested and not state.seen_server:
            # Client-only log: no 354 will ever be shown; content follows DATA.
            state.mode = "data"
            state.data_requested = False
            yield from self._body_line(state, line)
            return
        verb, argument = split_command(line.text)
        if (state.mode == "auth" and not (verb == "AUTH" and argument)) or (
            state.auth is not None and not state.seen_server and verb not in KNOWN_VERBS
        ):
            # After a 334 a line is a response, except a new AUTH command (with its
            # mechanism): read as a response, its initial response would not be masked.
            yield self._auth_response(state, line)
            return
        if _stray_credentials(state, line.text):
            yield self._stray_credentials(line)
            return
        yield self._command(state, line)

    @staticmethod
    def _stray_credentials(line: ClientLine) -> AuthResponse:
        """A lone token typed after an AUTH attempt, outside any exchange.

        Someone following the telnet procedure keeps typing the base64 user
        name and password even when the server already refused AUTH LOGIN:
        the line may well be a password, so it is masked, never shown.
        """
        length = len(line.text.strip())
        return AuthResponse(
            text=f"[possible credentials typed outside an AUTH exchange, {length} characters]",
            role="credentials",
            secret=True,
            valid_base64=is_base64(line.text),
            span=line.span,
            time=line.time,
            stream=line.stream,
        )

    def _body_line(self, state: _Stream, line: ClientLine) -> Iterator[Event]:
        if line.text == ".":
            if state.body_span is not None:
                yield self._flush_body(state, line.stream)
            state.mode = "command"
            yield DataEnd(span=line.span, time=line.time, stream=line.stream)
            return
        if state.body_span is None:
            state.body_span, state.body_time = line.span, line.time
        else:
            state.body_span = Span(state.body_span.first, line.span.last)
        state.body_count += 1
        state.body_bare_lf = state.body_bare_lf or line.bare_lf
        if len(state.body) < BODY_LINES_KEPT:
            state.body.append(line.text)
            state.body_numbers.append(line.span.first)

    def _flush_body(self, state: _Stream, key: str | None) -> DataBody:
        body = DataBody(
            lines=tuple(state.body),
            line_numbers=tuple(state.body_numbers),
            line_count=state.body_count,
            span=state.body_span,
            time=state.body_time,
            stream=key,
            bare_lf=state.body_bare_lf,
        )
        state.body, state.body_numbers, state.body_count = [], [], 0
        state.body_bare_lf = False
        state.body_span, state.body_time = None, None
        return body

    def _auth_response(self, state: _Stream, line: ClientLine) -> AuthResponse:
        masked = mask_response(line.text, state.auth, state.last_prompt_role)
        if state.auth is not None:
            state.auth.responses += 1
        state.mode = "command"  # the next server reply decides what follows
        return AuthResponse(
            text=masked.text,
            role=masked.role,  # type: ignore[arg-type]
            decoded=masked.decoded,
            secret=masked.secret,
            valid_base64=masked.valid_base64,
            span=line.span,
            time=line.time,
            stream=line.stream,
        )

    def _command(self, state: _Stream, line: ClientLine) -> Command:
        verb, argument = split_command(line.text)
        edited = line.edited or bool(_CARET_CONTROL.search(line.text))
        if _CARET_CONTROL.search(line.text.split(" ", 1)[0]):
            # The server received the control character inside the verb ("EHLP\bO").
            verb, _, argument = line.text.partition(" ")
            verb = verb.upper()
        text, secret = line.text, False
        if verb == "AUTH":
            mechanism, _, initial = argument.partition(" ")
            state.auth = AuthExchange(mechanism=mechanism.upper())
            state.auth_attempted = True
            if initial.strip():
                masked, _user = mask_initial_response(mechanism, initial)
                secret = masked != initial.strip()
                text = f"{line.text.split(None, 1)[0]} {mechanism} {masked}"
                argument = f"{mechanism} {masked}"
                state.auth.responses += 1
        elif verb == "DATA":
            state.data_requested = state.data_sent = True
        elif verb == "MAIL":
            state.data_sent = False  # a new transaction: an unanswered DATA was refused
        return Command(
            verb=verb,
            argument=argument,
            text=text,
            secret=secret,
            edited=edited,
            span=line.span,
            time=line.time,
            stream=line.stream,
        )

    def _unparsed(self, state: _Stream, line: Unparsed | Note) -> Event:
        """A line no rule understood may still hold credentials: shown, it would leak them.

        A dialect that does not fit the text (detected wrongly, or forced with
        --dialect) leaves an AUTH exchange as lines it does not understand (or
        takes them for its tool's own notes). An AUTH command with an initial
        response, and a lone base64 word after a 334 challenge or an AUTH
        command, are masked as in a real exchange.
        """
        context, state.unparsed_auth = state.unparsed_auth, None
        text = line.text
        command = _auth_command(text)
        if command:
            mechanism, response = command["mechanism"].upper(), command["response"]
            state.unparsed_auth = (mechanism, None)
            masked, _user = mask_initial_response(mechanism, response or "")
            if not response or masked == response:
                return line
            shown = f"{text[: command.start('response')]}{masked}".strip()
            return AuthResponse(text=shown, role="credentials", secret=True, span=line.span,
                                time=line.time, stream=line.stream)  # fmt: skip
        if "334" in text and (challenge := _CHALLENGE.search(text)):
            mechanism = context[0] if context else ""
            state.unparsed_auth = (mechanism, prompt_role(decode_auth_prompt(challenge[1] or "")))
            return line
        if state.mode == "auth" and context is None:
            context = (state.auth.mechanism if state.auth else "", state.last_prompt_role)
            state.mode = "command"
        if context is None:
            return line
        words = text.split()
        if not 1 <= len(words) <= 2 or not is_base64(words[-1]):
            return line
        masked = mask_response(words[-1], AuthExchange(mechanism=context[0]), context[1])
        return AuthResponse(
            text=masked.text,
            role=masked.role,  # type: ignore[arg-type]
            decoded=masked.decoded,
            secret=masked.secret,
            valid_base64=masked.valid_base64,
            span=line.span,
            time=line.time,
            stream=line.stream,
        )

    # -- lines of unknown direction ---------------------------------------

    def _unmarked_line(self, line: UnmarkedLine) -> Iterator[Event]:
        state = self._stream(line.stream)
        text = line.text
        if state.mode == "data" and state.seen_client:
            # Two-sided capture: everything up to "." is content, even a
            # body line that happens to look like "250 ok".
            yield from self._client_line(
                ClientLine(text, line.span, line.time, line.stream, body=True)
            )
            return
        if line.reply is not None:
            yield from self._server_line(line.reply)
            return
        if not text.strip():
            return  # blank lines between replies carry nothing
        client = ClientLine(text, line.span, line.time, line.stream, edited=line.edited)
        if (
            state.mode in ("auth", "data")
            or _looks_like_command(text)
            or (_stray_credentials(state, text))
        ):
            yield from self._client_line(client)
            return
        if state.pending:
            yield self._flush_reply(state)
        unparsed = Unparsed(text=text, span=line.span, time=line.time, stream=line.stream)
        yield self._unparsed(state, unparsed)  # "C: AUTH PLAIN <blob>" is not a command here


def _pasted_from_data(state: _Stream) -> bool:
    """A paste that starts at the 354 (the DATA command above it not copied).

    Any other 354 that answers no DATA command starts no message: what follows
    is read as commands and replies, so an AUTH exchange after a stray 354 is
    still recognised and its secrets masked, not shown as message content.
    """
    return state.replies == 1 and not state.seen_client


def assemble(records: Iterable[Record]) -> list[Event]:
    """Every event of a whole input (a list: the caller holds the input already)."""
    return [e for e in Assembler().feed(records) if not isinstance(e, StreamEnd)]
