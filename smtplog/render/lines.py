"""The transcript as rows to display: shared by every human-readable renderer.

Pure data: a row says which input line it shows, who spoke, the (already
safe) text and a note explaining it. Renderers only decide how rows look.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    Note,
    Reply,
    ShellPrompt,
    Timeout,
    TlsFailed,
    TlsStarted,
    Unparsed,
)
from smtplog.knowledge import enhanced_title, reply_meaning
from smtplog.protocol import SessionAnalysis
from smtplog.render.safe import safe
from smtplog.smtp import decode_auth_prompt

BODY_ROWS = 8  # message lines shown before "… N more lines"


@dataclass(frozen=True, slots=True)
class Row:
    """One line of a rendered transcript: number, direction, text, note."""

    line: int | None  # None: inferred, not in the input
    who: str  # "S" server, "C" client, "*" client program / recorder, "?" not understood
    text: str
    note: str = ""
    style: str = ""  # reply-2 .. reply-5, inferred, unparsed, secret, info, error, body


def _short(meaning: str) -> str:
    for stop in (" (", ";", ". "):
        if stop in meaning:
            meaning = meaning.split(stop, 1)[0]
    return meaning.rstrip(".")


def reply_note(reply: Reply) -> str:
    """What a reply means: the decoded AUTH prompt, or its code and enhanced code."""
    if reply.code == 334:
        prompt = decode_auth_prompt(reply.text)
        if prompt is not None:
            return f'AUTH challenge, decoded: "{safe(prompt)}"'
        return (
            "AUTH challenge (empty: send the credentials)" if not reply.text else "AUTH challenge"
        )
    parts = []
    meaning = reply_meaning(reply.code)
    if meaning is not None:
        parts.append(f"{reply.code}: {_short(meaning.meaning)}")
    if reply.enhanced:
        title = enhanced_title(reply.enhanced)
        if title:
            parts.append(f"{reply.enhanced}: {title}")
    if reply.latency is not None:
        parts.append(f"after {reply.latency:.3f}s")
    return " · ".join(parts)


def _line(event: Event, offset: int = 0) -> int | None:
    """The input line of the ``offset``-th line of an event."""
    if event.span is None:
        return None
    numbers = getattr(event, "line_numbers", ())
    if offset < len(numbers):
        return numbers[offset]
    return min(event.span.first + offset, event.span.last)


def _reply_rows(event: Reply) -> list[Row]:
    note, style = reply_note(event), f"reply-{event.code // 100}"
    return [
        Row(_line(event, i), "S", safe(text), note if i == 0 else "", style)
        for i, text in enumerate(event.wire_lines())
    ]


def _command_rows(event: Command, violations: dict[int, str]) -> list[Row]:
    line = _line(event)
    note = "inferred from the reply" if event.inferred else ""
    if event.secret:
        note = "credentials masked"
    if event.edited:
        echoed = "^H" in event.display or "^?" in event.display
        note = (
            "⚠ the terminal echoed a control key: the server received it as a character"
            if echoed
            else "edited with backspace (shown as corrected)"
        )
    if line is not None and line in violations:
        note = f"⚠ {violations[line]}"
    style = "inferred" if event.inferred else ("secret" if event.secret else "")
    return [Row(line, "C", safe(event.display), note, style)]


def _auth_rows(event: AuthResponse) -> list[Row]:
    line = _line(event)
    if event.inferred:
        return [Row(None, "C", safe(event.text), "inferred from the reply", "inferred")]
    if event.secret:
        return [Row(line, "C", safe(event.text), f"{event.role} masked", "secret")]
    if event.role == "username" and event.decoded is not None:
        note = f'user name, decoded: "{safe(event.decoded)}"'
    elif not event.valid_base64:
        note = "⚠ not base64: the server expects base64 here"
    else:
        note = event.role
    return [Row(line, "C", safe(event.text), note, "")]


def _body_rows(event: DataBody) -> list[Row]:
    if event.summary and not event.lines:
        return [Row(_line(event), "C", f"[message content: {safe(event.summary)}]", "", "body")]
    rows = [
        Row(_line(event, i), "C", safe(text), "", "body")
        for i, text in enumerate(event.lines[:BODY_ROWS])
    ]
    hidden = event.line_count - len(rows)
    if hidden > 0:
        rows.append(Row(None, "C", f"… {hidden} more message lines", "", "body"))
    if rows:
        first = rows[0]
        rows[0] = Row(
            first.line, "C", first.text, f"message content, {event.line_count} lines", "body"
        )
    return rows


def _tls_text(event: TlsStarted) -> str:
    bits = [b for b in (event.version, event.cipher) if b]
    if event.subject:
        bits.append(f"subject {event.subject}")
    if event.verified is not None:
        bits.append("certificate verified" if event.verified else "certificate NOT verified")
        if event.detail and not event.verified:
            bits.append(event.detail)  # why verification failed (recorded by probe --insecure)
    text = "TLS started" + (": " + ", ".join(bits) if bits else "")
    if not bits and event.detail:
        text += f" ({event.detail})"
    return text


def _notice_row(event: Event) -> Row | None:
    """One row for what the client program or the recorder noticed."""
    line = _line(event)
    if isinstance(event, DataEnd):
        note = "end of message (inferred)" if event.inferred else "end of message"
        return Row(line, "C", ".", note, "inferred" if event.inferred else "")
    if isinstance(event, Connecting):
        return Row(line, "*", f"connecting to {safe(event.target)}", "", "info")
    if isinstance(event, Connected):
        target = safe(event.target) + (f" ({safe(event.address)})" if event.address else "")
        return Row(line, "*", f"connected to {target}", "", "info")
    if isinstance(event, ConnectFailed):
        detail = safe(event.detail or event.reason)
        return Row(line, "*", detail, f"connection failed: {event.reason}", "error")
    if isinstance(event, TlsStarted):
        return Row(line, "*", safe(_tls_text(event)), "", "info")
    if isinstance(event, TlsFailed):
        return Row(line, "*", safe(event.reason), "TLS failed", "error")
    if isinstance(event, Encrypted):
        return Row(line, "*", safe(event.text), "not readable here", "info")
    if isinstance(event, Timeout):
        detail = safe(event.detail or f"timeout waiting for {event.waiting_for}")
        return Row(line, "*", detail, "timeout", "error")
    if isinstance(event, Closed):
        note = f"connection closed by {event.by}" + (" unexpectedly" if event.unexpected else "")
        style = "error" if event.unexpected else "info"
        return Row(line, "*", safe(event.detail or "connection closed"), note, style)
    if isinstance(event, ClientError):
        return Row(line, "*", safe(event.text), "error reported by the client program", "error")
    if isinstance(event, Note):
        return Row(line, "*", safe(event.text), "", "info")
    if isinstance(event, Unparsed):
        return Row(line, "?", safe(event.text), "", "unparsed")
    return None


def rows_for(
    event: Event, violations: dict[int, str], unanswered: frozenset[int] = frozenset()
) -> list[Row]:
    """The rows of one event; ``unanswered`` holds id() of requests no reply answered."""
    rows = _event_rows(event, violations)
    if rows and id(event) in unanswered and not rows[0].note:
        first = rows[0]
        rows[0] = Row(first.line, first.who, first.text, "no reply in the transcript", first.style)
    return rows


def _event_rows(event: Event, violations: dict[int, str]) -> list[Row]:
    if isinstance(event, Reply):
        return _reply_rows(event)
    if isinstance(event, Command):
        return _command_rows(event, violations)
    if isinstance(event, AuthResponse):
        return _auth_rows(event)
    if isinstance(event, DataBody):
        return _body_rows(event)
    if isinstance(event, ShellPrompt):
        note = "shell prompt, not part of the session"
        return [Row(_line(event), "*", safe(event.text), note, "info")]
    row = _notice_row(event)
    return [row] if row is not None else []


def session_rows(analysis: SessionAnalysis) -> list[Row]:
    violations = {v.span.first: v.message for v in analysis.violations if v.span is not None}
    unanswered = frozenset(id(event) for event in analysis.unanswered)
    rows: list[Row] = []
    for event in analysis.events:
        rows.extend(rows_for(event, violations, unanswered))
    return rows


def verdict_text(
    outcome: str, failed_at: str | None, main_title: str | None, main_id: str | None
) -> str:
    if outcome == "delivered":
        return "delivered: the server accepted the message"
    parts = [outcome]
    if failed_at:
        parts.append(f"at {failed_at}")
    text = " ".join(parts)
    if main_id and main_id != "delivered":
        text += f": {main_id} ({main_title})"
    elif outcome == "incomplete":
        text += ": the session ended before a message was sent, and nothing failed"
    elif outcome == "unknown":
        text += ": the transcript does not show enough to tell"
    return text
