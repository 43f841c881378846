"""`smtplog redact`: secrets always gone, consistent stand-ins, the same analysis after."""

from __future__ import annotations

import base64
import gzip
import ipaddress
import re
from pathlib import Path

import pytest

from smtplog import analyze_bytes, analyze_text
from smtplog.redact import redact_bytes, redact_text, split_with_endings
from smtplog.redact.names import is_host_name, registrable_domain
from smtplog.redact.pseudonyms import Pseudonyms

from .conftest import run_cli, transcript
from .sample_secrets import all_secrets, leaked
from .samples import Sample, load_samples

SAMPLES = load_samples()
MODES = {
    "secrets": {},
    "all": {"addresses": True, "hosts": True, "ips": True},
}


def _verdicts(data: bytes, name: str) -> list[tuple[str, str | None, str | None]]:
    report = analyze_bytes(data, name)
    return [(s.outcome, s.failed_at, s.main.id if s.main else None) for s in report.sessions]


# -- every sample ------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("sample", SAMPLES, ids=str)
def test_the_redacted_sample_analyses_the_same(sample: Sample, mode: str) -> None:
    original = sample.file.read_bytes()
    redaction = redact_bytes(original, sample.path, **MODES[mode])
    assert redaction.changed == []
    assert _verdicts(redaction.data, sample.path) == _verdicts(original, sample.path)
    if sample.dialect == "pcap":  # a capture's copy is smtplog's transcript of it
        assert analyze_bytes(redaction.data, sample.path).dialect == "smtplog"
        return
    # ... and the same dialect, read the same way: every line is still there.
    assert analyze_bytes(redaction.data, sample.path).dialect == sample.dialect
    assert len(split_with_endings(redaction.data)) == len(split_with_endings(original))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("sample", SAMPLES, ids=str)
def test_no_secret_survives_redaction(sample: Sample, mode: str) -> None:
    redaction = redact_bytes(sample.file.read_bytes(), sample.path, **MODES[mode])
    assert leaked(redaction.text) == []


@pytest.mark.parametrize("sample", SAMPLES, ids=str)
def test_all_replaces_every_address_host_and_public_ip(sample: Sample) -> None:
    redaction = redact_bytes(sample.file.read_bytes(), sample.path, **MODES["all"])
    for address in re.findall(r"\b[\w+-][\w.+-]*@(?:[\w-]+\.)+[a-z]{2,}\b", redaction.text):
        assert re.fullmatch(
            r"(user\d+|postmaster|mailer-daemon)@(host-\d+\.)?example-\d+\.example",
            address,
            re.IGNORECASE,
        ), address
    for original, _stand_in in [(o, s) for kind, o, s in redaction.mapping if kind == "host"]:
        assert original not in redaction.text.lower()
    for ip in re.findall(r"\b\d+\.\d+\.\d+\.\d+\b", redaction.text):
        try:
            parsed = ipaddress.ip_address(ip)
        except ValueError:
            continue  # a version number (Exchange 15.2.1118.40)
        assert parsed.is_loopback or any(
            parsed in ipaddress.ip_network(net)
            for net in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
        )


def test_the_samples_hold_secrets_to_look_for() -> None:
    """The secret tests above are only as good as the secrets the samples contain."""
    secrets = all_secrets()
    assert "UzNjcjN0LVBhNTU=" in secrets  # base64 of the lab password
    with_secrets = [s for s in SAMPLES if leaked(s.file.read_text("utf-8", "surrogateescape"))]
    assert len(with_secrets) >= 4, [str(s) for s in with_secrets]


# -- AUTH secrets --------------------------------------------------------------

PLAIN_BLOB = base64.b64encode(b"\0alice@example.test\0S3cr3t-Pa55").decode()
XOAUTH2 = base64.b64encode(
    b"user=alice@example.test\x01auth=Bearer ya29.TOKEN-xyz\x01\x01"
).decode()
CRAM_CHALLENGE = base64.b64encode(b"<1896.697170952@mx.customer.com>").decode()
CRAM_RESPONSE = base64.b64encode(b"alice b913a602c7eda7a495b4e6e7334d3890").decode()


