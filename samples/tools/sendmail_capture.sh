#!/usr/bin/env bash
# Capture sendmail -v traces and a DSN bounce (called by samples/capture_mta.sh).
# Usage: sendmail_capture.sh WORK_DIR OUT_DIR
# Debian's sendmail binary is unpacked under WORK_DIR/debs/root (sendmail-bin conflicts with
# the postfix package, so it is not installed). It runs with its own sendmail.cf, built from
# sendmail-cf's m4 files, that sends everything through the smart host [127.0.0.1] at the
# given port (remote_mx.py). It runs in a private UTS namespace whose host name is
# sm.example.test: sendmail refuses to work with an unqualified host name.
set -euo pipefail
WORK=$1 OUT=$2
ROOT=$WORK/debs/root
SM=$ROOT/usr/libexec/sendmail/sendmail
DIR=$WORK/sendmail
SPOOL=$WORK/spool
mkdir -p "$DIR/queue" "$OUT"
chmod 700 "$DIR/queue"
printf 'hosts files\naliases files\n' >"$DIR/service.switch"

make_cf() { # make_cf PORT -> $DIR/sm-PORT.cf
    cat >"$DIR/sm-$1.mc" <<MC
divert(-1)
divert(0)dnl
define(\`confSERVICE_SWITCH_FILE', \`$DIR/service.switch')dnl
define(\`confBIND_OPTS', \`-DNSRCH -DEFNAMES')dnl
OSTYPE(\`linux')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confDEF_USER_ID', \`nobody:nogroup')dnl
define(\`QUEUE_DIR', \`$DIR/queue')dnl
define(\`STATUS_FILE', \`$DIR/statistics')dnl
define(\`ALIAS_FILE', \`')dnl
define(\`confPID_FILE', \`$DIR/sendmail.pid')dnl
define(\`confHOST_STATUS_DIRECTORY', \`')dnl
define(\`confTO_ICONNECT', \`3s')dnl
define(\`confTO_CONNECT', \`3s')dnl
define(\`confTO_INITIAL', \`4s')dnl
define(\`SMART_HOST', \`[127.0.0.1]')dnl
define(\`RELAY_MAILER_ARGS', \`TCP \$h $1')dnl
define(\`ESMTP_MAILER_ARGS', \`TCP \$h $1')dnl
define(\`confDOMAIN_NAME', \`sm.example.test')dnl
FEATURE(\`nocanonify')dnl
MAILER(\`smtp')dnl
MC
    m4 -D_CF_DIR_="$ROOT/usr/share/sendmail/cf/" "$ROOT/usr/share/sendmail/cf/m4/cf.m4" \
        "$DIR/sm-$1.mc" >"$DIR/sm-$1.cf"
}

run() { # run PORT OUTFILE RCPT...: one foreground delivery with -v, output kept as printed
    local port=$1 out=$2; shift 2
    printf 'Subject: smtplog capture\n\nTest message.\n' |
        timeout 60 unshare -u sh -c 'hostname sm.example.test; exec "$@"' sh \
            "$SM" -C "$DIR/sm-$port.cf" -v -odi -oep -f sender@sm.test "$@" >"$out" 2>&1 || true
}

make_cf 2640
make_cf 2642
make_cf 2641
run 2640 "$OUT/v-delivered.txt" friend@remote.test
before=$(ls "$SPOOL" 2>/dev/null | wc -l)
run 2640 "$OUT/v-user-unknown.txt" unknown@remote.test
run 2640 "$OUT/v-mailbox-full.txt" full@remote.test
run 2642 "$OUT/v-connection-refused.txt" friend@remote.test
run 2641 "$OUT/v-no-greeting.txt" friend@remote.test
# the bounce for unknown@remote.test went back through the smart host into the spool
sleep 1
bounce=$(grep -l 'Transcript of session follows' "$SPOOL"/*.eml 2>/dev/null | tail -n 1)
[ -n "$bounce" ] && grep -v '^X-Envelope-' "$bounce" | tr -d '\r' >"$OUT/dsn-user-unknown.txt"
"$SM" -d0.1 -bt </dev/null 2>/dev/null | head -n 1 >"$DIR/version.txt" || true
