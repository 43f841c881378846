"""`smtplog probe`: Microsoft's telnet procedure, automated, timed and recorded.

Phases: connect, banner, EHLO (HELO only when EHLO is refused), STARTTLS
(when offered, unless told otherwise), AUTH, MAIL FROM, RCPT TO (each
recipient), DATA with a test message, QUIT; ``quit_after`` stops after any of
them. Every wait has its own timeout: the user's ``--timeout``, never more
than RFC 5321 §4.5.3.2 allows for that wait. Everything goes to a Recorder;
the verdict comes later from the normal analysis of the transcript.
"""

from __future__ import annotations

import base64
import contextlib
import socket
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime, make_msgid

from smtplog.events import ClientError, Connected, ConnectFailed, Note, Reply
from smtplog.protocol import parse_capabilities
from smtplog.record import net, tls
from smtplog.record.net import Channel, ConnectError
from smtplog.record.recorder import Recorder
from smtplog.record.session import Conversation, SessionEnded
from smtplog.record.target import MailServer, Target

QUIT_POINTS = ("connect", "banner", "ehlo", "tls", "auth", "mail", "rcpt", "data")

# RFC 5321 §4.5.3.2 client timeouts, the upper bound of every wait (seconds).
RFC_LIMITS = {
    "connect": 300.0,  # not in the RFC; the banner's 5 minutes bound it
    "banner": 300.0,  # §4.5.3.2.1 initial 220 message: 5 minutes
    "ehlo": 300.0,  # a command reply: the server timeout of §4.5.3.2.7
    "starttls": 300.0,
    "tls": 300.0,
    "auth": 300.0,
    "mail": 300.0,  # §4.5.3.2.2 MAIL command: 5 minutes
    "rcpt": 300.0,  # §4.5.3.2.3 RCPT command: 5 minutes
    "data": 120.0,  # §4.5.3.2.4 DATA initiation: 2 minutes
    "message": 600.0,  # §4.5.3.2.6 DATA termination: 10 minutes
    "quit": 300.0,
}
_EHLO_REFUSED = {500, 501, 502, 504, 550}  # "not recognised"-style refusals (RFC 5321 §3.2)


@dataclass(slots=True)
class ProbeOptions:
    tls_mode: str = "auto"  # auto (STARTTLS when offered) | starttls (required) | implicit | none
    helo: str = field(default_factory=socket.getfqdn)
    auth: str | None = None  # LOGIN | PLAIN | auto
    user: str | None = None
    password: str | None = None
    sender: str | None = None
    recipients: tuple[str, ...] = ()
    body: bytes | None = None
    quit_after: str | None = None
    timeout: float = 30.0
    verify: bool = True  # False: --insecure
    cafile: str | None = None
    tls_name: str | None = None  # the name the certificate must match (default: the host)

    def wait(self, phase: str) -> float:
        return min(self.timeout, RFC_LIMITS[phase])


def test_message(options: ProbeOptions, host: str) -> bytes:
    """A small message with the headers RFC 5322 requires, saying what it is."""
    now = datetime.now(timezone.utc)
    sender = options.sender or f"smtplog@{options.helo}"
    to = ", ".join(options.recipients)
    domain = sender.rpartition("@")[2] or options.helo
    lines = [
        f"Date: {format_datetime(now)}",
        f"From: <{sender}>",
        f"To: {to}",
        f"Message-ID: {make_msgid('smtplog', domain=domain)}",
        f"Subject: smtplog probe test message {now.strftime('%Y-%m-%d %H:%M:%S')} UTC",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "",
        f"This is a test message sent by smtplog probe to {host}.",
        "It checks that the server accepts mail; no reply is needed.",
    ]
    return "\r\n".join(lines).encode() + b"\r\n"


class ProbeStopped(Exception):
    """The probe is done (quit point reached, or a failure ended it)."""


