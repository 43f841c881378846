"""Every way a connection fails, made for real on loopback, named precisely."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from recorder_support import analyze_file, smtplog

pytestmark = pytest.mark.slow


def outcome(result):  # type: ignore[no-untyped-def]
    session = json.loads(result.stdout)["reports"][0]["sessions"][-1]
    return session["outcome"], session["failed_at"], session["diagnoses"][0]["id"]


def probe(writes, target, *args):  # type: ignore[no-untyped-def]
    result = smtplog(writes, "probe", target, "--format", "json", "--timeout", "1.5", *args)
    assert result.code == 1, result.stderr
    report = analyze_file(result.transcript)  # the saved transcript says the same
    session = report.sessions[-1]
    assert (session.outcome, session.failed_at, session.main.id) == outcome(result)
    return result


def test_refused(writes, closed_port):  # type: ignore[no-untyped-def]
    result = probe(writes, f"127.0.0.1:{closed_port}")
    assert outcome(result) == ("no-connection", "connect", "connect-refused")
    assert "** connect-failed refused" in result.transcript.read_text()


def test_timeout_when_packets_are_dropped(writes, full_backlog):  # type: ignore[no-untyped-def]
    result = probe(writes, f"127.0.0.1:{full_backlog}")
    assert outcome(result) == ("no-connection", "connect", "connect-timeout")
    assert "** connect-failed timeout" in result.transcript.read_text()


def test_no_banner(writes, silent_server):  # type: ignore[no-untyped-def]
    result = probe(writes, f"127.0.0.1:{silent_server}")
    assert outcome(result) == ("deferred", "banner", "no-greeting")
    assert "** timeout banner" in result.transcript.read_text()


def test_dropped_after_ehlo(writes, dropping_server):  # type: ignore[no-untyped-def]
    result = probe(writes, f"127.0.0.1:{dropping_server}", "--from", "a@x.test")
    assert outcome(result) == ("deferred", "mail", "connection-dropped")
    assert "** closed server unexpected" in result.transcript.read_text()


def test_tls_on_plaintext_port(writes, smtpd):  # type: ignore[no-untyped-def]
    result = probe(writes, f"127.0.0.1:{smtpd}", "--tls")
    assert outcome(result) == ("deferred", "starttls", "tls-port-mismatch")
    text = result.transcript.read_text()
    assert "TLS on a plaintext port" in text and "220 mx.example.test" in text


def test_plaintext_on_tls_port(writes, smtpd_implicit):  # type: ignore[no-untyped-def]
    result = probe(writes, f"127.0.0.1:{smtpd_implicit}")
    assert outcome(result) == ("deferred", "starttls", "tls-port-mismatch")
    text = result.transcript.read_text()
    assert "** timeout banner" in text and "plaintext on a TLS port" in text


def test_dns_failure(writes):  # type: ignore[no-untyped-def]
    result = probe(writes, "no-such-host.invalid:25")
    assert outcome(result) == ("no-connection", "connect", "dns-resolution-failed")


@pytest.mark.skipif(not shutil.which("unshare"), reason="unshare (util-linux) is not installed")
def test_no_route(writes, tmp_path):  # type: ignore[no-untyped-def]
    """In a new network namespace even loopback is down: 'Network is unreachable'."""
    if subprocess.run(["unshare", "-n", "true"], check=False).returncode != 0:
        pytest.skip("cannot create a network namespace here (needs root)")
    import os
    import sys

    from recorder_support import ROOT

    transcript = writes / "no-route.txt"
    env = {**os.environ, "XDG_DATA_HOME": str(writes / "xdg")}
    proc = subprocess.run(
        ["unshare", "-n", sys.executable, "-m", "smtplog", "probe", "127.0.0.1:25",
         "--format", "json", "--save", str(transcript)],
        capture_output=True, cwd=ROOT, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "** connect-failed unreachable" in transcript.read_text()
    session = analyze_file(transcript).sessions[0]
    assert (session.outcome, session.main.id) == ("no-connection", "connect-timeout")
