"""Turn a session analysis into findings: the root cause first, then the rest.

Evidence order (taxonomy §2.1, DESIGN "Rules and findings"):

1. structural evidence decides before any reply code: the client spoke before
   the greeting, TLS started in the wrong mode, the TLS handshake failed, the
   AUTH exchange was not base64 (rules/structural.py);
2. then the reply that decided the verdict, classified from data
   (rules/classify.py: provider tables, phrases, enhanced code, text, code +
   phase), corrected by what the session shows (AUTH sent although the EHLO
   reply did not offer it);
3. then what is missing: no connection, no greeting, a drop, the client
   program's own error text.

Failures the root cause explains are listed as its consequences, not as
separate problems. Observations (rules/observations.py) follow: warnings and
notes that never change the verdict.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import TypeVar

from smtplog.events import (
    AuthResponse,
    ClientError,
    Closed,
    Command,
    ConnectFailed,
    Encrypted,
    Event,
    Reply,
    Timeout,
    TlsFailed,
)
from smtplog.protocol import Exchange, SessionAnalysis, unrecovered_failures
from smtplog.report import SEVERITY_ORDER, Evidence, Finding
from smtplog.rules.classify import (
    Classification,
    ProviderMatch,
    about_provider,
    classify,
    classify_any_phase,
    detect_provider,
    merge_steps,
    names_no_provider,
    parse_reply_line,
    providers,
)
from smtplog.rules.client_errors import client_error_diagnosis
from smtplog.rules.evidence import event_text, evidence_of, reply_wire_text, target_port
from smtplog.rules.literals import lowered
from smtplog.rules.observations import observe
from smtplog.rules.registry import get
from smtplog.rules.structural import BEFORE_REPLIES, ended, in_context, tls_failure
from smtplog.smtp import command_address

E = TypeVar("E", bound=Event)

CONNECT_FAILURES = {
    "timeout": ("connect-timeout", "high"),
    "unreachable": ("connect-timeout", "high"),
    "refused": ("connect-refused", "high"),
    "reset": ("connect-refused", "medium"),
    "dns": ("dns-resolution-failed", "high"),
    # Windows telnet says "Connect failed" for a refusal and a timeout alike.
    "other": ("connect-timeout", "medium"),
}

# "421 4.4.2 ...", "550-5.1.1 ...", and Python's repr of an SMTP error: "(535, b'5.7.8 ...')".
_EMBEDDED_REPLY = re.compile(r"(?<![\d.])([45]\d\d)(?:[ -]|, b?['\"])")


class _Facts(dict[str, str]):
    """Values for the {placeholders} of a summary; unknown ones print as "…".

    A summary names two or three of them: each is worked out (``_FACTS``) when
    the summary asks for it, not for every finding. Rules may set or change
    one before (``facts["command"] = ...``).
    """

    __slots__ = ("diagnoser", "exchange")

    def __init__(self, diagnoser: Diagnoser, exchange: Exchange | None, detail: str) -> None:
        super().__init__(detail=detail)
        self.diagnoser = diagnoser
        self.exchange = exchange

    def __missing__(self, key: str) -> str:
        make = _FACTS.get(key)
        value = make(self.diagnoser, self.exchange) if make is not None else None
        if value is None:
            return "…"
        self[key] = value
        return value


class Diagnoser:
    """Builds the findings of one session."""

    def __init__(self, analysis: SessionAnalysis) -> None:
        self.analysis = analysis
        # The session's events by class, in order: one walk serves every rule asking
        # for a kind of event (most sessions hold a few events of a few kinds).
        kinds: dict[type[Event], list[Event]] = {}
        for event in analysis.events:
            kind = type(event)
            if kind in kinds:
                kinds[kind].append(event)
            else:
                kinds[kind] = [event]
        self.kinds = kinds
        replies: Sequence[Reply] = kinds.get(Reply, ())  # type: ignore[assignment]
        # (unnamed: the replies' text holds no provider marker, so neither does a one-line
        # reply's: classify need not look again)
        self.provider, self.unnamed = _session_provider(analysis, replies)
        self.memo: dict[str, object] = {}  # facts about the session rules ask for often

    def of_kind(self, kind: type[E]) -> Sequence[E]:
        """The session's events of class ``kind`` (subclasses not included: the rules ask
        for classes that have none, tests/rules/test_fast_paths.py), in order."""
        return self.kinds.get(kind, ())  # type: ignore[return-value]

    def has(self, *kinds: type[Event]) -> bool:
        """Does the session hold an event of one of these classes (subclasses not included)?"""
        return not self.kinds.keys().isdisjoint(kinds)

    def names_no_provider(self, reply: Reply) -> bool:
        """Surely no provider marker in the text ``classify`` reads of ``reply``: the session's
        replies hold none, and a one-line reply's text is that line stripped, a part of theirs."""
        return (
            self.unnamed
            and len(reply.lines) == 1
            and any(other is reply for other in self.of_kind(Reply))
        )

    # -- building findings ---------------------------------------------------

    def facts(self, exchange: Exchange | None = None, detail: str = "") -> _Facts:
        """The values a summary may name, about the session and ``exchange``."""
        return _Facts(self, exchange, detail)

    def finding(
        self,
        diagnosis_id: str,
        *,
        confidence: str,
        evidence: Iterable[Evidence],
        facts: _Facts,
        severity: str | None = None,
        consequences: Iterable[Evidence] = (),
        phase: str | None = None,
        matched_by: str | None = None,
        classification: Classification | None = None,
        extra: str = "",
    ) -> Finding:
        doc = get(diagnosis_id)
        summary = doc.summary.format_map(facts)
        next_steps, references = doc.next_steps, doc.references
        provider = self.provider.name if self.provider else None
        rule = classification.rule if classification else None
        if classification is not None and classification.provider is not None:
            provider = classification.provider.name
        causes = doc.causes
        if rule is not None and rule.meaning:
            # The provider's own meaning and steps come first: they are specific.
            summary = f"{summary} {rule.meaning}"
            next_steps = merge_steps(rule, next_steps)
            causes = about_provider(rule, causes)
            help_page = providers()[rule.provider].help if rule.provider else None
            standards = [ref for ref in references if not ref.startswith("http")]
            references = _unique(
                (*rule.references, *([help_page] if help_page else []), *standards)
            )
        if extra:
            summary = f"{summary} {extra}"
        return Finding(
            id=diagnosis_id,
            severity=severity or doc.severity,
            confidence=confidence,
            title=doc.title,
            summary=summary,
            explanation=doc.explanation,
            causes=causes,
            next_steps=next_steps,
            references=references,
            evidence=tuple(evidence),
            consequences=tuple(consequences),
            phase=phase,
            provider=provider,
            matched_by=matched_by,
            group=doc.group,
        )

    def classify_exchange(self, exchange: Exchange) -> tuple[Classification, str]:
        """The classification of a failed exchange, corrected by the session's context.

        Returns the classification and the {detail} of its summary (by default
        the reply itself, quoted).
        """
        reply = exchange.reply
        result = classify(
            reply, exchange.phase, self.provider, unnamed=self.names_no_provider(reply)
        )
        override = in_context(self, exchange, result)
        if override is not None:
            return override
        return result, f'"{_shorten(reply_wire_text(exchange.reply, " "))}"'

    def last_error(self, reply: Reply) -> str:
        """For an expiry text, the embedded last error, classified (taxonomy S35)."""
        text = " ".join(reply.lines)
        embedded = embedded_reply(text, skip_first=True)
        if embedded is None:
            return ""
        quoted = _shorten(" ".join(embedded.wire_lines()), 120)
        inner = classify(embedded, "queue", self.provider)
        if inner.diagnosis in ("delivery-expired", "unclassified"):
            return f'The last error before it gave up: "{quoted}".'
        return (
            f'The last error before it gave up: "{quoted}", which means '
            f"{get(inner.diagnosis).title[0].lower()}{get(inner.diagnosis).title[1:]} "
            f"({inner.diagnosis}): that is the problem to fix."
        )

    def from_exchange(
        self,
        exchange: Exchange,
        severity: str | None = None,
        consequences: Iterable[Evidence] = (),
    ) -> Finding:
        result, detail = self.classify_exchange(exchange)
        extra = self.last_error(exchange.reply) if result.diagnosis == "delivery-expired" else ""
        evidence = [evidence_of(exchange.reply)]
        if exchange.request is not None:
            evidence.insert(0, evidence_of(exchange.request))
        facts = self.facts(exchange, detail=detail)
        if isinstance(exchange.request, Command) and exchange.request.edited:
            facts["command"] += (
                " (typed with backspace: telnet sent the control character to the server)"
            )
        return self.finding(
            result.diagnosis,
            confidence=result.confidence,
            evidence=evidence,
            facts=facts,
            severity=severity,
            phase=exchange.phase,
            matched_by=result.matched_by,
            classification=result,
            consequences=consequences,
            extra=extra,
        )

    # -- the root cause --------------------------------------------------------

    def root(self) -> Finding | None:
        analysis = self.analysis
        verdict = analysis.verdict
        if verdict.outcome == "delivered" and analysis.delivered is not None:
            exchange = next(e for e in analysis.exchanges if e.reply is analysis.delivered)
            return self.finding(
                "delivered",
                confidence="high",
                evidence=[evidence_of(analysis.delivered)],
                facts=self.facts(exchange),
                phase="message",
            )
        for detector in BEFORE_REPLIES:
            finding = detector(self)
            if finding is not None:
                return finding
        if verdict.decisive is not None:
            consequences = [
                evidence_of(e.reply)
                for e in unrecovered_failures(analysis)
                if e is not verdict.decisive
            ]
            finding = self.from_exchange(verdict.decisive, consequences=consequences)
            return self._with_client_errors(finding)
        reason = verdict.reason
        if isinstance(reason, ConnectFailed):
            diagnosis, confidence = CONNECT_FAILURES[reason.reason]
            return self.finding(
                diagnosis,
                confidence=confidence,
                evidence=[evidence_of(reason)],
                facts=self.facts(detail=reason.detail or reason.reason),
                phase="connect",
                matched_by=f"connection failure: {reason.reason}",
            )
        if isinstance(reason, TlsFailed):
            return tls_failure(self, reason)
        if isinstance(reason, Encrypted):
            return self.finding(
                "encrypted",
                confidence="high",
                evidence=[evidence_of(reason)],
                facts=self.facts(detail=reason.detail or "after TLS started"),
                matched_by="traffic after the TLS handshake was recorded but not decrypted",
            )
        if isinstance(reason, (Closed, Timeout)):
            return ended(self, reason)
        if isinstance(reason, ClientError):
            return self.client_error(reason)
        return None

    def _with_client_errors(self, finding: Finding) -> Finding:
        """The client program's own words about the failure belong to its evidence."""
        if not self.analysis.client_errors:
            return finding
        last = max((e.line or 0 for e in finding.evidence), default=0)
        errors = [
            evidence_of(error)
            for error in self.analysis.client_errors
            if error.span is not None and error.span.first > last
        ]
        if not errors:
            return finding
        return replace(finding, evidence=(*finding.evidence, *errors[:2]))

    def client_error(self, error: ClientError) -> Finding:
        phase = self.analysis.verdict.failed_at
        known = client_error_diagnosis(error.text)
        if known is not None:
            diagnosis, words = known
            return self.finding(
                diagnosis,
                confidence="medium",
                evidence=[evidence_of(error)],
                facts=self.facts(detail=error.text),
                phase=phase,
                matched_by=f'the client program\'s error text "{words}"',
            )
        # The client may quote the server's reply ("Invalid login: 535 5.7.8 ...").
        embedded = embedded_reply(error.text)
        if embedded is not None:
            result = classify(embedded, phase, self.provider)
            if result.tier in (None, "code", "text"):
                # The phase of a client's error is a guess; let the text speak.
                result = classify_any_phase(embedded, self.provider)[1]
            if result.diagnosis != "unclassified":
                return self.finding(
                    result.diagnosis,
                    confidence="medium",
                    evidence=[evidence_of(error)],
                    facts=_with_reply(self.facts(detail=error.text), embedded),
                    phase=phase,
                    matched_by=f"the server reply quoted by the client: {result.matched_by}",
                    classification=result,
                )
        return self.finding(
            "client-error",
            confidence="medium",
            evidence=[evidence_of(error)],
            facts=self.facts(detail=error.text),
            phase=phase,
            matched_by="the client program's error text",
        )

    # -- everything else -------------------------------------------------------

    def other_failures(self, root: Finding | None) -> tuple[Finding | None, list[Finding]]:
        """Failures that did not decide the verdict: typos retried, one of several recipients.

        An earlier attempt that failed the same way as the root cause (a login
        tried with PLAIN, then LOGIN) is part of the root cause, not a new problem.
        """
        analysis = self.analysis
        decisive = analysis.verdict.decisive
        others = [x for x in analysis.exchanges if x.failed and x is not decisive]
        if not others:
            return root, []  # (most sessions: nothing failed but the decisive reply)
        explained = {item.line for item in root.consequences} if root else set()
        explained |= {item.line for item in root.evidence} if root else set()
        findings, same = [], []
        for exchange in others:
            line = exchange.reply.span.first if exchange.reply.span else None
            if line is not None and line in explained:
                continue
            if line is None and root is not None and root.consequences:
                continue  # an inferred reply the root's consequences already cover
            # A rejected recipient is lost even when others were accepted.
            severity = "error" if exchange.verb == "RCPT" else "warning"
            finding = self.from_exchange(exchange, severity=severity)
            if root is not None and finding.id == root.id and finding.phase == root.phase:
                same.append(evidence_of(exchange.reply))
                continue
            findings.append(finding)
        if root is not None and same:
            root = replace(root, consequences=(*same, *root.consequences))
        return root, findings

    def run(self) -> tuple[list[Finding], list[Finding]]:
        """The findings (root cause first, then other failures) and the observations."""
        root, others = self.other_failures(self.root())
        findings = [root] if root is not None else []
        findings.extend(others)
        findings = _ordered(findings)
        return findings, observe(self, findings)


