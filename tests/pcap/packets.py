"""Build TCP conversations as packets (dpkt) and write them as pcap/pcapng files.

The reassembly tests take one conversation, damage it the way networks and
captures do (reordering, retransmission, overlap, a lost packet, a capture
joined late) and check that the analysis does not change.
"""

from __future__ import annotations

import io
import socket
from dataclasses import dataclass, replace

import dpkt

SYN, ACK, FIN, RST, PSH = dpkt.tcp.TH_SYN, dpkt.tcp.TH_ACK, dpkt.tcp.TH_FIN, dpkt.tcp.TH_RST, 0x08


@dataclass(frozen=True)
class Packet:
    time: float
    from_client: bool
    flags: int
    seq: int
    ack: int
    payload: bytes = b""


class Conversation:
    """A TCP connection between client and server, built segment by segment."""

    def __init__(
        self,
        client: tuple[str, int] = ("192.0.2.10", 50123),
        server: tuple[str, int] = ("192.0.2.25", 25),
        *,
        client_isn: int = 1000,
        server_isn: int = 5000,
        start: float = 1_700_000_000.0,
    ) -> None:
        self.client_end, self.server_end = client, server
        self.seq = {True: client_isn, False: server_isn}
        self.time = start
        self.packets: list[Packet] = []

    def _add(self, from_client: bool, flags: int, payload: bytes = b"", gap: float = 0.01) -> None:
        self.time += gap
        ack = self.seq[not from_client] if flags & ACK else 0
        self.packets.append(
            Packet(self.time, from_client, flags, self.seq[from_client], ack, payload)
        )
        self.seq[from_client] = (self.seq[from_client] + len(payload)) % (1 << 32)
        if flags & (SYN | FIN):
            self.seq[from_client] = (self.seq[from_client] + 1) % (1 << 32)

    def handshake(self) -> Conversation:
        self._add(True, SYN)
        self._add(False, SYN | ACK)
        self._add(True, ACK)
        return self

    def syn(self, gap: float = 0.01) -> Conversation:
        self.time += gap
        self.packets.append(Packet(self.time, True, SYN, self.seq[True], 0))
        return self

    def refuse(self) -> Conversation:
        self._add(True, SYN)
        self._add(False, RST | ACK)
        return self

    def send(
        self, from_client: bool, data: bytes, size: int = 1000, gap: float = 0.01
    ) -> Conversation:
        for start in range(0, len(data), size):
            self._add(from_client, ACK | PSH, data[start : start + size], gap)
        return self

    def client(self, data: bytes, **kw) -> Conversation:  # type: ignore[no-untyped-def]
        return self.send(True, data, **kw)

    def server(self, data: bytes, **kw) -> Conversation:  # type: ignore[no-untyped-def]
        return self.send(False, data, **kw)

    def close(self, client_first: bool = True) -> Conversation:
        self._add(client_first, FIN | ACK)
        self._add(not client_first, FIN | ACK)
        self._add(client_first, ACK)
        return self

    def reset(self, from_client: bool) -> Conversation:
        self._add(from_client, RST | ACK)
        return self

    # -- frames -----------------------------------------------------------------------

    def frame(self, packet: Packet, linktype: int = dpkt.pcap.DLT_EN10MB) -> bytes:
        src, dst = (
            (self.client_end, self.server_end)
            if packet.from_client
            else (self.server_end, self.client_end)
        )
        tcp = dpkt.tcp.TCP(
            sport=src[1], dport=dst[1], seq=packet.seq, ack=packet.ack, flags=packet.flags,
            win=65535, data=packet.payload,
        )  # fmt: skip
        if ":" in src[0]:
            ip: dpkt.Packet = dpkt.ip6.IP6(
                src=socket.inet_pton(socket.AF_INET6, src[0]),
                dst=socket.inet_pton(socket.AF_INET6, dst[0]),
                nxt=dpkt.ip.IP_PROTO_TCP, hlim=64, data=tcp, plen=len(tcp),
            )  # fmt: skip
            ethertype = dpkt.ethernet.ETH_TYPE_IP6
        else:
            ip = dpkt.ip.IP(
                src=socket.inet_aton(src[0]), dst=socket.inet_aton(dst[0]),
                p=dpkt.ip.IP_PROTO_TCP, ttl=64, data=tcp,
            )  # fmt: skip
            ip.len = len(ip)
            ethertype = dpkt.ethernet.ETH_TYPE_IP
        if linktype == dpkt.pcap.DLT_RAW:
            return bytes(ip)
        if linktype == dpkt.pcap.DLT_LINUX_SLL:
            return bytes(dpkt.sll.SLL(type=0, ethtype=ethertype, data=ip))
        return bytes(
            dpkt.ethernet.Ethernet(src=b"\x02" * 6, dst=b"\x04" * 6, type=ethertype, data=ip)
        )


def write_pcap(
    packets: list[tuple[Conversation, Packet]],
    *,
    linktype: int = dpkt.pcap.DLT_EN10MB,
    nano: bool = False,
) -> bytes:
    out = io.BytesIO()
    writer = dpkt.pcap.Writer(out, snaplen=65535, linktype=linktype, nano=nano)
    for conversation, packet in packets:
        writer.writepkt(conversation.frame(packet, linktype), ts=packet.time)
    return out.getvalue()


def write_pcapng(packets: list[tuple[Conversation, Packet]]) -> bytes:
    out = io.BytesIO()
    writer = dpkt.pcapng.Writer(out, snaplen=65535, linktype=dpkt.pcap.DLT_EN10MB)
    for conversation, packet in packets:
        writer.writepkt(conversation.frame(packet), ts=packet.time)
    return out.getvalue()


def of(conversation: Conversation) -> list[tuple[Conversation, Packet]]:
    return [(conversation, packet) for packet in conversation.packets]


def retimed(packet: Packet, time: float) -> Packet:
    return replace(packet, time=time)


GREETING = b"220 mx.example.test ESMTP Postfix\r\n"
EHLO_REPLY = (
    b"250-mx.example.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n"
    b"250-AUTH PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n"
)
MESSAGE = b"".join(
    f"Line {n:03d} of a test message, long enough to span segments.\r\n".encode() for n in range(60)
)


def delivered(conversation: Conversation | None = None) -> Conversation:
    """A whole delivery: greeting, EHLO, AUTH PLAIN, MAIL, RCPT, DATA (several segments), QUIT."""
    c = (conversation or Conversation()).handshake()
    c.server(GREETING).client(b"EHLO client.example.test\r\n").server(EHLO_REPLY)
    c.client(b"AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABTM2NyM3QtUGE1NQ==\r\n")
    c.server(b"235 2.7.0 Authentication successful\r\n")
    c.client(b"MAIL FROM:<alice@example.test>\r\n").server(b"250 2.1.0 Ok\r\n")
    c.client(b"RCPT TO:<bob@example.test>\r\n").server(b"250 2.1.5 Ok\r\n")
    c.client(b"DATA\r\n").server(b"354 End data with <CR><LF>.<CR><LF>\r\n")
    c.client(b"Subject: test\r\n\r\n" + MESSAGE + b".\r\n", size=536)
    c.server(b"250 2.0.0 Ok: queued as 4A1B2C3D\r\n")
    c.client(b"QUIT\r\n").server(b"221 2.0.0 Bye\r\n")
    return c.close(client_first=False)
