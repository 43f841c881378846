#!/usr/bin/env bash
# Regenerate the samples of the client-program dialects (curl, phpmailer, smtplib, openssl,
# msmtp, javamail, nodemailer, ruby, perl) against the Postfix lab on loopback.
#
# Usage: bash samples/capture_clients.sh [DIALECT...]      (default: all of them)
#
# Needs root on Debian 12: installs the client programs with apt-get (and nodemailer with
# npm into samples/tools/node_modules), starts the lab (lab/postfix-lab.sh) if it is down.
# Lab facts used here: 127.0.0.1:2525 mx (AUTH without TLS allowed, relay denied),
# 2587 submission (STARTTLS required), 2465 implicit TLS; user alice@example.test with
# password S3cr3t-Pa55; alice@ and bob@example.test exist, nobody@ does not.
# Nothing listens on 127.0.0.1:2599 (connection refused); tools/silent_server.py listens
# on 2598 and never greets (timeouts); tools/plain_server.py (aiosmtpd) on 2597 offers no
# STARTTLS. The mail never leaves the machine (the lab discards it).
set -uo pipefail
cd "$(dirname "$0")"
SAMPLES=$PWD
TOOLS=$SAMPLES/tools
ROOT=$(cd .. && pwd)
LAB=${LAB:-$ROOT/lab/postfix-lab.sh}
PY=${PY:-$ROOT/.venv/bin/python}
[ -x "$PY" ] || PY=python3

export SMTP_PASSWORD='S3cr3t-Pa55'
USER_OK=alice@example.test
USER_BAD=mallory@example.test   # unknown SASL user: the server rejects the (real) password
FROM=alice@example.test
TO=bob@example.test
UNKNOWN=nobody@example.test
FOREIGN=someone@elsewhere.test
REFUSED=2599 SILENT=2598 PLAIN=2597

install_tools() {
    local pkgs="curl openssl msmtp php-cli libphp-phpmailer ruby libmail-java
        perl libio-socket-ssl-perl libauthen-sasl-perl"
    command -v javac >/dev/null || pkgs="$pkgs default-jdk-headless"
    command -v npm >/dev/null || pkgs="$pkgs nodejs npm"
    local missing="" p
    for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
    if [ -n "$missing" ]; then
        apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing
    fi
    [ -d "$TOOLS/node_modules/nodemailer" ] || (cd "$TOOLS" && npm install --no-audit --no-fund)
    [ -f "$TOOLS/SendMail.class" ] || javac -cp /usr/share/java/javax.mail.jar -d "$TOOLS" "$TOOLS/SendMail.java"
}

# capture DIALECT CASE COMMAND...: run COMMAND, stdout and stderr merged, into DIALECT/CASE.txt
capture() {
    local dialect=$1 case=$2; shift 2
    mkdir -p "$SAMPLES/$dialect"
    "$@" >"$SAMPLES/$dialect/$case.txt" 2>&1
    echo "captured $dialect/$case.txt (exit $?)"
}

with_silent() { "$PY" "$TOOLS/silent_server.py" $SILENT 15 & local pid=$!; sleep 0.5; "$@"; kill $pid 2>/dev/null; wait $pid 2>/dev/null; }
with_plain() { "$PY" "$TOOLS/plain_server.py" $PLAIN 15 & local pid=$!; sleep 1.5; "$@"; kill $pid 2>/dev/null; wait $pid 2>/dev/null; }

