#!/usr/bin/env bash
# Capture Exim -v traces, its main log and a bounce (called by samples/capture_mta.sh).
# Usage: exim_capture.sh WORK_DIR OUT_DIR
# Debian's exim4 binary is unpacked under WORK_DIR/debs/root (exim4-daemon-light conflicts
# with the postfix package, so it is not installed). It runs with its own configuration
# (-C) that routes every domain to remote_mx.py on 127.0.0.1; the binary needs its compiled-in
# user Debian-exim, which is created (a system user, as the package would create it).
set -euo pipefail
WORK=$1 OUT=$2
EXIM=$WORK/debs/root/usr/sbin/exim4
DIR=$WORK/exim
SPOOL=$WORK/spool
id Debian-exim >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin Debian-exim
rm -rf "$DIR"
mkdir -p "$DIR/spool" "$DIR/log" "$OUT"
chown -R Debian-exim "$DIR/spool" "$DIR/log"

make_conf() { # make_conf PORT -> $DIR/exim-PORT.conf
    cat >"$DIR/exim-$1.conf" <<CONF
exim_path = $EXIM
keep_environment =
primary_hostname = exim.example.test
qualify_domain = exim.test
exim_user = Debian-exim
exim_group = Debian-exim
never_users =
spool_directory = $DIR/spool
log_file_path = $DIR/log/%slog
trusted_users = root
begin routers
smarthost:
  driver = manualroute
  transport = remote_smtp
  route_list = * 127.0.0.1
  self = send
begin transports
remote_smtp:
  driver = smtp
  port = $1
  connect_timeout = 3s
  command_timeout = 4s
begin retry
* * F,1m,1m
CONF
    chmod 644 "$DIR/exim-$1.conf"
}

run() { # run PORT OUTFILE RCPT...: one foreground delivery with -v
    local port=$1 out=$2; shift 2
    rm -rf "$DIR/spool/db"   # no retry hints: every run really connects
    printf 'Subject: smtplog capture\n\nTest message.\n' |
        timeout 60 "$EXIM" -C "$DIR/exim-$port.conf" -v -odi -f sender@remote.test "$@" \
            >"$out" 2>&1 || true
}

make_conf 2640
make_conf 2642
make_conf 2641
run 2640 "$OUT/v-delivered.txt" friend@remote.test
run 2640 "$OUT/v-user-unknown.txt" unknown@remote.test
run 2640 "$OUT/v-mailbox-full.txt" full@remote.test
run 2642 "$OUT/v-connection-refused.txt" friend@remote.test
run 2641 "$OUT/v-no-greeting.txt" friend@remote.test
cp "$DIR/log/mainlog" "$OUT/mainlog.txt"
sleep 1
bounce=$(grep -l 'could not be delivered' "$SPOOL"/*.eml 2>/dev/null | tail -n 1)
[ -n "$bounce" ] && grep -v '^X-Envelope-' "$bounce" | tr -d '\r' >"$OUT/bounce-user-unknown.txt"
"$EXIM" -bV -C "$DIR/exim-2640.conf" 2>/dev/null | head -n 1 >"$DIR/version.txt" || true