def test_auth_login_password_goes_and_the_user_name_stays() -> None:
    text = transcript(
        """
        220 mx.example.test ESMTP
        AUTH LOGIN
        334 VXNlcm5hbWU6
        YWxpY2VAZXhhbXBsZS50ZXN0
        334 UGFzc3dvcmQ6
        UzNjcjN0LVBhNTU=
        235 2.7.0 Authentication successful
        """
    )
    out = redact_text(text)
    assert "UzNjcjN0LVBhNTU=" not in out
    assert "[password redacted; 11 characters]" in out
    assert "YWxpY2VAZXhhbXBsZS50ZXN0" in out  # without --addresses the user name is kept


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        (f"AUTH PLAIN {PLAIN_BLOB}", PLAIN_BLOB),
        (f"AUTH XOAUTH2 {XOAUTH2}", XOAUTH2),
    ],
)
def test_initial_responses_on_the_auth_line_go(line: str, secret: str) -> None:
    text = transcript(
        f"""
        220 mx.example.test ESMTP
        {line}
        235 2.7.0 Authentication successful
        """
    )
    out = redact_text(text)
    assert secret not in out
    assert "S3cr3t" not in out and "ya29" not in out
    assert out.splitlines()[1].startswith("AUTH ")
    assert analyze_text(out).sessions[0].analysis.authenticated


def test_plain_and_xoauth2_after_a_334_go() -> None:
    text = transcript(
        f"""
        220 mx.example.test ESMTP
        AUTH PLAIN
        334
        {PLAIN_BLOB}
        235 2.7.0 ok
        AUTH XOAUTH2
        334
        {XOAUTH2}
        235 2.7.0 ok
        """
    )
    out = redact_text(text)
    assert PLAIN_BLOB not in out and XOAUTH2 not in out


def test_cram_md5_response_goes_and_the_challenge_keeps_its_shape() -> None:
    text = transcript(
        f"""
        220 mx.customer.com ESMTP
        AUTH CRAM-MD5
        334 {CRAM_CHALLENGE}
        {CRAM_RESPONSE}
        235 2.7.0 ok
        """
    )
    out = redact_text(text, hosts=True)
    assert CRAM_RESPONSE not in out
    assert "b913a602" not in out
    challenge = out.splitlines()[2].split()[1]
    decoded = base64.b64decode(challenge).decode()
    assert decoded.startswith("<1896.697170952@") and "customer" not in decoded


def test_a_password_typed_in_clear_goes_too() -> None:
    text = transcript(
        """
        220 mx.example.test ESMTP
        AUTH LOGIN
        334 VXNlcm5hbWU6
        alice
        334 UGFzc3dvcmQ6
        S3cr3t-Pa55
        501 5.5.2 Cannot decode response
        """
    )
    out = redact_text(text)
    assert "S3cr3t-Pa55" not in out


def test_a_secret_repeated_elsewhere_goes_everywhere() -> None:
    text = transcript(
        """
        220 mx.example.test ESMTP
        AUTH LOGIN
        334 VXNlcm5hbWU6
        YWxpY2U=
        334 UGFzc3dvcmQ6
        UzNjcjN0LVBhNTU=
        535 5.7.8 Error: authentication failed: UzNjcjN0LVBhNTU=
        """
    )
    assert "UzNjcjN0LVBhNTU=" not in redact_text(text)


def test_masks_hold_no_comma_a_csv_log_would_split_on() -> None:
    out = redact_text(f"220 mx ESMTP\nAUTH PLAIN {PLAIN_BLOB}\n235 2.7.0 ok\n")
    masked = out.splitlines()[1]
    assert "," not in masked and '"' not in masked
    assert "redacted" in masked


def test_masks_written_by_tools_are_left_alone() -> None:
    text = "220 mx ESMTP\nAUTH LOGIN\n334 VXNlcm5hbWU6\nYWxpY2U=\n334 UGFzc3dvcmQ6\n***\n235 ok\n"
    assert redact_text(text) == text