# -- curl -v --------------------------------------------------------------------------
curl_samples() {
    local msg=$TOOLS/message.eml
    # stderr not a terminal: the progress meter is printed and glued to "*   Trying".
    capture curl delivered-starttls-auth curl -v --ssl-reqd -k --url smtp://127.0.0.1:2587/client.example.test \
        --user "$USER_OK:$SMTP_PASSWORD" --mail-from $FROM --mail-rcpt $TO -T "$msg"
    capture curl recipient-unknown-trace-time curl -sSv --trace-time --url smtp://127.0.0.1:2525/client.example.test \
        --mail-from $FROM --mail-rcpt $UNKNOWN -T "$msg"
    capture curl relay-denied curl -sSv --url smtp://127.0.0.1:2525/client.example.test \
        --mail-from $FROM --mail-rcpt $FOREIGN -T "$msg"
    capture curl auth-rejected-login curl -sSv --ssl-reqd -k --url smtp://127.0.0.1:2587/client.example.test \
        --login-options AUTH=LOGIN --user "$USER_BAD:$SMTP_PASSWORD" --mail-from $FROM --mail-rcpt $TO -T "$msg"
    capture curl connect-refused curl -sSv --url smtp://127.0.0.1:$REFUSED/client.example.test \
        --mail-from $FROM --mail-rcpt $TO -T "$msg"
    with_silent capture curl greeting-timeout curl -sSv -m 3 --url smtp://127.0.0.1:$SILENT/client.example.test \
        --mail-from $FROM --mail-rcpt $TO -T "$msg"
    capture curl trace-ascii-delivered curl -sS --trace-ascii - --trace-time --ssl-reqd -k \
        --url smtp://127.0.0.1:2587/client.example.test --user "$USER_OK:$SMTP_PASSWORD" \
        --mail-from $FROM --mail-rcpt $TO -T "$msg"
}

# -- PHPMailer SMTPDebug ----------------------------------------------------------------
php_send() { env SMTP_HOST=127.0.0.1 SMTP_FROM=$FROM "$@" php "$TOOLS/phpmailer_send.php"; }
phpmailer_samples() {
    capture phpmailer delivered-echo-level2 php_send SMTP_PORT=2587 SMTP_SECURE=tls SMTP_USER=$USER_OK \
        SMTP_AUTHTYPE=LOGIN SMTP_TO=$TO SMTP_DEBUG=2 SMTP_OUTPUT=echo
    capture phpmailer recipient-unknown-html-level3 php_send SMTP_PORT=2525 SMTP_TO=$UNKNOWN \
        SMTP_DEBUG=3 SMTP_OUTPUT=html
    capture phpmailer auth-rejected-level4 php_send SMTP_PORT=2587 SMTP_SECURE=tls SMTP_USER=$USER_BAD \
        SMTP_TO=$TO SMTP_DEBUG=4 SMTP_OUTPUT=echo
    capture phpmailer relay-denied-level1 php_send SMTP_PORT=2525 SMTP_TO=$FOREIGN SMTP_DEBUG=1 SMTP_OUTPUT=echo
    capture phpmailer connect-refused-level3 php_send SMTP_PORT=$REFUSED SMTP_TO=$TO SMTP_DEBUG=3 SMTP_OUTPUT=echo
    capture phpmailer delivered-smtps-html-level2 php_send SMTP_PORT=2465 SMTP_SECURE=ssl SMTP_USER=$USER_OK \
        SMTP_TO=$TO SMTP_DEBUG=2 SMTP_OUTPUT=html
}

# -- Python smtplib -------------------------------------------------------------------
py_send() { env SMTP_HOST=127.0.0.1 SMTP_FROM=$FROM "$@" python3 "$TOOLS/smtplib_send.py"; }
smtplib_samples() {
    capture smtplib delivered-starttls-level1 py_send SMTP_PORT=2587 SMTP_TLS=starttls SMTP_USER=$USER_OK \
        SMTP_TO=$TO SMTP_DEBUG=1
    capture smtplib recipients-refused-level2 py_send SMTP_PORT=2525 SMTP_TO=$UNKNOWN SMTP_DEBUG=2
    capture smtplib auth-error-level1 py_send SMTP_PORT=2587 SMTP_TLS=starttls SMTP_USER=$USER_BAD \
        SMTP_TO=$TO SMTP_DEBUG=1
    capture smtplib bare-lf-delivered py_send SMTP_PORT=2525 SMTP_TO=$TO SMTP_DEBUG=1 SMTP_BARE_LF=1
    with_silent capture smtplib greeting-timeout py_send SMTP_PORT=$SILENT SMTP_TO=$TO SMTP_DEBUG=2 SMTP_TIMEOUT=3
    capture smtplib connect-refused py_send SMTP_PORT=$REFUSED SMTP_TO=$TO SMTP_DEBUG=1
}