class Probe:
    """One connection to one server, phase by phase."""

    def __init__(self, options: ProbeOptions, recorder: Recorder) -> None:
        self.options = options
        self.recorder = recorder
        self.conversation: Conversation | None = None
        self.capabilities: dict[str, str] = {}
        self.verify_failure: str | None = None  # set when --insecure repeats the session

    # -- connecting -----------------------------------------------------------------

    def connect(self, target: Target, addresses: list[tuple[int, str]] | None = None) -> bool:
        """Open the TCP connection, trying each address; records every attempt."""
        recorder = self.recorder
        if addresses is None:
            try:
                addresses = net.resolve(target.host, target.port)
            except ConnectError as exc:
                recorder.add(
                    ConnectFailed(reason=exc.reason, detail=exc.detail, time=recorder.now())
                )
                return False
        for family, address in addresses:
            try:
                sock = net.connect(family, address, target.port, self.options.wait("connect"))
            except ConnectError as exc:
                recorder.add(
                    ConnectFailed(reason=exc.reason, detail=exc.detail, time=recorder.now())
                )
                continue
            recorder.add(Connected(target=target.label, address=address, time=recorder.now()))
            self.conversation = Conversation(Channel(sock), recorder)
            return True
        return False

    def run(self, target: Target, addresses: list[tuple[int, str]] | None = None) -> None:
        if not self.connect(target, addresses):
            return
        try:
            self._session(target)
        except (SessionEnded, ProbeStopped):
            pass
        finally:
            if self.conversation is not None:
                self.conversation.close(by_client=True)

    # -- the phases -------------------------------------------------------------------

    def _session(self, target: Target) -> None:
        options = self.options
        conv = self.conversation
        assert conv is not None
        if options.quit_after == "connect":
            raise ProbeStopped
        if options.tls_mode == "implicit":
            self._handshake(target)
        banner = self._banner(target)
        if banner.code != 220:
            self._quit()
        if options.quit_after == "banner":
            self._quit()
        self._hello()
        if options.quit_after == "ehlo":
            self._quit()
        if options.tls_mode in ("auto", "starttls"):
            self._starttls(target)
        if options.quit_after == "tls":
            self._quit()
        if options.user is not None or options.auth is not None:
            self._auth()
        if options.quit_after == "auth" or not (options.sender is not None or options.recipients):
            self._quit()
        self._mail()
        if options.quit_after == "mail":
            self._quit()
        accepted = self._recipients()
        if options.quit_after == "rcpt" or not accepted:
            self._quit()
        self._data(target)
        self._quit()

    def _banner(self, target: Target) -> Reply:
        conv = self.conversation
        assert conv is not None
        wait = self.options.wait("banner")
        try:
            return conv.reply(wait, "banner")
        except SessionEnded:
            if self.options.tls_mode != "implicit" and _ended_by_timeout(self.recorder):
                self._check_implicit_tls(target)
            raise

    def _check_implicit_tls(self, target: Target) -> None:
        """No greeting: is this an implicit-TLS port (465) spoken to in plaintext?"""
        address = next(
            (e.address for e in reversed(self.recorder.events) if isinstance(e, Connected)), None
        )
        if address is None:
            return
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        wait = min(self.options.wait("tls"), 10.0)
        try:
            sock = net.connect(family, address, target.port, wait)
        except ConnectError:
            return
        channel = Channel(sock)
        try:
            obj = channel.start_tls(tls.make_context(verify=False), self._tls_name(target), wait)
        except (net.HandshakeFailure, net.ReadTimeout):
            return
        finally:
            channel.close()
        from smtplog.events import TlsFailed

        self.recorder.add(
            TlsFailed(
                reason="plaintext on a TLS port: the server sent no greeting in plaintext, but "
                f"a TLS handshake on a second connection succeeded ({obj.version()}); this port "
                "expects implicit TLS (smtplog probe --tls)",
                time=self.recorder.now(),
            )
        )

    def _hello(self) -> None:
        conv = self.conversation
        assert conv is not None
        conv.send(f"EHLO {self.options.helo}")
        reply = conv.reply(self.options.wait("ehlo"), "to EHLO")
        if reply.code in _EHLO_REFUSED:
            conv.send(f"HELO {self.options.helo}")
            reply = conv.reply(self.options.wait("ehlo"), "to HELO")
            self.capabilities = {}
        elif reply.code == 250:
            self.capabilities = parse_capabilities(reply)
        if reply.code != 250:
            self._quit()

    def _tls_name(self, target: Target) -> str:
        return self.options.tls_name or target.host

    def _handshake(self, target: Target) -> None:
        conv = self.conversation
        assert conv is not None
        options = self.options
        if self.verify_failure is not None:  # --insecure, second attempt
            context = tls.make_context(verify=False, cafile=options.cafile)
            verified, why = False, self.verify_failure
        else:
            context = tls.make_context(verify=True, cafile=options.cafile)
            verified, why = True, ""
        try:
            conv.start_tls(
                context, self._tls_name(target), options.wait("tls"), verified=verified, why=why
            )
        except SessionEnded:
            failure = getattr(conv, "failure", None)
            if (
                not options.verify
                and self.verify_failure is None
                and isinstance(failure, net.HandshakeFailure)
                and isinstance(failure.error, ssl.SSLCertVerificationError)
            ):
                reason = tls.failure_reason(failure, options.wait("tls"))
                raise InsecureRetry(reason.removeprefix("certificate: ")) from None
            raise

    def _starttls(self, target: Target) -> None:
        conv = self.conversation
        assert conv is not None
        if "STARTTLS" not in self.capabilities:
            if self.options.tls_mode == "starttls":
                self.recorder.add(
                    ClientError(
                        text="TLS required (--starttls) but the server does not offer STARTTLS",
                        time=self.recorder.now(),
                    )
                )
                self._quit()
            return
        conv.send("STARTTLS")
        reply = conv.reply(self.options.wait("starttls"), "to STARTTLS")
        if reply.code != 220:
            if self.options.tls_mode == "starttls":
                self._quit()
            return  # opportunistic: go on without TLS, as MTAs do
        self._handshake(target)
        self._hello()

    def _auth(self) -> None:
        conv = self.conversation
        assert conv is not None
        options = self.options
        offered = self.capabilities.get("AUTH", "").upper().split()
        wanted = (options.auth or "auto").upper()
        if not offered:
            where = "" if conv.channel.tls else " (many servers offer AUTH only after STARTTLS)"
            self.recorder.add(
                ClientError(
                    text=f"AUTH not possible: the server does not advertise AUTH{where}",
                    time=self.recorder.now(),
                )
            )
            self._quit()
        if wanted in {"AUTH", "AUTO"}:
            mechanism = next((m for m in ("PLAIN", "LOGIN") if m in offered), None)
            if mechanism is None:
                self.recorder.add(
                    ClientError(
                        text="AUTH not possible: the server offers only "
                        f"{' '.join(offered)}; smtplog speaks PLAIN and LOGIN",
                        time=self.recorder.now(),
                    )
                )
                self._quit()
        else:
            mechanism = wanted
            if mechanism not in offered:
                self.recorder.add(
                    Note(
                        text=f"AUTH {mechanism} is not advertised ({' '.join(offered)}); "
                        "trying it as asked",
                        time=self.recorder.now(),
                    )
                )
        user = options.user or ""
        password = options.password or ""
        wait = options.wait("auth")
        if mechanism == "PLAIN":
            blob = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
            conv.send(f"AUTH PLAIN {blob}")
            reply = conv.reply(wait, "to AUTH PLAIN")
        else:
            conv.send("AUTH LOGIN")
            reply = conv.reply(wait, "to AUTH LOGIN")
            if reply.code == 334:
                conv.send_auth(user.encode(), secret=False)
                reply = conv.reply(wait, "to the user name")
            if reply.code == 334:
                conv.send_auth(password.encode(), secret=True)
                reply = conv.reply(wait, "to the password")
        if reply.code == 334:  # the server wants more than we have: cancel (RFC 4954 §4)
            conv.send("*")
            reply = conv.reply(wait, "to the AUTH cancel")
        if reply.code != 235:
            self._quit()

    def _mail(self) -> None:
        conv = self.conversation
        assert conv is not None
        sender = self.options.sender or ""
        conv.send(f"MAIL FROM:<{sender}>")
        reply = conv.reply(self.options.wait("mail"), "to MAIL FROM")
        if reply.code >= 400:
            self._quit()

    def _recipients(self) -> int:
        conv = self.conversation
        assert conv is not None
        accepted = 0
        for recipient in self.options.recipients:
            conv.send(f"RCPT TO:<{recipient}>")
            reply = conv.reply(self.options.wait("rcpt"), "to RCPT TO")
            if reply.code == 421:
                raise ProbeStopped
            accepted += reply.code < 400
        return accepted

    def _data(self, target: Target) -> None:
        conv = self.conversation
        assert conv is not None
        conv.send("DATA")
        reply = conv.reply(self.options.wait("data"), "to DATA")
        if reply.code != 354:
            self._quit()
        if self.options.quit_after == "data":
            self.recorder.add(
                Note(
                    text="--quit-after data: closing without sending the message",
                    time=self.recorder.now(),
                )
            )
            raise ProbeStopped
        content = self.options.body or test_message(self.options, target.host)
        conv.send_message(content)
        conv.reply(self.options.wait("message"), "to the end of the message")

    def _quit(self) -> None:
        conv = self.conversation
        assert conv is not None
        reply = conv.wire.last_reply
        if reply is not None and reply.code == 421:
            raise ProbeStopped  # the server is closing the channel (RFC 5321 §3.8)
        conv.send("QUIT")
        with contextlib.suppress(SessionEnded):
            conv.reply(self.options.wait("quit"), "to QUIT")
        raise ProbeStopped


