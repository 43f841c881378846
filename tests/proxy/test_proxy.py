"""`smtplog proxy` with real clients (smtplib, swaks, curl) in front of aiosmtpd on loopback."""

from __future__ import annotations

import shutil
import smtplib
import socket
import ssl
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from pathlib import Path

import pytest
from recorder_support import PASSWORD, USER, analyze_file

from .conftest import RawServer

pytestmark = pytest.mark.slow


def message(sender: str = "sender@example.org", to: str = "alice@example.test") -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, "through the proxy"
    msg.set_content("Hello through smtplog proxy.\n.leading dot\n")
    return msg


def send(port: int, msg: EmailMessage | None = None, *, login: tuple[str, str] | None = None,
         starttls: ssl.SSLContext | None = None, timeout: float = 10) -> dict:  # fmt: skip
    with smtplib.SMTP("127.0.0.1", port, timeout=timeout) as client:
        client.ehlo("client.example.test")
        if starttls is not None:
            client.starttls(context=starttls)
            client.ehlo("client.example.test")
        if login is not None:
            client.login(*login)
        return client.send_message(msg or message())


def verdict_of(path: Path, index: int = -1) -> tuple[str, str | None, str]:
    session = analyze_file(path).sessions[index]
    assert session.main is not None
    return session.outcome, session.failed_at, session.main.id


def trusting(ca) -> ssl.SSLContext:  # type: ignore[no-untyped-def]
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


# -- plain SMTP -------------------------------------------------------------------------------


def test_sessions_are_recorded_and_judged(start_proxy, smtpd):  # type: ignore[no-untyped-def]
    proxy = start_proxy("--upstream", f"127.0.0.1:{smtpd}")
    assert send(proxy.port) == {}
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send(proxy.port, message(to="someone@elsewhere.test"))
    assert send(proxy.port, message(USER, "someone@elsewhere.test"), login=(USER, PASSWORD)) == {}
    with pytest.raises(smtplib.SMTPAuthenticationError):
        send(proxy.port, login=(USER, "wrong-password"))
    lines = proxy.verdicts(4)
    assert "delivered" in lines[0] and "relay-denied" in lines[1]
    assert "delivered" in lines[2] and "auth-rejected" in lines[3]
    first, second, third, fourth = proxy.transcripts()
    assert verdict_of(first) == ("delivered", None, "delivered")
    assert verdict_of(second) == ("failed", "rcpt", "relay-denied")
    assert verdict_of(third) == ("delivered", None, "delivered")
    assert verdict_of(fourth) == ("failed", "auth", "auth-rejected")
    text = third.read_text()
    assert "S: 235 2.7.0 Authentication successful" in text
    assert (PASSWORD not in text and "credentials redacted" in text) or "password redacted" in text
    assert "C: ..leading dot" in text  # content as it went over the wire (dot-stuffed)
    assert oct(first.stat().st_mode & 0o777) == "0o600"
    for path in (first, second, third, fourth):
        assert str(path) in "".join(proxy.lines)


def test_verdict_lines_and_transcript_agree(start_proxy, smtpd):  # type: ignore[no-untyped-def]
    proxy = start_proxy("--upstream", f"127.0.0.1:{smtpd}", "--analyze")
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send(proxy.port, message(to="nobody@example.test"))
    proxy.verdicts(1)
    output = "".join(proxy.lines)
    assert "-- recipient-unknown:" in output  # --analyze renders the whole analysis
    assert "Verdict: failed at rcpt: recipient-unknown" in output
    assert verdict_of(proxy.transcripts()[0]) == ("failed", "rcpt", "recipient-unknown")


def test_fifty_clients_at_once(start_proxy, smtpd):  # type: ignore[no-untyped-def]
    proxy = start_proxy("--upstream", f"127.0.0.1:{smtpd}")
    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(
            pool.map(lambda n: send(proxy.port, message(to="bob@example.test")), range(50))
        )
    assert results == [{}] * 50
    lines = proxy.verdicts(50, timeout=60)
    assert all("delivered" in line for line in lines)
    assert sorted(int(line.split()[1]) for line in lines) == list(range(1, 51))
    transcripts = proxy.transcripts()
    assert len(transcripts) == 50
    assert {verdict_of(path) for path in transcripts} == {("delivered", None, "delivered")}


# -- the upstream misbehaves ---------------------------------------------------------------------


