"""Property and fuzz tests: whatever the input, smtplog answers, validly and safely.

The inputs and the properties are in tests/fuzzing.py. In `make test` the
hypothesis profile "ci" keeps this bounded and repeatable; `make fuzz` runs the
"fuzz" profile (thousands of fresh examples per test) and the atheris harness.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smtplog import dialects
from smtplog.errors import ExitCode

from .fuzzing import (
    DIALECTS,
    DOCUMENTED_EXIT_CODES,
    SecretSession,
    analyze,
    any_bytes,
    check_input,
    check_outputs,
    check_secrets,
    check_spans,
    mutated_sample,
    render_all,
    run_cli,
    secret_session,
)
from .hostile import unsafe_characters
from .samples import load_samples

SAMPLES = load_samples()


@pytest.mark.parametrize("sample", SAMPLES, ids=str)
def test_every_sample_in_every_format(sample) -> None:  # type: ignore[no-untyped-def]
    report = analyze(sample.file.read_bytes())
    assert report is not None, sample.path
    check_spans(report)
    check_outputs(render_all(report), len(report.sessions))


@given(data=any_bytes, dialect=st.sampled_from(DIALECTS))
def test_any_bytes(data: bytes, dialect: str | None) -> None:
    check_input(data, dialect)


@given(data=mutated_sample(), dialect=st.sampled_from(DIALECTS))
@settings(max_examples=settings().max_examples * 3)
def test_mutated_samples(data: bytes, dialect: str | None) -> None:
    check_input(data, dialect)


@given(data=mutated_sample(), dialect=st.sampled_from(DIALECTS))
def test_mutated_samples_without_cleanup(data: bytes, dialect: str | None) -> None:
    check_input(data, dialect, cleanup=False)


@given(session=secret_session(), dialect=st.sampled_from(DIALECTS))
def test_secrets_never_appear(session: SecretSession, dialect: str | None) -> None:
    """Whatever dialect reads it: one that does not fit leaves lines it does not
    understand, and credentials among them are masked too."""
    report = analyze(session.data, dialect)
    if report is not None:  # else refused (binary, not SMTP as this dialect): nothing shown
        check_secrets(render_all(report), session.secrets)
    argv = ["redact", "-"] if dialect is None else ["redact", "--dialect", dialect, "-"]
    code, copy, err = run_cli(argv, stdin=session.data)
    assert code in DOCUMENTED_EXIT_CODES, err
    check_secrets({"redacted copy": copy, "redact messages": err}, session.secrets)


@given(
    data=st.one_of(mutated_sample(), any_bytes),
    fmt=st.sampled_from(["text", "terminal", "json", "jsonl", "markdown", "html"]),
    dialect=st.sampled_from([None, *dialects.REGISTRY]),
)
@settings(max_examples=max(10, settings().max_examples // 3))
def test_the_command_line(data: bytes, fmt: str, dialect: str | None) -> None:
    """`smtplog analyze` on standard input: a documented exit code, never a traceback."""
    argv = ["analyze", "--format", fmt, "--color", "always", "-"]
    if dialect:
        argv[1:1] = ["--dialect", dialect]
    code, out, err = run_cli(argv, stdin=data)
    assert code in DOCUMENTED_EXIT_CODES, (code, err)
    assert code != ExitCode.INTERNAL and "internal error" not in err, err
    assert "Traceback" not in err  # stdout may quote one: the smtplib samples hold one
    assert not unsafe_characters(out, terminal=fmt == "terminal")
    assert not unsafe_characters(err)
    if code in (ExitCode.USAGE, ExitCode.NOT_SMTP):
        assert err.startswith("smtplog: ") and err.count("\n") == 1, err


@given(what=st.text(min_size=1, max_size=200), fmt=st.sampled_from(["text", "json"]))
def test_explain_anything(what: str, fmt: str) -> None:
    code, out, err = run_cli(["explain", "--format", fmt, "--", what])
    assert code in DOCUMENTED_EXIT_CODES, err
    assert "Traceback" not in err and "internal error" not in err
    assert not unsafe_characters(out) and not unsafe_characters(err)
    if fmt == "json" and code == ExitCode.OK:
        json.loads(out)


@given(data=st.one_of(mutated_sample(), any_bytes), fmt=st.sampled_from(["text", "json"]))
@settings(max_examples=max(10, settings().max_examples // 3))
def test_dialects_detect_anything(data: bytes, fmt: str) -> None:
    code, out, err = run_cli(["dialects", "--format", fmt, "--detect", "-"], stdin=data)
    assert code in DOCUMENTED_EXIT_CODES, err
    assert "Traceback" not in err and "internal error" not in err
    assert not unsafe_characters(out) and not unsafe_characters(err)
    if fmt == "json" and code != ExitCode.USAGE:  # usage: unreadable input, nothing written
        json.loads(out)


# -- what fuzzing found: one test per crash, with the smallest input that showed it ----------


def test_damaged_deflate_data_in_a_gzip_file_is_an_input_error() -> None:
    import gzip

    packed = bytearray(gzip.compress(b"220 mx ESMTP\n" * 50))
    packed[12] ^= 0xFF  # the first byte of the deflate stream: "invalid block type"
    code, _, err = run_cli(["analyze", "-"], stdin=bytes(packed))
    assert code == ExitCode.USAGE
    assert err.startswith("smtplog: <stdin>: damaged gzip file"), err


def test_a_date_that_does_not_exist_in_a_timestamp_prefix() -> None:
    lines = [
        "Nov 38 20:46:41 mx postfix/smtp[1]: connect to 192.0.2.1[192.0.2.1]:25: Connection refused",
        "Nov 28 20:46:42 mx postfix/smtp[1]: 4F9D: to=<a@example.net>, relay=none, delay=1, "
        "dsn=4.4.1, status=deferred (connect to 192.0.2.1[192.0.2.1]:25: Connection refused)",
    ]
    report = analyze(("\n".join(lines) + "\n").encode())
    assert report is not None and report.sessions


def test_credentials_after_a_stray_354_are_masked() -> None:
    """A 354 that answers no DATA starts no message: the AUTH exchange after it is one."""
    session = "\n".join(
        [
            "220 mx.example.test ESMTP",
            "354 ",
            "EHLO client.example.org",
            "250 AUTH LOGIN",
            "AUTH LOGIN",
            "334 VXNlcm5hbWU6",
            "YWxpY2VAZXhhbXBsZS50ZXN0",
            "334 UGFzc3dvcmQ6",
            "MDAwMDAwMDA=",  # base64 of the password 00000000
            "235 2.7.0 Authentication successful",
            "QUIT",
            "221 2.0.0 Bye",
            "",
        ]
    )
    report = analyze(session.encode())
    assert report is not None
    check_secrets(render_all(report), ("00000000", "MDAwMDAwMDA="))


def test_a_paste_that_starts_at_354_is_read_as_the_message() -> None:
    from smtplog.events import DataBody

    pasted = "354 End data with <CR><LF>.<CR><LF>\nSubject: hi\n\nhello\n.\n250 2.0.0 Ok: queued\n"
    report = analyze(pasted.encode())
    assert report is not None
    bodies = [e for e in report.sessions[0].analysis.events if isinstance(e, DataBody)]
    assert bodies and bodies[0].line_count == 3


@pytest.mark.parametrize("dialect", [None, "curl", "postfix", "exchange", "smtplib"])
def test_credentials_in_lines_a_dialect_does_not_understand_are_masked(
    dialect: str | None,
) -> None:
    """Two quoted lines made this telnet paste curl's; its AUTH lines were shown as
    lines not understood, the password's base64 with them."""
    session = "\n".join(
        [
            "220 mx.example.test ESMTP",
            "EHLO client.example.org",
            "250-mx.example.test",
            "250 AUTH LOGIN PLAIN",
            "AUTH LOGIN",
            "334 VXNlcm5hbWU6",
            "YWxpY2VAZXhhbXBsZS50ZXN0",
            "334 UGFzc3dvcmQ6",
            "MDAwMDAwMDA=",
            "235 2.7.0 Authentication successful",
            "> ",
            "> ",
            "AUTH PLAIN AGFsaWNlADAwMDAwMDAw",
            "235 2.7.0 Authentication successful",
            "QUIT",
            "221 2.0.0 Bye",
            "",
        ]
    )
    secrets = ("00000000", "MDAwMDAwMDA=", "AGFsaWNlADAwMDAwMDAw")
    report = analyze(session.encode(), dialect)
    if report is not None:  # a log dialect finds no session in it: nothing is shown
        check_secrets(render_all(report), secrets)
    argv = ["redact", "-"] if dialect is None else ["redact", "--dialect", dialect, "-"]
    code, copy, err = run_cli(argv, stdin=session.encode())
    if code == ExitCode.OK:
        assert not any(secret in copy + err for secret in secrets[1:])
    else:
        assert code == ExitCode.NOT_SMTP, err