# -- openssl s_client -----------------------------------------------------------------
# Commands are piped with pauses (as a person types); s_client shows only the server side.
# "rcpt" and "quit" are typed in lower case: s_client treats a line starting with R as
# "renegotiate" and one starting with Q as "quit" (unless -quiet / -nocommands).
plain_b64=$(printf '\0%s\0%s' "$USER_OK" "$SMTP_PASSWORD" | base64 -w0)
bad_b64=$(printf '\0%s\0%s' "$USER_BAD" "$SMTP_PASSWORD" | base64 -w0)
typed() { # typed AUTHB64 RCPT
    sleep 1
    printf 'EHLO client.example.test\n'; sleep 0.5
    [ -n "$1" ] && { printf 'AUTH PLAIN %s\n' "$1"; sleep 0.5; }
    printf 'MAIL FROM:<%s>\n' $FROM; sleep 0.3
    printf 'rcpt TO:<%s>\n' "$2"; sleep 0.3
    printf 'DATA\n'; sleep 0.3
    printf 'Subject: smtplog sample\n\nHello Bob,\n..this line starts with a dot\n.\n'; sleep 0.5
    printf 'quit\n'; sleep 0.5
}
ossl() { local auth=$1 rcpt=$2; shift 2; typed "$auth" "$rcpt" | openssl s_client "$@"; }
openssl_samples() {
    capture openssl starttls-delivered ossl "$plain_b64" $TO -starttls smtp -connect 127.0.0.1:2587 -crlf \
        -name client.example.test
    capture openssl smtps-auth-rejected-brief ossl "$bad_b64" $TO -connect 127.0.0.1:2465 -crlf -brief
    capture openssl quiet-recipient-unknown ossl "" $UNKNOWN -starttls smtp -connect 127.0.0.1:2525 -crlf -quiet
    capture openssl connect-refused ossl "" $TO -starttls smtp -connect 127.0.0.1:$REFUSED -crlf
    with_plain capture openssl no-starttls ossl "" $TO -starttls smtp -connect 127.0.0.1:$PLAIN -crlf
}

# -- msmtp --debug --------------------------------------------------------------------
msmtp_send() { # msmtp_send PORT TLS AUTHUSER RCPT [extra...]
    local port=$1 tls=$2 user=$3 rcpt=$4; shift 4
    local auth=(--auth=off)
    [ -n "$user" ] && auth=(--auth=on --user="$user" --passwordeval="echo $SMTP_PASSWORD")
    msmtp --debug --host=127.0.0.1 --port="$port" --tls="$tls" --tls-starttls=on --tls-certcheck=off \
        --domain=client.example.test "${auth[@]}" --from=$FROM "$@" "$rcpt" <"$TOOLS/message.eml"
}
msmtp_samples() {
    capture msmtp delivered-starttls-auth msmtp_send 2587 on "$USER_OK" $TO
    capture msmtp recipient-unknown-pipelined msmtp_send 2525 off "" $UNKNOWN
    capture msmtp relay-denied msmtp_send 2525 off "" $FOREIGN
    capture msmtp auth-rejected msmtp_send 2587 on "$USER_BAD" $TO
    capture msmtp connect-refused msmtp_send $REFUSED off "" $TO
    local log; log=$(mktemp)
    msmtp_send 2525 off "" $UNKNOWN --logfile="$log" >/dev/null 2>&1
    msmtp_send 2587 on "$USER_OK" $TO --logfile="$log" >/dev/null 2>&1
    mkdir -p "$SAMPLES/msmtp" && cp "$log" "$SAMPLES/msmtp/logfile.txt" && rm -f "$log"
    echo "captured msmtp/logfile.txt"
}

