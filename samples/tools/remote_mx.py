"""A loopback "remote" mail server for the MTA captures (samples/capture_mta.sh).

The MTAs under test (a second Postfix, sendmail, Exim) deliver to it through their
own SMTP clients, so their logs, -v traces and bounces show real failures:

  recipient local part   reply
  unknown*               550-5.1.1 ... / 550 5.1.1 ... (three-line reply) at RCPT
  full*                  452 4.2.2 Mailbox full, try again later at RCPT
  greylist*              450 4.7.1 Greylisted, please try again later at RCPT
  spam* (any recipient)  554 5.7.1 at the end of DATA
  anything else          accepted; the message is saved under --spool (bounces land here)

A second port (--silent-port) accepts TCP connections and never greets: a client's
greeting timeout. A third (--blackhole-port) has a full accept queue, so new connections
are never answered: a client's connect timeout. Everything listens on 127.0.0.1 only.
Stop it with SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import socket
import time
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

HOSTNAME = "remote.test"


class RemoteHandler:
    def __init__(self, spool: Path) -> None:
        self.spool = spool
        self.count = 0

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list
    ) -> str:
        local = address.split("@", 1)[0].lower()
        if local.startswith("unknown"):
            return (
                "550-5.1.1 The email account that you tried to reach does not exist. Please\r\n"
                "550-5.1.1 check the recipient's email address for typos or unnecessary\r\n"
                f"550 5.1.1 spaces. <{address}> ({HOSTNAME})"
            )
        if local.startswith("full"):
            return f"452 4.2.2 <{address}>: Mailbox full, try again later"
        if local.startswith("greylist"):
            return f"450 4.7.1 <{address}>: Greylisted, please try again later"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        if any(rcpt.split("@", 1)[0].lower().startswith("spam") for rcpt in envelope.rcpt_tos):
            return "554 5.7.1 Message rejected: content looks like spam (remote.test)"
        self.count += 1
        name = self.spool / f"{time.time():.6f}-{self.count}.eml"
        content = envelope.original_content or b""
        header = f"X-Envelope-From: <{envelope.mail_from}>\r\n".encode()
        header += "".join(f"X-Envelope-To: <{r}>\r\n" for r in envelope.rcpt_tos).encode()
        name.write_bytes(header + content)
        return f"250 2.0.0 Ok: queued as R{self.count:05d}"


async def _silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Accept and say nothing: the client waits for a greeting that never comes."""
    try:
        await reader.read()  # until the client gives up and closes
    finally:
        writer.close()


def _blackhole(port: int) -> list[socket.socket]:
    """A listener that never accepts, its backlog filled: further SYNs are dropped."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(0)
    fillers = []
    for _ in range(3):
        filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    return [listener, *fillers]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=2640)
    parser.add_argument("--silent-port", type=int, default=2641)
    parser.add_argument("--blackhole-port", type=int, default=2643)
    parser.add_argument("--spool", type=Path, required=True)
    args = parser.parse_args()
    args.spool.mkdir(parents=True, exist_ok=True)
    controller = Controller(
        RemoteHandler(args.spool),
        hostname="127.0.0.1",
        port=args.port,
        server_hostname=HOSTNAME,
        ident="ESMTP remote.test (aiosmtpd)",
    )
    controller.start()
    silent = await asyncio.start_server(_silent, "127.0.0.1", args.silent_port)
    held = _blackhole(args.blackhole_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        silent.close()
        for sock in held:
            sock.close()
        controller.stop()


if __name__ == "__main__":
    asyncio.run(main())