def test_upstream_refuses(start_proxy, closed_port):  # type: ignore[no-untyped-def]
    proxy = start_proxy("--upstream", f"127.0.0.1:{closed_port}")
    with pytest.raises(smtplib.SMTPConnectError) as caught:
        send(proxy.port)
    assert caught.value.smtp_code == 421
    assert "refused" in proxy.verdicts(1)[0]
    transcript = proxy.transcripts()[0]
    assert verdict_of(transcript) == ("no-connection", "connect", "connect-refused")
    assert "the proxy answered the client itself: 421" in transcript.read_text()


def test_upstream_does_not_accept(start_proxy, full_backlog):  # type: ignore[no-untyped-def]
    # A full accept queue: the SYN is dropped, as by a firewall (tests/conftest.py).
    proxy = start_proxy("--upstream", f"127.0.0.1:{full_backlog}", "--connect-timeout", "1")
    with pytest.raises(smtplib.SMTPConnectError):
        send(proxy.port)
    proxy.verdicts(1)
    assert verdict_of(proxy.transcripts()[0]) == ("no-connection", "connect", "connect-timeout")


def test_upstream_silent_client_gives_up(start_proxy, silent_server):  # type: ignore[no-untyped-def]
    proxy = start_proxy("--upstream", f"127.0.0.1:{silent_server}")
    started = time.monotonic()
    with pytest.raises((TimeoutError, socket.timeout, smtplib.SMTPServerDisconnected)):
        send(proxy.port, timeout=2)
    assert time.monotonic() - started < 5
    proxy.verdicts(1)
    transcript = proxy.transcripts()[0]
    assert verdict_of(transcript) == ("deferred", "banner", "no-greeting")
    assert "no greeting after 2." in transcript.read_text()


def test_idle_sessions_are_closed_by_the_proxy(start_proxy, silent_server):  # type: ignore[no-untyped-def]
    proxy = start_proxy("--upstream", f"127.0.0.1:{silent_server}", "--timeout", "1")
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as client:
        started = time.monotonic()
        assert client.recv(100) == b""  # the proxy hangs up after a second of silence
        assert time.monotonic() - started < 5
    proxy.verdicts(1)
    transcript = proxy.transcripts()[0]
    assert "no greeting from the server within 1s; the proxy closed both connections" in (
        transcript.read_text()
    )
    assert verdict_of(transcript) == ("deferred", "banner", "no-greeting")


def _slow_first(conn: socket.socket, state={"count": 0}) -> None:  # noqa: B006 - a shared counter
    state["count"] += 1
    if state["count"] == 1:
        conn.settimeout(30)
        while conn.recv(1024):
            pass
        return
    conn.sendall(b"220 quick.example.test ESMTP\r\n")
    buffer = b""
    while True:
        chunk = conn.recv(1024)
        if not chunk:
            return
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            if line.strip().upper() == b"QUIT":
                conn.sendall(b"221 2.0.0 Bye\r\n")
                return
            conn.sendall(b"250 quick.example.test\r\n")


def test_a_silent_upstream_session_does_not_block_others(start_proxy):  # type: ignore[no-untyped-def]
    upstream = RawServer(_slow_first)
    try:
        proxy = start_proxy("--upstream", f"127.0.0.1:{upstream.port}")
        waiting = socket.create_connection(("127.0.0.1", proxy.port))
        time.sleep(0.3)
        started = time.monotonic()
        with smtplib.SMTP("127.0.0.1", proxy.port, timeout=5) as client:
            assert client.ehlo()[0] == 250
        assert time.monotonic() - started < 2
        line = proxy.verdicts(1)[0]
        assert line.startswith("session 2 ")  # the second client finished; the first still waits
        waiting.close()
        proxy.verdicts(2)
    finally:
        upstream.stop()


# -- the client misbehaves ----------------------------------------------------------------------


def _dialogue(port: int) -> socket.socket:
    client = socket.create_connection(("127.0.0.1", port), timeout=10)
    assert client.recv(1024).startswith(b"220")
    client.sendall(b"EHLO client.example.test\r\n")
    time.sleep(0.3)
    assert client.recv(4096).startswith(b"250")
    return client


def test_client_resets_mid_command(start_proxy, smtpd):  # type: ignore[no-untyped-def]
    import struct

    proxy = start_proxy("--upstream", f"127.0.0.1:{smtpd}")
    client = _dialogue(proxy.port)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    client.sendall(b"MAIL FROM:<sender@example.org>\r\n")
    client.close()  # RST, maybe before the reply arrives
    proxy.verdicts(1)
    text = proxy.transcripts()[0].read_text()
    assert "C: MAIL FROM:<sender@example.org>" in text
    assert "the client reset the connection" in text


