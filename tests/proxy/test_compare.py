"""One session, three witnesses: the proxy's transcript, a packet capture, the client itself.

For each scenario Python's smtplib (with ``set_debuglevel(1)``, its own debug
log) talks through ``smtplog proxy`` to aiosmtpd while tcpdump captures the
proxy's connection to the server. The proxy transcript and the capture must
hold the same SMTP lines and get the same verdict and diagnosis, and the
verdict must match what smtplib itself returned or raised, and smtplog's
reading of smtplib's own debug log (the `smtplib` dialect) must agree.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from recorder_support import analyze_file

from smtplog.analysis import analyze_bytes
from smtplog.pcap import capture_transcript
from tests.pcap.live import Tcpdump, needs_tcpdump

pytestmark = [pytest.mark.slow, needs_tcpdump]

# What the client does, and what a mail administrator reads from it.
SCENARIOS = {
    "delivered": (
        {"to": "alice@example.test"},
        ("delivered", None, "delivered"),
    ),
    "relay-denied": (
        {"to": "someone@elsewhere.test"},
        ("failed", "rcpt", "relay-denied"),
    ),
    "recipient-unknown": (
        {"to": "nobody@example.test"},
        ("failed", "rcpt", "recipient-unknown"),
    ),
    "starttls": (
        {"to": "bob@example.test", "starttls": True},
        ("unknown", None, "encrypted"),
    ),
}

CLIENT = r"""
import json, smtplib, ssl, sys
from email.message import EmailMessage
port, to, starttls, cafile = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "1", sys.argv[4]
msg = EmailMessage()
msg["From"], msg["To"], msg["Subject"] = "sender@example.org", to, "compare"
msg.set_content("one session, three witnesses\n")
result = {}
try:
    smtplib.SMTP.debuglevel = 1  # from the first byte: the greeting is read in __init__
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo("client.example.test")
        if starttls:
            client.starttls(context=ssl.create_default_context(cafile=cafile))
            client.ehlo("client.example.test")
        result["refused"] = {k: list(v) for k, v in client.send_message(msg).items()}
except smtplib.SMTPRecipientsRefused as exc:
    result["error"] = "SMTPRecipientsRefused"
    result["codes"] = [code for code, _text in exc.recipients.values()]
except smtplib.SMTPException as exc:
    result["error"] = type(exc).__name__
print(json.dumps(result))
"""


@dataclass
class Run:
    transcript: Path
    capture: Path
    debug_log: str
    client: dict


@pytest.fixture(scope="module")
def runs(smtpd, ca_file, writes, tmp_path_factory) -> dict[str, Run]:  # type: ignore[no-untyped-def]
    from .conftest import ProxyProcess

    folder = writes / "compare"
    proxy = ProxyProcess(folder, "--listen", "127.0.0.1:0", "--upstream", f"127.0.0.1:{smtpd}")
    results: dict[str, Run] = {}
    try:
        for number, (name, (how, _expected)) in enumerate(SCENARIOS.items(), start=1):
            capture = folder / f"{name}.pcap"
            with Tcpdump(capture, f"tcp port {smtpd}"):
                done = subprocess.run(
                    [sys.executable, "-c", CLIENT, str(proxy.port), how["to"],
                     "1" if how.get("starttls") else "0", ca_file],
                    capture_output=True, timeout=60, check=True,
                )  # fmt: skip
                proxy.verdicts(number)
            debug_log = done.stderr.decode("utf-8", "replace")
            (folder / f"{name}-smtplib-debug.log").write_text(debug_log)
            results[name] = Run(
                transcript=proxy.transcripts()[number - 1],
                capture=capture,
                debug_log=debug_log,
                client=json.loads(done.stdout),
            )
    finally:
        proxy.stop()
    return results


def smtp_lines(text: str) -> list[str]:
    return [
        re.sub(r"^\+\S+ ", "", line)
        for line in text.splitlines()
        if re.match(r"^\+\S+ [SC]:", line)
    ]


def judged(report) -> tuple[str, str | None, str]:  # type: ignore[no-untyped-def]
    session = report.sessions[-1]
    return session.outcome, session.failed_at, session.main.id


@pytest.mark.parametrize("name", SCENARIOS)
def test_proxy_and_capture_agree(runs, name):  # type: ignore[no-untyped-def]
    run, expected = runs[name], SCENARIOS[name][1]
    from_proxy = judged(analyze_file(run.transcript))
    from_capture = judged(analyze_bytes(run.capture.read_bytes(), str(run.capture)))
    assert from_proxy == from_capture == expected
    proxy_lines = smtp_lines(run.transcript.read_text())
    capture_lines = smtp_lines(capture_transcript(run.capture.read_bytes()).text)
    assert proxy_lines == capture_lines  # the same session, line for line


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_clients_own_result_agrees(runs, name):  # type: ignore[no-untyped-def]
    run, (outcome, failed_at, _diagnosis) = runs[name], SCENARIOS[name][1]
    if outcome == "delivered":
        assert run.client == {"refused": {}}
    elif failed_at == "rcpt":
        assert run.client["error"] == "SMTPRecipientsRefused"
        assert all(code >= 500 for code in run.client["codes"])
    else:  # encrypted: the client delivered, which neither recording can see
        assert run.client == {"refused": {}}
    # The client's debug log shows the same replies, in the same order, as the recording
    # (up to the TLS handshake, after which the recording cannot read them).
    from smtplog.events import Reply

    logged = [int(code) for code in re.findall(r"reply: retcode \((\d{3})\)", run.debug_log)]
    recorded = [e.code for e in analyze_file(run.transcript).sessions[-1].analysis.events
                if isinstance(e, Reply)]  # fmt: skip
    assert logged[: len(recorded)] == recorded
    assert len(logged) == len(recorded) or outcome == "unknown"


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_smtplib_debug_log_agrees(runs, name):  # type: ignore[no-untyped-def]
    from smtplog import dialects

    if "smtplib" not in dialects.REGISTRY:
        pytest.skip(
            "the smtplib debug-log dialect is not on this branch yet (another branch adds it)"
        )
    run, expected = runs[name], SCENARIOS[name][1]
    report = analyze_bytes(run.debug_log.encode(), f"{name}-smtplib-debug.log")
    if expected[2] == "encrypted":  # smtplib logs the whole session: it sees through TLS
        assert judged(report)[0] == "delivered"
    else:
        assert judged(report) == expected