# -- stand-ins -----------------------------------------------------------------


def test_the_same_address_gets_the_same_stand_in_and_domains_stay_together() -> None:
    names = Pseudonyms(addresses=True, hosts=True, ips=True)
    line = names.text(
        "alice@customer.com bob@customer.com alice@customer.com Alice@Customer.COM "
        "carol@other.org mx1.customer.com mx1.customer.com smtp.other.org customer.com"
    )
    assert line.split() == [
        "user1@example-1.example",
        "user2@example-1.example",
        "user1@example-1.example",
        "user1@example-1.example",
        "user3@example-2.example",
        "host-1.example-1.example",
        "host-1.example-1.example",
        "host-2.example-2.example",
        "example-1.example",
    ]


def test_registrable_domains_follow_the_public_suffix_list() -> None:
    assert registrable_domain("mail.example.co.uk") == "example.co.uk"
    assert registrable_domain("mx.example.test") == "example.test"
    assert registrable_domain("a.b.contoso.local") == "contoso.local"
    names = Pseudonyms(hosts=True)
    assert names.text("mx.shop.co.uk www.shop.co.uk other.co.uk") == (
        "host-1.example-1.example host-2.example-1.example example-2.example"
    )


@pytest.mark.parametrize(
    "text",
    [
        "System.Net.Mail.SmtpException",
        "javax.mail.AuthenticationFailedException",
        "/var/www/class.phpmailer.php",
        "TLSv1.3:TLS_AES_256_GCM_SHA384",
        "5.7.1 2.0.0 Ok",
        "version 3.7.11",
    ],
)
def test_things_that_are_not_host_names_stay(text: str) -> None:
    assert Pseudonyms(addresses=True, hosts=True, ips=True).text(text) == text


def test_host_name_checks() -> None:
    assert is_host_name("mx.example.com")
    assert is_host_name("exch01.contoso.local")
    assert not is_host_name("smtplog.lark")
    assert not is_host_name("1.2.3")


def test_ips_become_documentation_addresses_and_loopback_stays() -> None:
    names = Pseudonyms(ips=True)
    out = names.text(
        "[10.1.2.3] 8.8.8.8 10.1.2.3 127.0.0.1 ::1 [IPv6:2a00:1450:4001:82b::1b] 12:34:56"
    )
    assert out == "[192.0.2.1] 192.0.2.2 192.0.2.1 127.0.0.1 ::1 [IPv6:2001:db8::1] 12:34:56"


def test_provider_names_the_diagnosis_relies_on_stay_but_not_the_tenant() -> None:
    names = Pseudonyms(hosts=True)
    out = names.text(
        "mx.google.com zen.spamhaus.org contoso-com.mail.protection.outlook.com mail.contoso.com"
    )
    kept, spamhaus, tenant, customer = out.split()
    assert kept == "mx.google.com" and spamhaus == "zen.spamhaus.org"
    assert tenant.endswith(".mail.protection.outlook.com") and "contoso" not in tenant
    assert customer == "host-2.example-1.example"


def test_helo_names_without_a_dot_are_replaced_everywhere() -> None:
    text = transcript(
        """
        220 mx.example.test ESMTP
        EHLO johns-laptop
        250-mx.example.test Hello johns-laptop [192.0.2.9]
        250 8BITMIME
        """
    )
    out = redact_text(text, hosts=True)
    assert "johns-laptop" not in out
    assert out.count("host-") >= 3


def test_auth_user_names_are_replaced_inside_base64() -> None:
    text = transcript(
        """
        220 mx.example.test ESMTP
        AUTH LOGIN
        334 VXNlcm5hbWU6
        YWxpY2VAY3VzdG9tZXIuY29t
        334 UGFzc3dvcmQ6
        UzNjcjN0LVBhNTU=
        235 2.7.0 ok
        MAIL FROM:<alice@customer.com>
        """
    )
    out = redact_text(text, addresses=True)
    user_line = out.splitlines()[3]
    assert base64.b64decode(user_line).decode() == "user1@example-1.example"
    assert "MAIL FROM:<user1@example-1.example>" in out