# -- the facts a summary may name ({server}, {reply}...), each made when one asks --------


def _server(diagnoser: Diagnoser, exchange: Exchange | None) -> str:
    analysis = diagnoser.analysis
    return analysis.target or _banner_host(analysis) or "the server"


def _provider(diagnoser: Diagnoser, exchange: Exchange | None) -> str:
    return diagnoser.provider.name if diagnoser.provider else "the server"


def _sender(diagnoser: Diagnoser, exchange: Exchange | None) -> str:
    sender = diagnoser.analysis.sender
    return f"<{sender}>" if sender is not None else "the sender"


def _phase(diagnoser: Diagnoser, exchange: Exchange | None) -> str:
    return diagnoser.analysis.verdict.failed_at or "…"


def _user(diagnoser: Diagnoser, exchange: Exchange | None) -> str | None:
    return next((e.decoded for e in diagnoser.of_kind(AuthResponse) if e.decoded), None)


def _user_suffix(diagnoser: Diagnoser, exchange: Exchange | None) -> str:
    user = _user(diagnoser, exchange)
    return f" for user {user}" if user else ""


def _size_limit(diagnoser: Diagnoser, exchange: Exchange | None) -> str:
    analysis = diagnoser.analysis
    size = analysis.capabilities.get("SIZE") or (analysis.capabilities_before_tls or {}).get(
        "SIZE", ""
    )
    if size.isdigit() and int(size) > 0:
        return f" (the server's limit is {int(size) / 1_000_000:.1f} MB)"
    return ""


