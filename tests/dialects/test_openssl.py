"""The openssl dialect: the lines that are easy to get wrong (its samples: test_client_samples.py)."""

from __future__ import annotations

from smtplog.analysis import analyze_text
from smtplog.events import Reply
from tests.conftest import transcript

DIALECT = "openssl"


def events_of(text: str) -> list:
    report = analyze_text(transcript(text), dialect=DIALECT)
    return [event for session in report.sessions for event in session.analysis.events]


def test_brief_preamble_is_one_tls_event() -> None:
    events = events_of(
        """\
        CONNECTION ESTABLISHED
        Protocol version: TLSv1.3
        Ciphersuite: TLS_AES_256_GCM_SHA384
        Peer certificate: CN = mx.example.test
        Hash used: SHA256
        Signature type: RSA-PSS
        Verification: OK
        Server Temp Key: X25519, 253 bits
        220 mx.example.test ESMTP
        """
    )
    tls = [e for e in events if e.kind == "tls-started"]
    assert len(tls) == 1
    assert (tls[0].version, tls[0].cipher, tls[0].verified) == (
        "TLSv1.3",
        "TLS_AES_256_GCM_SHA384",
        True,
    )
    assert tls[0].subject == "CN = mx.example.test"


def test_session_ticket_blocks_and_read_block_are_not_smtp() -> None:
    events = events_of(
        """\
        CONNECTED(00000003)
        New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384
        Verify return code: 0 (ok)
        ---
        250 2.0.0 Ok: queued as 4ABC
        ---
        Post-Handshake New Session Ticket arrived:
        SSL-Session:
            Protocol  : TLSv1.3
            0000 - 7e d0 01 32 58 bd 0b db-c5 f0 84 78 09 d4 6b 94   ~..2X......x..k.
            Verify return code: 0 (ok)
        ---
        read R BLOCK
        """
    )
    assert [e.code for e in events if isinstance(e, Reply)] == [250]
    assert not [e for e in events if e.kind == "unparsed"]


def test_leftover_ehlo_line_before_the_tls_reply_is_a_note() -> None:
    events = events_of(
        """\
        CONNECTED(00000003)
        New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384
        ---
        250 CHUNKING
        250-mx.example.test
        250 CHUNKING
        """
    )
    replies = [e for e in events if isinstance(e, Reply)]
    assert len(replies) == 1 and replies[0].lines == ("mx.example.test", "CHUNKING")