def test_redacting_twice_changes_nothing_more() -> None:
    text = transcript(
        """
        220 mx.customer.com ESMTP
        EHLO pc.customer.com
        250 mx.customer.com Hello pc.customer.com [198.18.0.7]
        MAIL FROM:<alice@customer.com>
        250 2.1.0 Ok
        """
    )
    once = redact_text(text, addresses=True, hosts=True, ips=True)
    assert redact_text(once, addresses=True, hosts=True, ips=True) == once


# -- bytes in, bytes out -------------------------------------------------------


def test_line_endings_and_undecodable_bytes_are_kept() -> None:
    data = (
        b"220 mx ESMTP\r\nEHLO c\r\n250 ok \xe9t\xe9\r\nAUTH PLAIN " + PLAIN_BLOB.encode() + b"\r\n"
    )
    out = redact_bytes(data, "x").data
    assert out.count(b"\r\n") == 4 and b"\xe9t\xe9" in out
    assert PLAIN_BLOB.encode() not in out


def test_a_missing_final_newline_stays_missing() -> None:
    assert redact_bytes(b"220 mx ESMTP\nQUIT\n221 bye", "x").data.endswith(b"221 bye")


def test_gzip_input_is_redacted_to_plain_text() -> None:
    data = gzip.compress(b"220 mx ESMTP\nAUTH PLAIN " + PLAIN_BLOB.encode() + b"\n235 ok\n")
    out = redact_bytes(data, "x.gz").data
    assert out.startswith(b"220 mx ESMTP\n") and PLAIN_BLOB.encode() not in out


# -- the command ---------------------------------------------------------------

CUSTOMER_BLOB = base64.b64encode(b"\0alice@customer.com\0S3cr3t-Pa55").decode()
SESSION = transcript(
    f"""
    220 mx.customer.com ESMTP Postfix
    EHLO pc.customer.com
    250-mx.customer.com Hello pc.customer.com [198.18.0.7]
    250 AUTH PLAIN LOGIN
    AUTH PLAIN {CUSTOMER_BLOB}
    235 2.7.0 Authentication successful
    MAIL FROM:<alice@customer.com>
    250 2.1.0 Ok
    RCPT TO:<bob@partner.org>
    554 5.7.1 <bob@partner.org>: Relay access denied
    """
)


def test_redact_command_writes_the_copy_and_says_what_it_did(tmp_path: Path) -> None:
    source = tmp_path / "session.txt"
    source.write_text(SESSION)
    run = run_cli("redact", "--all", str(source))
    assert run.code == 0
    assert CUSTOMER_BLOB not in run.stdout and "customer" not in run.stdout
    assert "relay access denied" in run.stdout.lower()
    assert "1 AUTH secret removed" in run.stderr
    assert "2 addresses, 2 domains, 2 host names, 1 IP address" in run.stderr


def test_redact_output_file_and_mapping(tmp_path: Path) -> None:
    source = tmp_path / "session.txt"
    source.write_text(SESSION)
    copy, key = tmp_path / "safe.txt", tmp_path / "key.tsv"
    run = run_cli("redact", "--addresses", str(source), "-o", str(copy), "--mapping", str(key))
    assert run.code == 0 and run.stdout == ""
    assert "user1@example-1.example" in copy.read_text()
    rows = [line.split("\t") for line in key.read_text().splitlines()]
    assert rows[0] == ["kind", "original", "stand-in"]
    assert ["address", "alice@customer.com", "user1@example-1.example"] in rows
    assert not list(tmp_path.glob(".*smtplog-*"))  # no temporary file left behind


def test_redact_reads_stdin() -> None:
    run = run_cli("redact", "-q", stdin=SESSION.encode())
    assert run.code == 0 and run.stderr == ""
    assert CUSTOMER_BLOB not in run.stdout


