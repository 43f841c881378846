"""Every sample of the client-program dialects: in the manifest, read as labelled, no password.

The checks themselves are in tests/dialects/_client_samples.py; each dialect's own
module tests the lines that are easy to get wrong.
"""

from __future__ import annotations

import pytest

from tests.dialects._client_samples import (
    check_no_secrets,
    check_sample,
    manifest_rows,
    sample_files,
)

CLIENT_DIALECTS = (
    "curl",
    "javamail",
    "mailkit",
    "msmtp",
    "nodemailer",
    "openssl",
    "perl",
    "phpmailer",
    "ruby",
    "smtplib",
)
ROWS = [
    (dialect, path, expected)
    for dialect in CLIENT_DIALECTS
    for path, expected in manifest_rows(dialect)
]


@pytest.mark.parametrize("dialect", CLIENT_DIALECTS)
def test_every_sample_is_in_the_manifest(dialect: str) -> None:
    rows = manifest_rows(dialect)
    assert rows
    assert sorted(path.split("/", 1)[1] for path, _ in rows) == sample_files(dialect)


@pytest.mark.parametrize(("dialect", "path", "expected"), ROWS, ids=[row[1] for row in ROWS])
def test_sample(dialect: str, path: str, expected: list) -> None:
    check_sample(path, expected, dialect)


@pytest.mark.parametrize("path", [row[1] for row in ROWS])
def test_sample_never_shows_the_password(path: str) -> None:
    check_no_secrets(path)