def test_client_hangs_up_without_quit(start_proxy, smtpd):  # type: ignore[no-untyped-def]
    proxy = start_proxy("--upstream", f"127.0.0.1:{smtpd}")
    client = _dialogue(proxy.port)
    client.close()
    proxy.verdicts(1)
    transcript = proxy.transcripts()[0]
    assert "** closed client" in transcript.read_text()
    session = analyze_file(transcript).sessions[-1]
    assert session.outcome == "incomplete"  # nothing failed; the client just left


def test_ctrl_c_finishes_open_transcripts(start_proxy, smtpd):  # type: ignore[no-untyped-def]
    proxy = start_proxy("--upstream", f"127.0.0.1:{smtpd}")
    clients = [_dialogue(proxy.port) for _ in range(3)]
    assert proxy.stop() == 0
    for client in clients:
        client.settimeout(5)
        assert client.recv(100) == b""  # the proxy closed it
        client.close()
    transcripts = proxy.transcripts()
    assert len(transcripts) == 3
    for path in transcripts:
        last = path.read_text().splitlines()[-1]
        assert "stopped (Ctrl-C / SIGTERM) while the session was open" in last
    assert len([line for line in proxy.lines if line.startswith("session ")]) == 3
    assert "stopped after 3 session(s)" in "".join(proxy.errors)


# -- TLS -------------------------------------------------------------------------------------------


def test_starttls_passes_through_encrypted(start_proxy, smtpd, ca):  # type: ignore[no-untyped-def]
    proxy = start_proxy("--upstream", f"127.0.0.1:{smtpd}")
    assert send(proxy.port, message(USER, "x@elsewhere.test"), starttls=trusting(ca),
                login=(USER, PASSWORD)) == {}  # fmt: skip
    line = proxy.verdicts(1)[0]
    assert "unknown: encrypted" in line
    text = proxy.transcripts()[0].read_text()
    assert "S: 220 Ready to start TLS" in text
    assert "** tls TLSv1.3 TLS_AES_256_GCM_SHA384 detail='not decrypted" in text
    assert "** encrypted client=" in text
    assert "AUTH" not in text.split("** tls")[1]  # nothing after the handshake is readable
    assert verdict_of(proxy.transcripts()[0]) == ("unknown", None, "encrypted")


def test_starttls_terminated_records_everything(start_proxy, smtpd, ca, proxy_cert):  # type: ignore[no-untyped-def]
    proxy = start_proxy("--upstream", f"127.0.0.1:{smtpd}", "--tls-cert", proxy_cert,
                        "--tls-key", proxy_cert)  # fmt: skip
    assert send(proxy.port, message(USER, "x@elsewhere.test"), starttls=trusting(ca),
                login=(USER, PASSWORD)) == {}  # fmt: skip
    assert "delivered" in proxy.verdicts(1)[0]
    transcript = proxy.transcripts()[0]
    text = transcript.read_text()
    assert "** tls TLSv1.3" in text and "not checked by the proxy" in text
    assert "the client was shown the proxy's certificate" in text
    after = text.split("** tls")[1]
    assert "C: AUTH PLAIN" in after and PASSWORD not in text
    assert verdict_of(transcript) == ("delivered", None, "delivered")


def test_client_that_rejects_the_proxy_certificate(start_proxy, smtpd, proxy_cert):  # type: ignore[no-untyped-def]
    proxy = start_proxy("--upstream", f"127.0.0.1:{smtpd}", "--tls-cert", proxy_cert,
                        "--tls-key", proxy_cert)  # fmt: skip
    with pytest.raises(ssl.SSLCertVerificationError):
        send(proxy.port, starttls=ssl.create_default_context())  # does not trust the test CA
    proxy.verdicts(1)
    transcript = proxy.transcripts()[0]
    assert "client's TLS handshake with the proxy failed" in transcript.read_text()
    assert verdict_of(transcript) == ("deferred", "starttls", "tls-handshake-failed")


def test_implicit_tls_listener(start_proxy, smtpd_implicit, ca, proxy_cert):  # type: ignore[no-untyped-def]
    proxy = start_proxy("--listen-tls", "127.0.0.1:0", "--upstream",
                        f"127.0.0.1:{smtpd_implicit}", "--upstream-tls", "--tls-cert",
                        proxy_cert, "--tls-key", proxy_cert)  # fmt: skip
    tls_port = proxy.ports[1]
    with smtplib.SMTP_SSL("127.0.0.1", tls_port, context=trusting(ca), timeout=10) as client:
        assert client.send_message(message()) == {}  # (aiosmtpd offers no AUTH on port 465)
    assert "delivered" in proxy.verdicts(1)[0]
    text = proxy.transcripts()[0].read_text()
    assert text.index("the client's TLS with the proxy") < text.index("** connect ")
    assert verdict_of(proxy.transcripts()[0]) == ("delivered", None, "delivered")


