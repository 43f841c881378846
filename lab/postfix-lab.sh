#!/usr/bin/env bash
# smtplog mail lab: a private, loopback-only Postfix instance for real SMTP captures.
#
# Usage: lab/postfix-lab.sh start|stop|status|restart
#
# It does not use or change the system Postfix configuration (/etc/postfix/main.cf,
# master.cf): the instance has its own config directory, queue, data directory,
# TLS certificate, SASL database and log under $SMTPLOG_LAB_DIR. It only needs the
# Debian packages (installed with apt-get when missing; root required).
#
# Environment (all optional):
#   SMTPLOG_LAB_DIR              lab directory            (default /tmp/smtplog-lab)
#   SMTPLOG_LAB_MX_PORT          "mx" port: plain SMTP, STARTTLS may, AUTH also without TLS,
#                                no relay for unauthenticated clients   (default 2525)
#   SMTPLOG_LAB_SUBMISSION_PORT  "submission" port: STARTTLS required, AUTH only after TLS
#                                                                       (default 2587)
#   SMTPLOG_LAB_SMTPS_PORT       "smtps" port: implicit TLS (wrapper mode), AUTH (default 2465)
#   SMTPLOG_LAB_START_TIMEOUT    seconds to wait for the ports at start (default 20)
#
# Fixed lab facts (tests rely on them):
#   address 127.0.0.1 only; myhostname mx.example.test; local domain example.test with the
#   recipients alice@ and bob@ (every other local part: 550 5.1.1 User unknown in local
#   recipient table); SASL user alice@example.test, password S3cr3t-Pa55 (PLAIN, LOGIN);
#   message_size_limit 100000; every transport is discard: (nothing leaves the machine).
#
# Layout of $SMTPLOG_LAB_DIR:
#   etc/ (main.cf, master.cf, sasl/smtpd.conf)  sasldb2  tls/ (cert.pem, key.pem)
#   queue/  data/  log/maillog
set -euo pipefail

LAB_DIR=${SMTPLOG_LAB_DIR:-/tmp/smtplog-lab}
MX_PORT=${SMTPLOG_LAB_MX_PORT:-2525}
SUBMISSION_PORT=${SMTPLOG_LAB_SUBMISSION_PORT:-2587}
SMTPS_PORT=${SMTPLOG_LAB_SMTPS_PORT:-2465}
START_TIMEOUT=${SMTPLOG_LAB_START_TIMEOUT:-20}
ADDR=127.0.0.1
HOSTNAME_FQDN=mx.example.test
DOMAIN=example.test
SASL_USER=alice
SASL_PASSWORD='S3cr3t-Pa55'

ETC=$LAB_DIR/etc
PACKAGES=(postfix sasl2-bin libsasl2-modules libsasl2-modules-db swaks telnet openssl)

log() { printf 'postfix-lab: %s\n' "$*" >&2; }
die() { printf 'postfix-lab: ERROR: %s\n' "$*" >&2; exit 1; }

need_root() {
    [ "$(id -u)" -eq 0 ] || die "must run as root (Postfix master binds ports and drops privileges)"
}

ensure_packages() {
    local missing=() p
    for p in "${PACKAGES[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$p")
        fi
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing missing packages: ${missing[*]}"
    # "No configuration": the package must not configure or start a system Postfix for us.
    if ! dpkg-query -W -f='${Status}' postfix 2>/dev/null | grep -q 'install ok installed'; then
        printf '%s\n' \
            'postfix postfix/main_mailer_type select No configuration' \
            'postfix postfix/mailname string mx.example.test' | debconf-set-selections || true
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || die "apt-get update failed"
    apt-get install -y -q "${PACKAGES[@]}" \
        || die "apt-get install failed"
}

port_open() { # port -> 0 when something accepts TCP connections on 127.0.0.1:port
    timeout 2 bash -c "exec 3<>/dev/tcp/$ADDR/$1" 2>/dev/null
}

port_listening() { # like port_open, without connecting (no log noise): reads /proc/net/tcp
    [ -r /proc/net/tcp ] || { port_open "$1"; return; }
    awk -v p="$(printf ':%04X' "$1")" \
        'FNR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit f ? 0 : 1 }' \
        /proc/net/tcp
}

