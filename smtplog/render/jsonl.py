"""A report as one line of JSON, written directly: the text that
``json_text(report_to_dict(report))`` gives, at a fraction of the cost.

``--format jsonl`` writes a line per session of a log, often tens of thousands;
building each session's dicts and encoding them again was a fifth of a large
Exchange log's time. Here each part is written as the JSON encoder would write
it (``", "`` and ``": "`` separators, ASCII only), and the knowledge text of a
finding (explanation, causes, next steps, references: most of a line), the same
for every session it explains, is encoded once and spliced in. What json_safe does
to a whole document it does to each value alone (and only a value holding text
beyond ASCII, or DEL, is changed by it), so each value is made safe as it is
encoded and a line is only looked through for DEL. render/data.py stays the
definition of the shape: tests/test_jsonl.py proves the two equal.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from math import copysign
from typing import TYPE_CHECKING, Any

from smtplog.events import (
    AuthResponse,
    ClientError,
    Closed,
    Command,
    Connected,
    ConnectFailed,
    Connecting,
    DataBody,
    Encrypted,
    Event,
    Note,
    Reply,
    Timeout,
    TlsFailed,
    TlsStarted,
    Unparsed,
)
from smtplog.render.data import _FIELDS as _DATA_FIELDS
from smtplog.render.data import _clean
from smtplog.render.safe import json_safe
from smtplog.report import Evidence, Finding, Report, SessionReport

if TYPE_CHECKING:
    from smtplog.analysis import ReportStream

# The encoder json_text uses (cli/output.py): anything this module has no shortcut
# for is written by it, so unusual values come out exactly as they always did.
_ENCODER = json.JSONEncoder(check_circular=False)
_encode = _ENCODER.encode
_string: Callable[[str], str] = json.encoder.encode_basestring_ascii  # the C function
_FLOAT_WORDS = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def report_line(report: Report, session_number: int | None = None) -> str:
    """``json_text`` of ``report_to_dict(report)`` (plus ``session_number`` when given)."""
    sessions = ", ".join([_session(session) for session in report.sessions])
    number = "" if session_number is None else f', "session_number": {_value(session_number)}'
    return _visible(f'{_head(report)}"sessions": [{sessions}]{number}}}')


class StreamLines:
    """The lines ``--format jsonl`` writes for the sessions of one input:
    ``report_line(stream.header([session]), number) + "\n"``, with the input's own fields
    (the same on every line) encoded again only when one of them changed."""

    def __init__(self, stream: ReportStream) -> None:
        self.stream = stream
        # What _head wrote last from: the lists as copies (a list may grow in place), the
        # other fields as the objects they were (1 == 1.0 == True, written otherwise).
        self._notes: list[str] | None = None
        self._cleanup: list[str] | None = None
        self._scalars: tuple[Any, ...] = ()
        self._head = ""

    def line(self, session: SessionReport, number: int) -> str:
        stream = self.stream
        # The notes grow while a log is read; the other fields are fixed when the head of
        # the input is read, but compared all the same.
        notes, cleanup, scalars = stream.notes, stream.cleanup, self._scalars
        if (
            notes != self._notes
            or cleanup != self._cleanup
            or not scalars
            or stream.source is not scalars[0]
            or stream.dialect is not scalars[1]
            or stream.confidence is not scalars[2]
            or stream.forced is not scalars[3]
            or stream.runner_up is not scalars[4]
        ):
            self._notes, self._cleanup = list(notes), list(cleanup)
            self._scalars = (
                stream.source,
                stream.dialect,
                stream.confidence,
                stream.forced,
                stream.runner_up,
            )
            self._head = _head(stream.header([]))
        counted = f"{number}" if number.__class__ is int else _value(number)
        return _visible(
            f'{self._head}"sessions": [{_session(session)}], "session_number": {counted}}}\n'
        )


def _visible(document: str) -> str:
    """``json_safe(document)`` for a document whose every value was made safe as it was
    encoded (by _value and the writers here): json_safe treats each value of an ASCII
    document (all of this module's are) on its own, except DEL, replaced here in one pass."""
    return document.replace("\x7f", "\\u007f") if "\x7f" in document else document


# -- values -------------------------------------------------------------------------------


def _value(value: Any) -> str:
    """One value as the encoder writes it; exact types only (a subclass goes to the encoder)."""
    kind = value.__class__
    if kind is str:
        return _string(value) if value.isascii() else json_safe(_string(value))
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if kind is int:
        return int.__repr__(value)
    if kind is float:
        text = float.__repr__(value)
        return _FLOAT_WORDS.get(text, text)
    return json_safe(_encode(value))


def _text(text: Any) -> str:
    """A transcript text as data.py's ``_clean`` leaves it, encoded."""
    if text.__class__ is str and text.isascii():
        return _string(text)
    return _value(_clean(text))


def _strings(items: Any) -> str:
    """A list (or tuple, which the encoder writes as a list) of values."""
    if items.__class__ is not list and items.__class__ is not tuple:
        return json_safe(_encode(items))
    if not items:
        return "[]"
    texts = []
    for item in items:
        texts.append(_string(item) if item.__class__ is str and item.isascii() else _value(item))
    return f"[{', '.join(texts)}]"


# -- the report and its sessions ----------------------------------------------------------


def _head(report: Report) -> str:
    """Everything before "sessions": the input's fields, the same on every line of it."""
    runner_up = report.runner_up
    other = (
        f'{{"name": {_value(runner_up[0])}, "score": {_value(runner_up[1])}}}'
        if runner_up
        else "null"
    )
    return (
        f'{{"source": {_value(report.source)}, "dialect": {{"name": {_value(report.dialect)}, '
        f'"confidence": {_value(report.confidence)}, "forced": {_value(report.forced)}, '
        f'"runner_up": {other}}}, "cleanup": {_strings(report.cleanup)}, '
        f'"notes": {_strings(report.notes)}, '
    )


def _session(session: SessionReport) -> str:
    analysis = session.analysis
    verdict = analysis.verdict  # (session.outcome and .failed_at)
    outcome, failed_at, one_sided = verdict.outcome, verdict.failed_at, analysis.one_sided
    findings, observations = session.findings, session.observations
    violations, capabilities, notes = analysis.violations, analysis.capabilities, analysis.notes
    target = analysis.target  # (a text, mostly: _value(target) without a call)
    aimed = _string(target) if target.__class__ is str and target.isascii() else _value(target)
    authenticated = analysis.authenticated
    if authenticated is False or authenticated is True:
        signed_in = "true" if authenticated else "false"
    else:
        signed_in = _value(authenticated)
    # (a session has a finding or two, seldom an observation or a violation: no list then)
    if len(findings) == 1:
        diagnoses = _finding(findings[0])
    else:
        diagnoses = ", ".join([_finding(f) for f in findings]) if findings else ""
    if len(notes) == 1 and (note := notes[0]).__class__ is str:
        noted = f"[{_WORDS.get(note) or _word(note)}]"  # (the one-sided note, mostly)
    else:
        noted = _strings(notes)
    return (
        f'{{"outcome": {_WORDS.get(outcome) or _word(outcome)}, '
        f'"failed_at": {_WORDS.get(failed_at) or _word(failed_at)}, '
        f'"target": {aimed}, '
        f'"diagnoses": [{diagnoses}], '
        f'"observations": '
        f"[{', '.join([_finding(f) for f in observations]) if observations else ''}], "
        f'"capabilities": {json_safe(_encode(capabilities)) if capabilities else "{}"}, '
        f'"tls": {"false" if analysis.tls is None else "true"}, '
        f'"authenticated": {signed_in}, '
        f'"one_sided": {_WORDS.get(one_sided) or _word(one_sided)}, '
        f'"violations": [{", ".join([_violation(v) for v in violations]) if violations else ""}], '
        f'"notes": {noted}, '
        f'"events": [{_events(analysis.events)}]}}'
    )


def _word(value: str | None) -> str:
    """A value of a small vocabulary (an outcome, a phase, a side, a note made for many
    sessions): its text is kept (``_WORDS.get(value) or _word(value)`` is _value(value))."""
    text = _WORDS.get(value)
    if text is None:
        text = _value(value)
        if value is None or value.__class__ is str:  # (keys equal to a str are str)
            if len(_WORDS) >= _MAX_WORDS:
                _WORDS.clear()
            _WORDS[value] = text
    return text


_WORDS: dict[str | None, str] = {}
_MAX_WORDS = 1024


def _violation(violation: Any) -> str:
    line = violation.span.first if violation.span else None
    return (
        f'{{"line": {_value(line)}, "message": {_value(violation.message)}, '
        f'"rfc": {_value(violation.rfc)}}}'
    )


# -- findings -----------------------------------------------------------------------------


def _finding(finding: Finding) -> str:
    head, knowledge, tail = _constant_parts(finding)
    summary, evidence, consequences = finding.summary, finding.evidence, finding.consequences
    return (
        f"{head}"
        f"{_string(summary) if summary.__class__ is str and summary.isascii() else _value(summary)}"
        f"{knowledge}{_evidence(evidence) if evidence else '[]'}"
        f', "consequences": {_evidence(consequences) if consequences else "[]"}{tail}'
    )


def _constant_parts(finding: Finding) -> tuple[str, str, str]:
    """The encoded fields around summary, evidence and consequences, made once per diagnosis
    (and provider, phase...): kept by every field they hold, when all of them are text."""
    key = (
        finding.id,
        finding.severity,
        finding.confidence,
        finding.title,
        finding.explanation,
        finding.causes,
        finding.next_steps,
        finding.references,
        finding.phase,
        finding.provider,
        finding.matched_by,
        finding.group,
    )
    parts = _PARTS.get(key)
    if parts is None:
        parts = _encode_parts(finding)
        if _textual(key):  # (equal keys of other types, 1 == 1.0, may encode otherwise)
            if len(_PARTS) >= _MAX_PARTS:
                _PARTS.clear()  # a bound, never reached by the knowledge base's few hundred
            _PARTS[key] = parts
    return parts


def _textual(key: tuple[Any, ...]) -> bool:
    """Every value is None, a str, or a tuple of str (what Finding's hints say they are)."""
    return all(
        value is None
        or value.__class__ is str
        or (value.__class__ is tuple and all(item.__class__ is str for item in value))
        for value in key
    )


_PARTS: dict[tuple[Any, ...], tuple[str, str, str]] = {}
_MAX_PARTS = 4096


def _encode_parts(finding: Finding) -> tuple[str, str, str]:
    head = (
        f'{{"id": {_encode(finding.id)}, "severity": {_encode(finding.severity)}, '
        f'"confidence": {_encode(finding.confidence)}, "title": {_encode(finding.title)}, '
        '"summary": '
    )
    knowledge = (
        f', "explanation": {_encode(finding.explanation)}, '
        f'"causes": {_encode(list(finding.causes))}, '
        f'"next_steps": {_encode(list(finding.next_steps))}, '
        f'"references": {_encode(list(finding.references))}, "evidence": '
    )
    tail = (
        f', "phase": {_encode(finding.phase)}, "provider": {_encode(finding.provider)}, '
        f'"matched_by": {_encode(finding.matched_by)}, "group": {_encode(finding.group)}}}'
    )
    # Kept as json_safe leaves them: the lines they go into are not looked through again.
    return json_safe(head), json_safe(knowledge), json_safe(tail)


def _evidence(items: tuple[Evidence, ...]) -> str:
    written = []
    for item in items:
        line, text = item.line, item.text
        ascii_text = text.__class__ is str and text.isascii()
        written.append(
            f'{{"line": {f"{line}" if line.__class__ is int else _value(line)}, '
            f'"text": {_string(text) if ascii_text else _text(text)}}}'
        )
    return f"[{', '.join(written)}]"


# -- events -------------------------------------------------------------------------------


def _events(events: list[Event]) -> str:
    """The events of a session, their times as offsets from its earliest."""
    t0 = None  # min() of the times: the first of the least (a loop: no list, no call)
    for event in events:
        time = event.time
        if time is not None and (t0 is None or time < t0):
            t0 = time
    written = []
    for event in events:
        kind = event.__class__
        writer = _KINDS.get(kind)
        if writer is None:
            writer = _KINDS[kind] = (f', "kind": {_value(kind.kind)}', _fields_writer(kind))
        named, fields = writer
        span = event.span
        if span is None:
            line, last, inferred = "null", "", ', "inferred": true'
        else:
            first, inferred = span.first, ""
            line = f"{first}" if first.__class__ is int else _value(first)
            last = "" if span.last == first else f', "last_line": {_value(span.last)}'
        time = event.time
        if time is None or t0 is None:
            moment = "null"
        else:  # (_moment, its most frequent answers first)
            offset = time - t0
            if offset.__class__ is not float:
                moment = _moment(offset)
            elif offset:
                moment = _MOMENTS.get(offset) or _moment(offset)
            else:
                moment = "0.0" if copysign(1.0, offset) > 0 else _moment(offset)
        written.append(
            f'{{"line": {line}{named}{last}{fields(event)}{inferred}, "time": {moment}}}'
        )
    return ", ".join(written)


def _moment(offset: float) -> str:
    """``round(offset, 6)`` encoded: both are slow, and a log has a few thousand offsets,
    so each float's text is kept. Only floats: 1 == 1.0 as keys. Zero is answered apart:
    0.0 == -0.0 as keys, and the offsets of a log without times are all 0.0."""
    if offset.__class__ is float:
        if offset:
            text = _MOMENTS.get(offset)
            if text is None:
                if len(_MOMENTS) >= _MAX_MOMENTS:
                    _MOMENTS.clear()
                text = _MOMENTS[offset] = _value(round(offset, 6))
            return text
        if copysign(1.0, offset) > 0:
            return "0.0"
    return _value(round(offset, 6))


_MOMENTS: dict[float, str] = {}
_MAX_MOMENTS = 65536

# Each kind's encoded name and the writer of its own fields, found once.
_KINDS: dict[type, tuple[str, Callable[[Any], str]]] = {}


def _fields_writer(kind: type) -> Callable[[Any], str]:
    """The writer of a kind's own fields: data.py's, by the first isinstance that holds."""
    return next((write for types, write in _FIELDS if issubclass(kind, types)), _no_fields)


# The writers of the most frequent kinds test each value's type inline: a call per value
# was half their cost. ``_string(x) if x.__class__ is str and x.isascii() else _value(x)``
# is _value(x); ``... else _text(x)`` is _text(x).


def _reply(event: Reply) -> str:
    code, enhanced, text = event.code, event.enhanced, event.text
    fields = (
        f', "code": {f"{code}" if code.__class__ is int else _value(code)}, '
        f'"enhanced": {"null" if enhanced is None else _value(enhanced)}, '
        f'"text": {_string(text) if text.__class__ is str and text.isascii() else _text(text)}'
    )
    if event.latency is not None:
        fields += f', "latency": {_value(event.latency)}'
    return fields


def _command(event: Command) -> str:
    verb, arg, text = event.verb, event.argument, event.display
    return (
        f', "verb": {_string(verb) if verb.__class__ is str and verb.isascii() else _value(verb)}, '
        f'"argument": {_string(arg) if arg.__class__ is str and arg.isascii() else _text(arg)}, '
        f'"text": {_string(text) if text.__class__ is str and text.isascii() else _text(text)}'
    )


def _auth_response(event: AuthResponse) -> str:
    text = f', "role": {_value(event.role)}, "text": {_text(event.text)}, '
    text += f'"secret": {_value(event.secret)}'
    if event.decoded is not None:
        text += f', "decoded": {_text(event.decoded)}'
    return text


def _data_body(event: DataBody) -> str:
    return f', "lines": {_value(event.line_count)}, "summary": {_value(event.summary)}'


def _tls_started(event: TlsStarted) -> str:
    texts = []  # None or text, mostly: each tested inline (a call per value costs more)
    for value in (
        event.version,
        event.cipher,
        event.subject,
        event.issuer,
        event.not_after,
    ):
        if value is None:
            texts.append("null")
        elif value.__class__ is str and value.isascii():
            texts.append(_string(value))
        else:
            texts.append(_value(value))
    version, cipher, subject, issuer, not_after = texts
    detail = event.detail  # (the same few texts: "handshake not shown in the transcript"...)
    return (
        f', "version": {version}, "cipher": {cipher}, "subject": {subject}, '
        f'"issuer": {issuer}, "not_after": {not_after}, "names": {_strings(event.sans)}, '
        f'"verified": {_value(event.verified)}, "detail": {_WORDS.get(detail) or _word(detail)}'
    )


def _connect_failed(event: ConnectFailed) -> str:
    reason, text = event.reason, event.detail
    return (
        f', "reason": {_WORDS.get(reason) or _word(reason)}, '
        f'"text": {_string(text) if text.__class__ is str and text.isascii() else _text(text)}'
    )


def _connection(event: Connecting | Connected) -> str:
    to = event.target
    return f', "target": {_string(to) if to.__class__ is str and to.isascii() else _text(to)}'


def _closed(event: Closed) -> str:
    by, unexpected, text = event.by, event.unexpected, event.detail
    return (
        f', "by": {_WORDS.get(by) or _word(by)}, '
        f'"unexpected": {"false" if unexpected is False else _value(unexpected)}, '
        f'"text": {_string(text) if text.__class__ is str and text.isascii() else _text(text)}'
    )


def _timeout(event: Timeout) -> str:
    waiting_for, text = event.waiting_for, event.detail
    return (
        f', "waiting_for": {_WORDS.get(waiting_for) or _word(waiting_for)}, '
        f'"text": {_string(text) if text.__class__ is str and text.isascii() else _text(text)}'
    )


def _tls_failed(event: TlsFailed) -> str:
    return f', "text": {_text(event.reason)}'


def _encrypted(event: Encrypted) -> str:
    return (
        f', "client_bytes": {_value(event.client_bytes)}, '
        f'"server_bytes": {_value(event.server_bytes)}, "text": {_value(event.text)}'
    )


def _note(event: ClientError | Note | Unparsed) -> str:
    text = event.text
    return f', "text": {_string(text) if text.__class__ is str and text.isascii() else _text(text)}'


def _no_fields(event: Event) -> str:
    return ""  # DataEnd, StreamEnd...: the kind says it all


# data.py's _FIELDS says which kinds have which fields (and in what order they are
# asked); here, how each of its field writers is written directly, by its name.
_WRITERS: dict[str, Callable[[Any], str]] = {
    "_reply": _reply,
    "_command": _command,
    "_auth_response": _auth_response,
    "_data_body": _data_body,
    "_tls_started": _tls_started,
    "_connect_failed": _connect_failed,
    "_connection": _connection,
    "_closed": _closed,
    "_timeout": _timeout,
    "_tls_failed": _tls_failed,
    "_encrypted": _encrypted,
    "_text": _note,
    "_no_fields": _no_fields,
}
_FIELDS: tuple[tuple[type | tuple[type, ...], Callable[[Any], str]], ...] = tuple(
    (types, _WRITERS[fields.__name__]) for types, fields in _DATA_FIELDS
)
