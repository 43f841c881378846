"""Read pcap and pcapng files into TCP segments, with dpkt.

Both file formats and the link layers tcpdump and Wireshark write on Linux,
the BSDs and macOS are read: Ethernet (with VLAN tags), Linux "cooked"
captures (``-i any``: SLL and SLL2), raw IP, and BSD loopback. A pcapng file
may hold several interfaces, each with its own link type and clock
resolution. Anything that is not TCP over IPv4/IPv6 is skipped.

A capture cut short (tcpdump killed, a file copied while it was written) is
read up to the last whole packet and noted; a damaged header is an error.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import dpkt
from dpkt import pcapng

from smtplog.errors import InputError
from smtplog.pcap.magic import PCAPNG_MAGIC

# Link-layer types (https://www.tcpdump.org/linktypes.html)
NULL, ETHERNET, RAW, LOOP, LINUX_SLL, IPV4, IPV6, LINUX_SLL2 = 0, 1, 101, 108, 113, 228, 229, 276
RAW_ALIASES = {12, 14}  # DLT_RAW on some BSDs
MAX_RECORD = 0x4000000  # a packet record or block longer than 64 MiB is damage


@dataclass(frozen=True, slots=True)
class Segment:
    """One TCP segment: who sent it to whom, when, with what."""

    number: int  # packet number in the file, 1-based (as Wireshark counts)
    time: float  # seconds since the epoch
    src: str
    sport: int
    dst: str
    dport: int
    flags: int
    seq: int
    ack: int
    payload: bytes


@dataclass(slots=True)
class Capture:
    """What reading the file found besides the segments."""

    format: str = "pcap"
    packets: int = 0
    skipped: int = 0  # packets that are not TCP over IP
    unsupported: set[int] = field(default_factory=set)  # link types that cannot be read
    notes: list[str] = field(default_factory=list)


def read_segments(data: bytes, name: str, capture: Capture) -> Iterator[Segment]:
    """The TCP segments of a pcap or pcapng file, in file order."""
    return stream_segments((data,), name, capture)


def stream_segments(chunks: Iterable[bytes], name: str, capture: Capture) -> Iterator[Segment]:
    """The TCP segments of a capture read a chunk at a time (memory: one chunk)."""
    buffer = _Buffer(iter(chunks))
    if buffer.peek(4) == PCAPNG_MAGIC:
        capture.format = "pcapng"
        frames = _pcapng_frames(buffer, name, capture)
    else:
        frames = _pcap_frames(buffer, name, capture)
    for number, (time, linktype, frame) in enumerate(frames, start=1):
        capture.packets = number
        segment = _segment(number, time, linktype, frame, capture.unsupported)
        if segment is None:
            capture.skipped += 1
        else:
            yield segment


class _Buffer:
    """Bytes from chunks, taken from the front as records are read."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._data = bytearray()
        self._start = 0
        self.offset = 0  # bytes taken so far (for notes)

    def _fill(self, size: int) -> bool:
        while len(self._data) - self._start < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                return False
            if self._start:
                del self._data[: self._start]
                self._start = 0
            self._data += chunk
        return True

    def peek(self, size: int) -> bytes:
        self._fill(size)
        return bytes(self._data[self._start : self._start + size])

    def take(self, size: int) -> bytes | None:
        """``size`` bytes, or None when the input ends first (the rest stays readable)."""
        if not self._fill(size):
            return None
        piece = bytes(self._data[self._start : self._start + size])
        self._start += size
        self.offset += size
        return piece

    def left(self) -> int:
        """Bytes that are left (reads to the end)."""
        while self._fill(len(self._data) - self._start + 1):
            pass
        return len(self._data) - self._start


# -- file formats ----------------------------------------------------------------------------


def _pcap_frames(
    buffer: _Buffer, name: str, capture: Capture
) -> Iterator[tuple[float, int, bytes]]:
    """Classic pcap: dpkt's file header, then the records one after another (faster than
    dpkt's Reader, which also hides a last record cut short)."""
    head = buffer.take(24)
    if head is None:
        raise InputError(f"{name}: damaged pcap file: the file header is cut short")
    try:
        header = dpkt.pcap.FileHdr(head)  # big-endian view; a swapped magic means little
        little = header.magic in (dpkt.pcap.PMUDPCT_MAGIC, dpkt.pcap.PMUDPCT_MAGIC_NANO)
        if little:
            header = dpkt.pcap.LEFileHdr(head)
    except (dpkt.dpkt.Error, struct.error) as exc:
        raise InputError(f"{name}: damaged pcap file header ({exc})") from exc
    if header.magic not in (dpkt.pcap.TCPDUMP_MAGIC, dpkt.pcap.TCPDUMP_MAGIC_NANO):
        raise InputError(f"{name}: unsupported pcap variant (magic 0x{header.magic:08x})")
    nano = header.magic == dpkt.pcap.TCPDUMP_MAGIC_NANO
    record = struct.Struct("<IIII" if little else ">IIII")
    divisor = 1e9 if nano else 1e6
    linktype = header.linktype & 0x0FFFFFFF  # the upper bits may hold FCS flags
    number = 0
    while True:
        raw = buffer.take(16)
        if raw is None:
            rest = buffer.left()
            if rest:
                capture.notes.append(
                    f"the capture is truncated: {rest} bytes after packet {number} "
                    "are not a whole packet header; they were left out"
                )
            return
        seconds, fraction, caplen, _length = record.unpack(raw)
        frame = buffer.take(caplen) if caplen <= MAX_RECORD else None
        if frame is None:
            capture.notes.append(
                f"the capture is truncated: packet {number + 1} is cut short "
                "(tcpdump stopped while writing?); it was left out"
            )
            return
        number += 1
        yield seconds + fraction / divisor, linktype, frame


