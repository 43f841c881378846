"""Reports as plain dicts in DESIGN.md's JSON shape ("smtplog/1")."""

from __future__ import annotations

import re
from typing import Any

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
    Timeout,
    TlsFailed,
    TlsStarted,
    Unparsed,
)
from smtplog.render.safe import safe
from smtplog.report import SCHEMA, Evidence, Finding, Report, SessionReport

_UNDECODABLE = re.compile("[\udc80-\udcff]")


def _clean(text: str) -> str:
    # JSON escapes control characters itself; only undecodable bytes (lone
    # surrogates) would make the document unencodable, so show those as \xNN.
    # (str.isascii() reads a flag of the string: most texts cost nothing.)
    if text.isascii() or not _UNDECODABLE.search(text):
        return text
    return safe(text, tab_size=0)


def event_to_dict(event: Event, t0: float | None) -> dict[str, Any]:
    span = event.span
    data: dict[str, Any] = {"line": span.first if span else None, "kind": event.kind}
    if span is not None and span.last != span.first:
        data["last_line"] = span.last
    kind = type(event)
    fields = _FIELDS_BY_TYPE.get(kind)
    if fields is None:  # the first event of its type: its fields, by the first isinstance
        fields = _FIELDS_BY_TYPE[kind] = next(
            (write for types, write in _FIELDS if isinstance(event, types)), _no_fields
        )
    fields(event, data)
    if span is None:
        data["inferred"] = True
    data["time"] = None if event.time is None or t0 is None else round(event.time - t0, 6)
    return data


def _reply(event: Reply, data: dict[str, Any]) -> None:
    data.update(code=event.code, enhanced=event.enhanced, text=_clean(event.text))
    if event.latency is not None:
        data["latency"] = event.latency


def _command(event: Command, data: dict[str, Any]) -> None:
    data.update(verb=event.verb, argument=_clean(event.argument), text=_clean(event.display))


def _auth_response(event: AuthResponse, data: dict[str, Any]) -> None:
    data.update(role=event.role, text=_clean(event.text), secret=event.secret)
    if event.decoded is not None:
        data["decoded"] = _clean(event.decoded)


def _data_body(event: DataBody, data: dict[str, Any]) -> None:
    data.update(lines=event.line_count, summary=event.summary)


def _tls_started(event: TlsStarted, data: dict[str, Any]) -> None:
    data.update(
        version=event.version,
        cipher=event.cipher,
        subject=event.subject,
        issuer=event.issuer,
        not_after=event.not_after,
        names=list(event.sans),
        verified=event.verified,
        detail=event.detail,
    )


def _connect_failed(event: ConnectFailed, data: dict[str, Any]) -> None:
    data.update(reason=event.reason, text=_clean(event.detail))


def _connection(event: Connecting | Connected, data: dict[str, Any]) -> None:
    data["target"] = _clean(event.target)


def _closed(event: Closed, data: dict[str, Any]) -> None:
    data.update(by=event.by, unexpected=event.unexpected, text=_clean(event.detail))


def _timeout(event: Timeout, data: dict[str, Any]) -> None:
    data.update(waiting_for=event.waiting_for, text=_clean(event.detail))


def _tls_failed(event: TlsFailed, data: dict[str, Any]) -> None:
    data["text"] = _clean(event.reason)


def _encrypted(event: Encrypted, data: dict[str, Any]) -> None:
    data.update(client_bytes=event.client_bytes, server_bytes=event.server_bytes, text=event.text)


def _text(event: ClientError | Note | Unparsed, data: dict[str, Any]) -> None:
    data["text"] = _clean(event.text)


def _no_fields(event: Event, data: dict[str, Any]) -> None:
    pass  # DataEnd, StreamEnd...: the kind says it all


# Each kind's own fields, in the order of the first isinstance that holds.
_FIELDS: tuple[tuple[type | tuple[type, ...], Any], ...] = (
    (Reply, _reply),
    (Command, _command),
    (AuthResponse, _auth_response),
    (DataBody, _data_body),
    (TlsStarted, _tls_started),
    (ConnectFailed, _connect_failed),
    ((Connecting, Connected), _connection),
    (Closed, _closed),
    (Timeout, _timeout),
    (TlsFailed, _tls_failed),
    (Encrypted, _encrypted),
    ((ClientError, Note, Unparsed), _text),
    (DataEnd, _no_fields),
)
_FIELDS_BY_TYPE: dict[type, Any] = {}


def _evidence(items: tuple[Evidence, ...]) -> list[dict[str, Any]]:
    return [{"line": item.line, "text": _clean(item.text)} for item in items]


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    data = finding.to_dict()
    data["evidence"] = _evidence(finding.evidence)
    data["consequences"] = _evidence(finding.consequences)
    return data


def session_to_dict(session: SessionReport) -> dict[str, Any]:
    analysis = session.analysis
    times = [event.time for event in analysis.events if event.time is not None]
    t0 = min(times) if times else None
    return {
        "outcome": session.outcome,
        "failed_at": session.failed_at,
        "target": analysis.target,
        "diagnoses": [finding_to_dict(finding) for finding in session.findings],
        "observations": [finding_to_dict(finding) for finding in session.observations],
        "capabilities": analysis.capabilities,
        "tls": analysis.tls is not None,
        "authenticated": analysis.authenticated,
        "one_sided": analysis.one_sided,
        "violations": [
            {"line": v.span.first if v.span else None, "message": v.message, "rfc": v.rfc}
            for v in analysis.violations
        ],
        "notes": analysis.notes,
        "events": [event_to_dict(event, t0) for event in analysis.events],
    }


def report_to_dict(report: Report) -> dict[str, Any]:
    return {
        "source": report.source,
        "dialect": {
            "name": report.dialect,
            "confidence": report.confidence,
            "forced": report.forced,
            "runner_up": (
                {"name": report.runner_up[0], "score": report.runner_up[1]}
                if report.runner_up
                else None
            ),
        },
        "cleanup": report.cleanup,
        "notes": report.notes,
        "sessions": [session_to_dict(session) for session in report.sessions],
    }


def document(reports: list[Report]) -> dict[str, Any]:
    return {"schema": SCHEMA, "reports": [report_to_dict(report) for report in reports]}
