"""The wire codec alone: bytes in, events out, secrets masked at capture."""

from __future__ import annotations

import base64

from smtplog.events import AuthResponse, Command, DataBody, DataEnd, Reply, Unparsed
from smtplog.record.wire import WireSession, decode_message, encode_message

PASSWORD = "S3cr3t-Pa55"


def test_multiline_reply_split_across_reads():
    wire = WireSession()
    assert wire.server_bytes(b"250-mx.example.test\r\n250-PIPE", 0.1) == []
    assert wire.reply_pending
    events = wire.server_bytes(b"LINING\r\n250 SIZE 1000\r\n", 0.2)
    assert len(events) == 1
    reply = events[0]
    assert isinstance(reply, Reply)
    assert reply.code == 250 and reply.lines == ("mx.example.test", "PIPELINING", "SIZE 1000")
    assert reply.time == 0.1  # when its first line arrived


def test_non_reply_lines_and_bare_lf():
    wire = WireSession()
    events = wire.server_bytes(b"\x16\x03\x01garbage\n220 ok\n", 0.0)
    assert isinstance(events[0], Unparsed) and isinstance(events[1], Reply)
    assert events[1].enhanced is None


def test_server_close_flushes_a_partial_reply():
    wire = WireSession()
    wire.server_bytes(b"421-closing\r\n421 4.4.2 bye", 0.0)
    events = wire.server_closed(0.1)
    assert [e.code for e in events if isinstance(e, Reply)] == [421]
    assert events[0].lines == ("closing", "4.4.2 bye")


def test_message_is_dot_stuffed_and_ended():
    content = b"Subject: x\n\n.hidden\n.\nlast"
    data = encode_message(content)
    assert data == b"Subject: x\r\n\r\n..hidden\r\n..\r\nlast\r\n.\r\n"
    wire = WireSession()
    wire.server_bytes(b"354 go\r\n", 0.0)
    events = wire.client_bytes(data, 0.1)
    body, end = events
    assert isinstance(body, DataBody) and isinstance(end, DataEnd)
    assert body.lines == ("Subject: x", "", "..hidden", "..", "last")
    assert decode_message(body.lines) == ["Subject: x", "", ".hidden", ".", "last"]
    assert wire.mode == "command"


def test_body_bare_lf_is_noticed():
    wire = WireSession()
    wire.server_bytes(b"354 go\r\n", 0.0)
    body = wire.client_bytes(b"line one\nline two\r\n.\r\n", 0.1)[0]
    assert isinstance(body, DataBody) and body.bare_lf


def test_auth_login_masks_password_keeps_user():
    wire = WireSession()
    wire.client_bytes(b"AUTH LOGIN\r\n", 0.0)
    wire.server_bytes(b"334 VXNlcm5hbWU6\r\n", 0.1)
    _data, [user] = wire.auth_response(b"alice@example.test", 0.2, secret=False)
    wire.server_bytes(b"334 UGFzc3dvcmQ6\r\n", 0.3)
    data, [password] = wire.auth_response(PASSWORD.encode(), 0.4, secret=True)
    assert base64.b64decode(data.strip()) == PASSWORD.encode()  # what goes to the server
    assert isinstance(user, AuthResponse) and user.decoded == "alice@example.test"
    assert isinstance(password, AuthResponse) and password.secret
    assert PASSWORD not in repr(password) and data.strip().decode() not in repr(password)


def test_auth_plain_initial_response_masked():
    blob = base64.b64encode(f"\0alice\0{PASSWORD}".encode()).decode()
    wire = WireSession()
    data, [command] = wire.command(f"AUTH PLAIN {blob}", 0.0)
    assert blob.encode() in data
    assert isinstance(command, Command) and command.secret
    assert blob not in repr(command) and PASSWORD not in repr(command)
    assert "user alice" in command.display


def test_auth_response_masked_even_without_a_known_prompt():
    wire = WireSession()
    wire.client_bytes(b"AUTH XOAUTH2\r\n", 0.0)
    wire.server_bytes(b"334 \r\n", 0.1)
    token = base64.b64encode(b"user=a\x01auth=Bearer tok\x01\x01")
    [event] = wire.client_bytes(token + b"\r\n", 0.2)
    assert event.secret and token.decode() not in event.text


def test_proxy_style_pipelined_client_bytes():
    wire = WireSession()
    events = wire.client_bytes(b"MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n", 0.0)
    assert [e.verb for e in events] == ["MAIL", "RCPT", "DATA"]
