"""Write events as the canonical smtplog transcript (the ``smtplog`` dialect).

The recorder (probe, record, proxy) writes with this module and the analyzer
reads the result back with ``grammar/smtplog.lark``: one event per line, a
relative timestamp, then ``S:`` / ``C:`` / ``**``. Secrets are written masked:
the events given to the writer never hold them.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone

from smtplog.events import (
    AuthResponse,
    ClientError,
    Closed,
    Command,
    Connected,
    ConnectFailed,
    DataBody,
    DataEnd,
    Encrypted,
    Event,
    Note,
    Reply,
    Timeout,
    TlsFailed,
    TlsStarted,
    Unparsed,
)

FORMAT_VERSION = 1


def header(target: str, started: datetime | None = None, **extra: str) -> str:
    started = started or datetime.now(timezone.utc)
    stamp = started.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    fields = [f"target={target}", f"started={stamp}", *(f"{k}={v}" for k, v in extra.items())]
    return f"# smtplog transcript {FORMAT_VERSION}; " + "; ".join(fields)


def _one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


def tls_fields(event: TlsStarted) -> str:
    parts = [event.version or "unknown", event.cipher or "unknown"]
    for key, value in (
        ("subject", event.subject),
        ("issuer", event.issuer),
        ("not-after", event.not_after),
    ):
        if value:
            parts.append(f"{key}={shlex.quote(value)}")
    if event.sans:
        parts.append(f"names={shlex.quote(','.join(event.sans))}")
    if event.verified is not None:
        parts.append(f"verified={'yes' if event.verified else 'no'}")
    if event.detail:
        parts.append(f"detail={shlex.quote(_one_line(event.detail))}")
    return " ".join(parts)


def entries(event: Event) -> list[str]:
    """The transcript entries (without timestamp) for one event."""
    if isinstance(event, Reply):
        return [f"S: {line}" for line in event.wire_lines()]
    if isinstance(event, Command):
        return [f"C: {event.display}"]
    if isinstance(event, AuthResponse):
        return [f"C: {event.text}"]
    if isinstance(event, DataBody):
        if event.summary and not event.lines:
            return [f"** data-summary {_one_line(event.summary)}"]
        lines = [f"C: {line}" for line in event.lines]
        if event.line_count > len(event.lines):
            lines.append(f"** note {event.line_count - len(event.lines)} more message lines sent")
        return lines
    if isinstance(event, DataEnd):
        return ["C: ."]
    if isinstance(event, Connected):
        address = f" ({event.address})" if event.address else ""
        return [f"** connect {event.target}{address}"]
    if isinstance(event, ConnectFailed):
        return [f"** connect-failed {event.reason} {_one_line(event.detail)}".rstrip()]
    if isinstance(event, TlsStarted):
        return [f"** tls {tls_fields(event)}"]
    if isinstance(event, TlsFailed):
        return [f"** tls-failed {_one_line(event.reason)}"]
    if isinstance(event, Encrypted):
        detail = f": {_one_line(event.detail)}" if event.detail else ""
        return [f"** encrypted client={event.client_bytes} server={event.server_bytes}{detail}"]
    if isinstance(event, Timeout):
        return [f"** timeout {event.waiting_for} {_one_line(event.detail)}".rstrip()]
    if isinstance(event, Closed):
        flag = " unexpected" if event.unexpected else ""
        detail = f": {_one_line(event.detail)}" if event.detail else ""
        return [f"** closed {event.by}{flag}{detail}"]
    if isinstance(event, ClientError):
        return [f"** error {_one_line(event.text)}"]
    if isinstance(event, (Note, Unparsed)):
        return [f"** note {_one_line(event.text)}"]
    return []


def format_events(
    events: Iterable[Event], first_line: str | None = None, *, stream: str | None = None
) -> Iterator[str]:
    """Transcript lines for ``events``; ``event.time`` is seconds since the start.

    Events of several connections (``event.stream``: each MX of ``probe --mx``,
    each client of a proxy) are told apart by a ``** session LABEL`` line
    whenever the connection changes; ``stream`` is the one already written.
    """
    if first_line:
        yield first_line
    for event in events:
        stamp = f"+{event.time:.3f} " if event.time is not None else ""
        if event.stream is not None and event.stream != stream:
            stream = event.stream
            yield f"{stamp}** session {_one_line(stream)}"
        for entry in entries(event):
            yield f"{stamp}{entry}"
