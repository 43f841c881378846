"""The proxy in front of the real Postfix of the mail lab (lab/postfix-lab.sh), as the recorder tests use it."""

from __future__ import annotations

import shutil
import smtplib
import ssl
import subprocess

import pytest
from recorder_support import PASSWORD, USER, analyze_file
from test_postfix_lab import MX, SUBMISSION, _skip_reason

from .test_proxy import message, verdict_of

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(_skip_reason() is not None, reason=str(_skip_reason())),
]


def unverified() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


@pytest.mark.skipif(shutil.which("swaks") is None, reason="swaks is not installed")
@pytest.mark.parametrize(
    ("recipient", "expected"),
    [
        ("alice@example.test", ("delivered", None, "delivered")),
        ("someone@elsewhere.test", ("failed", "rcpt", "relay-denied")),
    ],
)
def test_swaks_through_the_proxy_to_postfix(start_proxy, recipient, expected):  # type: ignore[no-untyped-def]
    proxy = start_proxy("--upstream", f"127.0.0.1:{MX}")
    subprocess.run(
        ["swaks", "--server", f"127.0.0.1:{proxy.port}", "--helo", "client.example.test",
         "--from", "sender@example.org", "--to", recipient],
        capture_output=True, timeout=30, check=False,
    )  # fmt: skip
    proxy.verdicts(1)
    transcript = proxy.transcripts()[0]
    assert verdict_of(transcript) == expected
    assert "S: 220 mx.example.test ESMTP Postfix" in transcript.read_text()


def test_submission_through_a_terminating_proxy(start_proxy, writes, ca, proxy_cert):  # type: ignore[no-untyped-def]
    proxy = start_proxy("--upstream", f"127.0.0.1:{SUBMISSION}", "--tls-cert", proxy_cert,
                        "--tls-key", proxy_cert)  # fmt: skip
    context = ssl.create_default_context()
    ca.configure_trust(context)
    with smtplib.SMTP("127.0.0.1", proxy.port, timeout=20) as client:
        client.starttls(context=context)
        client.login(USER, PASSWORD)
        assert client.send_message(message(USER, "someone@elsewhere.test")) == {}
    proxy.verdicts(1)
    transcript = proxy.transcripts()[0]
    text = transcript.read_text()
    assert "subject='CN=mx.example.test, O=smtplog lab'" in text  # the upstream's certificate
    assert "C: AUTH PLAIN" in text and PASSWORD not in text
    assert verdict_of(transcript) == ("delivered", None, "delivered")


def test_submission_passed_through(start_proxy):  # type: ignore[no-untyped-def]
    proxy = start_proxy("--upstream", f"127.0.0.1:{SUBMISSION}")
    with smtplib.SMTP("127.0.0.1", proxy.port, timeout=20) as client:
        client.starttls(context=unverified())
        client.login(USER, PASSWORD)
        assert client.send_message(message(USER, "someone@elsewhere.test")) == {}
    proxy.verdicts(1)
    transcript = proxy.transcripts()[0]
    assert verdict_of(transcript) == ("unknown", None, "encrypted")
    session = analyze_file(transcript).sessions[-1]
    assert session.analysis.tls is not None and session.analysis.tls.version == "TLSv1.3"
