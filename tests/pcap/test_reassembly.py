"""TCP reassembly and session finding on built captures: damage must not change the analysis."""

from __future__ import annotations

import random
import re

import dpkt
import pytest

from smtplog.analysis import analyze_bytes
from smtplog.pcap import _Replay, capture_transcript

from .packets import (
    ACK,
    GREETING,
    PSH,
    Conversation,
    Packet,
    delivered,
    of,
    retimed,
    write_pcap,
    write_pcapng,
)


def smtp_lines(text: str) -> list[str]:
    """The S:/C: entries of a transcript, without their times."""
    return [
        re.sub(r"^\+\S+ ", "", line)
        for line in text.splitlines()
        if re.match(r"^\+\S+ [SC]:", line)
    ]


def verdict(data: bytes, index: int = -1) -> tuple[str, str | None, str]:
    session = analyze_bytes(data, "test.pcap").sessions[index]
    assert session.main is not None
    return session.outcome, session.failed_at, session.main.id


CLEAN = write_pcap(of(delivered()))


def test_a_clean_delivery_reads_as_sent():
    text = capture_transcript(CLEAN, "clean.pcap").text
    lines = smtp_lines(text)
    assert lines[0] == "S: 220 mx.example.test ESMTP Postfix"
    assert "C: EHLO client.example.test" in lines
    assert "C: AUTH PLAIN [credentials redacted, user alice@example.test]" in lines or any(
        line.startswith("C: AUTH PLAIN [") for line in lines
    )
    assert lines[-2:] == ["C: QUIT", "S: 221 2.0.0 Bye"]
    assert sum(line.startswith("C: Line ") for line in lines) == 60  # the body, all of it
    assert verdict(CLEAN) == ("delivered", None, "delivered")
    assert "S3cr3t-Pa55" not in text and "UzNjcjN0" not in text
    assert "AGFsaWNlQGV4YW1wbGUudGVzdABTM2NyM3QtUGE1NQ" not in text


def test_packet_times_become_transcript_times():
    text = capture_transcript(CLEAN, "clean.pcap").text
    greeting = next(line for line in text.splitlines() if "S: 220 " in line)
    assert greeting.startswith("+0.030 ")  # the SYN is +0.000, the greeting three packets later


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_out_of_order_segments_are_put_back(seed: int):
    conversation = delivered()
    packets = of(conversation)
    body = [
        i
        for i, (_c, p) in enumerate(packets)
        if p.payload.startswith(b"Line") or b"Line 0" in p.payload
    ]
    assert len(body) >= 3
    shuffled = packets[:]
    rng = random.Random(seed)
    chunk = [shuffled[i] for i in body]
    rng.shuffle(chunk)
    for i, item in zip(body, chunk, strict=True):
        shuffled[i] = item
    data = write_pcap(shuffled)
    assert smtp_lines(capture_transcript(data).text) == smtp_lines(capture_transcript(CLEAN).text)
    assert verdict(data) == ("delivered", None, "delivered")


def test_retransmissions_are_dropped():
    packets = of(delivered())
    doubled = []
    for item in packets:
        doubled.append(item)
        if item[1].payload:
            doubled.append((item[0], retimed(item[1], item[1].time + 0.2)))
    data = write_pcap(doubled)
    assert smtp_lines(capture_transcript(data).text) == smtp_lines(capture_transcript(CLEAN).text)


def test_overlapping_segments_deliver_each_byte_once():
    conversation = delivered()
    packets = of(conversation)
    out = []
    for c, p in packets:
        out.append((c, p))
        if len(p.payload) > 100:  # a retransmission that re-cuts the data: half old, half new
            out.append(
                (
                    c,
                    Packet(
                        p.time + 0.001,
                        p.from_client,
                        ACK | PSH,
                        (p.seq + 50) % (1 << 32),
                        p.ack,
                        p.payload[50:80],
                    ),
                )
            )
    data = write_pcap(out)
    assert smtp_lines(capture_transcript(data).text) == smtp_lines(capture_transcript(CLEAN).text)


def test_a_segment_missing_from_the_capture_is_skipped_and_noted():
    packets = of(delivered())
    body = [
        i
        for i, (_c, p) in enumerate(packets)
        if p.payload.startswith(b"Line") or b"Line 0" in p.payload
    ]
    lost = body[1]
    data = write_pcap(packets[:lost] + packets[lost + 1 :])
    result = capture_transcript(data)
    assert "missing from the capture" in result.text
    assert verdict(data) == ("delivered", None, "delivered")  # the server's ACK moved past it


