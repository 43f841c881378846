"""Fixtures for the recorder tests: aiosmtpd servers, certificates, failure endpoints."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from recorder_support import LOCAL_DOMAIN, LOCAL_USERS, PASSWORD, USER, written_dir


@pytest.fixture(scope="session")
def writes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return written_dir(tmp_path_factory)


# -- certificates ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def ca(writes: Path):  # type: ignore[no-untyped-def]
    import trustme

    authority = trustme.CA()
    authority.cert_pem.write_to_path(str(writes / "ca.pem"))
    return authority


@pytest.fixture(scope="session")
def ca_file(ca, writes: Path) -> str:  # type: ignore[no-untyped-def]
    return str(writes / "ca.pem")


@pytest.fixture(scope="session")
def server_context(ca) -> ssl.SSLContext:  # type: ignore[no-untyped-def]
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("mx.example.test", "127.0.0.1").configure_cert(context)
    return context


# -- aiosmtpd ----------------------------------------------------------------------------


class Handler:
    """A small MTA: local users alice and bob, relay only when authenticated."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        local, _, domain = address.rpartition("@")
        if domain.lower() == LOCAL_DOMAIN:
            if local.lower() not in LOCAL_USERS:
                return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        elif not session.authenticated:
            return f"554 5.7.1 <{address}>: Relay access denied"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        return "250 2.0.0 Ok: queued as TEST1"


def authenticator(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
    from aiosmtpd.smtp import AuthResult, LoginPassword

    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login.decode() == USER
        and auth_data.password.decode() == PASSWORD
    )
    return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd sends 535


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def smtpd(server_context: ssl.SSLContext) -> Iterator[int]:
    """Plain port with STARTTLS offered and AUTH allowed without TLS."""
    from aiosmtpd.controller import Controller

    port = free_port()
    controller = Controller(
        Handler(),
        hostname="127.0.0.1",
        port=port,
        server_hostname="mx.example.test",
        tls_context=server_context,
        authenticator=authenticator,
        auth_require_tls=False,
    )
    controller.start()
    yield port
    controller.stop()


@pytest.fixture(scope="session")
def smtpd_tls_required(server_context: ssl.SSLContext) -> Iterator[int]:
    from aiosmtpd.controller import Controller

    port = free_port()
    controller = Controller(
        Handler(),
        hostname="127.0.0.1",
        port=port,
        server_hostname="mx.example.test",
        tls_context=server_context,
        require_starttls=True,
        authenticator=authenticator,
    )
    controller.start()
    yield port
    controller.stop()


@pytest.fixture(scope="session")
def smtpd_implicit(server_context: ssl.SSLContext) -> Iterator[int]:
    from aiosmtpd.controller import Controller

    port = free_port()
    controller = Controller(
        Handler(),
        hostname="127.0.0.1",
        port=port,
        server_hostname="mx.example.test",
        ssl_context=server_context,
        authenticator=authenticator,
    )
    controller.start()
    yield port
    controller.stop()


# -- failure endpoints --------------------------------------------------------------------


class RawServer:
    """A TCP server on loopback whose behaviour per connection is a function."""

    def __init__(self, behaviour) -> None:  # type: ignore[no-untyped-def]
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.behaviour = behaviour
        self.stopped = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(10)
            self.behaviour(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def stop(self) -> None:
        self.stopped = True
        self.sock.close()


def _silent(conn: socket.socket) -> None:
    """Accepts and never speaks (waits for the client to give up)."""
    conn.settimeout(30)
    while conn.recv(1024):
        pass


def _drop_after_ehlo(conn: socket.socket) -> None:
    conn.sendall(b"220 dropper.example.test ESMTP\r\n")
    data = b""
    while b"\n" not in data:
        chunk = conn.recv(1024)
        if not chunk:
            return
        data += chunk
    conn.sendall(b"250-dropper.example.test\r\n250 PIPELINING\r\n")
    time.sleep(0.05)
    conn.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def silent_server() -> Iterator[int]:
    server = RawServer(_silent)
    yield server.port
    server.stop()


@pytest.fixture
def dropping_server() -> Iterator[int]:
    server = RawServer(_drop_after_ehlo)
    yield server.port
    server.stop()


@pytest.fixture
def closed_port() -> int:
    return free_port()  # bound and released: nothing listens there
