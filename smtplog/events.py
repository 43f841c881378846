"""The event model: what happened in an SMTP session, as plain values.

Every event is a frozen, slotted, keyword-only dataclass that carries the span
of input lines it came from (``None`` for events the analyzer inferred) and an
optional timestamp in seconds on the transcript's own clock. Events never hold
a secret: AUTH passwords are masked before an event is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from smtplog.quickinit import quick_init

ConnectFailure = Literal["timeout", "refused", "unreachable", "dns", "reset", "other"]
Closer = Literal["server", "client", "unknown"]


@dataclass(frozen=True, slots=True)
class Span:
    """Inclusive range of 1-based input line numbers."""

    first: int
    last: int

    @classmethod
    def of(cls, number: int) -> Span:
        return cls(number, number)

    def __contains__(self, number: object) -> bool:
        return isinstance(number, int) and self.first <= number <= self.last


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base class.

    Attributes:
        span: the input lines this event came from; None when inferred.
        time: seconds on the transcript's clock (absolute or relative), if known.
        stream: the connection this event belongs to when a log interleaves
            several (Exchange session id, Nodemailer connection id...).
    """

    kind: ClassVar[str] = "event"
    span: Span | None = None
    time: float | None = None
    stream: str | None = None

    @property
    def inferred(self) -> bool:
        return self.span is None


@dataclass(frozen=True, slots=True, kw_only=True)
class Connecting(Event):
    """The client program says it is connecting ("Trying 192.0.2.1...")."""

    kind: ClassVar[str] = "connecting"
    target: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Connected(Event):
    """A TCP connection to the server is open."""

    kind: ClassVar[str] = "connected"
    target: str = ""
    address: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectFailed(Event):
    """The connection could not be made, and why (``reason``)."""

    kind: ClassVar[str] = "connect-failed"
    reason: ConnectFailure = "other"
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply(Event):
    """A complete server reply (all lines of a multi-line reply).

    ``lines`` hold the text after "NNN-" / "NNN " of each line, enhanced
    status code included, exactly as the server wrote it.
    """

    kind: ClassVar[str] = "reply"
    code: int
    enhanced: str | None = None
    lines: tuple[str, ...] = ()
    latency: float | None = None  # seconds the server took, when the transcript says
    line_numbers: tuple[int, ...] = ()  # input line of each reply line (replies may skip lines)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def reply_class(self) -> int:
        return self.code // 100

    @property
    def is_error(self) -> bool:
        return self.code >= 400

    def wire_lines(self) -> list[str]:
        """The reply as it appeared on the wire: ``250-first``, ..., ``250 last``."""
        if not self.lines:
            return [str(self.code)]
        last = len(self.lines) - 1
        return [
            f"{self.code}{' ' if i == last else '-'}{line}".rstrip()
            for i, line in enumerate(self.lines)
        ]


@dataclass(frozen=True, slots=True, kw_only=True)
class Command(Event):
    """A client command. ``text`` is what the client wrote (masked if secret)."""

    kind: ClassVar[str] = "command"
    verb: str
    argument: str = ""
    text: str = ""
    secret: bool = False
    edited: bool = False  # typed with backspace/DEL: the server may have seen the raw bytes

    @property
    def display(self) -> str:
        return self.text or f"{self.verb} {self.argument}".rstrip()


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthResponse(Event):
    """A client line inside an AUTH exchange.

    ``text`` is safe to show: for a secret it is a mask such as
    "[password redacted, 11 characters]". ``decoded`` holds the decoded value
    only when it is not secret (a user name).
    """

    kind: ClassVar[str] = "auth"
    text: str
    role: Literal["username", "password", "credentials", "token", "response", "cancel"] = "response"
    decoded: str | None = None
    secret: bool = False
    valid_base64: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class DataBody(Event):
    """The message content sent after 354 (the lines as the transcript shows them)."""

    kind: ClassVar[str] = "data"
    lines: tuple[str, ...] = ()
    line_numbers: tuple[int, ...] = ()  # input line of each kept line
    line_count: int = 0  # all body lines, including those not kept in ``lines``
    summary: str | None = None  # e.g. "97 bytes" when the tool did not show the body
    bare_lf: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class DataEnd(Event):
    """The lone "." that ends the message."""

    kind: ClassVar[str] = "data-end"


