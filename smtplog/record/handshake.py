"""What a TLS handshake shows to an observer without the keys (sans I/O).

The proxy without a certificate and the packet-capture reader see TLS go by
but cannot decrypt it. The record layer is still readable (RFC 8446 §5.1,
RFC 5246 §6.2): the ClientHello names the server (SNI) and the versions the
client offers, the ServerHello the version and cipher chosen, and an alert
sent before encryption starts says why a handshake was refused. That is
enough to tell "TLS started" from "the client did not trust the certificate"
without guessing.

``HandshakeView`` is fed the bytes of each direction and says when the
handshake is over (``established``) or why it failed (``failure``, worded
like ``record.tls``: "certificate: ...", "protocol version: ...",
"handshake: ..."). After the handshake it only counts bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import cache
from typing import Literal

from smtplog.knowledge import read_tsv

Side = Literal["client", "server"]

CHANGE_CIPHER_SPEC, ALERT, HANDSHAKE, APPLICATION_DATA, HEARTBEAT = 20, 21, 22, 23, 24
CLIENT_HELLO, SERVER_HELLO = 1, 2
EXT_SERVER_NAME, EXT_SUPPORTED_VERSIONS = 0, 43
MAX_RECORD = 16384 + 2048  # RFC 8446 §5.2: the largest ciphertext a record may hold
TLS13_ALERT_RECORD = 19  # an encrypted TLS 1.3 alert: 2 bytes + content type + 16-byte tag
# A ServerHello with this random is a HelloRetryRequest (RFC 8446 §4.1.3).
HELLO_RETRY = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")

VERSIONS = {0x0300: "SSLv3", 0x0301: "TLSv1", 0x0302: "TLSv1.1", 0x0303: "TLSv1.2"}
VERSIONS[0x0304] = "TLSv1.3"


def looks_like_tls(data: bytes) -> bool:
    """Does this start with a TLS handshake record (a ClientHello on its way)?"""
    return len(data) >= 3 and data[0] == HANDSHAKE and data[1] == 3 and data[2] <= 4


@cache
def _ciphers() -> dict[int, str]:
    return {int(row["code"], 16): row["name"] for row in read_tsv("tls-ciphers.tsv")}


@cache
def _alerts() -> dict[int, tuple[str, str, str]]:
    return {
        int(row["code"]): (row["name"], row["category"], row["meaning"])
        for row in read_tsv("tls-alerts.tsv")
    }


def cipher_name(code: int) -> str:
    return _ciphers().get(code, f"0x{code:04X}")


@dataclass(slots=True)
class _Direction:
    buffer: bytearray
    bytes: int = 0
    records: int = 0
    change_cipher: bool = False  # sent ChangeCipherSpec: what follows is encrypted
    application: int = 0  # application-data records seen (TLS 1.3: the encrypted handshake too)


class HandshakeView:
    """One TLS connection watched from the middle."""

    def __init__(self) -> None:
        self.client = _Direction(bytearray())
        self.server = _Direction(bytearray())
        self.sni: str | None = None
        self.offered: tuple[str, ...] = ()
        self.version: str | None = None
        self.cipher: str | None = None
        self.server_hello = False
        self.established = False
        self.failure: str | None = None
        self.suspect_alert = False  # TLS 1.3: the client's first encrypted record is alert-sized
        self.not_tls: bytes | None = None  # what a side sent instead of TLS

    @property
    def done(self) -> bool:
        return self.established or self.failure is not None

    def feed(self, side: Side, data: bytes) -> None:
        """Bytes one side sent; updates ``established`` / ``failure``."""
        direction = self.client if side == "client" else self.server
        direction.bytes += len(data)
        if self.done:
            return
        direction.buffer += data
        while not self.done and len(direction.buffer) >= 5:
            kind, major, length = direction.buffer[0], direction.buffer[1], direction.buffer[3:5]
            size = int.from_bytes(length, "big")
            if not CHANGE_CIPHER_SPEC <= kind <= HEARTBEAT or major != 3 or size > MAX_RECORD:
                self._not_tls(side, bytes(direction.buffer[:200]))
                return
            if len(direction.buffer) < 5 + size:
                return
            body = bytes(direction.buffer[5 : 5 + size])
            del direction.buffer[: 5 + size]
            direction.records += 1
            self._record(side, direction, kind, body)
        if self.done:
            self.client.buffer.clear()
            self.server.buffer.clear()

    def closed(self, side: Side) -> None:
        """One side closed the connection: a handshake still open failed."""
        if self.done:
            return
        who = "the client" if side == "client" else "the server"
        if self.suspect_alert and side == "client":
            self.failure = (
                "certificate: the client ended the TLS 1.3 handshake with an encrypted alert "
                "and closed the connection (most likely it did not accept the server's "
                "certificate)"
            )
        elif not self.client.records:
            self.failure = f"handshake: {who} closed the connection before the TLS handshake began"
        elif not self.server_hello:
            self.failure = (
                f"handshake: {who} closed the connection before the server answered the ClientHello"
            )
        else:
            self.failure = f"handshake: {who} closed the connection during the TLS handshake"

    # -- records -------------------------------------------------------------------

    def _record(self, side: Side, direction: _Direction, kind: int, body: bytes) -> None:
        if kind == CHANGE_CIPHER_SPEC:
            direction.change_cipher = True
        elif kind == ALERT and not direction.change_cipher and len(body) >= 2:
            self._alert(side, body[0], body[1])
        elif kind == HANDSHAKE and not direction.change_cipher:
            self._handshake(side, body)
        elif kind in (APPLICATION_DATA, HANDSHAKE):  # encrypted
            self._encrypted(side, direction, kind, len(body))

    def _encrypted(self, side: Side, direction: _Direction, kind: int, size: int) -> None:
        direction.application += kind == APPLICATION_DATA
        if self.version == "TLSv1.3":
            # The server's encrypted handshake follows its ServerHello; the handshake
            # is over once the client sends something encrypted that is not an alert.
            if side != "client":
                return
            if direction.application == 1 and size == TLS13_ALERT_RECORD:
                self.suspect_alert = True
                return
            self.established = True
        elif kind == APPLICATION_DATA or (self.client.change_cipher and self.server.change_cipher):
            # TLS 1.2 and older: application data flows only after both Finished,
            # and the second side's encrypted Finished ends the handshake.
            self.established = True

    def _alert(self, side: Side, level: int, code: int) -> None:
        name, category, meaning = _alerts().get(code, (f"alert {code}", "handshake", ""))
        if code == 0:  # close_notify during the handshake: the peer gave up
            self.closed(side)
            return
        sender = "the client" if side == "client" else "the server"
        other = "the server's" if side == "client" else "the client's"
        if category == "certificate":
            what = f"{sender} rejected {other} certificate"
        elif category == "protocol version":
            what = f"{sender} found no TLS version or cipher it accepts"
        else:
            what = f"{sender} aborted the handshake"
        fatal = "" if level == 2 else " (warning level)"
        detail = f": {meaning}" if meaning else ""
        self.failure = f"{category}: {what} (TLS alert {name}{fatal}{detail})"

    def _handshake(self, side: Side, body: bytes) -> None:
        if len(body) < 4:
            return
        kind = body[0]
        message = body[4 : 4 + int.from_bytes(body[1:4], "big")]
        try:
            if kind == CLIENT_HELLO and side == "client":
                self._client_hello(message)
            elif kind == SERVER_HELLO and side == "server":
                self._server_hello(message)
        except (IndexError, struct.error):
            pass  # a hello split over records, or malformed: the outcome still shows

    def _client_hello(self, message: bytes) -> None:
        offset = 2 + 32  # legacy_version, random
        offset += 1 + message[offset]  # session id
        offset += 2 + int.from_bytes(message[offset : offset + 2], "big")  # cipher suites
        offset += 1 + message[offset]  # compression methods
        offered = [VERSIONS.get(int.from_bytes(message[0:2], "big"), "unknown")]
        for ext, data in _extensions(message, offset):
            if ext == EXT_SERVER_NAME and len(data) > 5 and data[2] == 0:
                length = int.from_bytes(data[3:5], "big")
                self.sni = data[5 : 5 + length].decode("ascii", "replace")
            elif ext == EXT_SUPPORTED_VERSIONS and data:
                codes = [int.from_bytes(data[i : i + 2], "big") for i in range(1, data[0], 2)]
                offered = [VERSIONS[code] for code in codes if code in VERSIONS]
        self.offered = tuple(offered)

    def _server_hello(self, message: bytes) -> None:
        if message[2:34] == HELLO_RETRY:
            return  # the real ServerHello follows the client's second hello
        version = int.from_bytes(message[0:2], "big")
        offset = 2 + 32
        offset += 1 + message[offset]
        cipher = int.from_bytes(message[offset : offset + 2], "big")
        offset += 3  # cipher suite, compression method
        for ext, data in _extensions(message, offset):
            if ext == EXT_SUPPORTED_VERSIONS and len(data) == 2:
                version = int.from_bytes(data, "big")
        self.version = VERSIONS.get(version, f"0x{version:04X}")
        self.cipher = cipher_name(cipher)
        self.server_hello = True

    def _not_tls(self, side: Side, raw: bytes) -> None:
        self.not_tls = raw
        if side == "server" and raw[:3].isdigit():
            first = raw.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8", "replace")
            self.failure = (
                "TLS on a plaintext port: the server answered the TLS handshake with a "
                f'plaintext SMTP line ("{first[:120]}")'
            )
        elif side == "server":
            self.failure = "handshake: the server's answer is not TLS"
        else:
            self.failure = "handshake: the client sent something that is not TLS"

    # -- what it adds up to --------------------------------------------------------------

    def describe(self) -> str:
        """For TlsStarted.detail: what was seen, and that it was not decrypted."""
        parts = ["not decrypted"]
        if self.sni:
            parts.append(f"server name (SNI) {self.sni}")
        if self.offered and self.version not in (None, *self.offered[:1]):
            parts.append("client offered " + ", ".join(self.offered))
        return "; ".join(parts)


def _extensions(message: bytes, offset: int) -> list[tuple[int, bytes]]:
    if offset + 2 > len(message):
        return []
    end = offset + 2 + int.from_bytes(message[offset : offset + 2], "big")
    offset += 2
    found = []
    while offset + 4 <= min(end, len(message)):
        ext, length = struct.unpack_from("!HH", message, offset)
        found.append((ext, message[offset + 4 : offset + 4 + length]))
        offset += 4 + length
    return found