def _port(diagnoser: Diagnoser, exchange: Exchange | None) -> str:
    port = target_port(diagnoser.analysis)
    return str(port) if port else "…"


def _code(diagnoser: Diagnoser, exchange: Exchange | None) -> str | None:
    return str(exchange.reply.code) if exchange is not None else None


def _enhanced(diagnoser: Diagnoser, exchange: Exchange | None) -> str | None:
    return (exchange.reply.enhanced or "") if exchange is not None else None


def _reply(diagnoser: Diagnoser, exchange: Exchange | None) -> str | None:
    return _shorten(reply_wire_text(exchange.reply, " ")) if exchange is not None else None


def _command(diagnoser: Diagnoser, exchange: Exchange | None) -> str | None:
    if exchange is None:
        return None
    if exchange.request is None:
        return "the greeting"
    return "the end of the message" if exchange.verb == "." else event_text(exchange.request)


def _recipient(diagnoser: Diagnoser, exchange: Exchange | None) -> str:
    if exchange is not None and exchange.verb == "RCPT" and isinstance(exchange.request, Command):
        address = command_address(exchange.request.argument)
        return f"<{address}>" if address else exchange.request.argument
    rejected = diagnoser.analysis.recipients_rejected
    return f"<{rejected[0][0]}>" if rejected else "the recipient"


