"""The SMTP wire codec, sans I/O: bytes in, events out (and the other way).

One ``WireSession`` follows one connection in both directions, the way h11
follows HTTP: the caller feeds the bytes the server sent (``server_bytes``)
and the bytes the client sent (``client_bytes``) with the time they were seen,
and gets events back. The probe and the interactive client also ask it to
encode what they send (``command``, ``auth_response``, ``message``) so that
their own lines are decoded by exactly the same code as a proxied client's.

What it knows about SMTP:
- replies are lines ``NNN-text`` continued until ``NNN text`` (RFC 5321 §4.2);
- after 354 the client sends content, dot-stuffed, ended by a lone "."
  (RFC 5321 §4.5.2); after 334 it sends an AUTH response (RFC 4954 §4);
- AUTH responses are masked here, at capture, with ``smtplog.auth``: the
  events this module returns never hold a password, a PLAIN blob or a token,
  so no transcript, log or screen built from them can leak one.

Times are seconds since the session started, chosen by the caller (the codec
never reads a clock). ``DataBody.lines`` keep the content as it went over the
wire (dot-stuffed), which is also how the canonical transcript writes it.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from smtplog.auth import AuthExchange, mask_initial_response, mask_response
from smtplog.events import AuthResponse, Command, DataBody, DataEnd, Event, Reply, Unparsed
from smtplog.limits import BODY_LINES_KEPT  # the content kept in an event; all is counted
from smtplog.smtp import decode_auth_prompt, enhanced_code, prompt_role, split_command

CRLF = b"\r\n"
MAX_LINE = 64 * 1024  # RFC 5321 §4.5.3.1.4 says 1000 for commands; be lenient, but bounded

_REPLY = re.compile(r"^(?P<code>[1-5][0-9][0-9])(?P<sep>[ -]|$)(?P<text>.*)$", re.DOTALL)


def _text(raw: bytes) -> str:
    """Decode a wire line without losing bytes (undecodable ones stay escaped)."""
    return raw.decode("utf-8", "surrogateescape")


class LineSplitter:
    """Cuts a byte stream into lines; CRLF or a bare LF ends a line."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[tuple[bytes, bool]]:
        """Complete lines as (content without the line end, ended by a bare LF)."""
        self._buffer += data
        lines: list[tuple[bytes, bool]] = []
        while True:
            end = self._buffer.find(b"\n")
            if end < 0:
                if len(self._buffer) > MAX_LINE:  # no line end in sight: cut it
                    lines.append((bytes(self._buffer), False))
                    self._buffer.clear()
                break
            raw = bytes(self._buffer[:end])
            del self._buffer[: end + 1]
            bare = not raw.endswith(b"\r")
            lines.append((raw if bare else raw[:-1], bare))
        return lines

    def take(self) -> bytes:
        """Whatever is buffered without a line end (and forget it)."""
        rest = bytes(self._buffer)
        self._buffer.clear()
        return rest

    @property
    def buffered(self) -> int:
        return len(self._buffer)


@dataclass(slots=True)
class _Body:
    lines: list[str] = field(default_factory=list)
    count: int = 0
    time: float | None = None
    bare_lf: bool = False