class InsecureRetry(Exception):
    """--insecure: the certificate failed verification; run again without verifying."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _ended_by_timeout(recorder: Recorder) -> bool:
    from smtplog.events import Timeout

    return any(isinstance(event, Timeout) for event in recorder.events[-3:])


def probe_target(
    options: ProbeOptions,
    target: Target,
    recorder: Recorder,
    addresses: list[tuple[int, str]] | None = None,
) -> None:
    """Run the probe against one server, repeating it without verification for --insecure."""
    mark = len(recorder.events)
    probe = Probe(options, recorder)
    try:
        probe.run(target, addresses)
    except InsecureRetry as retry:
        if probe.conversation is not None:
            probe.conversation.close()
        # The failed attempt is replaced by a note: one connection, one session.
        recorder.rollback(mark)
        recorder.add(
            Note(
                text=f"certificate verification failed ({retry.reason}); --insecure: "
                "repeating the session on a new connection without verification",
                time=recorder.now(),
            )
        )
        again = Probe(options, recorder)
        again.verify_failure = retry.reason
        again.run(target, addresses)


def probe_mail_server(
    options: ProbeOptions, server: MailServer, port: int, recorder: Recorder
) -> None:
    """One MX of ``--mx``: every address it has (each one its own connection)."""
    target = Target(server.host, port)
    if server.error or not server.addresses:
        recorder.add(
            ConnectFailed(
                reason="dns",
                detail=f"MX {server.host}: {server.error or 'no address'}",
                time=recorder.now(),
            )
        )
        return
    for address in server.addresses:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        probe_target(options, target, recorder, [(family, address)])
