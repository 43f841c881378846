"""`probe --mx`: every MX in preference order, each reported, from a DNS server on loopback."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator

import dns.message
import dns.rcode
import dns.rrset
import pytest
from recorder_support import analyze_file, smtplog

pytestmark = pytest.mark.slow

ZONE = {
    ("example.test.", "MX"): ["20 mx2.example.test.", "10 mx1.example.test."],
    ("mx1.example.test.", "A"): ["127.0.0.1"],
    ("mx2.example.test.", "A"): ["127.0.0.2"],
    ("nomx.test.", "A"): ["127.0.0.1"],
    ("nullmx.test.", "MX"): ["0 ."],
}
KNOWN = {name for name, _type in ZONE} | {"mx1.example.test.", "mx2.example.test."}


@pytest.fixture
def dns_server() -> Iterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(4096)
            except (TimeoutError, OSError):
                continue
            query = dns.message.from_wire(data)
            response = dns.message.make_response(query)
            question = query.question[0]
            name, rdtype = question.name.to_text(), dns.rdatatype.to_text(question.rdtype)
            records = ZONE.get((name, rdtype))
            if records:
                response.answer.append(dns.rrset.from_text(name, 60, "IN", rdtype, *records))
            elif name not in KNOWN:
                response.set_rcode(dns.rcode.NXDOMAIN)
            sock.sendto(response.to_wire(), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"127.0.0.1:{sock.getsockname()[1]}"
    stop.set()
    thread.join()
    sock.close()


def test_every_mx_in_preference_order(writes, dns_server, smtpd):  # type: ignore[no-untyped-def]
    result = smtplog(writes, "probe", "example.test", "--mx", "--dns-server", dns_server,
                     "--port", str(smtpd), "--insecure", "--to", "alice@example.test",
                     "--quit-after", "rcpt", "--format", "json", "--timeout", "3")  # fmt: skip
    doc = json.loads(result.stdout)
    report = doc["reports"][0]
    assert [s["host"] for s in report["recording"]["mx"]] == [
        "mx1.example.test",
        "mx2.example.test",
    ]
    sessions = report["sessions"]
    assert [
        (s["outcome"], s["diagnoses"][0]["id"] if s["diagnoses"] else None) for s in sessions
    ] == [
        ("incomplete", None),  # mx1 accepted the recipient (--quit-after rcpt)
        ("no-connection", "connect-refused"),  # nothing listens on mx2's address
    ]
    assert result.code == 1  # not every MX accepts connections
    again = analyze_file(result.transcript)
    assert [s.outcome for s in again.sessions] == ["incomplete", "no-connection"]
    assert "** session mx2.example.test (MX 20)" in result.transcript.read_text()


def test_implicit_mx_and_dns_failures(writes, dns_server, smtpd):  # type: ignore[no-untyped-def]
    common = ("--dns-server", dns_server, "--port", str(smtpd), "--insecure",
              "--quit-after", "ehlo", "--format", "json", "--timeout", "3")  # fmt: skip
    result = smtplog(writes, "probe", "nomx.test", "--mx", *common)
    report = json.loads(result.stdout)["reports"][0]
    assert report["recording"]["mx"][0]["preference"] is None  # the A record, RFC 5321 §5.1
    assert result.code == 0
    for domain, text in (("nullmx.test", "null MX"), ("missing.test", "NXDOMAIN")):
        result = smtplog(writes, "probe", domain, "--mx", *common)
        session = json.loads(result.stdout)["reports"][0]["sessions"][0]
        assert session["diagnoses"][0]["id"] == "dns-resolution-failed"
        assert text in result.transcript.read_text()
