"""Packet-capture throughput: MB/s that `smtplog analyze capture.pcap` reads.

Generates a capture of about --size MB from a real sample (samples/pcap/delivered.pcap,
tcpdump on loopback against Postfix) by replaying its session again and again with a
new client port, new sequence numbers and later times, several sessions interleaved,
then times two stages:

- capture -> transcript: dpkt reading, TCP reassembly, the Tap and the wire codec;
- the whole `analyze` path: that, plus reading the transcript back and the analysis.

    python bench/pcap_throughput.py            # 100 MB
    python bench/pcap_throughput.py --size 20 --keep /tmp/big.pcap
"""

from __future__ import annotations

import argparse
import io
import random
import struct
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import dpkt  # noqa: E402

SAMPLE = ROOT / "samples" / "pcap" / "delivered.pcap"
INTERLEAVE = 8  # sessions in flight at once


def load(path: Path) -> list[tuple[float, dpkt.ethernet.Ethernet]]:
    with path.open("rb") as handle:
        return [(ts, dpkt.ethernet.Ethernet(frame)) for ts, frame in dpkt.pcap.Reader(handle)]


def generate(target_bytes: int, seed: int = 1) -> bytes:
    packets = load(SAMPLE)
    t0 = packets[0][0]
    span = packets[-1][0] - t0
    server_port = packets[0][1].data.data.dport
    rng = random.Random(seed)
    out = io.BytesIO()
    writer = dpkt.pcap.Writer(out, snaplen=65535, linktype=dpkt.pcap.DLT_EN10MB)
    number = 0
    clock = 1_700_000_000.0
    while out.tell() < target_bytes:
        batch = []
        for lane in range(INTERLEAVE):
            port = 20000 + (number % 40000)
            number += 1
            shift = {True: rng.randrange(1 << 32), False: rng.randrange(1 << 32)}
            start = clock + lane * span / INTERLEAVE
            for ts, frame in packets:
                tcp = frame.data.data
                to_server = tcp.dport == server_port
                tcp.seq = (tcp.seq + shift[to_server]) % (1 << 32)
                if tcp.flags & dpkt.tcp.TH_ACK:
                    tcp.ack = (tcp.ack + shift[not to_server]) % (1 << 32)
                if to_server:
                    tcp.sport = port
                else:
                    tcp.dport = port
                tcp.sum = 0
                batch.append((start + ts - t0, bytes(frame)))
                # restore for the next copy
                tcp.seq = (tcp.seq - shift[to_server]) % (1 << 32)
                if tcp.flags & dpkt.tcp.TH_ACK:
                    tcp.ack = (tcp.ack - shift[not to_server]) % (1 << 32)
                if to_server:
                    tcp.sport = packets[0][1].data.data.sport
                else:
                    tcp.dport = packets[0][1].data.data.sport
        batch.sort(key=lambda item: item[0])
        for ts, frame in batch:
            writer.writepkt(frame, ts=ts)
        clock += span + 0.01
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=float, default=100.0, help="capture size in MB")
    parser.add_argument("--keep", type=Path, help="also write the generated capture here")
    args = parser.parse_args()

    from smtplog.analysis import analyze_bytes
    from smtplog.pcap import capture_transcript

    started = time.perf_counter()
    data = generate(int(args.size * 1_000_000))
    megabytes = len(data) / 1_000_000
    packets = (len(data) - 24) and sum(1 for _ in _records(data))
    print(
        f"generated {megabytes:.1f} MB, {packets} packets from {SAMPLE.relative_to(ROOT)} "
        f"in {time.perf_counter() - started:.1f}s"
    )
    if args.keep:
        args.keep.write_bytes(data)
    with tempfile.TemporaryDirectory():
        started = time.perf_counter()
        result = capture_transcript(data, "bench.pcap")
        transcript_time = time.perf_counter() - started
        print(
            f"capture -> transcript: {result.sessions} sessions in {transcript_time:.1f}s = "
            f"{megabytes / transcript_time:.1f} MB/s ({packets / transcript_time:,.0f} packets/s)"
        )
        started = time.perf_counter()
        report = analyze_bytes(data, "bench.pcap")
        total = time.perf_counter() - started
        delivered = sum(1 for session in report.sessions if session.outcome == "delivered")
        print(
            f"analyze (whole path): {len(report.sessions)} sessions ({delivered} delivered) in "
            f"{total:.1f}s = {megabytes / total:.1f} MB/s"
        )
    return 0


def _records(data: bytes):  # type: ignore[no-untyped-def]
    offset = 24
    while offset + 16 <= len(data):
        caplen = struct.unpack_from("<I", data, offset + 8)[0]
        offset += 16 + caplen
        yield offset


if __name__ == "__main__":
    raise SystemExit(main())