def test_sequence_numbers_wrap_around():
    data = write_pcap(
        of(delivered(Conversation(client_isn=(1 << 32) - 700, server_isn=(1 << 32) - 20)))
    )
    assert smtp_lines(capture_transcript(data).text) == smtp_lines(capture_transcript(CLEAN).text)


def test_a_capture_that_starts_mid_session():
    packets = of(delivered())
    late = packets[8:]  # no SYN, no greeting, no EHLO
    result = capture_transcript(write_pcap(late))
    assert "the capture starts in the middle of this connection" in result.text
    assert smtp_lines(result.text)[-1] == "S: 221 2.0.0 Bye"


def test_pcapng_ipv6_and_linux_cooked_captures():
    v6 = delivered(Conversation(client=("2001:db8::10", 50123), server=("2001:db8::25", 587)))
    assert verdict(write_pcapng(of(v6))) == ("delivered", None, "delivered")
    assert (
        "[2001:db8::10]:50123 > [2001:db8::25]:587" in capture_transcript(write_pcapng(of(v6))).text
    )
    assert verdict(write_pcap(of(delivered()), linktype=dpkt.pcap.DLT_LINUX_SLL)) == (
        "delivered",
        None,
        "delivered",
    )
    assert verdict(write_pcap(of(delivered()), linktype=dpkt.pcap.DLT_RAW)) == (
        "delivered",
        None,
        "delivered",
    )
    assert verdict(write_pcap(of(delivered()), nano=True)) == ("delivered", None, "delivered")


def test_unanswered_syns_are_a_connect_timeout():
    c = Conversation(server=("192.0.2.25", 25)).syn().syn(gap=1.0).syn(gap=2.0)
    result = capture_transcript(write_pcap(of(c)))
    assert "** connect-failed timeout" in result.text
    assert "the SYN was sent 3 times over 3.0s" in result.text
    assert verdict(write_pcap(of(c))) == ("no-connection", "connect", "connect-timeout")


def test_a_syn_answered_by_a_reset_is_a_refusal():
    c = Conversation(server=("192.0.2.25", 2599)).refuse()
    assert verdict(write_pcap(of(c))) == ("no-connection", "connect", "connect-refused")


def test_a_silent_server_is_no_greeting():
    c = Conversation().handshake()
    c.time += 5.0
    c.close(client_first=True)
    data = write_pcap(of(c))
    assert "no greeting after 5.0s" in capture_transcript(data).text
    assert verdict(data) == ("deferred", "banner", "no-greeting")


def test_smtp_is_found_on_any_port_and_other_traffic_is_left_out():
    smtp = delivered(Conversation(server=("192.0.2.25", 10025), client=("192.0.2.10", 40000)))
    web = Conversation(
        server=("192.0.2.80", 80), client=("192.0.2.10", 40001), start=1_700_000_000.5
    )
    web.handshake().client(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").server(
        b"HTTP/1.1 200 OK\r\n\r\n"
    ).close()
    probe = Conversation(server=("192.0.2.81", 8080), client=("192.0.2.10", 40002)).refuse()
    merged = sorted(of(smtp) + of(web) + of(probe), key=lambda item: item[1].time)
    result = capture_transcript(write_pcap(merged))
    assert result.sessions == 1
    assert any("not SMTP" in note for note in result.notes)
    assert verdict(write_pcap(merged)) == ("delivered", None, "delivered")


def test_several_sessions_in_one_capture_interleaved():
    first = delivered(Conversation(client=("192.0.2.10", 40000)))
    second = Conversation(client=("192.0.2.10", 40001), start=1_700_000_000.005).handshake()
    second.server(GREETING).client(b"EHLO client.example.test\r\n").server(
        b"250 mx.example.test\r\n"
    )
    second.client(b"MAIL FROM:<a@example.org>\r\n").server(b"250 2.1.0 Ok\r\n")
    second.client(b"RCPT TO:<someone@elsewhere.test>\r\n")
    second.server(b"554 5.7.1 <someone@elsewhere.test>: Relay access denied\r\n")
    second.client(b"QUIT\r\n").server(b"221 2.0.0 Bye\r\n").close()
    merged = sorted(of(first) + of(second), key=lambda item: item[1].time)
    report = analyze_bytes(write_pcap(merged), "two.pcap")
    outcomes = [(s.outcome, s.main.id if s.main else None) for s in report.sessions]
    assert outcomes == [("delivered", "delivered"), ("failed", "relay-denied")]
    assert report.dialect == "pcap"


def test_a_client_reset_mid_session():
    c = Conversation().handshake()
    c.server(GREETING).client(b"EHLO client.example.test\r\n").server(b"250 mx.example.test\r\n")
    c.client(b"MAIL FROM:<a@example.org>\r\n").reset(from_client=True)
    text = capture_transcript(write_pcap(of(c))).text
    assert "reset the connection (TCP RST)" in text


