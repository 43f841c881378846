"""Capture files through the real CLI: damaged, truncated, compressed, empty, not SMTP."""

from __future__ import annotations

import gzip
import json

from tests.conftest import run_cli

from .packets import GREETING, Conversation, of, write_pcap, write_pcapng


def relay_denied() -> Conversation:
    c = Conversation().handshake()
    c.server(GREETING).client(b"EHLO client.example.test\r\n").server(b"250 mx.example.test\r\n")
    c.client(b"MAIL FROM:<a@example.org>\r\n").server(b"250 2.1.0 Ok\r\n")
    c.client(b"RCPT TO:<someone@elsewhere.test>\r\n")
    c.server(b"554 5.7.1 <someone@elsewhere.test>: Relay access denied\r\n")
    return c.client(b"QUIT\r\n").server(b"221 2.0.0 Bye\r\n").close()


def test_analyze_a_pcap_file(tmp_path):
    path = tmp_path / "relay.pcap"
    path.write_bytes(write_pcap(of(relay_denied())))
    result = run_cli("analyze", "--format", "json", str(path))
    assert result.code == 1, result.stderr
    report = json.loads(result.stdout)["reports"][0]
    assert report["dialect"]["name"] == "pcap"
    session = report["sessions"][0]
    assert (session["outcome"], session["failed_at"]) == ("failed", "rcpt")
    assert session["diagnoses"][0]["id"] == "relay-denied"
    assert session["events"][-1]["time"] > 0  # packet times


def test_pcapng_and_gzip(tmp_path):
    path = tmp_path / "relay.pcapng.gz"
    path.write_bytes(gzip.compress(write_pcapng(of(relay_denied()))))
    result = run_cli("analyze", str(path))
    assert result.code == 1, result.stderr
    assert "Verdict: failed at rcpt: relay-denied" in result.stdout
    assert "pcap transcript" in result.stdout


def test_a_truncated_capture_is_read_up_to_the_cut(tmp_path):
    data = write_pcap(of(relay_denied()))
    path = tmp_path / "cut.pcap"
    path.write_bytes(data[:-30])  # the last packet (an ACK) cut in the middle
    result = run_cli("analyze", str(path))
    assert result.code == 1, result.stderr
    assert "note: the capture is truncated" in result.stdout
    assert "relay-denied" in result.stdout
    assert "Traceback" not in result.stderr


def test_a_damaged_header_is_one_line_and_exit_2(tmp_path):
    path = tmp_path / "damaged.pcap"
    path.write_bytes(b"\xd4\xc3\xb2\xa1\x02\x00")
    result = run_cli("analyze", str(path))
    assert result.code == 2
    assert result.stderr.count("\n") == 1
    assert "damaged pcap file" in result.stderr
    path = tmp_path / "damaged.pcapng"
    path.write_bytes(b"\x0a\x0d\x0d\x0a" + b"\xff" * 40)
    result = run_cli("analyze", str(path))
    assert result.code == 2
    assert result.stderr.startswith("smtplog: ") and "Traceback" not in result.stderr


def test_garbage_after_a_valid_header_never_tracebacks(tmp_path):
    import random

    rng = random.Random(7)
    good = write_pcap(of(relay_denied()))
    for attempt in range(20):
        damaged = bytearray(good)
        for _ in range(30):
            damaged[rng.randrange(24, len(damaged))] = rng.randrange(256)
        path = tmp_path / f"noise-{attempt}.pcap"
        path.write_bytes(bytes(damaged))
        result = run_cli("analyze", str(path))
        assert result.code in (0, 1, 3), result.stderr
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr


def test_a_capture_without_smtp_is_exit_3(tmp_path):
    web = Conversation(server=("192.0.2.80", 80)).handshake()
    web.client(b"GET / HTTP/1.1\r\n\r\n").server(b"HTTP/1.1 200 OK\r\n\r\n").close()
    path = tmp_path / "web.pcap"
    path.write_bytes(write_pcap(of(web)))
    result = run_cli("analyze", str(path))
    assert result.code == 3
    assert "no SMTP session found in the packet capture" in result.stderr
    empty = tmp_path / "empty.pcap"
    empty.write_bytes(write_pcap([]))
    assert run_cli("analyze", str(empty)).code == 3


def test_dialect_option_is_refused_for_a_capture(tmp_path):
    path = tmp_path / "relay.pcap"
    path.write_bytes(write_pcap(of(relay_denied())))
    result = run_cli("analyze", "--dialect", "telnet", str(path))
    assert result.code == 2
    assert "--dialect is for text" in result.stderr


def test_a_pcapng_block_claiming_a_huge_length_stops_the_reading_there():
    import struct

    from smtplog.pcap.reader import Capture, stream_segments

    data = bytearray(write_pcapng(of(relay_denied())))
    offset, blocks = 0, []
    while offset < len(data):
        blocks.append(offset)
        offset += struct.unpack_from("<I", data, offset + 4)[0]
    damaged = blocks[4]  # header, interface, 2 packets, then the third packet's block
    struct.pack_into("<I", data, damaged + 4, 0x7FFFFFF0)
    taken = []

    def chunks():
        yield bytes(data)
        for n in range(200):  # the rest of a large file
            taken.append(n)
            yield b"\0" * 1024

    capture = Capture()
    segments = list(stream_segments(chunks(), "damaged.pcapng", capture))
    assert len(segments) == 2
    assert capture.notes == [
        f"the capture is truncated or damaged after packet 2 (byte {damaged}); "
        "the rest was left out"
    ]
    assert len(taken) < 10  # not read to the end to fill the block