@pytest.mark.parametrize(
    ("args", "stdin", "code", "message"),
    [
        (("redact", "/nonexistent/x.txt"), None, 2, "no such file"),
        (("redact", "-"), b"Dear support, it does not work.\n", 3, "no SMTP"),
        (("redact", "-"), b"", 3, "empty input"),
        (("redact", "--dialect", "klingon", "-"), b"220 x\n", 2, "unknown dialect"),
    ],
)
def test_redact_errors_are_one_line(args: tuple[str, ...], stdin, code: int, message: str) -> None:  # type: ignore[no-untyped-def]
    run = run_cli(*args, stdin=stdin)
    assert run.code == code
    assert message in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert run.stdout == ""


def test_names_after_an_escaped_line_break_are_found() -> None:
    """smtplib's debug log shows replies as Python literals: b'...\\nname...'."""
    names = Pseudonyms(addresses=True, hosts=True)
    out = names.text(r"Msg: b'mx.customer.com\nsmtp.customer.com\nbob@customer.com'")
    assert (
        out
        == r"Msg: b'host-1.example-1.example\nhost-2.example-1.example\nuser1@example-1.example'"
    )


def test_names_glued_to_other_text_go_once_they_are_known() -> None:
    text = transcript(
        """
        220 mx.customer.com ESMTP
        EHLO c
        250-mx.customer.com250-PIPELINING250 8BITMIME
        0030: 55 04 03 13 0f 6d 78 2e  ..mx.customer.com0..
        """
    )
    out = redact_text(text, hosts=True)
    assert "customer" not in out
    assert "250-host-1.example-1.example250-PIPELINING" in out


def test_byte_counts_that_frame_data_follow_the_redaction() -> None:
    from smtplog.redact import fix_byte_counts

    lines = ["From: alice@customer.com", "To: bob@partner.org"]
    count = sum(len(line) + 2 for line in lines)  # tshark counts the CRLF of each line
    before = [str(count), *lines, "", "\t8", "250 ok"]
    after = [str(count), "From: user1@example-1.example", "To: user2@example-2.example", ""]
    after += ["\t8", "250 ok"]
    fix_byte_counts(before, after)
    assert after[0] == str(sum(len(line) + 2 for line in after[1:3]))
    assert after[4] == "\t8"  # "250 ok" + CRLF is 8 bytes, and it did not change
    unrelated = ["42", "From: alice@customer.com"]  # 42 is not what follows: not a count
    changed = ["42", "From: user1@example-1.example"]
    fix_byte_counts(unrelated, changed)
    assert changed[0] == "42"


def test_a_secret_wrapped_over_two_lines_goes_entirely() -> None:
    """A mailer hard-wrapped the paste at 72 columns, through the AUTH PLAIN blob."""
    blob = base64.b64encode(
        b"\0very.long.user.name.for.testing@customer-example.com\0S3cr3t-Pa55-and-more"
    ).decode()
    lines = [
        "220 mx.customer-example.com ESMTP Postfix (Debian/GNU) ready and waiting for you",
        "EHLO client.customer-example.com",
        "250-mx.customer-example.com Hello client.customer-example.com, pleased to meet you",
        "250 AUTH PLAIN LOGIN",
        f"AUTH PLAIN {blob}",
        "235 2.7.0 Authentication successful, you may now relay mail through this server",
        "QUIT",
        "221 2.0.0 Bye",
    ]
    wrapped = [line[i : i + 72] for line in lines for i in range(0, len(line), 72)]
    text = "\n".join(wrapped) + "\n"
    assert blob[:61] in text and blob[61:] in text
    out = redact_text(text)
    assert blob[:61] not in out and blob[61:] not in out
    assert "S3cr3t" not in out


def test_a_customer_appliance_named_like_a_rule_keeps_only_that_label() -> None:
    names = Pseudonyms(hosts=True, addresses=True)
    out = names.text("barracuda.customer.com bob@customer.com zen.spamhaus.org")
    assert out == "barracuda.example-1.example user1@example-1.example zen.spamhaus.org"