def test_a_python_literal_with_an_invalid_escape_warns_nobody() -> None:
    """smtplib's payloads are read with ast.literal_eval: an invalid escape made the
    compiler warn on stderr (shown by default from Python 3.12), with the escape
    character itself in the message ("\\<ESC>")."""
    import warnings

    from smtplog.dialects.smtplib import literal

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert literal("b'ehlo \\c\\\x1b]0;owned\x07'") is not None
    assert caught == []


def test_a_secret_visible_only_once_cleanup_reads_the_line() -> None:
    """A line after a successful AUTH was taken for credentials typed out of turn; the
    same line elsewhere showed it only once cleanup removed its colour escapes, so
    the redactor could not cut it out, and failed with an internal error."""
    noise = "\x1b[31;1mRED\x1b[0m\x1b[5A"
    session = "\n".join(
        [
            "220 mx.example.test ESMTP",
            noise,
            "EHLO client.example.org",
            "250 AUTH LOGIN",
            "AUTH LOGIN",
            "334 VXNlcm5hbWU6",
            "YWxpY2VAZXhhbXBsZS50ZXN0",
            "334 UGFzc3dvcmQ6",
            "MDAwMDAwMDo=",
            "235 2.7.0 Authentication successful",
            noise,
            "QUIT",
            "221 2.0.0 Bye",
            "",
        ]
    )
    code, copy, err = run_cli(["redact", "-"], stdin=session.encode())
    assert code == ExitCode.OK, err
    assert "MDAwMDAwMDo=" not in copy and "RED" not in copy


def test_an_auth_command_after_a_334_is_masked() -> None:
    """A stray 334 put the session in an AUTH exchange; the AUTH PLAIN command after it
    was read as a response to the challenge, and shown with its credentials."""
    session = "\n".join(
        [
            "220 mx.example.test ESMTP",
            "EHLO client.example.org",
            "250 AUTH LOGIN PLAIN",
            "334 VXNlcm5hbWU6",
            "AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdAAwMDAwMDAwOg==",
            "235 2.7.0 Authentication successful",
            "QUIT",
            "221 2.0.0 Bye",
            "",
        ]
    )
    report = analyze(session.encode())
    assert report is not None
    check_secrets(render_all(report), ("0000000:", "AGFsaWNlQGV4YW1wbGUudGVzdAAwMDAwMDAwOg=="))
