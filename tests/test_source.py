"""Source handling: bytes in, lines out, nothing lost."""

from __future__ import annotations

import gzip

import pytest

from smtplog.errors import ExitCode, InputError
from smtplog.source import source_from_bytes, strip_telnet_negotiation


def texts(data: bytes) -> list[str]:
    return [line.text for line in source_from_bytes(data).lines]


def test_crlf_cr_and_lf_all_split_lines() -> None:
    assert texts(b"220 a\r\n250 b\r\n") == ["220 a", "250 b"]
    assert texts(b"220 a\n250 b\n") == ["220 a", "250 b"]
    assert texts(b"220 a\r250 b\r") == ["220 a", "250 b"]


def test_stray_cr_inside_a_line_is_kept_as_data() -> None:
    # telnet fed CRLF input sends CR CR LF; servers echo the stray CR in EHLO replies
    assert texts(b"250-mx Hello client\r [127.0.0.1]\r\r\n") == [
        "250-mx Hello client\r [127.0.0.1]"
    ]


def test_line_numbers_are_the_original_ones() -> None:
    source = source_from_bytes(b"x\n\n220 ready\n")
    assert [(line.number, line.text) for line in source.lines] == [
        (1, "x"),
        (2, ""),
        (3, "220 ready"),
    ]


def test_telnet_iac_negotiation_is_removed_and_noted() -> None:
    data = b"\xff\xfd\x18\xff\xfb\x01220 mx ESMTP\r\n\xff\xfa\x18\x00xterm\xff\xf0250 ok\r\n"
    source = source_from_bytes(data)
    assert [line.text for line in source.lines] == ["220 mx ESMTP", "250 ok"]
    assert any("telnet" in note for note in source.notes)


def test_escaped_iac_is_a_literal_byte() -> None:
    assert strip_telnet_negotiation(b"a\xff\xffb") == (b"a\xffb", True)


def test_backspace_editing_is_applied_and_flagged() -> None:
    source = source_from_bytes(b"EHLP\x08O example.test\r\nMAIL\x7f\x7f\x7f\x7fMAIL FROM:<a@b>\n")
    first, second = source.lines
    assert first.text == "EHLO example.test"
    assert first.raw == "EHLP\x08O example.test"
    assert "backspace" in first.flags
    assert second.text == "MAIL FROM:<a@b>"


def test_invalid_utf8_survives_losslessly() -> None:
    source = source_from_bytes(b"250 caf\xe9 ok\n")
    assert source.lines[0].text.encode("utf-8", "surrogateescape") == b"250 caf\xe9 ok"
    assert any("UTF-8" in note for note in source.notes)


def test_gzip_is_read_transparently() -> None:
    assert texts(gzip.compress(b"220 mx ready\n")) == ["220 mx ready"]


@pytest.mark.parametrize(
    ("data", "expected", "code"),
    [
        (b"", "empty input", ExitCode.NOT_SMTP),
        (b"  \n\n", "empty input", ExitCode.NOT_SMTP),
        (b"\x7fELF\x02\x01\x01\x00" + bytes(64), "executable", ExitCode.USAGE),
        (b"\xd4\xc3\xb2\xa1" + bytes(20), "pcap", ExitCode.USAGE),
        (b"PK\x03\x04" + bytes(20), "zip", ExitCode.USAGE),
        (bytes(range(256)) * 4, "binary", ExitCode.USAGE),
    ],
)
def test_unusable_input_is_refused_with_a_reason(
    data: bytes, expected: str, code: ExitCode
) -> None:
    with pytest.raises(InputError, match=expected) as error:
        source_from_bytes(data, "x")
    assert error.value.exit_code == code