master_pid() { # prints the pid of this lab's running master process, fails otherwise
    local pidfile=$LAB_DIR/queue/pid/master.pid pid
    [ -f "$pidfile" ] || return 1
    pid=$(head -n1 "$pidfile" | tr -d ' ')
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = master ] || return 1
    echo "$pid"
}

is_running() { # (not "postfix status": that writes a log line each time)
    master_pid >/dev/null
}

write_config() {
    install -d -m 755 "$LAB_DIR" "$ETC" "$ETC/sasl" "$LAB_DIR/tls" "$LAB_DIR/log" "$LAB_DIR/queue"
    install -d -m 700 -o postfix -g postfix "$LAB_DIR/data"

    # TLS: self-signed certificate for mx.example.test (kept across restarts).
    if [ ! -s "$LAB_DIR/tls/cert.pem" ] || [ ! -s "$LAB_DIR/tls/key.pem" ]; then
        log "generating self-signed certificate for $HOSTNAME_FQDN"
        openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
            -subj "/CN=$HOSTNAME_FQDN/O=smtplog lab" \
            -addext "subjectAltName=DNS:$HOSTNAME_FQDN" \
            -keyout "$LAB_DIR/tls/key.pem.new" -out "$LAB_DIR/tls/cert.pem.new" >/dev/null 2>&1 \
            || die "openssl could not create the certificate"
        chmod 600 "$LAB_DIR/tls/key.pem.new"
        chmod 644 "$LAB_DIR/tls/cert.pem.new"
        mv -f "$LAB_DIR/tls/key.pem.new" "$LAB_DIR/tls/key.pem"
        mv -f "$LAB_DIR/tls/cert.pem.new" "$LAB_DIR/tls/cert.pem"
    fi

    # Cyrus SASL: lab-local smtpd.conf and sasldb2 (rewritten each start: idempotent).
    cat >"$ETC/sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $LAB_DIR/sasldb2
mech_list: PLAIN LOGIN
EOF
    chmod 644 "$ETC/sasl/smtpd.conf"
    # Built aside and renamed into place, so a reader never sees a half-written database.
    rm -f "$LAB_DIR/sasldb2.new"
    printf '%s' "$SASL_PASSWORD" | saslpasswd2 -p -c -f "$LAB_DIR/sasldb2.new" -u "$DOMAIN" "$SASL_USER" \
        || die "saslpasswd2 failed"
    # smtpd runs as the postfix user and opens the database at AUTH time.
    chown root:postfix "$LAB_DIR/sasldb2.new"
    chmod 640 "$LAB_DIR/sasldb2.new"
    mv -f "$LAB_DIR/sasldb2.new" "$LAB_DIR/sasldb2"

    cat >"$ETC/main.cf" <<EOF
# Generated by lab/postfix-lab.sh -- do not edit, it is rewritten at every start.
compatibility_level = 3.6
queue_directory = $LAB_DIR/queue
data_directory = $LAB_DIR/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = $LAB_DIR/log/maillog
maillog_file_prefixes = $LAB_DIR/log

myhostname = $HOSTNAME_FQDN
mydomain = $DOMAIN
myorigin = \$mydomain
mydestination = \$mydomain, \$myhostname, localhost
inet_interfaces = $ADDR
inet_protocols = ipv4
# 127.0.0.1 must NOT be trusted: unauthenticated relaying has to be refused.
mynetworks = 127.0.0.2/32
biff = no
append_dot_mydomain = no

# Local recipients: alice and bob only; everything else gets 550 5.1.1 User unknown.
alias_maps =
alias_database =
local_recipient_maps = inline:{ alice=alice, bob=bob }
recipient_delimiter =

# Nothing ever leaves the machine: every transport discards.
default_transport = discard:smtplog-lab
relay_transport = discard:smtplog-lab
local_transport = discard:smtplog-lab
virtual_transport = discard:smtplog-lab
transport_maps =
relayhost =
fallback_transport =

message_size_limit = 100000
mailbox_size_limit = 0

smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions =

smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = $ETC/sasl
smtpd_sasl_security_options = noanonymous
smtpd_sasl_tls_security_options = noanonymous
smtpd_tls_auth_only = no

smtpd_tls_security_level = may
smtpd_tls_cert_file = $LAB_DIR/tls/cert.pem
smtpd_tls_key_file = $LAB_DIR/tls/key.pem
smtpd_tls_loglevel = 1
smtpd_tls_session_cache_database =
smtp_tls_session_cache_database =
EOF

    cat >"$ETC/master.cf" <<EOF
# Generated by lab/postfix-lab.sh -- do not edit, it is rewritten at every start.
# service type  private unpriv  chroot  wakeup  maxproc command + args
$ADDR:$MX_PORT      inet  n       -       n       -       -       smtpd
$ADDR:$SUBMISSION_PORT      inet  n       -       n       -       -       smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
$ADDR:$SMTPS_PORT      inet  n       -       n       -       -       smtpd
  -o syslog_name=postfix/smtps
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
    chmod 644 "$ETC/main.cf" "$ETC/master.cf"
    postconf -c "$ETC" -n >/dev/null || die "postconf rejects the generated main.cf"
}

