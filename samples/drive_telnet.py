#!/usr/bin/env python3
"""Drive the real ``telnet`` client through a pseudo-terminal, like a person would.

The telnet process gets a pty as its controlling terminal, exactly as in a terminal
window: the kernel's line discipline echoes what is typed (local echo), handles the
erase key, and turns Enter (CR) into a newline for telnet. This script types each line
key by key, presses Enter, and waits for the server's complete reply before typing the
next line. Every byte the terminal displayed (telnet's own messages, the echo of the
typed keys, the server replies) is written unchanged to the output file: CR bytes and
backspace/erase echo sequences included.

Standard library only (pty, os, select).

Script format (one typed line per script line, read from --script FILE or stdin):
  * the text is typed as is, then Enter (CR, 0x0D, what a terminal sends);
  * escapes: ``\\x7f`` (the Backspace key of a Linux terminal: DEL), ``\\x08`` (Ctrl-H),
    any ``\\xNN``, ``\\r``, ``\\t`` and ``\\\\`` for a backslash;
  * after a line, the driver waits for a final reply line (``NNN text``) unless it is
    a DATA body line: after ``DATA`` has been answered with 354, lines are typed without
    waiting until the line ``.``;
  * blank lines in the script are typed as blank lines (they matter inside DATA);
    script lines beginning with ``# `` (hash, space) are comments and are not typed.

Usage:
  drive_telnet.py --out FILE [--script FILE] HOST PORT

Exit status: 0 when the session ran to its end (telnet exited, whatever its status),
1 when a reply did not come within --timeout seconds (the partial capture is written).
"""

from __future__ import annotations

import argparse
import codecs
import fcntl
import os
import pty
import re
import select
import struct
import sys
import termios
import time

FINAL_REPLY = re.compile(rb"^\d{3}(?: |$)")


def decode_script_line(line: str) -> bytes:
    """Turn a script line with backslash escapes into the keys to type."""
    raw = codecs.escape_decode(line.encode("utf-8"))[0]
    return bytes(raw)


def erased(keys: bytes) -> bytes:
    """The line the terminal hands to telnet: DEL (the tty's erase key) removes a byte."""
    out = bytearray()
    for b in keys:
        if b == 0x7F:
            if out:
                out.pop()
        else:
            out.append(b)
    return bytes(out)


class Terminal:
    def __init__(self, argv: list[str], timeout: float, key_delay: float) -> None:
        self.timeout = timeout
        self.key_delay = key_delay
        self.captured = bytearray()
        self.exited = False
        self.status: int | None = None
        pid, fd = pty.fork()
        if pid == 0:  # child: telnet on the pty slave (stdin, stdout, stderr)
            os.environ["TERM"] = os.environ.get("TERM", "xterm") or "xterm"
            try:
                os.execvp(argv[0], argv)
            finally:
                os._exit(127)
        self.pid = pid
        self.fd = fd
        # An ordinary 80x24 terminal window.
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))

    def _read_some(self, wait: float) -> bytes:
        """Read what the terminal shows within `wait` seconds (b'' on timeout)."""
        if self.exited:
            return b""
        ready, _, _ = select.select([self.fd], [], [], wait)
        if not ready:
            return b""
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: the slave side is closed, telnet has exited
            data = b""
        if not data:
            self._reap()
            return b""
        self.captured += data
        return data

    def _reap(self) -> None:
        if not self.exited:
            self.exited = True
            _, status = os.waitpid(self.pid, 0)
            self.status = os.waitstatus_to_exitcode(status)

    def drain(self, quiet: float = 0.15) -> bytes:
        """Read until the terminal has been quiet for `quiet` seconds."""
        got = bytearray()
        while not self.exited:
            data = self._read_some(quiet)
            if not data:
                break
            got += data
        return bytes(got)

    def wait_reply(self, start: int) -> bool:
        """Wait for a complete final reply line in the output after offset `start`."""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline and not self.exited:
            text = bytes(self.captured[start:])
            complete = text.rsplit(b"\n", 1)[0] if b"\n" in text else b""
            for line in complete.split(b"\n"):
                if FINAL_REPLY.match(line.strip(b"\r")):
                    self.drain(0.1)  # anything that follows at once (e.g. closing message)
                    return True
            self._read_some(min(0.2, max(0.0, deadline - time.monotonic())))
        return self.exited

    def type_keys(self, keys: bytes) -> None:
        for i in range(len(keys)):
            os.write(self.fd, keys[i : i + 1])
            time.sleep(self.key_delay)
            self._read_some(0)  # collect the echo as it comes
        self.drain(0.05)

    def press_enter(self) -> int:
        start = len(self.captured)
        os.write(self.fd, b"\r")
        return start

    def wait_exit(self) -> None:
        deadline = time.monotonic() + self.timeout
        while not self.exited and time.monotonic() < deadline:
            self._read_some(0.2)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("host")
    ap.add_argument("port")
    ap.add_argument("--out", required=True, help="capture file (raw terminal bytes)")
    ap.add_argument("--script", help="file with the lines to type (default: stdin)")
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds to wait for a reply")
    ap.add_argument("--key-delay", type=float, default=0.004, help="seconds between keys")
    ap.add_argument("--telnet", default="telnet", help="telnet program")
    args = ap.parse_args()

    if args.script:
        with open(args.script, encoding="utf-8") as fh:
            script_text = fh.read()
    else:
        script_text = sys.stdin.read()
    lines = [ln for ln in script_text.split("\n")]
    if lines and lines[-1] == "":
        lines.pop()
    lines = [ln for ln in lines if not ln.startswith("# ")]

    term = Terminal([args.telnet, args.host, str(args.port)], args.timeout, args.key_delay)
    ok = True
    # Connect and banner: wait for the 220 greeting (or telnet giving up).
    if not term.wait_reply(0):
        ok = False
        print("drive_telnet: no greeting within timeout", file=sys.stderr)

    in_data = False
    for line in lines:
        if term.exited or not ok:
            break
        keys = decode_script_line(line)
        term.type_keys(keys)
        start = term.press_enter()
        typed = erased(keys).strip().upper()
        if in_data:
            if keys == b".":
                in_data = False
            else:
                term.drain(0.05)  # only the echo comes back; the server is silent
                continue
        if not term.wait_reply(start):
            ok = False
            print(f"drive_telnet: no reply to {line!r} within timeout", file=sys.stderr)
            break
        reply = bytes(term.captured[start:])
        if typed == b"DATA" and re.search(rb"(^|\n)354[ -]", reply):
            in_data = True

    term.wait_exit()
    if not term.exited:  # session left open: end telnet like a person closing the window
        os.kill(term.pid, 15)
        term.wait_exit()
    with open(args.out, "wb") as fh:
        fh.write(bytes(term.captured))
    os.close(term.fd)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