# -- JavaMail -------------------------------------------------------------------------
java_send() { env SMTP_HOST=127.0.0.1 SMTP_FROM=$FROM "$@" java -cp "$TOOLS:/usr/share/java/javax.mail.jar" SendMail; }
javamail_samples() {
    capture javamail delivered-starttls java_send SMTP_PORT=2587 SMTP_TLS=starttls SMTP_USER=$USER_OK SMTP_TO=$TO
    capture javamail recipient-unknown java_send SMTP_PORT=2525 SMTP_TO=$UNKNOWN
    capture javamail auth-rejected java_send SMTP_PORT=2587 SMTP_TLS=starttls SMTP_USER=$USER_BAD SMTP_TO=$TO
    capture javamail connect-refused java_send SMTP_PORT=$REFUSED SMTP_TO=$TO
}

# -- Nodemailer -----------------------------------------------------------------------
node_send() { env SMTP_HOST=127.0.0.1 SMTP_FROM=$FROM NODE_PATH="$TOOLS/node_modules" "$@" node "$TOOLS/nodemailer_send.js"; }
nodemailer_samples() {
    capture nodemailer delivered-starttls node_send SMTP_PORT=2587 SMTP_TLS=starttls SMTP_USER=$USER_OK SMTP_TO=$TO
    capture nodemailer auth-rejected-login node_send SMTP_PORT=2587 SMTP_TLS=starttls SMTP_USER=$USER_BAD \
        SMTP_AUTHMETHOD=LOGIN SMTP_TO=$TO
    capture nodemailer recipient-unknown node_send SMTP_PORT=2525 SMTP_TO=$UNKNOWN
    capture nodemailer interleaved-two-connections node_send SMTP_PORT=2525 SMTP_TO=$TO,$UNKNOWN SMTP_PARALLEL=2
    capture nodemailer connect-refused node_send SMTP_PORT=$REFUSED SMTP_TO=$TO
    with_silent capture nodemailer greeting-timeout node_send SMTP_PORT=$SILENT SMTP_TO=$TO
}

# -- Ruby Net::SMTP -------------------------------------------------------------------
ruby_send() { env SMTP_HOST=127.0.0.1 SMTP_FROM=$FROM "$@" ruby "$TOOLS/ruby_send.rb"; }
ruby_samples() {
    capture ruby delivered-starttls-auth ruby_send SMTP_PORT=2587 SMTP_TLS=starttls SMTP_USER=$USER_OK SMTP_TO=$TO
    capture ruby recipient-unknown ruby_send SMTP_PORT=2525 SMTP_TO=$UNKNOWN
    capture ruby auth-rejected ruby_send SMTP_PORT=2587 SMTP_TLS=starttls SMTP_USER=$USER_BAD SMTP_TO=$TO
    capture ruby tls-required ruby_send SMTP_PORT=2587 SMTP_TO=$TO
    capture ruby starttls-certificate-rejected ruby_send SMTP_PORT=2525 SMTP_TLS=auto SMTP_TO=$TO
}

# -- Perl Net::SMTP -------------------------------------------------------------------
perl_send() { env SMTP_HOST=127.0.0.1 SMTP_FROM=$FROM "$@" perl "$TOOLS/perl_send.pl"; }
perl_samples() {
    capture perl delivered-starttls-auth perl_send SMTP_PORT=2587 SMTP_TLS=starttls SMTP_USER=$USER_OK SMTP_TO=$TO
    capture perl recipient-unknown perl_send SMTP_PORT=2525 SMTP_TO=$UNKNOWN
    capture perl auth-rejected perl_send SMTP_PORT=2525 SMTP_USER=$USER_BAD SMTP_TO=$TO
    with_silent capture perl greeting-timeout perl_send SMTP_PORT=$SILENT SMTP_TO=$TO
}

ALL="curl phpmailer smtplib openssl msmtp javamail nodemailer ruby perl"
install_tools
bash "$LAB" status >/dev/null 2>&1 || bash "$LAB" start
for dialect in ${@:-$ALL}; do
    "${dialect}_samples"
done
