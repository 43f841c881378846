#!/usr/bin/env bash
# smtplog mail lab: the Exchange-like SMTP server (lab/exchange_like.py, aiosmtpd-based).
#
# Usage: lab/exchange-lab.sh start|stop|status|restart
#
# Creates a venv under the lab directory with aiosmtpd (from PyPI) the first time, then
# runs lab/exchange_like.py in the background on 127.0.0.1 only.
#
# Environment (all optional):
#   SMTPLOG_LAB_DIR             lab directory (default /tmp/smtplog-lab)
#   SMTPLOG_LAB_EXCHANGE_PORT   port of the Exchange-like server (default 2526)
#   SMTPLOG_LAB_PYTHON          Python used to create the venv (default python3)
#   SMTPLOG_LAB_START_TIMEOUT   seconds to wait for the port at start (default 20)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_DIR=${SMTPLOG_LAB_DIR:-/tmp/smtplog-lab}
PORT=${SMTPLOG_LAB_EXCHANGE_PORT:-2526}
PYTHON=${SMTPLOG_LAB_PYTHON:-python3}
START_TIMEOUT=${SMTPLOG_LAB_START_TIMEOUT:-20}
VENV=$LAB_DIR/venv-exchange
PIDFILE=$LAB_DIR/exchange_like.pid
LOGFILE=$LAB_DIR/log/exchange_like.log
AIOSMTPD_VERSION=1.4.6

log() { printf 'exchange-lab: %s\n' "$*" >&2; }
die() { printf 'exchange-lab: ERROR: %s\n' "$*" >&2; exit 1; }

port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

server_pid() {
    local pid
    [ -f "$PIDFILE" ] || return 1
    pid=$(head -n1 "$PIDFILE")
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'exchange_like.py' || return 1
    echo "$pid"
}

ensure_venv() {
    if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import aiosmtpd' 2>/dev/null; then
        return 0
    fi
    mkdir -p "$LAB_DIR"
    rm -rf "$VENV"
    if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
        if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
            log "installing python3-venv"
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >/dev/null \
                || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >/dev/null; }
            rm -rf "$VENV"
        fi
        "$PYTHON" -m venv "$VENV" || die "cannot create a venv with $PYTHON"
    fi
    log "installing aiosmtpd $AIOSMTPD_VERSION into $VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check "aiosmtpd==$AIOSMTPD_VERSION" \
        || die "pip install aiosmtpd failed"
}

cmd_start() {
    if server_pid >/dev/null; then
        log "already running"
        cmd_status
        return 0
    fi
    port_open "$PORT" && die "port 127.0.0.1:$PORT is already in use by another program"
    ensure_venv
    mkdir -p "$LAB_DIR/log"
    # setsid: own session, so it outlives the shell that started it.
    # 9>&-: the lab lock stays with this script, not with the server.
    setsid "$VENV/bin/python" "$HERE/exchange_like.py" --port "$PORT" >>"$LOGFILE" 2>&1 </dev/null 9>&- &
    echo $! >"$PIDFILE"
    local deadline=$((SECONDS + START_TIMEOUT))
    until port_open "$PORT"; do
        if ! server_pid >/dev/null; then
            tail -n 20 "$LOGFILE" >&2 || true
            die "exchange_like.py exited"
        fi
        [ $SECONDS -ge $deadline ] && die "exchange_like.py not listening after ${START_TIMEOUT}s"
        sleep 0.3
    done
    cmd_status
}

cmd_stop() {
    local pid
    if pid=$(server_pid); then
        kill "$pid"
        local deadline=$((SECONDS + 10))
        while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
        rm -f "$PIDFILE"
        log "stopped"
    else
        log "not running"
    fi
}

cmd_status() {
    local pid
    if pid=$(server_pid); then
        if port_open "$PORT"; then
            echo "exchange-lab: running (pid $pid), 127.0.0.1:$PORT listening as mail.contoso.com"
        else
            echo "exchange-lab: running (pid $pid), 127.0.0.1:$PORT NOT listening"
        fi
        return 0
    fi
    echo "exchange-lab: not running"
    return 1
}

case ${1:-} in
    start|stop|restart) # serialise: several users share one lab
        mkdir -p "$LAB_DIR"
        exec 9>"$LAB_DIR/.exchange-lab.lock"
        flock -w 120 9 || die "could not lock $LAB_DIR/.exchange-lab.lock" ;;
esac

case ${1:-} in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    restart) cmd_stop; cmd_start ;;
    *) echo "usage: $0 start|stop|status|restart" >&2; exit 2 ;;
esac
