"""`smtplog explain WHAT`: what a reply code, enhanced code, reply line or diagnosis means.

Everything comes from the knowledge files (the same ones the analyzer uses):
reply-codes.tsv and the IANA tables for meanings, the provider tables for what
providers mean by the same numbers, patterns.tsv for the diagnosis a reply
maps to, diagnoses.toml for causes and next steps. The result is plain data
(``Explanation.to_dict()``); cli/explain_cmd.py renders it.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from smtplog.errors import SmtplogError
from smtplog.knowledge import (
    enhanced_class,
    enhanced_meaning,
    enhanced_subjects,
    read_tsv,
    reply_meaning,
)
from smtplog.rules.classify import (
    TIER_RANK,
    Classification,
    EnhancedSpec,
    ProviderMatch,
    Rule,
    about_provider,
    classify,
    classify_any_phase,
    detect_provider,
    generic_rules,
    merge_steps,
    parse_reply_line,
    provider_rules,
    providers,
    rules_for,
)
from smtplog.rules.registry import Diagnosis, diagnoses

_REPLY_CODE = re.compile(r"^[2-5]\d\d$")
_ENHANCED = re.compile(r"^[245]\.\d{1,3}\.\d{1,3}$")
PHASE_NAMES = {
    "banner": "the greeting",
    "ehlo": "EHLO/HELO",
    "starttls": "STARTTLS",
    "auth": "AUTH",
    "mail": "MAIL FROM",
    "rcpt": "RCPT TO",
    "data": "DATA",
    "message": "the end of the message",
    "quit": "QUIT",
    "queue": "a queued delivery (an MTA's own report)",
    "connect": "the connection",
}


class UnknownQueryError(SmtplogError):
    """The argument is none of the things `explain` knows."""


@dataclass
class Meaning:
    code: str
    title: str
    text: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "title": self.title, "text": self.text, "source": self.source}


@dataclass
class ProviderMeaning:
    provider: str
    text: str  # the reply as documented
    meaning: str
    diagnosis: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "example": self.text,
            "meaning": self.meaning,
            "diagnosis": self.diagnosis,
            "source": self.source,
        }


@dataclass
class Mapping:
    """A generic row: at these phases, this code means this diagnosis."""

    diagnosis: str
    phases: tuple[str, ...]
    evidence: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "diagnosis": self.diagnosis,
            "phases": list(self.phases),
            "evidence": self.evidence,
            "source": self.source,
        }


@dataclass
class Explanation:
    query: str
    kind: str  # reply-code | enhanced-code | reply | diagnosis
    meanings: list[Meaning] = field(default_factory=list)
    provider_meanings: list[ProviderMeaning] = field(default_factory=list)
    mappings: list[Mapping] = field(default_factory=list)
    classification: dict[str, Any] | None = None
    diagnoses: list[Diagnosis] = field(default_factory=list)
    step_rule: Rule | None = None  # the provider row whose next steps come first
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "kind": self.kind,
            "meanings": [m.to_dict() for m in self.meanings],
            "provider_meanings": [p.to_dict() for p in self.provider_meanings],
            "mappings": [m.to_dict() for m in self.mappings],
            "classification": self.classification,
            "diagnoses": [diagnosis_dict(d, self.step_rule) for d in self.diagnoses],
            "notes": self.notes,
        }


def diagnosis_dict(doc: Diagnosis, rule: Rule | None = None) -> dict[str, Any]:
    specific = rule is not None and rule.diagnosis == doc.id
    steps = merge_steps(rule, doc.next_steps) if specific else doc.next_steps
    causes = about_provider(rule, doc.causes) if specific and rule else doc.causes
    return {
        "id": doc.id,
        "group": doc.group,
        "severity": doc.severity,
        "title": doc.title,
        "explanation": doc.explanation,
        "causes": list(causes),
        "next_steps": list(steps),
        "references": list(doc.references),
        "detection": doc.detection,
    }


# -- meanings from the tables ---------------------------------------------------------


def reply_code_meanings(code: int) -> list[Meaning]:
    meanings = []
    found = reply_meaning(code)
    if found is not None:
        meanings.append(Meaning(str(code), "reply code", found.meaning, found.source))
    for row in read_tsv("reply-classes.tsv"):
        if row["class"] == str(code // 100):
            meanings.append(Meaning(f"{code // 100}xx", "class", row["meaning"], row["source"]))
    return meanings


def enhanced_code_meanings(code: str) -> list[Meaning]:
    klass, subject, _detail = code.split(".")
    meanings = []
    found_class = enhanced_class(code)
    if found_class is not None:
        meanings.append(
            Meaning(f"{klass}.x.x", found_class.title, found_class.meaning, found_class.source)
        )
    subject_title = enhanced_subjects().get(subject)
    if subject_title:
        meanings.append(Meaning(f"x.{subject}.x", "subject", subject_title, "RFC 3463 §3.1"))
    detail = enhanced_meaning(code)
    if detail is not None:
        meanings.append(Meaning(code, detail.title, detail.meaning, detail.source))
    return meanings


def _provider_name(rule: Rule) -> str:
    provider = providers().get(rule.provider or "")
    if provider is None:
        return rule.provider or ""
    return provider.variants[0].name if len(provider.variants) == 1 else provider.name


def _provider_meaning(rule: Rule) -> ProviderMeaning:
    return ProviderMeaning(
        _provider_name(rule), rule.text or "", rule.meaning or "", rule.diagnosis, rule.source
    )


def _mapping(rule: Rule) -> Mapping:
    parts = []
    if rule.codes:
        parts.append("reply " + "/".join(rule.codes))
    if rule.enhanced:
        parts.append("enhanced " + ", ".join(str(e) for e in rule.enhanced))
    if rule.pattern is not None:
        parts.append(f"text /{rule.pattern.pattern}/")
    return Mapping(
        rule.diagnosis,
        tuple(sorted(rule.phases)) if rule.phases else (),
        "; ".join(parts),
        rule.source,
    )


def _distinct_docs(ids: list[str]) -> list[Diagnosis]:
    table = diagnoses()
    return [table[i] for i in dict.fromkeys(ids) if i in table]


# -- the four kinds of query -----------------------------------------------------------


def explain_reply_code(query: str) -> Explanation:
    code = int(query)
    result = Explanation(query, "reply-code", meanings=reply_code_meanings(code))
    for rule in generic_rules():
        if rule.codes and str(code) in rule.codes and rule.pattern is None and not rule.enhanced:
            result.mappings.append(_mapping(rule))
    for rule in provider_rules():
        if rule.codes and str(code) in rule.codes:
            result.provider_meanings.append(_provider_meaning(rule))
    result.diagnoses = _distinct_docs([m.diagnosis for m in result.mappings])
    if code < 400:
        result.notes.append("A success or intermediate reply: nothing failed.")
    elif not result.mappings:
        result.notes.append(
            f"{code} alone does not say why; the enhanced code and the text decide "
            '(try `smtplog explain "<the whole reply line>"`).'
        )
    return result


def explain_enhanced_code(query: str) -> Explanation:
    result = Explanation(query, "enhanced-code", meanings=enhanced_code_meanings(query))
    for rule in provider_rules():
        if rule.enhanced and any(spec.matches(query) for spec in rule.enhanced):
            result.provider_meanings.append(_provider_meaning(rule))
    for rule in generic_rules():
        if rule.enhanced and any(spec.matches(query) for spec in rule.enhanced):
            result.mappings.append(_mapping(rule))
    registered = EnhancedSpec.parse(query).registered
    if not registered:
        result.notes.append(
            f"{query} is not in the IANA registry: RFC 3463 §2 says to read it by its class "
            "and subject; the provider tables below say what the providers that use it mean."
        )
    collisions = {p.provider for p in result.provider_meanings if registered}
    if collisions:
        result.notes.append(
            f"Providers give {query} their own meaning ({', '.join(sorted(collisions))}); "
            "smtplog uses theirs when the session shows that provider."
        )
    ids = [p.diagnosis for p in result.provider_meanings] + [m.diagnosis for m in result.mappings]
    result.diagnoses = _distinct_docs(ids)
    if len(result.diagnoses) > 2:
        result.notes.append(
            f"{query} alone is used for {len(result.diagnoses)} different problems; the reply "
            'text decides (try `smtplog explain "<the whole reply line>"`).'
        )
    if len({p.diagnosis for p in result.provider_meanings}) == 1 and not result.mappings:
        result.step_rule = _rule_of(result.provider_meanings[0])
    if not ids and query.startswith(("4.", "5.")):
        result.notes.append(
            f"{query} alone does not name a cause smtplog knows; the reply text decides "
            '(try `smtplog explain "<the whole reply line>"`).'
        )
    return result


def _rule_of(meaning: ProviderMeaning) -> Rule | None:
    return next((rule for rule in provider_rules() if rule.text == meaning.text), None)


def explain_reply(query: str, phase: str | None = None) -> Explanation:
    reply = parse_reply_line(query)
    assert reply is not None
    result = Explanation(query, "reply", meanings=reply_code_meanings(reply.code))
    if reply.enhanced:
        result.meanings.extend(enhanced_code_meanings(reply.enhanced))
    if reply.code < 400:
        result.notes.append("A success or intermediate reply: nothing failed.")
        return result
    provider: ProviderMatch | None = detect_provider([reply.text])
    assumed: str | None
    if phase is not None:
        classification, assumed = classify(reply, phase, provider), phase
    else:
        assumed, classification = classify_any_phase(reply, provider)
    result.classification = _classification_dict(classification, assumed, phase is None)
    rule = classification.rule
    if rule is not None and rule.tier == "provider":
        result.provider_meanings.append(_provider_meaning(rule))
        result.step_rule = rule
    result.diagnoses = _distinct_docs([classification.diagnosis])
    if provider is not None:
        result.notes.append(f"The text identifies the provider: {provider.name}.")
    return result


def _classification_dict(
    classification: Classification, phase: str | None, guessed: bool
) -> dict[str, Any]:
    rule = classification.rule
    return {
        "diagnosis": classification.diagnosis,
        "confidence": classification.confidence,
        "matched_by": classification.matched_by,
        "tier": rule.tier if rule else None,
        "phase": phase,
        "phase_assumed": guessed and phase is not None,
        "provider": classification.provider.name if classification.provider else None,
        "source": rule.source if rule else None,
    }


def explain_diagnosis(query: str) -> Explanation:
    doc = diagnoses()[query]
    result = Explanation(query, "diagnosis", diagnoses=[doc])
    rows = rules_for(query)
    for rule in sorted(rows, key=lambda r: TIER_RANK[r.tier]):
        if rule.tier == "provider":
            result.provider_meanings.append(_provider_meaning(rule))
        else:
            result.mappings.append(_mapping(rule))
    return result


def explain(query: str, phase: str | None = None) -> Explanation:
    """Explain ``query``; raises UnknownQueryError when it is none of the known kinds."""
    text = query.strip()
    if _REPLY_CODE.match(text):
        return explain_reply_code(text)
    if _ENHANCED.match(text):
        return explain_enhanced_code(text)
    if text.lower() in diagnoses():
        return explain_diagnosis(text.lower())
    if parse_reply_line(text) is not None:
        return explain_reply(text, phase)
    close = difflib.get_close_matches(text.lower(), list(diagnoses()), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else " (`smtplog rules` lists the ids)"
    raise UnknownQueryError(
        "not a reply code (535), an enhanced status code (5.7.1), a reply line "
        f'("550 5.1.1 ...") or a diagnosis id: {text[:60]!r}{hint}'
    )