def _pcapng_frames(
    buffer: _Buffer, name: str, capture: Capture
) -> Iterator[tuple[float, int, bytes]]:
    little = True
    interfaces: list[tuple[int, float, int]] = []  # (linktype, divisor, offset seconds)
    first = True
    while True:
        head = buffer.peek(12)
        if len(head) < 12:
            rest = buffer.left()
            if rest:
                capture.notes.append(
                    f"the capture is truncated: {rest} bytes after the last whole block"
                )
            return
        offset = buffer.offset
        if head[:4] == PCAPNG_MAGIC:  # a section header sets the byte order
            magic = head[8:12]
            if magic == b"\x4d\x3c\x2b\x1a":
                little = True
            elif magic == b"\x1a\x2b\x3c\x4d":
                little = False
            else:
                raise InputError(f"{name}: damaged pcapng section header")
            interfaces = []
        kind, length = struct.unpack_from("<II" if little else ">II", head)
        whole = 12 <= length <= MAX_RECORD and length % 4 == 0
        block = buffer.take(length) if whole else None
        if block is None:
            if first:
                raise InputError(f"{name}: damaged pcapng file header")
            capture.notes.append(
                f"the capture is truncated or damaged after packet {capture.packets} "
                f"(byte {offset}); the rest was left out"
            )
            return
        first = False
        try:
            if kind == pcapng.PCAPNG_BT_IDB:
                idb = (pcapng.InterfaceDescriptionBlockLE if little else
                       pcapng.InterfaceDescriptionBlock)(block)  # fmt: skip
                interfaces.append(_interface(idb, little))
            elif kind in (pcapng.PCAPNG_BT_EPB, pcapng.PCAPNG_BT_PB):
                if kind == pcapng.PCAPNG_BT_EPB:
                    epb = (pcapng.EnhancedPacketBlockLE if little else
                           pcapng.EnhancedPacketBlock)(block)  # fmt: skip
                    iface = epb.iface_id
                else:
                    epb = (pcapng.PacketBlockLE if little else pcapng.PacketBlock)(block)
                    iface = epb.iface_id
                if iface >= len(interfaces):
                    capture.notes.append(f"a packet names interface {iface}, which is not defined")
                    continue
                linktype, divisor, seconds = interfaces[iface]
                time = seconds + ((epb.ts_high << 32) | epb.ts_low) / divisor
                yield time, linktype, bytes(epb.pkt_data)
        except (dpkt.dpkt.Error, struct.error, ValueError):
            capture.notes.append(f"a damaged pcapng block at byte {offset} was skipped")


def _interface(idb: pcapng.InterfaceDescriptionBlock, little: bool) -> tuple[int, float, int]:
    divisor, seconds = 1e6, 0
    for option in idb.opts:
        if option.code == pcapng.PCAPNG_OPT_IF_TSRESOL and option.data:
            value = option.data[0]
            divisor = float((2 if value & 0x80 else 10) ** (value & 0x7F))
        elif option.code == pcapng.PCAPNG_OPT_IF_TSOFFSET and len(option.data) >= 8:
            seconds = struct.unpack("<q" if little else ">q", option.data[:8])[0]
    return idb.linktype, divisor, seconds


# -- link, network and transport layers --------------------------------------------------------


def _network(linktype: int, frame: bytes) -> object | None:
    """The IP packet inside a link-layer frame (a dpkt object), or None."""
    if linktype == ETHERNET:
        if frame[12:14] == b"\x08\x00":  # IPv4 without a VLAN tag: skip the Ethernet object
            return dpkt.ip.IP(frame[14:])
        return dpkt.ethernet.Ethernet(frame).data
    if linktype == LINUX_SLL:
        return dpkt.sll.SLL(frame).data
    if linktype == LINUX_SLL2:
        return dpkt.sll2.SLL2(frame).data
    if linktype in (NULL, LOOP):
        return dpkt.loopback.Loopback(frame).data
    if linktype in (RAW, IPV4, IPV6, *RAW_ALIASES):
        version = frame[0] >> 4 if frame else 0
        if version == 4:
            return dpkt.ip.IP(frame)
        if version == 6:
            return dpkt.ip6.IP6(frame)
        return None
    raise UnsupportedLink(linktype)


class UnsupportedLink(Exception):
    def __init__(self, linktype: int) -> None:
        super().__init__(linktype)
        self.linktype = linktype


def _segment(
    number: int, time: float, linktype: int, frame: bytes, unsupported: set[int]
) -> Segment | None:
    try:
        packet = _network(linktype, frame)
    except UnsupportedLink:
        unsupported.add(linktype)
        return None
    except (dpkt.dpkt.Error, struct.error, IndexError, ValueError):
        return None
    if isinstance(packet, dpkt.ip.IP):
        family = socket.AF_INET
    elif isinstance(packet, dpkt.ip6.IP6):
        family = socket.AF_INET6
    else:
        return None
    tcp = packet.data
    if not isinstance(tcp, dpkt.tcp.TCP):
        return None
    payload = bytes(tcp.data)
    if family == socket.AF_INET:
        # Trust the IP total length over the frame (Ethernet pads short frames).
        payload = payload[: max(0, packet.len - packet.hl * 4 - tcp.off * 4)]
    return Segment(
        number=number,
        time=time,
        src=socket.inet_ntop(family, packet.src),
        sport=tcp.sport,
        dst=socket.inet_ntop(family, packet.dst),
        dport=tcp.dport,
        flags=tcp.flags,
        seq=tcp.seq,
        ack=tcp.ack,
        payload=payload,
    )
