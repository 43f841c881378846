"""`smtplog record`: a telnet replacement that records.

The user types SMTP lines; each is sent with CRLF and the client waits for
the reply before reading the next line (so a pasted or piped script runs in
lock-step, like a person would type it; content after 354 goes straight
through until "."). Replies are shown as they arrive, coloured by class, with
the meaning of the code. ``STARTTLS`` upgrades the connection after its 220;
``/auth login`` and ``/auth plain`` ask for the user name and password and
send the base64 themselves, so the password never appears on screen, in the
scrollback or in the transcript.
"""

from __future__ import annotations

import base64
import os
import select
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

import click

from smtplog.events import (
    AuthResponse,
    ClientError,
    Closed,
    Command,
    Connected,
    ConnectFailed,
    DataBody,
    DataEnd,
    Event,
    Note,
    Reply,
    Timeout,
    TlsFailed,
    TlsStarted,
    Unparsed,
)
from smtplog.record import tls
from smtplog.record.session import Conversation, SessionEnded
from smtplog.record.wire import LineSplitter

HELP = """\
Type SMTP commands; each line is sent with CRLF and the reply is shown with its meaning.
  EHLO name, MAIL FROM:<a@b>, RCPT TO:<c@d>, DATA, RSET, NOOP, VRFY, QUIT ...
  STARTTLS           switches the connection to TLS after the server's 220
  /auth login [USER] AUTH LOGIN: asks for the user name and password, sends the base64
  /auth plain [USER] AUTH PLAIN, the same way (password: $SMTPLOG_PASSWORD or a prompt)
  /help              this text
  Ctrl-D or QUIT     end the session; the analysis follows
After DATA and the 354 reply, type the message and end it with a line holding only "."."""

_STYLES = {2: "green", 3: "cyan", 4: "yellow", 5: "red"}


