#!/usr/bin/env bash
# Regenerate the real MTA samples: samples/{postfix,tshark,sendmail,exim}/*.txt
#
# Usage: bash samples/capture_mta.sh [postfix|finger|tshark|sendmail|exim ...]   (root)
#
# Everything talks over loopback only:
#   lab/postfix-lab.sh          the main lab Postfix (mx on 127.0.0.1:2525)
#   lab/postfix-out-lab.sh      a second Postfix that delivers through its smtp client
#   samples/tools/remote_mx.py  aiosmtpd "remote.test" (127.0.0.1:2640) + a silent port
#                               (2641) + a port with a full backlog (2643)
#   sendmail / Exim             Debian's binaries, unpacked (not installed: both conflict with
#                               the postfix package) and run with their own config
# Exchange samples cannot be captured here (samples/exchange/ is composed, see README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SAMPLES=$ROOT/samples
WORK=${SMTPLOG_CAPTURE_DIR:-/tmp/smtplog-mta-capture}
PY=${PYTHON:-$ROOT/.venv/bin/python}
LAB=lab/postfix-lab.sh
[ -f "$LAB" ] || LAB=/work/main/lab/postfix-lab.sh   # until the lab lands on main
OUT_DIR=${SMTPLOG_OUT_DIR:-/tmp/smtplog-out}
OUT_LOG=$OUT_DIR/log/maillog
mkdir -p "$WORK"

log() { printf 'capture_mta: %s\n' "$*" >&2; }

