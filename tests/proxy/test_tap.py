"""The Tap and the TLS handshake view, fed with real bytes (real TLS from Python's ssl)."""

from __future__ import annotations

import contextlib
import ssl

import pytest

from smtplog.events import Closed, Command, Encrypted, Note, Reply, Timeout, TlsFailed, TlsStarted
from smtplog.record.handshake import HandshakeView
from smtplog.record.tap import Tap


class Handshake:
    """A TLS client and server over memory BIOs; every byte is shown to a HandshakeView."""

    def __init__(self, client: ssl.SSLContext, server: ssl.SSLContext, sni: str | None) -> None:
        self.view = HandshakeView()
        self.flights: list[tuple[str, bytes]] = []
        self.c_in, self.c_out, self.s_in, self.s_out = (ssl.MemoryBIO() for _ in range(4))
        self.client = client.wrap_bio(self.c_in, self.c_out, server_hostname=sni)
        self.server = server.wrap_bio(self.s_in, self.s_out, server_side=True)

    def run(self) -> None:
        for _ in range(8):
            for obj in (self.client, self.server):
                with contextlib.suppress(ssl.SSLError):  # want-read, alerts, EOF
                    obj.do_handshake()
            self._move()
        with contextlib.suppress(ssl.SSLError):  # the client's first data (EHLO after STARTTLS)
            self.client.write(b"EHLO client.example.test\r\n")
        self._move()

    def _move(self) -> None:
        for side, out, into in (
            ("client", self.c_out, self.s_in),
            ("server", self.s_out, self.c_in),
        ):
            data = out.read()
            if data:
                self.flights.append((side, data))
                self.view.feed(side, data)  # type: ignore[arg-type]
                into.write(data)


@pytest.fixture(scope="module")
def contexts(ca):  # type: ignore[no-untyped-def]
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("mx.example.test").configure_cert(server)
    trusting = ssl.create_default_context()
    ca.configure_trust(trusting)
    return server, trusting, ssl.create_default_context()


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2])
def test_a_handshake_that_goes_through(contexts, version):  # type: ignore[no-untyped-def]
    server, trusting, _ = contexts
    trusting.maximum_version = version
    try:
        run = Handshake(trusting, server, "mx.example.test")
        run.run()
    finally:
        trusting.maximum_version = ssl.TLSVersion.MAXIMUM_SUPPORTED
    view = run.view
    assert view.established and view.failure is None
    assert view.sni == "mx.example.test"
    assert view.version == ("TLSv1.3" if version == ssl.TLSVersion.TLSv1_3 else "TLSv1.2")
    assert view.cipher == run.client.cipher()[0]  # the name OpenSSL itself uses


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2])
def test_a_client_that_does_not_trust_the_certificate(contexts, version):  # type: ignore[no-untyped-def]
    server, _, distrusting = contexts
    distrusting.maximum_version = version
    try:
        run = Handshake(distrusting, server, "mx.example.test")
        run.run()
    finally:
        distrusting.maximum_version = ssl.TLSVersion.MAXIMUM_SUPPORTED
    if not run.view.done:
        run.view.closed("client")
    assert not run.view.established
    assert run.view.failure is not None
    assert run.view.failure.startswith("certificate: the client rejected the server's certificate")
    assert "unknown_ca" in run.view.failure


def test_no_version_in_common():  # type: ignore[no-untyped-def]
    server_12 = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_12.maximum_version = ssl.TLSVersion.TLSv1_2
    client_13 = ssl.create_default_context()
    client_13.minimum_version = ssl.TLSVersion.TLSv1_3
    run = Handshake(client_13, server_12, None)
    run.run()
    assert run.view.failure is not None and run.view.failure.startswith("protocol version:")


# -- the tap ----------------------------------------------------------------------------------


def kinds(events):  # type: ignore[no-untyped-def]
    return [type(event).__name__ for event in events]


def greet(tap: Tap) -> list:  # type: ignore[type-arg]
    events = tap.opened("mx.example.test:25", "192.0.2.25", 0.0)
    events += tap.server(b"220 mx.example.test ESMTP\r\n", 0.1)
    events += tap.client(b"EHLO client.example.test\r\n", 0.2)
    events += tap.server(b"250-mx.example.test\r\n250 STARTTLS\r\n", 0.3)
    return events


