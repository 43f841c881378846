"""The recording proxy: relay each client to the upstream server and record the session.

asyncio, one ``ProxySession`` per client connection: two pumps copy bytes each
way and feed them to a ``Tap`` (the wire codec masks secrets there, at
capture), whose events a ``Recorder`` writes to that session's transcript as
they happen. Nothing waits without a deadline: connecting upstream, TLS
handshakes, a peer that does not read (``drain``), and a session where
nothing moves (the idle timeout). A slow upstream only ever holds up its own
session.

TLS: without a certificate, STARTTLS is relayed and what follows passes
through untouched; the tap records the handshake's outcome and counts the
encrypted bytes. With ``tls_cert``/``tls_key`` the proxy terminates TLS: on a
220 to STARTTLS it first starts TLS with the upstream (so a failure there is
recorded and the client told), then forwards the 220 and runs the handshake
with the client as the server; clients of a TLS listener get the handshake
at once. Either way the whole session is recorded in clear.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import ssl
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from smtplog.events import Closed, Command, Event, Note, Reply, Timeout, TlsFailed
from smtplog.record import net, tls
from smtplog.record.recorder import Recorder, data_home, open_private
from smtplog.record.tap import Tap
from smtplog.record.target import Target

if TYPE_CHECKING:
    from smtplog.report import Report, SessionReport

READ_SIZE = 65536
LINGER = 5.0  # seconds the other side may still talk after one side closed


@dataclass(frozen=True, slots=True)
class Listener:
    host: str
    port: int
    implicit_tls: bool = False

    @property
    def label(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass(slots=True)
class ProxyOptions:
    listeners: list[Listener]
    upstream: Target
    upstream_tls: bool = False  # implicit TLS to the upstream (port 465)
    tls_cert: str | None = None  # with tls_key: terminate TLS (see the module docstring)
    tls_key: str | None = None
    upstream_verify: bool = False
    upstream_ca: str | None = None
    connect_timeout: float = 30.0
    tls_timeout: float = 30.0
    idle_timeout: float = 300.0  # RFC 5321 §4.5.3.2: servers wait 5 minutes for a command
    max_sessions: int = 200
    save_dir: Path | None = None  # None: the default transcript folder
    save: bool = True

    @property
    def terminating(self) -> bool:
        return self.tls_cert is not None


@dataclass(slots=True)
class SessionResult:
    """What a finished session leaves: its transcript and its analysis."""

    number: int
    client: str
    path: Path | None
    text: str
    events: list[Event]
    duration: float

    def report(self) -> Report:
        """The analysis of the transcript as written (line numbers point into the file)."""
        from smtplog.analysis import analyze_text

        return analyze_text(self.text, dialect="smtplog", name=str(self.path or "<proxy>"))

    def verdict(self) -> SessionReport | None:
        """The analysis of the recorded events themselves: the same verdict as ``report``
        without reading the transcript back (the proxy judges every session it relays)."""
        from smtplog.protocol import analyze_session
        from smtplog.report import SessionReport
        from smtplog.rules import diagnose
        from smtplog.sessions import split_sessions

        sessions = split_sessions(self.events)
        if not sessions:
            return None
        analysis = analyze_session(sessions[-1])
        return SessionReport(analysis, diagnose(analysis))


SessionEnd = Callable[[SessionResult], None]


def transcript_folder() -> Path:
    return data_home() / "smtplog" / "transcripts"


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "session"


class ProxySession:
    """One client connection and its upstream twin."""

    def __init__(
        self,
        proxy: Proxy,
        number: int,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        listener: Listener,
    ) -> None:
        self.proxy = proxy
        self.options = proxy.options
        self.number = number
        self.client_reader, self.client_writer = reader, writer
        self.up_reader: asyncio.StreamReader | None = None
        self.up_writer: asyncio.StreamWriter | None = None
        self.listener = listener
        own = writer.get_extra_info("sockname")
        self.local = Listener(str(own[0]), int(own[1])).label if own else listener.label
        peer = writer.get_extra_info("peername") or ("?", 0)
        self.client = f"[{peer[0]}]:{peer[1]}" if ":" in str(peer[0]) else f"{peer[0]}:{peer[1]}"
        self.path, sink = self._open_transcript()
        self.recorder = Recorder(self.options.upstream.label, command="proxy", sink=sink)
        self.tap = Tap(decrypting=self.options.terminating)
        self.last_activity = asyncio.get_running_loop().time()
        self.client_may_read = asyncio.Event()
        self.client_may_read.set()
        self.starttls_pending = False
        self.closed_sides: set[str] = set()
        self.finished = False

    # -- transcript ------------------------------------------------------------------

    def _open_transcript(self) -> tuple[Path | None, TextIO | None]:
        if not self.options.save:
            return None, None
        folder = self.options.save_dir or transcript_folder()
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
        base = f"{stamp}-proxy-{_safe(self.options.upstream.label)}-{self.number}"
        path = folder / f"{base}.txt"
        counter = 1
        while path.exists():
            counter += 1
            path = folder / f"{base}-{counter}.txt"
        return path, open_private(path)

    def record(self, *events: Event) -> None:
        self.recorder.add(*events)

    def note(self, text: str) -> None:
        self.record(Note(text=text, time=self.recorder.now()))

    # -- the session -------------------------------------------------------------------

    async def run(self) -> None:
        try:
            self.note(f"client {self.client} connected to the proxy on {self.local}")
            if self.listener.implicit_tls and not await self._client_tls():
                self._give_up("after the failed TLS handshake")
                return
            if not await self._connect_upstream():
                if self.up_writer is not None:  # connected, but TLS with the upstream failed
                    self._give_up("after the failed TLS handshake")
                return
            await self._relay()
        except asyncio.CancelledError:
            if not self.finished:
                self.record(*self.tap.finish(self.recorder.now(), self.proxy.stop_reason))
            raise
        finally:
            self._close_all()
            self._finish()

    async def _connect_upstream(self) -> bool:
        options = self.options
        target = options.upstream
        where = target.label
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(target.host, target.port), options.connect_timeout
            )
        except (OSError, asyncio.TimeoutError) as exc:
            error = net.classify_connect_error(
                TimeoutError() if isinstance(exc, asyncio.TimeoutError) else exc, where
            )
            self.record(*self.tap.connect_failed(error.reason, error.detail, self.recorder.now()))
            await self._tell_client(f"421 4.4.0 smtplog proxy: {error.detail}")
            return False
        self.up_reader, self.up_writer = reader, writer
        peer = writer.get_extra_info("peername")
        address = str(peer[0]) if peer else None
        self.record(*self.tap.opened(target.label, address, self.recorder.now()))
        return not options.upstream_tls or await self._upstream_tls()

    async def _tell_client(self, line: str) -> None:
        """A reply the proxy makes up (the upstream could not give one); recorded as a note."""
        self.note(f"the proxy answered the client itself: {line}")
        with contextlib.suppress(OSError, asyncio.TimeoutError, ssl.SSLError):
            self.client_writer.write(line.encode() + b"\r\n")
            await asyncio.wait_for(self.client_writer.drain(), 5)

    # -- TLS -----------------------------------------------------------------------------

    async def _upstream_tls(self) -> bool:
        """TLS with the upstream, as its client; records TlsStarted or TlsFailed."""
        options = self.options
        context = tls.make_context(verify=options.upstream_verify, cafile=options.upstream_ca)
        assert self.up_writer is not None
        try:
            await self.up_writer.start_tls(  # type: ignore[attr-defined]
                context,
                server_hostname=options.upstream.host,
                ssl_handshake_timeout=options.tls_timeout,
            )
        except (ssl.SSLError, OSError, asyncio.TimeoutError, ConnectionError) as exc:
            failure = net.HandshakeFailure(
                net.ReadTimeout() if isinstance(exc, asyncio.TimeoutError) else exc, b"", None
            )
            reason = tls.failure_reason(failure, options.tls_timeout)
            self.record(TlsFailed(reason=reason, time=self.recorder.now()))
            await self._tell_client(
                "421 4.7.0 smtplog proxy: TLS with the upstream server failed; closing"
            )
            return False
        obj = self.up_writer.get_extra_info("ssl_object")
        verified = True if options.upstream_verify else None
        why = "" if options.upstream_verify else "not checked by the proxy (--upstream-verify)"
        event = tls.started(obj, verified=verified, why=why, at=self.recorder.now())
        self.record(*self.tap.tls_started(event))
        return True

    async def _client_tls(self) -> bool:
        """TLS with the client, as the server, with the proxy's certificate."""
        context = self.proxy.server_context
        assert context is not None
        try:
            await self.client_writer.start_tls(  # type: ignore[attr-defined]
                context, ssl_handshake_timeout=self.options.tls_timeout
            )
        except (ssl.SSLError, OSError, asyncio.TimeoutError, ConnectionError) as exc:
            detail = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
            what = (
                "did not finish the handshake in time"
                if isinstance(exc, asyncio.TimeoutError)
                else f"failed ({detail})"
            )
            self.record(
                TlsFailed(
                    reason=f"handshake: the client's TLS handshake with the proxy {what} "
                    "(the client sees the proxy's certificate: does it trust it?)",
                    time=self.recorder.now(),
                )
            )
            return False
        obj = self.client_writer.get_extra_info("ssl_object")
        cipher = obj.cipher() if obj else None
        self.note(
            f"the client's TLS with the proxy: {obj.version() if obj else '?'}"
            f"{' ' + cipher[0] if cipher else ''} (the client was shown the proxy's certificate)"
        )
        return True

    async def _starttls(self, data: bytes) -> bool:
        """The upstream said 220 to STARTTLS: TLS upstream, then the 220, then TLS with
        the client. False when the session cannot go on."""
        if not await self._upstream_tls():
            return False
        # The client answers the 220 with its ClientHello at once: stop reading until
        # the TLS layer is in place, or those bytes would land in the plaintext buffer.
        self.client_writer.transport.pause_reading()
        self.client_writer.write(data)
        await self._drain(self.client_writer)
        if not await self._client_tls():
            return False
        self.client_may_read.set()
        return True

    # -- relaying ----------------------------------------------------------------------------

    async def _relay(self) -> None:
        pumps = [
            asyncio.create_task(self._pump("client")),
            asyncio.create_task(self._pump("server")),
        ]
        watchdog = asyncio.create_task(self._watchdog())
        try:
            _done, pending = await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
            if pending:  # one side closed: the other may still finish what it says
                _done, pending = await asyncio.wait(pending, timeout=LINGER)
            for task in pending:
                task.cancel()
            for task in pumps:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        finally:
            watchdog.cancel()
            for task in pumps:
                task.cancel()

    async def _pump(self, side: str) -> None:
        from_client = side == "client"
        while True:
            if from_client:
                await self.client_may_read.wait()
            reader = self.client_reader if from_client else self.up_reader
            writer = self.up_writer if from_client else self.client_writer
            assert reader is not None and writer is not None
            try:
                data = await reader.read(READ_SIZE)
            except (ConnectionError, OSError, ssl.SSLError) as exc:
                self._closed(side, reset=True, detail=_reset_detail(side, exc))
                self._shut(writer)
                return
            loop = asyncio.get_running_loop()
            self.last_activity = loop.time()
            at = self.recorder.now()
            if not data:
                self._closed(side, reset=False)
                self._shut(writer)
                return
            events = self.tap.client(data, at) if from_client else self.tap.server(data, at)
            self.record(*events)
            if self.options.terminating and self._intercept(side, events) == "starttls":
                if not await self._starttls(data):
                    self._give_up("after the failed TLS handshake")
                    return
                continue
            writer.write(data)
            if not await self._drain(writer):
                return

    def _intercept(self, side: str, events: list[Event]) -> str | None:
        """STARTTLS when the proxy terminates TLS: hold the client until the reply."""
        if side == "client" and any(
            isinstance(e, Command) and e.verb == "STARTTLS" for e in events
        ):
            self.client_may_read.clear()  # its next bytes are a ClientHello, for us
            self.starttls_pending = True
            return None
        if side == "server" and self.starttls_pending:
            reply = next((e for e in events if isinstance(e, Reply)), None)
            if reply is not None:
                self.starttls_pending = False
                if reply.code == 220:
                    return "starttls"
                self.client_may_read.set()
        return None

    async def _drain(self, writer: asyncio.StreamWriter) -> bool:
        try:
            await asyncio.wait_for(writer.drain(), self.options.idle_timeout)
        except asyncio.TimeoutError:
            who = "client" if writer is self.client_writer else "server"
            self.note(f"the {who} stopped reading for {self.options.idle_timeout:g}s")
            return False
        except (ConnectionError, OSError, ssl.SSLError):
            return False
        return True

    def _give_up(self, why: str) -> None:
        """The session cannot go on: close both connections now and say so."""
        if not self.tap.ended:
            self.tap.ended = True
            self.record(
                Closed(
                    by="client",
                    detail=f"the proxy closed both connections {why}",
                    time=self.recorder.now(),
                )
            )
        self._close_all()

    def _closed(self, side: str, *, reset: bool, detail: str = "") -> None:
        if side in self.closed_sides:
            return
        self.closed_sides.add(side)
        self.record(*self.tap.closed(side, self.recorder.now(), reset=reset, detail=detail))  # type: ignore[arg-type]

    @staticmethod
    def _shut(writer: asyncio.StreamWriter) -> None:
        """Pass a close on: half-close (FIN) so the other side can still answer."""
        with contextlib.suppress(OSError, RuntimeError, AttributeError, NotImplementedError):
            if writer.can_write_eof():
                writer.write_eof()
            else:
                writer.close()

    async def _watchdog(self) -> None:
        loop = asyncio.get_running_loop()
        idle = self.options.idle_timeout
        while True:
            remaining = self.last_activity + idle - loop.time()
            if remaining > 0:
                await asyncio.sleep(remaining)
                continue
            waiting = self.tap.waiting(self.recorder.now())
            if waiting is not None:
                what = "no greeting" if not self.tap.server_spoke else "no reply"
                event = Timeout(
                    waiting_for="banner" if not self.tap.server_spoke else "reply",
                    detail=f"{what} from the server within {idle:g}s; "
                    "the proxy closed both connections",
                    time=self.recorder.now(),
                )
            else:
                event = Timeout(
                    waiting_for="command",
                    detail=f"the client sent nothing for {idle:g}s; "
                    "the proxy closed both connections",
                    time=self.recorder.now(),
                )
            self.record(event)
            self.tap.ended = True
            self._close_all()
            return

    # -- the end ---------------------------------------------------------------------------

    def _close_all(self) -> None:
        for writer in (self.client_writer, self.up_writer):
            if writer is not None:
                with contextlib.suppress(OSError, RuntimeError):
                    writer.close()

    def _finish(self) -> None:
        if self.finished:
            return
        self.finished = True
        if not self.tap.ended:
            self.record(*self.tap.finish(self.recorder.now(), "the proxy ended the session"))
        duration = self.recorder.now()
        self.recorder.close()
        self.proxy.session_ended(
            SessionResult(
                number=self.number,
                client=self.client,
                path=self.path,
                text=self.recorder.text,
                events=list(self.recorder.events),
                duration=duration,
            )
        )


