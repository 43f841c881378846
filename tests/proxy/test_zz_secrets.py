"""No password in anything the proxy and capture tests wrote (runs last in tests/proxy).

The same search as tests/record/test_zz_secrets.py (every file under the session's
temporary directory, the password in clear, in base64 and inside an AUTH PLAIN blob),
so it also holds when tests/proxy runs alone; and it checks that there was something
to search: transcripts of sessions that authenticated through the proxy.
"""

from __future__ import annotations

import pytest
from recorder_support import PASSWORD
from test_zz_secrets import PASSWORDS, forms

pytestmark = pytest.mark.slow


def test_no_password_in_what_the_proxy_wrote(writes, tmp_path_factory):  # type: ignore[no-untyped-def]
    files = [path for path in tmp_path_factory.getbasetemp().rglob("*") if path.is_file()]
    proxied = [
        path
        for path in writes.glob("proxy-*/*.txt")
        if b"tool=smtplog-0" in path.read_bytes()[:200] and b"redacted" in path.read_bytes()
    ]
    if not proxied:
        pytest.skip("no proxy session with AUTH ran in this test session")
    needles = {needle for password in PASSWORDS for needle in forms(password)}
    assert forms(PASSWORD) <= needles
    leaks = [
        (str(path), needle.decode())
        for path in files
        for needle in needles
        if needle in path.read_bytes()
    ]
    assert leaks == []
