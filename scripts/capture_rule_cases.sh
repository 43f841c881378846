#!/usr/bin/env bash
# Real captures for the diagnosis tests (tests/rules/cases/*.toml use them).
#
# Runs swaks and telnet (typed through a pty by samples/drive_telnet.py) against the
# local Postfix lab (lab/postfix-lab.sh: mx 2525, submission 2587, smtps 2465) and
# writes the unedited output to tests/rules/captures/. For the "plain SMTP to port 465"
# case it forwards 127.0.0.1:465 to the lab's implicit-TLS port for the duration of
# that one capture (root needed to bind 465). Everything stays on loopback.
#
# Usage: scripts/capture_rule_cases.sh        (then review `git diff tests/rules/captures`)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/tests/rules/captures
MX_PORT=${SMTPLOG_LAB_MX_PORT:-2525}
SUBMISSION_PORT=${SMTPLOG_LAB_SUBMISSION_PORT:-2587}
SMTPS_PORT=${SMTPLOG_LAB_SMTPS_PORT:-2465}
PASSWORD='S3cr3t-Pa55'

say() { printf 'capture: %s\n' "$*" >&2; }
die() { printf 'capture: ERROR: %s\n' "$*" >&2; exit 1; }
port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

bash "$ROOT/lab/postfix-lab.sh" start >&2
mkdir -p "$OUT"
FORWARD_PID=
cleanup() {
    if [ -n "$FORWARD_PID" ] && kill -0 "$FORWARD_PID" 2>/dev/null; then kill "$FORWARD_PID"; fi
}
trap cleanup EXIT

say "swaks $(swaks --version 2>&1 | sed -n 's/^swaks version //p'), $(dpkg-query -W -f='postfix ${Version}' postfix)"

# capture NAME CMD... : the real tool, stdout and stderr merged (as users paste it), never edited.
capture() {
    local out=$OUT/$1; shift
    say "$(printf '%q ' "$@") > ${out#"$ROOT"/}"
    local rc=0
    "$@" >"$out" 2>&1 || rc=$?
    say "  exit status $rc"
}

# telnet_session NAME PORT <<script : the lines a person types (see samples/drive_telnet.py).
telnet_session() {
    local out=$OUT/$1 port=$2
    say "telnet 127.0.0.1 $port > ${out#"$ROOT"/}"
    python3 "$ROOT/samples/drive_telnet.py" --out "$out" 127.0.0.1 "$port" || die "telnet failed: $out"
}

S=(swaks --helo client.example.test)

# auth-not-offered: submission offers AUTH only after STARTTLS; swaks asked for AUTH without TLS.
capture swaks-auth-before-starttls.txt \
    "${S[@]}" --server "127.0.0.1:$SUBMISSION_PORT" --from alice@example.test --to bob@example.test \
    --auth LOGIN --auth-user alice@example.test --auth-password "$PASSWORD"

# tls-port-mismatch: implicit TLS (--tls-on-connect) to the plain-SMTP port.
capture swaks-implicit-tls-to-plain-port.txt \
    "${S[@]}" --server "127.0.0.1:$MX_PORT" --tls-on-connect --from alice@example.test \
    --to bob@example.test --timeout 5

# tls-port-mismatch: plain SMTP to port 465 (forwarded to the lab's implicit-TLS port).
port_open 465 && die "127.0.0.1:465 is in use"
python3 - "$SMTPS_PORT" <<'EOF' &
import asyncio, sys
async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()
async def handle(reader, writer):
    up_reader, up_writer = await asyncio.open_connection("127.0.0.1", int(sys.argv[1]))
    await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer), return_exceptions=True)
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 465)
    async with server:
        await asyncio.sleep(60)
asyncio.run(main())
EOF
FORWARD_PID=$!
for _ in $(seq 50); do port_open 465 && break; sleep 0.1; done
capture swaks-plain-to-port-465.txt \
    "${S[@]}" --server 127.0.0.1:465 --from alice@example.test --to bob@example.test --timeout 5
kill "$FORWARD_PID" 2>/dev/null || true
wait "$FORWARD_PID" 2>/dev/null || true
FORWARD_PID=

# ehlo-not-fqdn: delivered, but the client calls itself "localhost".
capture swaks-ehlo-localhost-delivered.txt \
    swaks --helo localhost --server "127.0.0.1:$MX_PORT" --from sender@example.org --to alice@example.test

# delivered over STARTTLS with AUTH: the silent case for most rules.
capture swaks-starttls-auth-delivered.txt \
    "${S[@]}" --server "127.0.0.1:$SUBMISSION_PORT" -tls --from alice@example.test --to bob@example.test \
    --auth LOGIN --auth-user alice@example.test --auth-password "$PASSWORD"

# auth-protocol-error: AUTH LOGIN answered with the user name in clear text, not base64.
telnet_session telnet-auth-login-not-base64.txt "$MX_PORT" <<'EOF'
EHLO client.example.test
AUTH LOGIN
alice@example.test
QUIT
EOF

# command-sequence-error: RCPT before MAIL, typed by hand.
telnet_session telnet-rcpt-before-mail.txt "$MX_PORT" <<'EOF'
EHLO client.example.test
RCPT TO:<alice@example.test>
QUIT
EOF

# command-syntax-error: MAIL FROM without the colon.
telnet_session telnet-mail-from-no-colon.txt "$MX_PORT" <<'EOF'
EHLO client.example.test
MAIL FROM <sender@example.org>
QUIT
EOF

say "done: review git diff ${OUT#"$ROOT"/}"
