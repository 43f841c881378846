"""The classifier: evidence order, provider collisions (taxonomy §2.3), phase guards."""

from __future__ import annotations

from pathlib import Path

import pytest

from smtplog.events import Reply
from smtplog.rules.classify import (
    EnhancedSpec,
    ProviderMatch,
    Rule,
    _check_row,
    classify,
    detect_provider,
    parse_reply_line,
    reply_text,
)

MICROSOFT = ProviderMatch("microsoft", "Microsoft 365 (Exchange Online)")
GOOGLE = ProviderMatch("google", "Gmail / Google Workspace")
YAHOO = ProviderMatch("yahoo", "Yahoo / AOL")


def diagnosis(line: str, phase: str | None, provider: ProviderMatch | None = None) -> str:
    reply = parse_reply_line(line)
    assert reply is not None
    return classify(reply, phase, provider).diagnosis


# Each pair: the same enhanced code at the provider that reuses it, and its IANA meaning.
COLLISIONS = [
    # Microsoft 5.7.3 "Authentication unsuccessful" vs X.7.3 "Security conversion required"
    ("535 5.7.3 Authentication unsuccessful", "auth", MICROSOFT, "auth-rejected"),
    # Microsoft 5.7.12 / 5.7.13 recipient restrictions vs X.7.12 password transition, X.7.13 disabled
    ("550 5.7.12 Sender was not authenticated by organization", "rcpt", MICROSOFT, "recipient-policy"),
    ("432 4.7.12 A password transition is needed", "auth", None, "auth-method-blocked"),
    ("550 5.7.13 Sender was not authenticated for public folder", "rcpt", MICROSOFT, "recipient-policy"),
    ("525 5.7.13 User Account Disabled", "auth", None, "sender-account-blocked"),
    # Microsoft 5.4.1 (unknown recipient, relay) vs X.4.1 "No answer from host"
    ("550 5.4.1 Recipient address rejected: Access denied", "rcpt", MICROSOFT, "recipient-unknown"),
    ("550 5.4.1 Relay Access Denied", "rcpt", MICROSOFT, "relay-denied"),
    ("451 4.4.1 No answer from host", "queue", None, "connect-timeout"),
    # 5.7.30: Microsoft basic auth retired, Gmail DKIM, IANA REQUIRETLS
    ("550 5.7.30 Basic authentication is not supported for Client Submission.", "auth", MICROSOFT, "auth-method-blocked"),
    ("550 5.7.30 This mail has been blocked because DKIM does not pass. - gsmtp", "message", GOOGLE, "sender-authentication-failed"),
    ("550 5.7.30 REQUIRETLS support required", "message", None, "tls-required"),
    # Gmail 4.7.27 SPF vs X.7.27 sender null MX; Gmail 4.7.29 TLS vs X.7.29 ARC
    ("421 4.7.27 Your email has been rate limited because SPF authentication didn't pass. - gsmtp", "message", GOOGLE, "sender-authentication-failed"),
    ("550 5.7.27 Sender address has null MX", "mail", None, "sender-rejected"),
    ("421 4.7.29 Your email has been rate limited because this message wasn't sent over a TLS connection. - gsmtp", "message", GOOGLE, "tls-required"),
    ("550 5.7.29 ARC validation failure", "message", None, "sender-authentication-failed"),
    # Yahoo 5.7.9 policy / unauthenticated vs X.7.9 "mechanism too weak"
    ("554 5.7.9 Message not accepted for policy reasons.", "message", YAHOO, "recipient-policy"),
    ("534 5.7.9 Authentication mechanism is too weak", "auth", None, "auth-method-blocked"),
    # Microsoft 5.1.10 "Recipient not found" vs X.1.10 null MX
    ("550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup", "rcpt", MICROSOFT, "recipient-unknown"),
    ("550 5.1.10 Recipient address has null MX", "rcpt", None, "destination-not-accepting-mail"),
    # GoDaddy 5.1.0 SPF vs X.1.0 "Other address status"
    ("550 5.1.0 <192.0.2.10> is not allowed to send from <example.net> per it's SPF Record. IB508", "message", None, "sender-authentication-failed"),
]  # fmt: skip