_FACTS: dict[str, Callable[[Diagnoser, Exchange | None], str | None]] = {
    "server": _server,
    "provider": _provider,
    "sender": _sender,
    "phase": _phase,
    "user": _user,
    "user_suffix": _user_suffix,
    "size_limit": _size_limit,
    "port": _port,
    "code": _code,
    "enhanced": _enhanced,
    "reply": _reply,
    "command": _command,
    "recipient": _recipient,
}


def session_provider(
    analysis: SessionAnalysis, replies: Sequence[Reply] | None = None
) -> ProviderMatch | None:
    """The receiving provider: from the target, greeting and EHLO reply, else any reply.

    ``replies``: the session's replies, when the caller has them.
    """
    if replies is None:
        replies = [e for e in analysis.events if isinstance(e, Reply)]
    return _session_provider(analysis, replies)[0]


def _session_provider(
    analysis: SessionAnalysis, replies: Sequence[Reply]
) -> tuple[ProviderMatch | None, bool]:
    """``session_provider``, and whether the replies' text surely names no provider."""
    found = detect_provider(identity_texts(analysis))
    if found is not None:
        return found, False
    joined = "\n".join([reply.text for reply in replies])
    low = lowered(joined) if joined else None
    if low is not None and names_no_provider(low):
        return None, True  # (what detect_provider says; each text is new: not through its cache)
    return detect_provider([joined]), False