@dataclass(frozen=True, slots=True, kw_only=True)
class TlsStarted(Event):
    """TLS is up (STARTTLS or implicit TLS): what was negotiated and the certificate."""

    kind: ClassVar[str] = "tls-started"
    version: str | None = None
    cipher: str | None = None
    subject: str | None = None
    issuer: str | None = None
    not_after: str | None = None
    sans: tuple[str, ...] = ()  # subjectAltName entries: "DNS:mx.example.com", "IP:192.0.2.1"
    verified: bool | None = None
    detail: str = ""  # e.g. why verification failed, or "not checked (--insecure)"


@dataclass(frozen=True, slots=True, kw_only=True)
class TlsFailed(Event):
    """The TLS handshake failed."""

    kind: ClassVar[str] = "tls-failed"
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Encrypted(Event):
    """Traffic after TLS started that the recorder saw but could not decrypt.

    Written by the proxy (TLS passed through) and the packet-capture reader:
    the session goes on, but what was said is unknown, so no verdict can come
    from it. ``detail`` says where encryption began ("after STARTTLS").
    """

    kind: ClassVar[str] = "encrypted"
    client_bytes: int = 0
    server_bytes: int = 0
    detail: str = ""

    @property
    def text(self) -> str:
        """ "encrypted after STARTTLS: 2.1 kB from the client, 3.4 kB from the server"."""
        where = f"encrypted {self.detail}" if self.detail else "encrypted"
        return (
            f"{where}: {_size(self.client_bytes)} from the client, "
            f"{_size(self.server_bytes)} from the server (not decrypted)"
        )


def _size(count: int) -> str:
    if count < 1000:
        return f"{count} bytes"
    if count < 1_000_000:
        return f"{count / 1000:.1f} kB"
    return f"{count / 1_000_000:.1f} MB"


@dataclass(frozen=True, slots=True, kw_only=True)
class Timeout(Event):
    """Nothing came back in time; ``waiting_for`` says what was awaited."""

    kind: ClassVar[str] = "timeout"
    waiting_for: str = "reply"
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Closed(Event):
    """The connection was closed, by whom, and whether it was expected."""

    kind: ClassVar[str] = "closed"
    by: Closer = "unknown"
    detail: str = ""
    unexpected: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientError(Event):
    """What the client tool itself reported, e.g. "SMTP Error: Could not authenticate."."""

    kind: ClassVar[str] = "client-error"
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Note(Event):
    """Informational text from the tool (swaks "===" lines, curl "*" lines)."""

    kind: ClassVar[str] = "note"
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ShellPrompt(Note):
    """A shell prompt pasted with the session ("user@vm:~$ swaks --to ..."), set aside
    by cleanup. Not SMTP, but a prompt after SMTP traffic starts a new session."""

    kind: ClassVar[str] = "prompt"


@dataclass(frozen=True, slots=True, kw_only=True)
class Unparsed(Event):
    """A line no rule of the dialect understood; shown dimmed, never fatal."""

    kind: ClassVar[str] = "unparsed"
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamEnd(Event):
    """The dialect knows the connection ``stream`` is over (Postfix "disconnect from",
    an Exchange "-" record). Not part of any session: it tells the session splitter
    that the session is complete, so a long log is reported as it is read."""

    kind: ClassVar[str] = "stream-end"


# Built millions of times in a long log: a quicker __init__, the same signature.
for _cls in [
    Span,
    *(v for v in list(globals().values()) if isinstance(v, type) and issubclass(v, Event)),
]:  # (the module's own classes: dataclass(slots=True) replaced each class it made)
    quick_init(_cls)
