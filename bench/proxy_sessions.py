"""Proxy throughput: SMTP sessions per second through `smtplog proxy` with N clients at once.

Starts aiosmtpd on loopback (accepts everything), then `smtplog proxy` in front of it
as a user runs it (a subprocess, one transcript per session written to a temporary
folder, a verdict line per session), and an asyncio swarm of --clients concurrent
clients that each run whole sessions (greeting, EHLO, MAIL, RCPT, DATA with a small
message, QUIT) until --sessions are done. The same swarm straight at aiosmtpd gives
the baseline.

    python bench/proxy_sessions.py                    # 50 clients, 2000 sessions
    python bench/proxy_sessions.py --clients 50 --sessions 5000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MESSAGE = (
    b"From: bench@example.org\r\nTo: bob@example.test\r\nSubject: bench\r\n\r\n"
    + b"A line of a benchmark message.\r\n" * 20
)


async def one_session(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def reply() -> bytes:
        while True:
            line = await asyncio.wait_for(reader.readline(), 30)
            if not line:
                raise ConnectionError("closed")
            if line[3:4] != b"-":
                return line

    await reply()
    for command in (b"EHLO bench.example.org", b"MAIL FROM:<bench@example.org>",
                    b"RCPT TO:<bob@example.test>", b"DATA"):  # fmt: skip
        writer.write(command + b"\r\n")
        await reply()
    writer.write(MESSAGE + b".\r\n")
    if not (await reply()).startswith(b"250"):
        raise RuntimeError("message not accepted")
    writer.write(b"QUIT\r\n")
    await reply()
    writer.close()
    await writer.wait_closed()


async def swarm(port: int, clients: int, sessions: int) -> float:
    remaining = sessions

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await one_session(port)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--sessions", type=int, default=2000)
    args = parser.parse_args()

    from aiosmtpd.controller import Controller

    class Accept:
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
            return "250 2.0.0 Ok: queued"

    upstream_port = free_port()
    controller = Controller(Accept(), hostname="127.0.0.1", port=upstream_port)
    controller.start()
    try:
        base = asyncio.run(swarm(upstream_port, args.clients, args.sessions))
        print(
            f"aiosmtpd direct:     {args.sessions} sessions, {args.clients} at once: "
            f"{base:.1f}s = {args.sessions / base:,.0f} sessions/s"
        )
        with tempfile.TemporaryDirectory() as folder:
            proxy = subprocess.Popen(
                [sys.executable, "-m", "smtplog", "proxy", "--listen", "127.0.0.1:0",
                 "--upstream", f"127.0.0.1:{upstream_port}", "--save-dir", folder],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )  # fmt: skip
            assert proxy.stderr is not None
            line = proxy.stderr.readline().decode()
            match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
            if not match:
                print(f"the proxy did not start: {line}", file=sys.stderr)
                return 1
            took = asyncio.run(swarm(int(match.group(1)), args.clients, args.sessions))
            proxy.send_signal(signal.SIGINT)
            proxy.wait(60)
            written = len(list(Path(folder).glob("*.txt")))
            print(
                f"through smtplog proxy: {args.sessions} sessions, {args.clients} at once: "
                f"{took:.1f}s = {args.sessions / took:,.0f} sessions/s "
                f"({written} transcripts written, a verdict line each)"
            )
    finally:
        controller.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