@pytest.mark.parametrize(("line", "phase", "provider", "expected"), COLLISIONS)
def test_provider_meaning_before_iana(
    line: str, phase: str, provider: ProviderMatch | None, expected: str
) -> None:
    assert diagnosis(line, phase, provider) == expected


def test_a_reused_code_needs_its_provider() -> None:
    """Microsoft's 5.7.12 row does not apply to a server that is not Microsoft."""
    line = "550 5.7.12 Sender was not authenticated by organization"
    assert diagnosis(line, "rcpt", MICROSOFT) == "recipient-policy"
    reply = parse_reply_line(line)
    assert reply is not None
    result = classify(reply, "rcpt", GOOGLE)
    assert result.provider is None or result.provider.key != "microsoft"


def test_another_providers_row_is_not_used() -> None:
    """At Gmail, Microsoft's DBEB meaning of 5.4.1 does not apply: the text decides."""
    line = "550 5.4.1 Recipient address rejected: Access denied"
    assert diagnosis(line, "rcpt", MICROSOFT) == "recipient-unknown"
    assert diagnosis(line, "rcpt", GOOGLE) == "recipient-policy"


def test_unregistered_code_is_the_providers_without_recognition() -> None:
    reply = parse_reply_line("535 5.7.139 Authentication unsuccessful")
    assert reply is not None
    result = classify(reply, "auth")
    assert result.diagnosis == "auth-method-blocked"
    assert result.provider is not None and result.provider.key == "microsoft"
    assert result.confidence == "medium"


def test_generic_wording_is_not_taken_as_a_provider() -> None:
    """ "Must issue a STARTTLS command first" is Postfix's wording too: no Gmail without gsmtp."""
    plain = parse_reply_line("530 5.7.0 Must issue a STARTTLS command first")
    gmail = parse_reply_line(
        "530 5.7.0 Must issue a STARTTLS command first. a1-20020a170902 - gsmtp"
    )
    assert plain is not None and gmail is not None
    assert classify(plain, "mail").provider is None
    found = classify(gmail, "mail").provider
    assert found is not None and found.key == "google"


def test_unique_wording_names_the_provider() -> None:
    reply = parse_reply_line("535 5.7.8 Username and Password not accepted")
    assert reply is not None
    result = classify(reply, "auth")
    assert result.diagnosis == "auth-rejected"
    assert result.provider is not None and result.provider.key == "google"


@pytest.mark.parametrize(
    ("line", "phase", "expected"),
    [
        # "user unknown" means an unknown recipient only at RCPT
        ("550 User unknown", "rcpt", "recipient-unknown"),
        ("550 User unknown", "mail", "sender-rejected"),
        # spam and virus verdicts only after DATA
        ("550 5.7.1 spam detected", "message", "spam-rejected"),
        (
            "554 Service unavailable; blocked: too many spams from your IP",
            "rcpt",
            "client-blocklisted",
        ),
        # 552 at RCPT is a full mailbox, after the message a size problem
        ("552 Requested mail action aborted: exceeded storage allocation", "rcpt", "mailbox-full"),
        (
            "552 Requested mail action aborted: exceeded storage allocation",
            "message",
            "message-too-large",
        ),
        # 535 only means bad credentials as a reply to AUTH
        ("535 5.7.8 Authentication credentials invalid", "auth", "auth-rejected"),
    ],
)
def test_phase_guards(line: str, phase: str, expected: str) -> None:
    assert diagnosis(line, phase) == expected


def test_a_phrase_beats_the_enhanced_code() -> None:
    line = "535 5.7.8 Error: authentication failed: Invalid base64 data in continued response"
    assert diagnosis(line, "auth") == "auth-protocol-error"


def test_the_enhanced_code_beats_the_reply_code() -> None:
    # 550 at RCPT alone would be an unknown recipient; X.7.25 says reverse DNS.
    assert diagnosis("550 5.7.25 Reverse DNS validation failed", "rcpt") == "reverse-dns-required"


def test_unknown_failure_is_unclassified() -> None:
    reply = parse_reply_line("554 5.0.0 Rejected by rule 4711")
    assert reply is not None
    result = classify(reply, "message")
    assert (result.diagnosis, result.confidence) == ("unclassified", "low")