def identity_texts(analysis: SessionAnalysis) -> list[str]:
    """What names the receiving server first: the target, the greeting, the EHLO reply."""
    identity = [analysis.target or ""]
    if analysis.banner is not None:
        identity.append(analysis.banner.text)
    if analysis.ehlo is not None:
        identity.append(analysis.ehlo.text)
    return identity


def embedded_reply(text: str, *, skip_first: bool = False) -> Reply | None:
    """A server reply quoted inside other text ("... <421 4.4.2 Connection timed out>").

    With ``skip_first``, a reply at the very start of the text (the outer
    reply itself) is not taken; the last one quoted wins.
    """
    matches = [m for m in _EMBEDDED_REPLY.finditer(text) if not (skip_first and m.start() < 4)]
    if not matches:
        return None
    match = matches[-1]
    before, rest = text[: match.start()].rstrip(), text[match.end() :]
    if before.endswith("<") and ">" in rest:  # inside <...> the quote ends at ">"
        rest = rest.split(">", 1)[0]
    rest = rest.strip().rstrip(">)]}.,;'\"").strip()
    return parse_reply_line(f"{match.group(1)} {rest}")


def _with_reply(facts: _Facts, reply: Reply) -> _Facts:
    facts["reply"] = _shorten(" ".join(reply.wire_lines()))
    facts["code"] = str(reply.code)
    facts["enhanced"] = reply.enhanced or ""
    return facts


def _ordered(findings: list[Finding]) -> list[Finding]:
    if len(findings) < 2:
        return findings  # (most sessions: the root cause alone)
    root, rest = findings[0], findings[1:]
    rest.sort(
        key=lambda f: (SEVERITY_ORDER[f.severity], f.evidence[0].line or 0 if f.evidence else 0)
    )
    return [root, *rest]


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item for item in items if item))


def _banner_host(analysis: SessionAnalysis) -> str | None:
    if analysis.banner is not None and analysis.banner.lines:
        first = analysis.banner.lines[0].split()
        return first[0] if first else None
    return None


def _shorten(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def diagnose_session(analysis: SessionAnalysis) -> tuple[list[Finding], list[Finding]]:
    """Findings (root cause first) and observations (warnings and notes) of one session."""
    return Diagnoser(analysis).run()


def diagnose(analysis: SessionAnalysis) -> list[Finding]:
    """The findings of one session, root cause first (observations not included)."""
    return Diagnoser(analysis).run()[0]