@dataclass(slots=True)
class Screen:
    """Shows events as they are recorded: timestamp, direction, text, meaning."""

    out: TextIO
    colour: bool
    echo_client: bool  # show our own lines (a pipe does not echo what was sent)
    shown_body: int = field(default=0)

    def style(self, text: str, **kwargs: object) -> str:
        return click.style(text, **kwargs) if self.colour else text  # type: ignore[arg-type]

    def __call__(self, event: Event) -> None:
        from smtplog.render.lines import reply_note
        from smtplog.render.safe import safe

        stamp = self.style(f"+{event.time or 0:.3f}", dim=True)
        if isinstance(event, Reply):
            note = reply_note(event)
            colour = _STYLES.get(event.code // 100)
            for index, line in enumerate(event.wire_lines()):
                text = self.style(f"S: {safe(line)}", fg=colour)
                tail = f"  {self.style('# ' + note, dim=True)}" if note and index == 0 else ""
                self._print(f"{stamp} {text}{tail}")
            return
        if isinstance(event, AuthResponse):
            if event.secret or self.echo_client:
                note = f"  {self.style('# ' + event.role + ' masked', dim=True)}"
                self._print(f"{stamp} C: {safe(event.text)}{note if event.secret else ''}")
            return
        if isinstance(event, Command):
            if self.echo_client or event.secret:
                self._print(f"{stamp} C: {safe(event.display)}")
            return
        if isinstance(event, DataBody | DataEnd):
            return  # the user typed it; the analysis shows it
        text = _info(event)
        if text:
            error = isinstance(event, ConnectFailed | TlsFailed | Timeout | ClientError)
            error = error or (isinstance(event, Closed) and event.unexpected)
            self._print(f"{stamp} {self.style('** ' + safe(text), fg='red' if error else 'blue')}")

    def message(self, text: str) -> None:
        self._print(self.style(text, dim=True))

    def _print(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()


def _info(event: Event) -> str:
    if isinstance(event, Connected):
        return f"connected to {event.target} ({event.address})"
    if isinstance(event, ConnectFailed):
        return f"connection failed: {event.detail}"
    if isinstance(event, TlsStarted):
        verified = {True: "certificate verified", False: "certificate NOT verified"}
        parts = [event.version or "", event.cipher or "", f"subject {event.subject}"]
        if event.verified is not None:
            parts.append(verified[event.verified])
        if event.detail:
            parts.append(event.detail)
        return "TLS started: " + ", ".join(part for part in parts if part)
    if isinstance(event, TlsFailed):
        return f"TLS failed: {event.reason}"
    if isinstance(event, Timeout):
        return event.detail or "timeout"
    if isinstance(event, Closed):
        return event.detail or f"connection closed by the {event.by}"
    if isinstance(event, ClientError | Note | Unparsed):
        return event.text
    return ""


class Prompter:
    """Asks for a user name and a password: on the terminal, else from the input and env."""

    def __init__(self, read_line: Callable[[], str | None], tty: bool) -> None:
        self.read_line = read_line
        self.tty = tty

    def user(self) -> str | None:
        if self.tty:
            try:
                return input("User name: ")
            except EOFError:
                return None
        return self.read_line()

    def password(self, user: str) -> str | None:
        value = os.environ.get("SMTPLOG_PASSWORD")
        if value is not None:
            return value
        if not self.tty:
            return None
        import getpass

        try:
            return getpass.getpass(f"Password for {user}: ")
        except EOFError:
            return None


class Interactive:
    """The read-send-show loop over one recorded connection."""

    def __init__(
        self,
        conversation: Conversation,
        screen: Screen,
        *,
        stdin_fd: int,
        tty: bool,
        timeout: float,
        tls_options: dict[str, object],
    ) -> None:
        self.conv = conversation
        self.screen = screen
        self.fd = stdin_fd
        self.tty = tty
        self.timeout = timeout
        self.tls_options = tls_options
        self.lines = LineSplitter()
        self.queue: list[str] = []
        self.eof = False
        self.prompter = Prompter(self._next_line_blocking, tty)

    # -- input ----------------------------------------------------------------------

    def _fill(self, timeout: float | None) -> None:
        """Read what the user typed (or the pipe holds) into the queue."""
        if self.eof:
            return
        ready, _w, _x = select.select([self.fd], [], [], timeout)
        if not ready:
            return
        data = os.read(self.fd, 65536)
        if not data:
            self.eof = True
            rest = self.lines.take()
            if rest:
                self.queue.append(rest.decode("utf-8", "surrogateescape"))
            return
        for raw, _bare in self.lines.feed(data):
            self.queue.append(raw.decode("utf-8", "surrogateescape"))

    def _next_line_blocking(self) -> str | None:
        while not self.queue and not self.eof:
            self._fill(None)
        return self.queue.pop(0) if self.queue else None

    # -- the loop -----------------------------------------------------------------------

    def run(self) -> None:
        try:
            self._wait_reply()  # the greeting
            while self.conv.open:
                line = self._next_input()
                if line is None:  # Ctrl-D / end of the pipe
                    self._quit()
                    return
                self._handle(line)
        except SessionEnded:
            return

    def _next_input(self) -> str | None:
        """The next typed line, showing server lines that arrive meanwhile."""
        while not self.queue and not self.eof:
            fds = [self.fd, self.conv.channel.fileno()]
            if self.conv.channel.has_buffered:
                self.conv.poll(0)
                continue
            ready, _w, _x = select.select(fds, [], [], None)
            if self.conv.channel.fileno() in ready:
                self.conv.poll(0)  # unsolicited lines (a 421 before closing)
            if self.fd in ready:
                self._fill(0)
        return self.queue.pop(0) if self.queue else None

    def _handle(self, line: str) -> None:
        wire = self.conv.wire
        if wire.mode == "data":
            self.conv.send_raw_line(line)
            if line == ".":
                self._wait_reply()
            return
        stripped = line.strip()
        if stripped.startswith("/"):
            self._helper(stripped)
            return
        if not stripped:
            return
        self.conv.send_raw_line(line)
        reply = self._wait_reply()
        verb = stripped.split()[0].upper()
        if reply is None:
            return
        if verb == "STARTTLS" and reply.code == 220:
            self._start_tls()
        if verb == "QUIT":
            self.conv.close(by_client=True)

    def _wait_reply(self) -> Reply | None:
        return self.conv.reply(self.timeout, "from the server")

    def _start_tls(self) -> None:
        options = self.tls_options
        verify = bool(options.get("verify", True))
        context = tls.make_context(verify=verify, cafile=options.get("cafile"))  # type: ignore[arg-type]
        why = "" if verify else "not checked (--insecure)"
        self.conv.start_tls(
            context,
            options.get("hostname"),  # type: ignore[arg-type]
            self.timeout,
            verified=True if verify else None,
            why=why,
        )
        self.screen.message("(TLS is on: send EHLO again)")

    def _helper(self, text: str) -> None:
        words = text.split()
        name = words[0].lower()
        if name in ("/help", "/?"):
            self.screen.message(HELP)
            return
        if name == "/auth" and len(words) >= 2 and words[1].lower() in ("login", "plain"):
            self._auth(words[1].upper(), words[2] if len(words) > 2 else None)
            return
        if name == "/quit":
            self._quit()
            return
        self.screen.message(f"unknown helper {text.split(maxsplit=1)[0]}; /help lists them")

    def _auth(self, mechanism: str, user: str | None) -> None:
        user = user if user is not None else self.prompter.user()
        if not user:
            self.screen.message("no user name: AUTH not sent")
            return
        password = self.prompter.password(user)
        if password is None:
            self.screen.message(
                "no password (set SMTPLOG_PASSWORD, or use a terminal): AUTH not sent"
            )
            return
        if mechanism == "PLAIN":
            blob = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
            self.conv.send(f"AUTH PLAIN {blob}")
            self._wait_reply()
            return
        self.conv.send("AUTH LOGIN")
        reply = self._wait_reply()
        if reply is not None and reply.code == 334:
            self.conv.send_auth(user.encode(), secret=False)
            reply = self._wait_reply()
        if reply is not None and reply.code == 334:
            self.conv.send_auth(password.encode(), secret=True)
            self._wait_reply()

    def _quit(self) -> None:
        if not self.conv.open:
            return
        if self.conv.wire.mode == "data":
            self.screen.message("(ending the message first with a lone '.')")
            self.conv.send_raw_line(".")
            self._wait_reply()
        self.conv.send("QUIT")
        try:
            self._wait_reply()
        except SessionEnded:
            return
        self.conv.close(by_client=True)


def stdin_is_tty() -> bool:
    return bool(sys.stdin) and sys.stdin.isatty()
