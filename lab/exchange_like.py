#!/usr/bin/env python3
"""A loopback SMTP server that answers like Microsoft Exchange 2007/2010.

It exists so that smtplog has a real, reproducible capture of the seed procedure
("How to Use Telnet to Test SMTP Communication") against a server that speaks the
reply texts shown in Microsoft's published example: the ``220 ... Microsoft ESMTP MAIL
Service ready at <date>`` banner, the ``250-SIZE 5242880`` EHLO list ending in
``250 OK``, ``334 VXNlcm5hbWU6`` / ``334 UGFzc3dvcmQ6`` for AUTH LOGIN,
``235 2.7.0 Authentication successful.``, ``250 2.1.0 Sender OK``,
``250 2.1.5 Recipient OK``, ``354 Start mail input; end with <CRLF>.<CRLF>`` and
``250 2.6.0 <message-id> Queued mail for delivery``.

Built on aiosmtpd (``pip install aiosmtpd``; lab/exchange-lab.sh makes a venv for it).
It never delivers anything: accepted messages are dropped.

Behaviour:
  * host name ``mail.contoso.com`` (``--hostname``), listens on 127.0.0.1 only;
  * AUTH LOGIN only (over plain TCP, as a receive connector with basic authentication
    offered without TLS does); user ``alice`` (also ``alice@contoso.com``) with password
    ``S3cr3t-Pa55``; anything else: ``535 5.7.3 Authentication unsuccessful``;
  * accepted domain ``contoso.com`` with the mailboxes alice, bob and administrator;
    other local parts: ``550 5.1.1 User unknown``;
  * other domains only when authenticated, otherwise ``550 5.7.1 Unable to relay``;
  * size limit 5242880 (``552 5.3.4 Message size exceeds fixed maximum message size``).

Usage: exchange_like.py [--port 2526] [--hostname mail.contoso.com]
"""

from __future__ import annotations

import argparse
import email.utils
import re
import signal
import threading
import uuid
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

HOSTNAME = "mail.contoso.com"
SIZE_LIMIT = 5242880
ACCEPTED_DOMAINS = {"contoso.com"}
MAILBOXES = {"alice", "bob", "administrator"}
USERS = {"alice": "S3cr3t-Pa55", "alice@contoso.com": "S3cr3t-Pa55"}

# aiosmtpd's stock replies -> the Exchange 2007/2010 wording.
EXACT_REPLIES = {
    "354 End data with <CR><LF>.<CR><LF>": "354 Start mail input; end with <CRLF>.<CRLF>",
    "503 Error: send HELO first": "503 5.5.2 Send hello first",
    "503 Error: send EHLO first": "503 5.5.2 Send hello first",
    "503 Error: need MAIL command": "503 5.5.2 Need mail command",
    "503 Error: need RCPT command": "503 5.5.2 Need rcpt command",
    "503 Error: nested MAIL command": "503 5.5.2 Sender already specified",
    "503 Already authenticated": "503 5.5.2 Already authenticated",
    "504 5.5.4 Unrecognized authentication type": "504 5.7.4 Unrecognized authentication type",
    "501 5.5.2 Can't decode base64": "501 5.5.2 Cannot Base64-decode Client responses",
    "501 5.7.0 Auth aborted": "501 5.0.0 Authentication Aborted",
    "553 5.1.3 Error: malformed address": "501 5.1.3 Invalid address",
    "552 Error: Too much mail data": "552 5.3.4 Message size exceeds fixed maximum message size",
    "500 Error: bad syntax": "500 5.3.3 Unrecognized command",
    "500 Command line too long": "500 5.5.2 Line too long",
    "502 EXPN not implemented": "502 5.3.3 Command not implemented",
    "221 Bye": "221 2.0.0 Service closing transmission channel",
}
PATTERN_REPLIES = [
    (re.compile(r"^500 Error: command \".*\" not recognized$"), "500 5.3.3 Unrecognized command"),
    (re.compile(r"^500 Error: command '.*' not recognized$"), "500 5.3.3 Unrecognized command"),
    (re.compile(r"^501 Syntax: .*$"), "501 5.5.4 Invalid arguments"),
    (re.compile(r"^501 Error: .*$"), "501 5.5.4 Invalid arguments"),
    (re.compile(r"^252 .*$"), "252 2.1.5 Cannot VRFY user"),
]


