"""Wall time of `smtplog probe` versus `swaks` against the same local server, same options.

Usage: .venv/bin/python bench/probe_vs_swaks.py [HOST:PORT]  (default: the lab, 127.0.0.1:2525)

Both run the same session: EHLO, STARTTLS (certificate not verified), MAIL FROM,
RCPT TO, DATA with a generated message, QUIT. Uses hyperfine (apt-get install
hyperfine) and prints its table; smtplog's time includes writing the transcript
and rendering the analysis, swaks's includes its Perl start-up.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    target = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:2525"
    host, _, port = target.rpartition(":")
    for tool in ("hyperfine", "swaks"):
        if not shutil.which(tool):
            print(f"{tool} is not installed (apt-get install {tool})", file=sys.stderr)
            return 2
    smtplog = Path(sys.executable).with_name("smtplog")
    envelope = "--from probe@client.test --to alice@example.test"
    with tempfile.TemporaryDirectory() as folder:
        commands = {
            "smtplog probe": f"{smtplog} probe {target} --insecure {envelope} "
            f"--save {folder}/t.txt --format text",
            "swaks": f"swaks --server {host} --port {port} --tls {envelope} --silent 2",
            "smtplog probe --no-tls": f"{smtplog} probe {target} --no-tls {envelope} "
            f"--save {folder}/t.txt --format text",
            "swaks (no TLS)": f"swaks --server {host} --port {port} {envelope} --silent 2",
            "smtplog --help (start-up)": f"{smtplog} --help",
        }
        arguments = ["hyperfine", "--warmup", "3", "--runs", "20", "--ignore-failure", "-N"]
        for name, command in commands.items():
            arguments += ["--command-name", name, command]
        return subprocess.run(arguments, cwd=ROOT, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
