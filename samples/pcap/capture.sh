#!/usr/bin/env bash
# Regenerate the packet-capture samples in samples/pcap/: tcpdump (classic pcap) and
# tshark/dumpcap (pcapng) on loopback while real clients talk to the local mail lab.
#
#   bash samples/pcap/capture.sh          # as root on Debian 12 (capturing needs root)
#
# Starts the Postfix lab (lab/postfix-lab.sh), then for each sample: starts the capture,
# runs the client, stops the capture. The files are exactly what tcpdump/dumpcap wrote.
# Times, ports, sequence numbers and queue IDs change at every run. The lab is left running.
#
# Environment: the lab variables of lab/postfix-lab.sh, plus
#   SMTPLOG_LAB_CLOSED_PORT   a loopback port nothing listens on            (default 2599)
#   SMTPLOG_LAB_SILENT_PORT   a free port for the accept-but-never-greet listener (2598)
#   SMTPLOG_LAB_FULL_PORT     a free port for the listener whose accept queue is full (2597)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=$ROOT/samples/pcap
MX_PORT=${SMTPLOG_LAB_MX_PORT:-2525}
SUBMISSION_PORT=${SMTPLOG_LAB_SUBMISSION_PORT:-2587}
CLOSED_PORT=${SMTPLOG_LAB_CLOSED_PORT:-2599}
SILENT_PORT=${SMTPLOG_LAB_SILENT_PORT:-2598}
FULL_PORT=${SMTPLOG_LAB_FULL_PORT:-2597}
PASSWORD='S3cr3t-Pa55'

say() { printf 'capture: %s\n' "$*" >&2; }
die() { printf 'capture: ERROR: %s\n' "$*" >&2; exit 1; }
port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

[ "$(id -u)" = 0 ] || die "capturing on loopback needs root"
for tool in tcpdump dumpcap swaks python3; do
    command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install tcpdump tshark swaks)"
done
bash "$ROOT/lab/postfix-lab.sh" start >&2
port_open "$CLOSED_PORT" && die "127.0.0.1:$CLOSED_PORT must be closed for the refused sample"

WORK=$(mktemp -d /tmp/smtplog-pcap.XXXXXX)
HELPERS=()
CAPTURE_PID=
cleanup() {
    [ -n "$CAPTURE_PID" ] && kill -INT "$CAPTURE_PID" 2>/dev/null || true
    for pid in "${HELPERS[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$OUT"

say "$(tcpdump --version 2>&1 | head -1), $(dumpcap --version 2>&1 | head -1), swaks $(swaks --version 2>&1 | sed -n 's/^swaks version //p'), $(dpkg-query -W -f='postfix ${Version}' postfix)"

# start_capture TOOL FILE FILTER / stop_capture: the capture runs while the clients do.
start_capture() {
    local tool=$1 file=$2 filter=$3
    rm -f "$file"
    if [ "$tool" = tcpdump ]; then
        tcpdump -i lo --immediate-mode -U -s 0 -Z root -w "$file" "$filter" 2>"$WORK/capture.err" &
    else  # dumpcap writes pcapng (tshark's capture engine)
        dumpcap -q -i lo -s 0 -w "$file" -f "$filter" 2>"$WORK/capture.err" &
    fi
    CAPTURE_PID=$!
    for _ in $(seq 50); do
        grep -qE 'listening on|Capturing on' "$WORK/capture.err" 2>/dev/null && break
        sleep 0.1
    done
    sleep 0.3
}
stop_capture() {
    sleep 0.5  # the last FIN/ACK
    kill -INT "$CAPTURE_PID"
    wait "$CAPTURE_PID" 2>/dev/null || true
    CAPTURE_PID=
    chmod 0644 "$1"
    say "  wrote ${1#"$ROOT"/} ($(stat -c %s "$1") bytes)"
}
client() {
    say "$(printf '%q ' "$@")"
    local rc=0
    (cd "$WORK" && "$@" >"$WORK/client.out" 2>&1) || rc=$?
    say "  exit status $rc"
}
S=(swaks --helo client.example.test)

# A listener that accepts and never speaks, and one whose accept queue is full (Linux then
# drops new SYNs: the client sees what a firewall dropping packets causes).
python3 - "$SILENT_PORT" "$FULL_PORT" <<'EOF' &
import socket, sys, time
silent = socket.socket(); silent.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
silent.bind(("127.0.0.1", int(sys.argv[1]))); silent.listen(8)
full = socket.socket(); full.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
full.bind(("127.0.0.1", int(sys.argv[2]))); full.listen(0)
fillers = []
for _ in range(4):
    filler = socket.socket(); filler.settimeout(0.3)
    try:
        filler.connect(("127.0.0.1", int(sys.argv[2])))
    except OSError:
        break
    fillers.append(filler)
while True:  # accept on the silent port only, and keep the connections open
    conn, _ = silent.accept()
    fillers.append(conn)
EOF
HELPERS+=($!)
sleep 1

# -------------------------------------------------------------- one session per file (tcpdump)
start_capture tcpdump "$OUT/delivered.pcap" "tcp port $MX_PORT"
client "${S[@]}" --server "127.0.0.1:$MX_PORT" --from sender@example.org --to alice@example.test
stop_capture "$OUT/delivered.pcap"

start_capture tcpdump "$OUT/connection-refused.pcap" "tcp port $CLOSED_PORT"
client "${S[@]}" --server "127.0.0.1:$CLOSED_PORT" --from sender@example.org --to alice@example.test
stop_capture "$OUT/connection-refused.pcap"

start_capture tcpdump "$OUT/connect-timeout.pcap" "tcp port $FULL_PORT"
client "${S[@]}" --server "127.0.0.1:$FULL_PORT" --from sender@example.org --to alice@example.test --timeout 5
stop_capture "$OUT/connect-timeout.pcap"

start_capture tcpdump "$OUT/no-greeting.pcap" "tcp port $SILENT_PORT"
client "${S[@]}" --server "127.0.0.1:$SILENT_PORT" --from sender@example.org --to alice@example.test --timeout 3
stop_capture "$OUT/no-greeting.pcap"

start_capture tcpdump "$OUT/starttls-auth.pcap" "tcp port $SUBMISSION_PORT"
client "${S[@]}" --server "127.0.0.1:$SUBMISSION_PORT" -tls --tls-sni mx.example.test \
    --from alice@example.test --to someone@example.org \
    --auth PLAIN --auth-user alice@example.test --auth-password "$PASSWORD"
stop_capture "$OUT/starttls-auth.pcap"

# -------------------------------------------------------------- several sessions, pcapng (dumpcap)
start_capture dumpcap "$OUT/several-sessions.pcapng" "tcp port $MX_PORT or tcp port $CLOSED_PORT"
client "${S[@]}" --server "127.0.0.1:$MX_PORT" --from sender@example.org --to bob@example.test
client "${S[@]}" --server "127.0.0.1:$CLOSED_PORT" --from sender@example.org --to bob@example.test
client "${S[@]}" --server "127.0.0.1:$MX_PORT" --from sender@example.org --to nobody@example.test
client "${S[@]}" --server "127.0.0.1:$MX_PORT" --from alice@example.test --to someone@example.org
stop_capture "$OUT/several-sessions.pcapng"

say "done; lab left running (bash lab/postfix-lab.sh stop)"