port_open() { timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

start_remote() {
    if port_open 2640; then return 0; fi
    "$PY" samples/tools/remote_mx.py --spool "$WORK/spool" >"$WORK/remote_mx.log" 2>&1 &
    echo $! >"$WORK/remote_mx.pid"
    for _ in $(seq 40); do port_open 2640 && return 0; sleep 0.25; done
    log "remote_mx did not start"; return 1
}

stop_remote() {
    if [ -f "$WORK/remote_mx.pid" ]; then
        kill "$(cat "$WORK/remote_mx.pid")" 2>/dev/null || true
        rm -f "$WORK/remote_mx.pid"
    fi
}

start_labs() {
    port_open 2525 || bash "$LAB" start >/dev/null
    bash lab/postfix-out-lab.sh start >/dev/null
    start_remote
}

# mark FILE -> the current line count (new lines are read from there on)
mark() { [ -f "$1" ] && wc -l <"$1" || echo 0; }

# wait_lines FILE FROM REGEX COUNT: until COUNT new lines match REGEX (30 s at most)
wait_lines() {
    local file=$1 from=$2 regex=$3 count=$4 n
    for _ in $(seq 120); do
        n=$(tail -n +"$((from + 1))" "$file" | grep -cE "$regex" || true)
        [ "$n" -ge "$count" ] && { sleep 0.5; return 0; }
        sleep 0.25
    done
    log "timed out waiting for $count x /$regex/ in $file"; return 1
}

# new_lines FILE FROM -> the lines after FROM
new_lines() { tail -n +"$(($2 + 1))" "$1"; }

inject() { # inject RCPT [SIZE_BYTES]: hand a message to the delivering Postfix
    local rcpt=$1 size=${2:-0}
    {
        printf 'From: sender@out.test\nTo: %s\nSubject: smtplog capture\n\n' "$rcpt"
        if [ "$size" -gt 0 ]; then head -c "$size" /dev/zero | tr '\0' 'x' | fold -w 76; fi
        printf 'Test message.\n'
    } | sendmail -C "$OUT_DIR/etc" -f sender@out.test "$rcpt"
}

# -- Postfix maillog ------------------------------------------------------------

capture_postfix() {
    local dir=$SAMPLES/postfix from
    mkdir -p "$dir"
    start_labs
    postsuper -c "$OUT_DIR/etc" -d ALL >/dev/null 2>&1 || true   # no retries of older runs

    # 1. a multi-session delivery log (no verbose chat): one delivery per recipient
    from=$(mark "$OUT_LOG")
    inject alice@example.test          # delivered by the lab
    inject nobody@example.test         # lab: 550 5.1.1 user unknown at RCPT
    inject someone@relay.test          # lab: 554 5.7.1 relay access denied
    inject bob@example.test 150000     # lab: 552 5.3.4 message too large at MAIL FROM
    inject unknown@remote.test         # remote: three-line 550 5.1.1 at RCPT
    inject full@remote.test            # remote: 452 4.2.2 at RCPT (deferred)
    inject x@refused.test              # connection refused
    inject x@blackhole.test            # connection timed out
    inject x@silent.test               # no greeting
    wait_lines "$OUT_LOG" "$from" 'postfix/smtp\[.*status=' 9
    new_lines "$OUT_LOG" "$from" >"$dir/delivery-log.txt"

    # 2. verbose smtp client chat (debug_peer_list), delivered and rejected
    from=$(mark "$OUT_LOG")
    inject friend@verbose.test
    wait_lines "$OUT_LOG" "$from" 'status=' 1
    wait_lines "$OUT_LOG" "$from" ': > [^ ]+: QUIT' 1
    new_lines "$OUT_LOG" "$from" | grep -E 'postfix/smtp\[' >"$dir/verbose-smtp-delivered.txt"
    from=$(mark "$OUT_LOG")
    inject unknown@verbose.test
    wait_lines "$OUT_LOG" "$from" ': > [^ ]+: QUIT' 1
    new_lines "$OUT_LOG" "$from" | grep -E 'postfix/smtp\[' >"$dir/verbose-smtp-rejected.txt"
    from=$(mark "$OUT_LOG")
    inject greylist@verbose.test
    wait_lines "$OUT_LOG" "$from" ': > [^ ]+: QUIT' 1
    new_lines "$OUT_LOG" "$from" | grep -E 'postfix/smtp\[' >"$dir/verbose-smtp-greylisted.txt"

    # 3. smtpd without chat (port 2645): delivered, user unknown, relay denied, dropped
    from=$(mark "$OUT_LOG")
    swaks -s 127.0.0.1:2645 -t postmaster@out.test -f a@client.test --ehlo client.test >/dev/null 2>&1 || true
    swaks -s 127.0.0.1:2645 -t nobody@out.test -f a@client.test --ehlo client.test >/dev/null 2>&1 || true
    swaks -s 127.0.0.1:2645 -t x@elsewhere.test -f a@client.test --ehlo client.test >/dev/null 2>&1 || true
    swaks -s 127.0.0.1:2645 -t postmaster@out.test -f a@client.test --ehlo client.test \
        --drop-after RCPT >/dev/null 2>&1 || true
    wait_lines "$OUT_LOG" "$from" 'smtpd\[[0-9]+\]: disconnect from' 4
    new_lines "$OUT_LOG" "$from" >"$dir/smtpd-log.txt"

    # 4. verbose smtpd chat (postfix/submission/smtpd on 2646): delivered and relay denied
    from=$(mark "$OUT_LOG")
    swaks -s 127.0.0.1:2646 -t postmaster@out.test -f a@client.test --ehlo client.test >/dev/null 2>&1 || true
    swaks -s 127.0.0.1:2646 -t x@elsewhere.test -f a@client.test --ehlo client.test >/dev/null 2>&1 || true
    wait_lines "$OUT_LOG" "$from" 'smtpd\[[0-9]+\]: disconnect from' 2
    new_lines "$OUT_LOG" "$from" | grep -E 'postfix/submission/smtpd\[' >"$dir/verbose-smtpd.txt"
    log "postfix: $(ls "$dir" | wc -l) files"
}

# -- posttls-finger -----------------------------------------------------------------

capture_finger() {
    local dir=$SAMPLES/postfix
    mkdir -p "$dir"
    start_labs
    posttls-finger -L summary '[127.0.0.1]:2525' >"$dir/posttls-finger-starttls.txt" 2>&1 || true
    posttls-finger -L summary '[127.0.0.1]:2642' >"$dir/posttls-finger-refused.txt" 2>&1 || true
    posttls-finger -t 3 -T 4 -L summary '[127.0.0.1]:2641' >"$dir/posttls-finger-no-greeting.txt" 2>&1 || true
}

# -- tshark follow tcp stream -------------------------------------------------------

capture_tshark() {
    local dir=$SAMPLES/tshark pcap pid
    mkdir -p "$dir"
    start_labs
    run_traced() { # name swaks-args...: capture one swaks session on lo and follow it
        local name=$1; shift
        pcap=$WORK/$name.pcapng
        rm -f "$pcap"
        tshark -i lo -f "tcp port 2525" -w "$pcap" -q >/dev/null 2>&1 &
        pid=$!
        sleep 2
        swaks -s 127.0.0.1:2525 --ehlo client.example.test "$@" >/dev/null 2>&1 || true
        sleep 1
        kill -INT "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        tshark -r "$pcap" -q -z follow,tcp,ascii,0 2>&1 >"$dir/$name.txt" | cat >/dev/null
    }
    run_traced delivered -f sender@example.test -t alice@example.test
    run_traced user-unknown -f sender@example.test -t nobody@example.test
    run_traced relay-denied -f sender@example.test -t someone@elsewhere.test
    run_traced starttls -f sender@example.test -t alice@example.test -tls
    # stderr kept: the "Running as user root" warning precedes the header in 2>&1 pastes
    pcap=$WORK/delivered.pcapng
    tshark -r "$pcap" -q -z follow,tcp,ascii,0 >"$dir/delivered-with-warning.txt" 2>&1 || true
}

# -- sendmail and Exim: Debian's binaries unpacked beside the lab -------------------

unpack_debs() { # -> $WORK/debs/root holds usr/libexec/sendmail, usr/sbin/exim4, ...
    local debs=$WORK/debs
    [ -x "$debs/root/usr/sbin/exim4" ] && [ -x "$debs/root/usr/libexec/sendmail/sendmail" ] && return 0
    mkdir -p "$debs/root"
    (cd "$debs" && apt-get download sendmail-bin sendmail-cf sendmail-base exim4-daemon-light exim4-base >/dev/null 2>&1)
    for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$debs/root"; done
    # run-time libraries of those binaries (plain library packages, no MTA)
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q libdb5.3 liblockfile1 libnsl2 libwrap0 \
        libgnutls-dane0 libidn12 libpcre2-8-0 libldap-2.5-0 m4 >/dev/null
}

capture_sendmail() { bash samples/tools/sendmail_capture.sh "$WORK" "$SAMPLES/sendmail"; }
capture_exim() { bash samples/tools/exim_capture.sh "$WORK" "$SAMPLES/exim"; }

steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(postfix finger tshark sendmail exim)
for step in "${steps[@]}"; do
    case $step in
        postfix) capture_postfix ;;
        finger) capture_finger ;;
        tshark) capture_tshark ;;
        sendmail) unpack_debs; start_labs; capture_sendmail ;;
        exim) unpack_debs; start_labs; capture_exim ;;
        *) log "unknown step $step"; exit 2 ;;
    esac
done
stop_remote
log "done: ${steps[*]}"