def exchange_text(status: str) -> str:
    if status in EXACT_REPLIES:
        return EXACT_REPLIES[status]
    for pattern, text in PATTERN_REPLIES:
        if pattern.match(status):
            return text
    return status


class ExchangeSMTP(SMTP):
    AuthLoginUsernameChallenge = "Username:"  # 334 VXNlcm5hbWU6
    AuthLoginPasswordChallenge = "Password:"  # 334 UGFzc3dvcmQ6

    async def push(self, status):  # type: ignore[override]
        if isinstance(status, str):
            status = exchange_text(status)
        await super().push(status)


class ExchangeHandler:
    async def handle_HELO(self, server, session, envelope, hostname):
        session.host_name = hostname
        return f"250 {server.hostname} Hello [{session.peer[0]}]"

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return [
            f"250-{server.hostname} Hello [{session.peer[0]}]",
            f"250-SIZE {SIZE_LIMIT}",
            "250-PIPELINING",
            "250-DSN",
            "250-ENHANCEDSTATUSCODES",
            "250-AUTH LOGIN",
            "250-8BITMIME",
            "250-BINARYMIME",
            "250 OK",
        ]

    async def handle_NOOP(self, server, session, envelope, arg):
        return "250 2.0.0 OK"

    async def handle_RSET(self, server, session, envelope):
        return "250 2.0.0 Resetting"

    async def handle_QUIT(self, server, session, envelope):
        return "221 2.0.0 Service closing transmission channel"

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if address and "@" not in address:
            return "501 5.1.7 Invalid address"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Sender OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local, _, domain = address.rpartition("@")
        domain = domain.lower()
        if domain in ACCEPTED_DOMAINS:
            if local.lower() not in MAILBOXES:
                return "550 5.1.1 User unknown"
        elif not session.authenticated:
            return "550 5.7.1 Unable to relay"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 Recipient OK"

    async def handle_DATA(self, server, session, envelope):
        content = envelope.original_content or b""
        match = re.search(rb"(?im)^message-id:[ \t]*(<[^>\r\n]+>)", content)
        msgid = match.group(1).decode("ascii", "replace") if match else f"<{uuid.uuid4()}@{server.hostname}>"
        return f"250 2.6.0 {msgid} Queued mail for delivery"


def authenticator(server, session, envelope, mechanism, auth_data):
    if (
        mechanism == "LOGIN"
        and isinstance(auth_data, LoginPassword)
        and USERS.get(auth_data.login.decode("utf-8", "replace")) == auth_data.password.decode("utf-8", "replace")
    ):
        return AuthResult(success=True, message="235 2.7.0 Authentication successful.")
    return AuthResult(success=False, handled=False, message="535 5.7.3 Authentication unsuccessful")


class ExchangeController(Controller):
    def factory(self):
        banner_date = email.utils.formatdate(localtime=True)
        return ExchangeSMTP(
            self.handler,
            hostname=self.SMTP_kwargs.get("hostname", HOSTNAME),
            ident=f"Microsoft ESMTP MAIL Service ready at {banner_date}",
            data_size_limit=SIZE_LIMIT,
            auth_require_tls=False,
            auth_exclude_mechanism=["PLAIN"],
            authenticator=authenticator,
            timeout=600,
        )


def main() -> None:
    # aiosmtpd 1.4 warns about its own use of Session.login_data at every AUTH.
    warnings.filterwarnings("ignore", message="Session.login_data is deprecated")
    ap = argparse.ArgumentParser(description="Exchange-like SMTP server for the smtplog lab")
    ap.add_argument("--port", type=int, default=2526)
    ap.add_argument("--hostname", default=HOSTNAME)
    args = ap.parse_args()
    controller = ExchangeController(
        ExchangeHandler(), hostname="127.0.0.1", port=args.port, server_hostname=args.hostname
    )
    # Controller's `hostname` is the bind address; `server_hostname` is the SMTP name.
    controller.start()
    print(f"exchange_like: listening on 127.0.0.1:{args.port} as {args.hostname}", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(1.0):
        pass
    controller.stop()


if __name__ == "__main__":
    main()