def _released_while_reading(data: bytes) -> list[tuple[str, bool]]:
    """Each block's intro note, and whether it came before the end of the capture."""
    replay = _Replay((data,), "test.pcap")
    out = []
    for block in replay.connections_done():
        assert replay.streams is not None
        out.append((block[0].text.split(",")[0], bool(replay.streams.open)))
    return out


def _refused_after_ehlo(conversation: Conversation) -> Conversation:
    c = conversation.handshake()
    c.server(GREETING).client(b"EHLO client.example.test\r\n").server(b"250 mx.example.test\r\n")
    c.client(b"MAIL FROM:<a@example.org>\r\n").server(b"550 5.7.1 go away\r\n")
    return c  # no FIN: the capture missed its end


def test_a_new_syn_on_the_same_ports_ends_the_connection_whose_end_was_missed():
    first = _refused_after_ehlo(Conversation(client_isn=1000, server_isn=5000))
    second = Conversation(client_isn=90000, server_isn=70000, start=first.time + 1).handshake()
    second.server(GREETING).client(b"EHLO client.example.test\r\n")
    data = write_pcap(of(first) + of(second))
    report = analyze_bytes(data, "reused.pcap")
    outcomes = [(s.outcome, s.main.id if s.main else None) for s in report.sessions]
    assert outcomes == [("failed", "sender-rejected"), ("incomplete", None)]
    text = capture_transcript(data).text
    assert "a new connection on the same ports began while the connection was still open" in text
    # Reported as soon as the new SYN came, not held until the end of the capture.
    assert _released_while_reading(data)[0] == ("TCP 192.0.2.10:50123 > 192.0.2.25:25", True)


def test_a_syn_from_the_other_side_ends_the_connection_whose_end_was_missed():
    first = _refused_after_ehlo(
        Conversation(client=("192.0.2.10", 2525), server=("192.0.2.25", 25))
    )
    second = Conversation(
        client=("192.0.2.25", 25), server=("192.0.2.10", 2525), start=first.time + 1
    ).handshake()
    second.server(GREETING).client(b"EHLO client.example.test\r\n")
    report = analyze_bytes(write_pcap(of(first) + of(second)), "turned.pcap")
    assert [s.outcome for s in report.sessions] == ["failed", "incomplete"]


def test_other_traffic_pushed_out_does_not_hold_smtp_back(monkeypatch):
    from smtplog import limits

    monkeypatch.setattr(limits, "MAX_OPEN_STREAMS", 1)
    web = Conversation(server=("192.0.2.80", 80), client=("192.0.2.10", 40001))
    web.handshake().client(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # never ends
    smtp = delivered(Conversation(client=("192.0.2.10", 40002), start=web.time + 1))
    later = Conversation(client=("192.0.2.10", 40003), start=smtp.time + 1).handshake()
    data = write_pcap(of(web) + of(smtp) + of(later))
    released = _released_while_reading(data)
    assert released[0] == ("TCP 192.0.2.10:40002 > 192.0.2.25:25", True)
    notes = capture_transcript(data).notes
    assert "1 TCP connection in the capture is not SMTP and was left out" in notes


def test_a_connection_overtaken_by_a_forced_release_is_not_held_back(monkeypatch):
    from smtplog import limits

    slow = Conversation(client=("192.0.2.10", 40001)).handshake()
    slow.server(GREETING)
    fast = delivered(Conversation(client=("192.0.2.10", 40002), start=slow.time + 0.5))
    slow.time = fast.time + 1
    slow.client(b"QUIT\r\n").server(b"221 2.0.0 Bye\r\n").close()
    later = Conversation(client=("192.0.2.10", 40003), start=slow.time + 1).handshake()
    later.server(GREETING)
    data = write_pcap(sorted(of(slow) + of(fast) + of(later), key=lambda item: item[1].time))
    blocks = list(_Replay((data,), "test.pcap").connections_done())
    # The delivery's block alone is more than the reorder limit: it is released at once,
    # before the slow connection that began first.
    monkeypatch.setattr(limits, "REORDER_EVENTS", len(blocks[1]) - 1)
    assert len(blocks[0]) <= limits.REORDER_EVENTS
    assert _released_while_reading(data) == [
        ("TCP 192.0.2.10:40002 > 192.0.2.25:25", True),
        ("TCP 192.0.2.10:40001 > 192.0.2.25:25", True),  # when it ended, not at the end
        ("TCP 192.0.2.10:40003 > 192.0.2.25:25", False),
    ]
