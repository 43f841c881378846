"""Exceptions that applications print after a client library's log: one event each.

A Java stack trace or a Ruby backtrace is many lines; for the analysis it is
one fact, what the client program reported. ``exception_event`` turns the
whole text into the event that fact stands for: a connection that could not
be made, a timeout, a TLS failure, or a client error.
"""

from __future__ import annotations

import re

from smtplog.dialects.base import failure_reason
from smtplog.events import ClientError, ConnectFailed, Event, Span, Timeout, TlsFailed

_CONNECT = re.compile(
    r"ConnectException|Connection refused|ECONNREFUSED|UnknownHostException|"
    r"Couldn't connect to host|EHOSTUNREACH|ENOTFOUND|getaddrinfo|No route to host|"
    r"Errno::ECONNREFUSED|SocketError|connect\(2\)|Failed to open TCP connection",
    re.I,
)
_TIMEOUT = re.compile(r"SocketTimeoutException|Read timed out|Net::ReadTimeout|timed out", re.I)
_TLS = re.compile(
    r"SSLHandshakeException|SSLException|SSL_connect|SSLError|certificate verify", re.I
)


def exception_event(text: str, span: Span, seen_reply: bool) -> Event:
    """The event an application's exception (its whole text) reports."""
    if _CONNECT.search(text) and not seen_reply:
        reason = (
            "dns" if re.search(r"UnknownHost|ENOTFOUND|getaddrinfo|SocketError", text) else None
        )
        return ConnectFailed(reason=reason or failure_reason(text), detail=text, span=span)
    if _TLS.search(text):
        return TlsFailed(reason=text, span=span)
    if _TIMEOUT.search(text):
        if not seen_reply:
            return ConnectFailed(reason="timeout", detail=text, span=span)
        return Timeout(waiting_for="reply", detail=text, span=span)
    return ClientError(text=text, span=span)
