#!/usr/bin/env bash
# Regenerate the real SMTP transcripts in samples/ from real tools against the local lab.
#
#   bash samples/capture.sh
#
# Starts the lab (lab/postfix-lab.sh, lab/exchange-lab.sh; root needed for Postfix), runs
# swaks and telnet against it, and writes samples/swaks/*.txt, samples/telnet/*.txt and
# samples/seed/seed-example.txt. The files are the unedited output of the tools (swaks:
# stdout and stderr merged with 2>&1; telnet: every byte its pseudo-terminal displayed).
# Dates, queue IDs and message IDs change at every run. The lab is left running.
#
# Environment: the lab variables of lab/postfix-lab.sh and lab/exchange-lab.sh, plus
#   SMTPLOG_LAB_CLOSED_PORT  a loopback port nothing listens on   (default 2599)
#   SMTPLOG_LAB_SILENT_PORT  port of the accept-but-never-greet listener (default 2598)
#   SMTPLOG_SEED             the seed document (default ../shared/seed/use-telnet-to-test-smtp.txt
#                            next to the repository)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SAMPLES=$ROOT/samples
LAB=$ROOT/lab
MX_PORT=${SMTPLOG_LAB_MX_PORT:-2525}
SUBMISSION_PORT=${SMTPLOG_LAB_SUBMISSION_PORT:-2587}
SMTPS_PORT=${SMTPLOG_LAB_SMTPS_PORT:-2465}
EXCHANGE_PORT=${SMTPLOG_LAB_EXCHANGE_PORT:-2526}
CLOSED_PORT=${SMTPLOG_LAB_CLOSED_PORT:-2599}
SILENT_PORT=${SMTPLOG_LAB_SILENT_PORT:-2598}
SEED=${SMTPLOG_SEED:-$ROOT/../shared/seed/use-telnet-to-test-smtp.txt}
PASSWORD='S3cr3t-Pa55'

say() { printf 'capture: %s\n' "$*" >&2; }
die() { printf 'capture: ERROR: %s\n' "$*" >&2; exit 1; }
port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

bash "$LAB/postfix-lab.sh" start >&2
bash "$LAB/exchange-lab.sh" start >&2

port_open "$CLOSED_PORT" && die "127.0.0.1:$CLOSED_PORT must be closed for the connection-refused samples"
port_open "$SILENT_PORT" && die "127.0.0.1:$SILENT_PORT is in use; set SMTPLOG_LAB_SILENT_PORT"

