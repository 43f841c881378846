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
    data: dict[str, Any] = {
        "line": event.span.first if event.span else None,
        "kind": event.kind,
    }
    if event.span is not None and event.span.last != event.span.first:
        data["last_line"] = event.span.last
    if isinstance(event, Reply):
        data.update(code=event.code, enhanced=event.enhanced, text=_clean(event.text))
        if event.latency is not None:
            data["latency"] = event.latency
    elif isinstance(event, Command):
        data.update(verb=event.verb, argument=_clean(event.argument), text=_clean(event.display))
    elif isinstance(event, AuthResponse):
        data.update(role=event.role, text=_clean(event.text), secret=event.secret)
        if event.decoded is not None:
            data["decoded"] = _clean(event.decoded)
    elif isinstance(event, DataBody):
        data.update(lines=event.line_count, summary=event.summary)
    elif isinstance(event, TlsStarted):
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
    elif isinstance(event, ConnectFailed):
        data.update(reason=event.reason, text=_clean(event.detail))
    elif isinstance(event, Connecting | Connected):
        data["target"] = _clean(event.target)
    elif isinstance(event, Closed):
        data.update(by=event.by, unexpected=event.unexpected, text=_clean(event.detail))
    elif isinstance(event, Timeout):
        data.update(waiting_for=event.waiting_for, text=_clean(event.detail))
    elif isinstance(event, TlsFailed):
        data["text"] = _clean(event.reason)
    elif isinstance(event, Encrypted):
        data.update(
            client_bytes=event.client_bytes, server_bytes=event.server_bytes, text=event.text
        )
    elif isinstance(event, ClientError | Note | Unparsed):
        data["text"] = _clean(event.text)
    elif isinstance(event, DataEnd):
        pass
    if event.inferred:
        data["inferred"] = True
    data["time"] = None if event.time is None or t0 is None else round(event.time - t0, 6)
    return data


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