def test_multiline_text_is_read_without_repeated_codes() -> None:
    reply = Reply(
        code=550,
        enhanced="5.1.1",
        lines=(
            "5.1.1 The email account that you tried to reach does not",
            "5.1.1 exist. Please try double-checking the recipient's address",
        ),
    )
    assert "does not exist. Please" in reply_text(reply)


def test_enhanced_ranges_and_classes() -> None:
    spec = EnhancedSpec.parse("4.7.500-699")
    assert spec.matches("4.7.550") and not spec.matches("4.7.700") and not spec.matches("5.7.550")
    assert EnhancedSpec.parse("X.1.1").matches("4.1.1")
    assert not EnhancedSpec.parse("5.7.139").registered
    assert EnhancedSpec.parse("X.7.1").registered


@pytest.mark.parametrize(
    "rule",
    [
        Rule("x", "phrase", "s"),  # a phrase without a pattern
        Rule("x", "enhanced", "s"),  # an enhanced row without a code
        Rule("x", "code", "s", codes=("5y0",)),  # a bad code pattern
        Rule("x", "code", "s", codes=("550",), phases=frozenset({"rcpt-to"})),
        Rule("x", "magic", "s"),
    ],
)
def test_bad_knowledge_rows_are_refused(rule: Rule) -> None:
    with pytest.raises(ValueError):
        _check_row(rule, "test")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("220 mx.google.com ESMTP a1-20020a170902 - gsmtp", "google"),
        (
            "220 BN8NAM11FT066.mail.protection.outlook.com Microsoft ESMTP MAIL Service ready",
            "microsoft",
        ),
        ("220 mta7.am0.yahoodns.net ESMTP ready", "yahoo"),
        ("220 email-smtp.eu-west-1.amazonaws.com ESMTP SimpleEmailService-d-ABC", "amazon-ses"),
        ("220 smtp.sendgrid.net ESMTP service ready", "sendgrid"),
        ("220 mx.example.com ESMTP Postfix", None),
    ],
)
def test_provider_recognised_from_the_banner(text: str, key: str | None) -> None:
    found = detect_provider([text])
    assert (found.key if found else None) == key


def test_outlook_com_is_told_from_microsoft_365() -> None:
    outlook = detect_provider(
        ["250 DB5EUR03FT049.mail.protection.outlook.com", "x.olc.protection.outlook.com"]
    )
    assert outlook is not None and outlook.name == "Outlook.com / Hotmail"


def test_the_combined_marker_expression_names_what_each_marker_would() -> None:
    """Provider detection compiles one expression, not every marker; on every sample and
    corpus text (whole and line by line) it names the provider asking each marker does."""
    from smtplog.rules.classify import _detect_each, _detect_provider, _marker_table

    assert _marker_table()[0] is not None  # the fast path is the one in use
    root = Path(__file__).resolve().parents[2]
    files = [*sorted((root / "samples").rglob("*.txt")), *sorted((root / "tests").rglob("*.tsv"))]
    texts: list[str] = []
    for file in files:
        text = file.read_text(errors="replace")
        texts += [text, *text.splitlines()]
    named = 0
    for text in texts:
        expected = _detect_each(text)
        assert _detect_provider(text) == expected, text[:200]
        named += expected is not None
    assert named > 100  # the texts do name providers: the comparison is not empty


def test_the_provider_check_on_the_shared_lower_case_text_is_detect_provider() -> None:
    """``classify`` asks ``_named_provider`` with the text it lower-cased anyway: the same
    provider as ``detect_provider``, on every sample and corpus line (and blank texts)."""
    from smtplog.rules.classify import _named_provider
    from smtplog.rules.literals import lowered

    root = Path(__file__).resolve().parents[2]
    files = [*sorted((root / "samples").rglob("*.txt")), *sorted((root / "tests").rglob("*.tsv"))]
    texts = ["", " ", "\t\n", "250 mx.google.com \u00e9"]
    for file in files:
        texts += file.read_text(errors="replace").splitlines()
    named = 0
    for text in texts:
        expected = detect_provider([text])
        assert _named_provider(text, lowered(text)) == expected, text[:200]
        named += expected is not None
    assert named > 50