WORK=$(mktemp -d /tmp/smtplog-capture.XXXXXX)
SILENT_PID=
cleanup() {
    if [ -n "$SILENT_PID" ] && kill -0 "$SILENT_PID" 2>/dev/null; then kill "$SILENT_PID"; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$SAMPLES/swaks" "$SAMPLES/telnet" "$SAMPLES/seed"

say "swaks $(swaks --version 2>&1 | sed -n 's/^swaks version //p'), $(dpkg-query -W -f='telnet ${Version}' inetutils-telnet), $(dpkg-query -W -f='postfix ${Version}' postfix), $(openssl version)"

# capture FILE CMD... : run the real tool, stdout and stderr merged, never edited.
capture() {
    local out=$1; shift
    say "$(printf '%q ' "$@") > ${out#"$ROOT"/}"
    local rc=0
    "$@" >"$out" 2>&1 || rc=$?
    say "  exit status $rc"
}

# ---------------------------------------------------------------- swaks
cd "$WORK"  # swaks names attachments after the file: keep the attachment path short
S=(swaks --helo client.example.test)

capture "$SAMPLES/swaks/delivered.txt" \
    "${S[@]}" --server "127.0.0.1:$MX_PORT" --from sender@example.org --to alice@example.test

capture "$SAMPLES/swaks/auth-login-delivered.txt" \
    "${S[@]}" --server "127.0.0.1:$MX_PORT" -tls --from alice@example.test --to someone@example.org \
    --auth LOGIN --auth-user alice@example.test --auth-password "$PASSWORD"

capture "$SAMPLES/swaks/auth-plain-delivered.txt" \
    "${S[@]}" --server "127.0.0.1:$SUBMISSION_PORT" -tls --from alice@example.test --to someone@example.org \
    --auth PLAIN --auth-user alice@example.test --auth-password "$PASSWORD"

capture "$SAMPLES/swaks/relay-denied.txt" \
    "${S[@]}" --server "127.0.0.1:$MX_PORT" --from alice@example.test --to someone@example.org

capture "$SAMPLES/swaks/recipient-unknown.txt" \
    "${S[@]}" --server "127.0.0.1:$MX_PORT" --from sender@example.org --to nobody@example.test

capture "$SAMPLES/swaks/auth-rejected.txt" \
    "${S[@]}" --server "127.0.0.1:$MX_PORT" --from alice@example.test --to someone@example.org \
    --auth LOGIN --auth-user alice@example.test --auth-password wrong-password

capture "$SAMPLES/swaks/connection-refused.txt" \
    "${S[@]}" --server "127.0.0.1:$CLOSED_PORT" --from sender@example.org --to alice@example.test

capture "$SAMPLES/swaks/tls-required.txt" \
    "${S[@]}" --server "127.0.0.1:$SUBMISSION_PORT" --from alice@example.test --to bob@example.test

# ~200 kB attachment (base64: ~270 kB) against message_size_limit = 100000.
head -c 200000 /dev/zero >report.bin
capture "$SAMPLES/swaks/message-too-large.txt" \
    "${S[@]}" --server "127.0.0.1:$MX_PORT" --from sender@example.org --to alice@example.test \
    --attach @report.bin --suppress-data

capture "$SAMPLES/swaks/time-lapse.txt" \
    "${S[@]}" --server "127.0.0.1:$MX_PORT" --from sender@example.org --to bob@example.test --show-time-lapse

capture "$SAMPLES/swaks/implicit-tls.txt" \
    "${S[@]}" --server "127.0.0.1:$SMTPS_PORT" --tls-on-connect --from alice@example.test --to someone@example.org \
    --auth LOGIN --auth-user alice@example.test --auth-password "$PASSWORD"

# A listener that accepts TCP connections and never says anything (ends by itself).
python3 - "$SILENT_PORT" <<'EOF' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
s.settimeout(1.0)
held, end = [], time.monotonic() + 60
while time.monotonic() < end:
    try:
        held.append(s.accept()[0])
    except socket.timeout:
        pass
EOF
SILENT_PID=$!
for _ in $(seq 50); do port_open "$SILENT_PORT" && break; sleep 0.1; done
capture "$SAMPLES/swaks/no-banner-timeout.txt" \
    "${S[@]}" --server "127.0.0.1:$SILENT_PORT" --from sender@example.org --to alice@example.test --timeout 3
kill "$SILENT_PID" 2>/dev/null || true
wait "$SILENT_PID" 2>/dev/null || true
SILENT_PID=

# ---------------------------------------------------------------- telnet (real, in a pty)
# telnet_session FILE HOST PORT <<script : the lines a person types (see drive_telnet.py).
telnet_session() {
    local out=$1 host=$2 port=$3
    say "telnet $host $port > ${out#"$ROOT"/} (typed by samples/drive_telnet.py)"
    python3 "$SAMPLES/drive_telnet.py" --out "$out" "$host" "$port" || die "telnet session failed: $out"
}

# The Microsoft procedure against Postfix: AUTH LOGIN with base64 user name and password.
telnet_session "$SAMPLES/telnet/postfix-auth-login-delivered.txt" 127.0.0.1 "$MX_PORT" <<'EOF'
EHLO client.example.test
AUTH LOGIN
YWxpY2VAZXhhbXBsZS50ZXN0
UzNjcjN0LVBhNTU=
MAIL FROM:<alice@example.test>
RCPT TO:<someone@example.org>
DATA
Subject: Test from telnet

This is a test message.
.
QUIT
EOF

# The same procedure against the Exchange-like server (the demo sample).
telnet_session "$SAMPLES/telnet/exchange-style-delivered.txt" 127.0.0.1 "$EXCHANGE_PORT" <<'EOF'
EHLO contoso.com
AUTH LOGIN
YWxpY2U=
UzNjcjN0LVBhNTU=
MAIL FROM:<alice@contoso.com>
RCPT TO:<bob@fabrikam.com>
DATA
From: alice@contoso.com
To: bob@fabrikam.com
Subject: Test message sent with telnet

This is a test message.
.
QUIT
EOF

# EHLP, Backspace (DEL 0x7f, what a Linux terminal sends), "O example.test".
telnet_session "$SAMPLES/telnet/typo-backspace.txt" 127.0.0.1 "$MX_PORT" <<'EOF'
EHLP\x7fO example.test
MAIL FROM:<sender@example.org>
RCPT TO:<bob@example.test>
DATA
Subject: typo test

Hello Bob.
.
QUIT
EOF

# Same typo corrected with Ctrl-H (0x08), which the terminal does not treat as erase here:
# the byte reaches the server, the user sees the error and types the command again.
telnet_session "$SAMPLES/telnet/typo-ctrl-h.txt" 127.0.0.1 "$MX_PORT" <<'EOF'
EHLP\x08O example.test
EHLO example.test
MAIL FROM:<sender@example.org>
RCPT TO:<bob@example.test>
DATA
Subject: typo test

Hello Bob.
.
QUIT
EOF

telnet_session "$SAMPLES/telnet/relay-denied.txt" 127.0.0.1 "$MX_PORT" <<'EOF'
EHLO client.example.test
MAIL FROM:<alice@example.test>
RCPT TO:<someone@example.org>
QUIT
EOF

telnet_session "$SAMPLES/telnet/connection-refused.txt" 127.0.0.1 "$CLOSED_PORT" </dev/null

# ---------------------------------------------------------------- seed (published)
if [ -f "$SEED" ]; then
    python3 - "$SEED" "$SAMPLES/seed/seed-example.txt" <<'EOF'
import sys
data = open(sys.argv[1], "rb").read()
marker = b"The following example shows"
start = 0 if data.startswith(marker) else data.index(b"\n" + marker) + 1
open(sys.argv[2], "wb").write(data[start:])
EOF
    say "seed example copied to samples/seed/seed-example.txt"
else
    say "seed document not found at $SEED: samples/seed/seed-example.txt left as it is"
fi

say "done; lab left running (lab/postfix-lab.sh status, lab/exchange-lab.sh status)"