def test_starttls_then_tls_bytes_in_the_same_reads(contexts):  # type: ignore[no-untyped-def]
    server, trusting, _ = contexts
    run = Handshake(trusting, server, "mx.example.test")
    run.run()
    tap = Tap()
    events = greet(tap)
    first_client = next(data for side, data in run.flights if side == "client")
    # STARTTLS and the ClientHello in one read (a client that does not wait is wrong,
    # but the split must still be exact), then the 220 with the server's first flight.
    events += tap.client(b"STARTTLS\r\n" + first_client, 0.4)
    rest = [(side, data) for side, data in run.flights if data is not first_client]
    server_first = next(data for side, data in rest if side == "server")
    events += tap.server(b"220 2.0.0 Ready to start TLS\r\n" + server_first, 0.5)
    for side, data in rest:
        if data is server_first:
            continue
        events += (tap.client if side == "client" else tap.server)(data, 0.6)
    events += tap.closed("client", 0.9)
    names = kinds(events)
    assert names[-3:] == ["TlsStarted", "Encrypted", "Closed"]
    started = next(e for e in events if isinstance(e, TlsStarted))
    assert started.version == "TLSv1.3" and "server name (SNI) mx.example.test" in started.detail
    encrypted = next(e for e in events if isinstance(e, Encrypted))
    total_client = sum(len(data) for side, data in run.flights if side == "client")
    assert encrypted.client_bytes == total_client
    assert encrypted.detail == "after STARTTLS"
    assert not next(e for e in events if isinstance(e, Closed)).unexpected


def test_starttls_refused_goes_on_in_plaintext():
    tap = Tap()
    events = greet(tap)
    events += tap.client(b"STARTTLS\r\n", 0.4)
    events += tap.server(b"454 4.7.0 TLS not available due to local problem\r\n", 0.5)
    events += tap.client(b"MAIL FROM:<a@example.org>\r\n", 0.6)
    events += tap.server(b"250 2.1.0 Ok\r\n", 0.7)
    commands = [e.verb for e in events if isinstance(e, Command)]
    assert commands == ["EHLO", "STARTTLS", "MAIL"]
    assert [e.code for e in events if isinstance(e, Reply)] == [220, 250, 454, 250]


def test_a_client_that_stays_in_plaintext_after_220():
    tap = Tap()
    events = greet(tap)
    events += tap.client(b"STARTTLS\r\n", 0.4)
    events += tap.server(b"220 Ready\r\n", 0.5)
    events += tap.client(b"QUIT\r\n", 0.6)
    assert any(isinstance(e, Note) and "plaintext after the 220" in e.text for e in events)
    assert [e.verb for e in events if isinstance(e, Command)][-1] == "QUIT"


def test_implicit_tls_to_a_plaintext_port(contexts):  # type: ignore[no-untyped-def]
    server, trusting, _ = contexts
    run = Handshake(trusting, server, "mx.example.test")
    run.run()
    tap = Tap()
    events = tap.opened("mx.example.test:25", None, 0.0)
    events += tap.server(b"220 mx.example.test ESMTP\r\n", 0.1)
    events += tap.client(run.flights[0][1], 0.2)
    failed = [e for e in events if isinstance(e, TlsFailed)]
    assert failed and failed[0].reason.startswith("TLS on a plaintext port")


def test_a_client_that_gives_up_waiting():
    tap = Tap()
    events = greet(tap)
    events += tap.client(b"MAIL FROM:<a@example.org>\r\n", 1.0)
    events += tap.closed("client", 31.0)
    timeout = next(e for e in events if isinstance(e, Timeout))
    assert timeout.waiting_for == "reply" and "no reply after 30.0s" in timeout.detail


def test_auth_is_masked_at_capture():
    tap = Tap()
    events = greet(tap)
    events += tap.client(b"AUTH LOGIN\r\n", 0.4)
    events += tap.server(b"334 VXNlcm5hbWU6\r\n", 0.5)
    events += tap.client(b"YWxpY2VAZXhhbXBsZS50ZXN0\r\n", 0.6)
    events += tap.server(b"334 UGFzc3dvcmQ6\r\n", 0.7)
    events += tap.client(b"UzNjcjN0LVBhNTU=\r\n", 0.8)
    text = repr(events)
    assert "UzNjcjN0LVBhNTU" not in text and "S3cr3t" not in text