# -- other real clients ---------------------------------------------------------------------------


@pytest.mark.skipif(
    shutil.which("swaks") is None, reason="swaks is not installed (apt-get install swaks)"
)
def test_swaks_through_the_proxy(start_proxy, smtpd):  # type: ignore[no-untyped-def]
    proxy = start_proxy("--upstream", f"127.0.0.1:{smtpd}")
    done = subprocess.run(
        ["swaks", "--server", f"127.0.0.1:{proxy.port}", "--helo", "client.example.test",
         "--from", USER, "--to", "someone@elsewhere.test", "--auth", "LOGIN",
         "--auth-user", USER, "--auth-password", PASSWORD],
        capture_output=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout
    proxy.verdicts(1)
    transcript = proxy.transcripts()[0]
    assert verdict_of(transcript) == ("delivered", None, "delivered")
    assert "C: [password redacted, 11 characters]" in transcript.read_text()


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_through_the_proxy(start_proxy, smtpd, writes):  # type: ignore[no-untyped-def]
    proxy = start_proxy("--upstream", f"127.0.0.1:{smtpd}")
    mail = writes / "curl-mail.txt"
    mail.write_bytes(
        b"From: sender@example.org\r\nTo: bob@example.test\r\nSubject: curl\r\n\r\nHi\r\n"
    )
    done = subprocess.run(
        ["curl", "-sS", f"smtp://127.0.0.1:{proxy.port}/client.example.test", "--mail-from",
         "sender@example.org", "--mail-rcpt", "bob@example.test", "--upload-file", str(mail)],
        capture_output=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    proxy.verdicts(1)
    transcript = proxy.transcripts()[0]
    assert "C: EHLO client.example.test" in transcript.read_text()
    assert verdict_of(transcript) == ("delivered", None, "delivered")


# -- the command line -------------------------------------------------------------------------------


def test_usage_errors_are_one_line(tmp_path):  # type: ignore[no-untyped-def]
    from tests.conftest import run_cli

    result = run_cli("proxy", "--upstream", "127.0.0.1:25", "--listen-tls", "0")
    assert result.code == 2 and "--listen-tls needs --tls-cert" in result.stderr
    result = run_cli("proxy", "--upstream", "127.0.0.1:25", "--tls-cert", __file__)
    assert result.code == 2 and "go together" in result.stderr
    result = run_cli("proxy", "--upstream", "127.0.0.1:99999")
    assert result.code == 2 and "not a port number" in result.stderr
    result = run_cli("proxy", "--help")
    assert "TERMINATES TLS" in result.stdout and "only on systems" in result.stdout


def test_bare_port_listens_on_loopback_only(smtpd, writes):  # type: ignore[no-untyped-def]
    from .conftest import ProxyProcess

    proxy = ProxyProcess(writes / "proxy-bare", "--listen", "0", "--upstream", f"127.0.0.1:{smtpd}")
    try:
        assert "listening on 127.0.0.1:" in "".join(proxy.errors)
        assert send(proxy.port) == {}
    finally:
        assert proxy.stop() == 0


def test_upstream_certificate_verified_when_asked(start_proxy, smtpd, ca, ca_file, proxy_cert):  # type: ignore[no-untyped-def]
    proxy = start_proxy("--upstream", f"127.0.0.1:{smtpd}", "--tls-cert", proxy_cert,
                        "--tls-key", proxy_cert, "--upstream-verify", "--ca-file", ca_file)  # fmt: skip
    assert send(proxy.port, starttls=trusting(ca)) == {}
    proxy.verdicts(1)
    text = proxy.transcripts()[0].read_text()
    assert "verified=yes" in text


def test_upstream_certificate_that_does_not_verify(start_proxy, smtpd, ca, proxy_cert):  # type: ignore[no-untyped-def]
    proxy = start_proxy("--upstream", f"127.0.0.1:{smtpd}", "--tls-cert", proxy_cert,
                        "--tls-key", proxy_cert, "--upstream-verify")  # fmt: skip
    with pytest.raises(smtplib.SMTPResponseException) as caught:  # the proxy says 421, closes
        send(proxy.port, starttls=trusting(ca))
    assert caught.value.smtp_code == 421
    proxy.verdicts(1)
    transcript = proxy.transcripts()[0]
    text = transcript.read_text()
    assert "** tls-failed certificate:" in text
    assert verdict_of(transcript) == ("deferred", "starttls", "tls-handshake-failed")
