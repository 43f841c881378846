"""The diagnosis registry and the knowledge tables are complete and consistent."""

from __future__ import annotations

import re
import string

import pytest

from smtplog.knowledge import read_tsv
from smtplog.rules import diagnoses
from smtplog.rules.classify import (
    TIERS,
    ProviderMatch,
    classify,
    classify_any_phase,
    generic_rules,
    parse_reply_line,
    provider_rules,
    providers,
)

# The ids DESIGN.md ("Rules and findings") names, and `delivered`.
DESIGN_IDS = [
    "dns-resolution-failed",
    "destination-not-accepting-mail",
    "connect-timeout",
    "connect-refused",
    "connection-dropped",
    "no-greeting",
    "pregreet",
    "tls-port-mismatch",
    "tls-handshake-failed",
    "tls-required",
    "tls-not-offered",
    "client-blocklisted",
    "sender-reputation",
    "reverse-dns-required",
    "helo-rejected",
    "rate-limited",
    "greylisted",
    "auth-required",
    "auth-not-offered",
    "auth-rejected",
    "auth-method-blocked",
    "auth-protocol-error",
    "sender-account-blocked",
    "relay-denied",
    "sender-rejected",
    "sender-authentication-failed",
    "recipient-unknown",
    "recipient-domain-not-found",
    "recipient-disabled",
    "recipient-policy",
    "mailbox-full",
    "message-too-large",
    "spam-rejected",
    "virus-blocked",
    "message-format-invalid",
    "command-syntax-error",
    "command-sequence-error",
    "command-not-supported",
    "remote-server-error",
    "delivery-expired",
    "client-error",
    "unclassified",
    "delivered",
]
# Added beside DESIGN.md's list by the recorder work (packet captures, `smtplog proxy`).
EXTRA_IDS = ["encrypted"]
OBSERVATION_IDS = [
    "auth-without-tls",
    "starttls-not-used",
    "tls-certificate-unverified",
    "no-enhanced-status-codes",
    "bare-lf",
    "ehlo-not-fqdn",
    "slow-server",
    "server-capabilities",
]
PLACEHOLDERS = {
    "server", "provider", "code", "enhanced", "reply", "command", "recipient", "sender",
    "user", "user_suffix", "detail", "phase", "size_limit", "port",
}  # fmt: skip
GROUPS = {
    "outcome", "transport", "tls", "reputation", "auth", "envelope", "content", "protocol",
    "server", "client", "other", "observation",
}  # fmt: skip


def test_every_design_id_and_observation_is_registered() -> None:
    assert set(diagnoses()) == set(DESIGN_IDS) | set(OBSERVATION_IDS) | set(EXTRA_IDS)
    assert {d.id for d in diagnoses().values() if d.observation} == set(OBSERVATION_IDS)


@pytest.mark.parametrize("doc", list(diagnoses().values()), ids=lambda d: d.id)
def test_documentation_is_complete(doc) -> None:  # type: ignore[no-untyped-def]
    assert doc.group in GROUPS
    assert doc.severity in ("error", "warning", "info")
    assert doc.title and doc.summary and doc.explanation and doc.detection
    assert doc.references, "cite the RFC section or the provider page"
    fields = {name for _, name, _, _ in string.Formatter().parse(doc.summary) if name}
    assert fields <= PLACEHOLDERS, f"unknown placeholders {fields - PLACEHOLDERS}"
    if doc.observation:
        assert doc.severity in ("warning", "info")
        return
    if doc.id in ("delivered", "encrypted"):
        return
    assert doc.severity == "error" or doc.id == "greylisted"
    assert len(doc.causes) >= 1 and len(doc.next_steps) >= 2
    if doc.id not in ("unclassified",):
        assert len(doc.causes) >= 2, "likely causes, most likely first"
    if doc.id not in (
        "command-not-supported",
        "unclassified",
        "mailbox-full",
        "remote-server-error",
    ):
        asks = [step for step in doc.next_steps if re.search(r"\bask\b", step, re.IGNORECASE)]
        assert asks, "say what to ask the customer (or whom to ask)"


def _referenced() -> dict[str, str]:
    found = {rule.diagnosis: rule.source for rule in (*generic_rules(), *provider_rules())}
    for row in read_tsv("client-errors.tsv"):
        found.setdefault(row["diagnosis"], "client-errors.tsv")
    return found


def test_tables_name_only_registered_diagnoses() -> None:
    unknown = {d: s for d, s in _referenced().items() if d not in diagnoses()}
    assert not unknown


def test_every_pattern_compiles() -> None:
    for rule in (*generic_rules(), *provider_rules()):
        if rule.pattern is not None:
            rule.pattern.check()


def test_generic_rows_come_in_tier_order() -> None:
    ranks = [TIERS.index(rule.tier) for rule in generic_rules()]
    assert ranks == sorted(ranks)


@pytest.mark.parametrize(
    "rule", provider_rules(), ids=lambda r: f"{r.provider}:{(r.text or '')[:40]}"
)
def test_every_provider_example_classifies_as_its_row(rule) -> None:  # type: ignore[no-untyped-def]
    """The documented text of a provider row leads to that row's diagnosis."""
    reply = parse_reply_line(rule.text or "")
    assert reply is not None, f"not a reply line: {rule.text!r}"
    provider = ProviderMatch(rule.provider, providers()[rule.provider].name)
    if rule.phases:
        result = classify(reply, sorted(rule.phases)[0], provider)
    else:
        result = classify_any_phase(reply, provider)[1]
    assert result.diagnosis == rule.diagnosis, result.matched_by
    if rule.unique:
        assert rule.pattern is not None and rule.pattern.search(rule.text or "")


def test_provider_files_are_complete() -> None:
    for key, provider in providers().items():
        assert provider.name and provider.source, key
        if key != "others":
            assert provider.variants, f"{key}: markers are needed to recognise the provider"
        for variant in provider.variants:
            for marker in variant.markers:
                marker.check()  # compiled on first use: a bad pattern must fail here
            assert provider.help and provider.help.startswith("https://"), key


def test_client_error_patterns_compile_and_name_sources() -> None:
    for row in read_tsv("client-errors.tsv"):
        re.compile(row["pattern"])
        assert row["source"].strip()


def test_every_knowledge_table_reads_as_csv_would() -> None:
    """read_tsv splits lines itself (csv costs start-up time): every shipped table
    gives exactly the rows csv.DictReader gives, and has rows."""
    import csv
    import os

    from smtplog.knowledge import DATA_DIR

    tables = sorted(name for name in os.listdir(DATA_DIR) if name.endswith(".tsv"))
    assert len(tables) >= 10
    for name in tables:
        with open(os.path.join(DATA_DIR, name), encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
            expected = [row for row in reader if any(row.values())]
        assert expected and read_tsv(name) == expected, name
