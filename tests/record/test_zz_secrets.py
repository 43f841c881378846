"""No password in anything the recorder tests wrote (runs last in tests/record).

Searches every file under the session's temporary directory (transcripts, saved
outputs, screens, the default transcript folder) for each test password in clear,
in base64, and inside an AUTH PLAIN blob.
"""

from __future__ import annotations

import base64

import pytest
from recorder_support import PASSWORD, USER, smtplog

pytestmark = pytest.mark.slow

PASSWORDS = (PASSWORD, "wrong-password", "not-" + PASSWORD)


def forms(password: str) -> set[bytes]:
    found = {password.encode()}
    for blob in (
        password.encode(),
        f"\0{USER}\0{password}".encode(),
        f"{USER}\0{USER}\0{password}".encode(),
    ):
        encoded = base64.b64encode(blob)
        found.add(encoded)
        found.add(encoded.rstrip(b"="))
    return found


def test_no_password_anywhere(writes, smtpd, tmp_path_factory):  # type: ignore[no-untyped-def]
    # Make sure there is something to search even when this file runs alone,
    # including the default transcript folder under XDG_DATA_HOME.
    for mechanism in ("PLAIN", "LOGIN"):
        result = smtplog(writes, "probe", f"127.0.0.1:{smtpd}", "--insecure", "--auth",
                         mechanism, "--user", USER, "--from", USER, "--to", "b@y.test",
                         password=PASSWORD, save=False)  # fmt: skip
        assert result.code == 0, result.stdout + result.stderr
        assert PASSWORD not in result.stdout + result.stderr
    files = [path for path in tmp_path_factory.getbasetemp().rglob("*") if path.is_file()]
    transcripts = [path for path in files if b"# smtplog transcript" in path.read_bytes()[:200]]
    assert len(transcripts) >= 2
    assert list((writes / "xdg" / "smtplog" / "transcripts").glob("*-probe-127.0.0.1-*.txt"))
    needles = {needle for password in PASSWORDS for needle in forms(password)}
    leaks = [
        (str(path), needle.decode())
        for path in files
        for needle in needles
        if needle in path.read_bytes()
    ]
    assert leaks == []
