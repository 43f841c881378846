"""TLS for the recorder: contexts, certificate details, and handshake failures named precisely.

A failed handshake is told apart as one of: the certificate (with OpenSSL's
own reason: self-signed, expired, wrong name, unknown issuer), the protocol
version, TLS used on a plaintext port (the server greeted "220" in clear), the
server closing or not answering, or another handshake error. The TlsFailed
reason starts with that category, so a reader (and the diagnosis rules) can
tell them apart: "certificate: ...", "protocol version: ...", "TLS on a
plaintext port: ...", "plaintext on a TLS port: ...", "handshake: ...".
"""

from __future__ import annotations

import ssl
from datetime import datetime, timezone
from typing import Any

from smtplog.events import TlsStarted
from smtplog.record.net import HandshakeFailure, PeerClosed, ReadTimeout


def make_context(*, verify: bool, cafile: str | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=cafile)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _name(parts: Any) -> str:
    """An X.509 name from ssl's tuple form: "CN=mx.example.com, O=Example"."""
    short = {
        "commonName": "CN",
        "organizationName": "O",
        "organizationalUnitName": "OU",
        "countryName": "C",
        "stateOrProvinceName": "ST",
        "localityName": "L",
    }
    fields = [f"{short.get(key, key)}={value}" for rdn in parts or () for key, value in rdn]
    return ", ".join(fields)


def _iso(stamp: str | None) -> str | None:
    if not stamp:
        return None
    try:
        moment = datetime.fromtimestamp(ssl.cert_time_to_seconds(stamp), timezone.utc)
    except ValueError:
        return stamp
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def peer_certificate(obj: ssl.SSLObject | None) -> dict[str, Any]:
    """The server's leaf certificate as ssl's dict, verified or not ({} if none)."""
    if obj is None:
        return {}
    try:
        info = obj.getpeercert()
    except (ValueError, ssl.SSLError):
        info = None
    if info:
        return info
    # Not verified: ssl hides the decoded form; the unverified chain still has it
    # (private in 3.10-3.12, public as SSLObject.get_unverified_chain() in 3.13).
    getter = getattr(obj, "get_unverified_chain", None) or getattr(
        getattr(obj, "_sslobj", None), "get_unverified_chain", None
    )
    try:
        chain = getter() if getter else None
    except (ValueError, ssl.SSLError):
        chain = None
    if chain:
        first = chain[0]
        return first.get_info() if hasattr(first, "get_info") else {}
    return {}


def certificate_fields(info: dict[str, Any]) -> dict[str, Any]:
    sans = tuple(f"{kind}:{value}" for kind, value in info.get("subjectAltName", ()))
    return {
        "subject": _name(info.get("subject")) or None,
        "issuer": _name(info.get("issuer")) or None,
        "not_after": _iso(info.get("notAfter")),
        "sans": sans,
    }


def describe_certificate(info: dict[str, Any]) -> str:
    fields = certificate_fields(info)
    keys = ("subject", "issuer", "not_after")
    parts = [f"{key.replace('_', '-')} {fields[key]}" for key in keys if fields[key]]
    if fields["sans"]:
        parts.append("names " + ", ".join(fields["sans"]))
    return "; ".join(parts)


def started(
    obj: ssl.SSLObject, *, verified: bool | None, why: str, at: float, stream: str | None = None
) -> TlsStarted:
    cipher = obj.cipher()
    fields = certificate_fields(peer_certificate(obj))
    return TlsStarted(
        version=obj.version(),
        cipher=cipher[0] if cipher else None,
        subject=fields["subject"],
        issuer=fields["issuer"],
        not_after=fields["not_after"],
        sans=fields["sans"],
        verified=verified,
        detail=why,
        time=at,
        stream=stream,
    )


_VERSION_REASONS = {
    "UNSUPPORTED_PROTOCOL",
    "TLSV1_ALERT_PROTOCOL_VERSION",
    "NO_PROTOCOLS_AVAILABLE",
    "WRONG_SSL_VERSION",
    "UNKNOWN_PROTOCOL",
    "TLSV1_ALERT_INSUFFICIENT_SECURITY",
}
_CIPHER_REASONS = {"NO_SHARED_CIPHER", "SSLV3_ALERT_HANDSHAKE_FAILURE", "NO_CIPHERS_AVAILABLE"}


def _looks_like_smtp(raw: bytes) -> bool:
    head = raw[:3]
    return len(head) == 3 and head.isdigit() and raw[:1] in b"12345"


def failure_reason(exc: BaseException, timeout: float) -> str:
    """The TlsFailed reason for a failed handshake (see the module docstring)."""
    if isinstance(exc, ReadTimeout):
        return f"handshake: the server did not answer the TLS handshake within {timeout:g}s"
    if not isinstance(exc, HandshakeFailure):
        return f"handshake: {exc}"
    error, raw = exc.error, exc.raw
    if _looks_like_smtp(raw):
        first = raw.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8", "replace")
        return (
            "TLS on a plaintext port: the server answered the TLS handshake with a plaintext "
            f'SMTP line ("{first[:120]}"); this port expects STARTTLS, not implicit TLS'
        )
    if isinstance(error, ReadTimeout):
        return f"handshake: the server did not answer the TLS handshake within {timeout:g}s"
    if isinstance(error, ssl.SSLCertVerificationError):
        certificate = describe_certificate(peer_certificate(exc.obj))
        message = error.verify_message or error.reason or "verification failed"
        suffix = f" ({certificate})" if certificate else ""
        return f"certificate: {message}{suffix}"
    if isinstance(error, ssl.SSLEOFError | PeerClosed | ConnectionError) or (
        isinstance(error, ssl.SSLError) and "EOF" in str(error)
    ):
        return "handshake: the server closed the connection during the TLS handshake"
    reason = getattr(error, "reason", None) or ""
    text = str(error)
    if reason in _VERSION_REASONS or "version" in reason.lower():
        return f"protocol version: no TLS version in common with the server ({reason})"
    if reason in _CIPHER_REASONS:
        return f"handshake: no cipher in common with the server ({reason})"
    if reason == "WRONG_VERSION_NUMBER" or "wrong version number" in text:
        return "handshake: the server's answer is not TLS (wrong version number)"
    return f"handshake: {reason or text}"