class WireSession:
    """Both directions of one SMTP connection, as events."""

    def __init__(self, stream: str | None = None) -> None:
        self.stream = stream
        self._server = LineSplitter()
        self._client = LineSplitter()
        self._reply: list[tuple[int, str, str]] = []  # (code, sep, text) of an open reply
        self._reply_time: float | None = None
        self.mode = "command"  # command | auth | data (what the client sends next)
        self._auth: AuthExchange | None = None
        self._prompt_role: str | None = None
        self._body: _Body | None = None
        self.last_reply: Reply | None = None

    # -- server -> client ---------------------------------------------------------

    def server_bytes(self, data: bytes, at: float) -> list[Event]:
        """Events for bytes the server sent: complete replies, and lines that are not replies."""
        events: list[Event] = []
        for raw, _bare in self._server.feed(data):
            events.extend(self._server_line(_text(raw), at))
        return events

    @property
    def reply_pending(self) -> bool:
        """Is a reply open (a continuation line, or a partial line, was received)?"""
        return bool(self._reply) or self._server.buffered > 0

    def server_closed(self, at: float) -> list[Event]:
        """The server closed the connection: flush a reply it left unfinished."""
        events: list[Event] = []
        rest = self._server.take()
        if rest:
            events.extend(self._server_line(_text(rest.rstrip(b"\r")), at))
        if self._reply:
            events.append(self._finish_reply())
        return events

    def discard_server_buffer(self) -> bytes:
        """Before a TLS handshake: plaintext the server sent after its 220 (RFC 3207 §6)."""
        return self._server.take()

    def _server_line(self, text: str, at: float) -> list[Event]:
        match = _REPLY.match(text)
        events: list[Event] = []
        if match is None:
            if self._reply:
                events.append(self._finish_reply())
            events.append(Unparsed(text=text, time=at, stream=self.stream))
            return events
        code, sep = int(match.group("code")), match.group("sep")
        if self._reply and self._reply[0][0] != code:
            events.append(self._finish_reply())  # a broken multi-line reply: keep both parts
        if not self._reply:
            self._reply_time = at
        self._reply.append((code, sep, match.group("text")))
        if sep != "-":
            events.append(self._finish_reply())
        return events

    def _finish_reply(self) -> Reply:
        lines, self._reply = self._reply, []
        texts = tuple(text for _code, _sep, text in lines)
        reply = Reply(
            code=lines[0][0],
            enhanced=enhanced_code(texts[0]) if texts else None,
            lines=texts,
            time=self._reply_time,
            stream=self.stream,
        )
        self._after_reply(reply)
        return reply

    def _after_reply(self, reply: Reply) -> None:
        self.last_reply = reply
        if reply.code == 354:
            self.mode = "data"
            self._body = _Body()
        elif reply.code == 334:
            self.mode = "auth"
            self._auth = self._auth or AuthExchange(mechanism="")
            self._prompt_role = prompt_role(decode_auth_prompt(reply.text))
        else:
            self.mode = "command"
            self._auth = None
            self._prompt_role = None

    # -- client -> server ---------------------------------------------------------

    def client_bytes(self, data: bytes, at: float, *, secret: bool = False) -> list[Event]:
        """Events for bytes the client sent (a proxied client, or our own lines).

        ``secret`` says the caller knows these bytes are a credential: they are
        masked even if the exchange does not look like AUTH.
        """
        events: list[Event] = []
        for raw, bare in self._client.feed(data):
            events.extend(self._client_line(_text(raw), bare, at, secret))
        return events

    def _client_line(self, text: str, bare: bool, at: float, secret: bool) -> list[Event]:
        if self.mode == "data":
            return self._body_line(text, bare, at)
        if self.mode == "auth" or secret:
            return [self._auth_line(text, at, secret)]
        return [self._command_line(text, at)]

    def _body_line(self, text: str, bare: bool, at: float) -> list[Event]:
        body = self._body or _Body()
        self._body = body
        if text == ".":
            events: list[Event] = []
            if body.count:
                events.append(
                    DataBody(
                        lines=tuple(body.lines),
                        line_count=body.count,
                        bare_lf=body.bare_lf,
                        time=body.time,
                        stream=self.stream,
                    )
                )
            events.append(DataEnd(time=at, stream=self.stream))
            self._body = None
            self.mode = "command"  # the reply to "." decides what follows
            return events
        if body.time is None:
            body.time = at
        body.count += 1
        body.bare_lf = body.bare_lf or bare
        if len(body.lines) < BODY_LINES_KEPT:
            body.lines.append(text)
        return []

    def _auth_line(self, text: str, at: float, secret: bool) -> AuthResponse:
        masked = mask_response(text, self._auth, self._prompt_role)
        if self._auth is not None:
            self._auth.responses += 1
        self.mode = "command"  # the next reply says whether another challenge follows
        shown, is_secret, decoded = masked.text, masked.secret, masked.decoded
        if secret and not is_secret:  # the caller knows better than the heuristics
            shown, is_secret, decoded = (
                f"[credentials redacted, {len(text)} characters]",
                True,
                None,
            )
        return AuthResponse(
            text=shown,
            role=masked.role,  # type: ignore[arg-type]
            decoded=decoded,
            secret=is_secret,
            valid_base64=masked.valid_base64,
            time=at,
            stream=self.stream,
        )

    def _command_line(self, text: str, at: float) -> Command:
        verb, argument = split_command(text)
        shown, secret = text, False
        if verb == "AUTH":
            mechanism, _, initial = argument.partition(" ")
            self._auth = AuthExchange(mechanism=mechanism.upper())
            if initial.strip():
                masked, _user = mask_initial_response(mechanism, initial)
                secret = masked != initial.strip()
                shown = f"{text.split(None, 1)[0]} {mechanism} {masked}"
                argument = f"{mechanism} {masked}"
                self._auth.responses += 1
        return Command(
            verb=verb, argument=argument, text=shown, secret=secret, time=at, stream=self.stream
        )

    # -- encoding what our own client sends ---------------------------------------------

    def command(self, text: str, at: float) -> tuple[bytes, list[Event]]:
        """A command line: the bytes to send (CRLF added) and its event."""
        if "\r" in text or "\n" in text:
            raise ValueError("a command is one line")
        data = text.encode("utf-8", "surrogateescape") + CRLF
        return data, self.client_bytes(data, at)

    def auth_response(self, value: bytes, at: float, *, secret: bool) -> tuple[bytes, list[Event]]:
        """Base64-encode ``value`` (a user name, a password, a PLAIN blob) for a 334 challenge."""
        data = base64.b64encode(value) + CRLF
        return data, self.client_bytes(data, at, secret=secret)

    def message(self, content: bytes, at: float) -> tuple[bytes, list[Event]]:
        """Message content after 354: CRLF line ends, dot-stuffed, ended by "."."""
        data = encode_message(content)
        return data, self.client_bytes(data, at)


def encode_message(content: bytes) -> bytes:
    """RFC 5321 §4.5.2: every line ends with CRLF, a leading "." is doubled, "." ends it."""
    lines = content.splitlines()
    stuffed = (b"." + line if line.startswith(b".") else line for line in lines)
    return b"".join(line + CRLF for line in stuffed) + b"." + CRLF


def decode_message(lines: Iterable[str]) -> list[str]:
    """The content a receiver stores: the dot-stuffing undone."""
    return [line[1:] if line.startswith(".") else line for line in lines]