def _reset_detail(side: str, exc: BaseException) -> str:
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return f"the {side} reset the connection ({text or type(exc).__name__})"


class Proxy:
    """The listening sockets and every open session."""

    def __init__(self, options: ProxyOptions, on_session_end: SessionEnd) -> None:
        self.options = options
        self.on_session_end = on_session_end
        self.servers: list[asyncio.base_events.Server] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self.count = 0
        self.stop_reason = "smtplog proxy was stopped while the session was open"
        self.server_context: ssl.SSLContext | None = None
        if options.terminating:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(options.tls_cert, options.tls_key)  # type: ignore[arg-type]
            self.server_context = context

    async def start(self) -> list[str]:
        """Listen; returns the addresses listened on (host:port, the port resolved)."""
        bound = []
        for listener in self.options.listeners:
            server = await asyncio.start_server(
                lambda r, w, listener=listener: self._accept(r, w, listener),
                listener.host,
                listener.port,
                reuse_address=True,
                backlog=512,
            )
            self.servers.append(server)
            for sock in server.sockets:
                host, port = sock.getsockname()[:2]
                kind = " (implicit TLS)" if listener.implicit_tls else ""
                label = f"[{host}]:{port}" if sock.family == socket.AF_INET6 else f"{host}:{port}"
                bound.append(label + kind)
        return bound

    def _accept(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, listener: Listener
    ) -> None:
        if len(self.tasks) >= self.options.max_sessions:
            writer.write(b"421 4.3.2 smtplog proxy: too many sessions at once, try again later\r\n")
            writer.close()
            return
        if listener.implicit_tls:
            # TLS from the first byte: keep the ClientHello in the socket until the
            # handshake starts (start_tls resumes reading).
            writer.transport.pause_reading()
        self.count += 1
        try:
            session = ProxySession(self, self.count, reader, writer, listener)
        except OSError as exc:  # the transcript cannot be written (disk full, folder gone)
            from smtplog.render.safe import safe

            print(safe(f"smtplog proxy: cannot write a transcript: {exc}"), file=sys.stderr)
            writer.write(b"421 4.3.0 smtplog proxy: cannot record this session\r\n")
            writer.close()
            return
        task = asyncio.get_running_loop().create_task(session.run())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def session_ended(self, result: SessionResult) -> None:
        self.on_session_end(result)  # nothing is kept: a proxy may run for weeks

    async def stop(self, reason: str | None = None) -> None:
        """Stop listening, end every open session (its transcript says so), wait for them."""
        if reason:
            self.stop_reason = reason
        for server in self.servers:
            server.close()
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=10)
        for server in self.servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2)


async def serve(options: ProxyOptions, on_session_end: SessionEnd, on_ready=None) -> Proxy:  # type: ignore[no-untyped-def]
    """Run until SIGINT or SIGTERM; every open transcript is finished before returning."""
    proxy = Proxy(options, on_session_end)
    bound = await proxy.start()
    if on_ready is not None:
        on_ready(bound)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    names = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}
    for signum in names:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        for signum in names:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signum)
        await proxy.stop("smtplog proxy was stopped (Ctrl-C / SIGTERM) while the session was open")
    return proxy


def check_save_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not os.access(path, os.W_OK):
        raise PermissionError(f"{path}: not writable")