check_ports_free() {
    local p
    for p in "$MX_PORT" "$SUBMISSION_PORT" "$SMTPS_PORT"; do
        if port_open "$p"; then
            die "port $ADDR:$p is already in use by another program"
        fi
    done
}

wait_ports() {
    local deadline=$((SECONDS + START_TIMEOUT)) p pending
    while :; do
        pending=()
        for p in "$MX_PORT" "$SUBMISSION_PORT" "$SMTPS_PORT"; do
            port_open "$p" || pending+=("$p")
        done
        [ ${#pending[@]} -eq 0 ] && return 0
        if [ $SECONDS -ge $deadline ]; then
            log "ports not accepting connections after ${START_TIMEOUT}s: ${pending[*]}"
            [ -f "$LAB_DIR/log/maillog" ] && tail -n 20 "$LAB_DIR/log/maillog" >&2
            return 1
        fi
        sleep 0.5
    done
}

cmd_start() {
    need_root
    ensure_packages
    if is_running; then
        log "already running"
        cmd_status
        return 0
    fi
    check_ports_free
    write_config
    log "starting Postfix lab instance in $LAB_DIR"
    postfix -c "$ETC" start 9>&- || {  # (fd 9 is the lab lock: not for the daemons)
        [ -f "$LAB_DIR/log/maillog" ] && tail -n 20 "$LAB_DIR/log/maillog" >&2
        die "postfix start failed"
    }
    wait_ports || die "Postfix lab did not start listening"
    cmd_status
}

cmd_stop() {
    need_root
    if is_running; then
        postfix -c "$ETC" stop || die "postfix stop failed"
        local deadline=$((SECONDS + 10))
        while is_running && [ $SECONDS -lt $deadline ]; do sleep 0.5; done
        is_running && die "Postfix lab still running"
        log "stopped"
    else
        log "not running"
    fi
}

cmd_status() { # exit 0: running and all ports listening; 1: not running; 3: a port is down
    local p name rc=0
    if is_running; then
        echo "postfix-lab: running (pid $(master_pid)), lab dir $LAB_DIR"
        for p in "mx:$MX_PORT" "submission:$SUBMISSION_PORT" "smtps:$SMTPS_PORT"; do
            name=${p%%:*}
            if port_listening "${p#*:}"; then
                printf '  %-11s %s:%s  listening\n' "$name" "$ADDR" "${p#*:}"
            else
                printf '  %-11s %s:%s  NOT listening\n' "$name" "$ADDR" "${p#*:}"
                rc=3
            fi
        done
        echo "  log         $LAB_DIR/log/maillog"
        return $rc
    fi
    echo "postfix-lab: not running (lab dir $LAB_DIR)"
    return 1
}

lock_lab() { # serialise start/stop/restart: several users (tests, CI, people) share one lab
    mkdir -p "$LAB_DIR"
    exec 9>"$LAB_DIR/.postfix-lab.lock"
    flock -w 120 9 || die "could not lock $LAB_DIR/.postfix-lab.lock"
}

case ${1:-} in
    start|stop|restart) need_root; lock_lab ;;
esac

case ${1:-} in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    restart) cmd_stop; cmd_start ;;
    *) echo "usage: $0 start|stop|status|restart" >&2; exit 2 ;;
esac
