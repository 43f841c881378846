"""How much a text looks like each dialect: every dialect's sniffer, in one light module.

Detection scores the head of the input with all of them, so they live apart
from the dialect modules (their grammars, transformers and record types):
detecting a telnet paste loads the telnet dialect only. A sniffer looks at
the first SNIFF_LINES lines and returns 0 (not this dialect) to 1 (certain).
Patterns compile on first use: most texts rule most dialects out at their
first pattern.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from smtplog.source import Line

SNIFF_LINES = 400  # detection looks at the head of the input only


class Pattern:
    """A regular expression compiled the first time it is used."""

    __slots__ = ("_compiled", "flags", "pattern")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self.flags = flags
        self._compiled: re.Pattern[str] | None = None

    @property
    def compiled(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self.pattern, self.flags)
        return self._compiled

    def match(self, text: str) -> re.Match[str] | None:
        return self.compiled.match(text)

    def search(self, text: str) -> re.Match[str] | None:
        return self.compiled.search(text)


def count_matching(pattern: Pattern | re.Pattern[str], lines: Sequence[Line]) -> int:
    return sum(1 for line in lines[:SNIFF_LINES] if pattern.search(line.text))


def shaped_score(
    lines: Sequence[Line],
    shape: Pattern,
    signature: Pattern | None = None,
    *,
    minimum: int = 2,
    signature_weight: float = 0.1,
) -> float:
    """Score a text by the share of its lines that have the dialect's shape.

    ``shape`` matches a line of the dialect (a marker, a prefix); ``signature``
    matches a line only this tool writes. Fewer than ``minimum`` shaped lines
    (one, if the signature is there) score 0 so that a stray match never
    claims a text.
    """
    head = [line for line in lines[:SNIFF_LINES] if line.text.strip()]
    shaped = sum(1 for line in head if shape.search(line.text))
    if not shaped:
        return 0.0
    signed = signature is not None and any(signature.search(line.text) for line in head)
    # A short log (a connection refused) may hold a single line, but a signed one.
    if shaped < (1 if signed else minimum):
        return 0.0
    share = shaped / max(1, len(head))
    return min(0.98, 0.5 + 0.38 * share + (signature_weight if signed else 0.0))


# smtplog's own canonical transcript
_CANONICAL_HEADER = Pattern(r"^# smtplog transcript \d+")
_CANONICAL_ENTRY = Pattern(r"^(\+?\d+(\.\d+)? )?(S:|C:|\*\* )")


def smtplog(lines: Sequence[Line]) -> float:
    if lines and _CANONICAL_HEADER.match(lines[0].text):
        return 1.0
    head = [line for line in lines[:SNIFF_LINES] if line.text.strip()]
    entries = count_matching(_CANONICAL_ENTRY, lines)
    if entries >= 2 and entries >= 0.8 * len(head):
        return 0.9
    return 0.0


_SWAKS_HINT = Pattern(r"^(===|\*\*\*| ->| ~>|\*\*>|\*~>|<- |<~ |<\*\*|<~\*)( |$)")
_SWAKS_SIGNATURE = Pattern(r"^=== (Trying \S+\.\.\.|Connected to \S+\.)$")


def swaks(lines: Sequence[Line]) -> float:
    hinted = count_matching(_SWAKS_HINT, lines)
    if hinted < 2:
        return 0.0
    signature = count_matching(_SWAKS_SIGNATURE, lines)
    head = [line for line in lines[:SNIFF_LINES] if line.text.strip()]
    share = hinted / max(1, len(head))
    return min(0.98, 0.5 + 0.4 * share + (0.1 if signature else 0.0))


_CURL_SHAPE = Pattern(r"^(\d\d:\d\d:\d\d\.\d{6} )?([*<>] |[{}] \[|== Info: |<= Recv |=> Send )")
_CURL_SIGNATURE = Pattern(
    r"(^|\d )(\*   Trying \S+\.\.\.|\* (Connected to|Established connection to) "
    r"|[{}] \[\d+ bytes data\]|curl: \(\d+\) |== Info: |=> Send header, )"
)


def curl(lines: Sequence[Line]) -> float:
    return shaped_score(lines, _CURL_SHAPE, _CURL_SIGNATURE, signature_weight=0.12)


_PHPMAILER_STAMP = r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[\t ])?"
_PHPMAILER_SHAPE = Pattern(
    rf"^{_PHPMAILER_STAMP}(CLIENT -(>|&gt;) (SERVER|SMTP):|SERVER -(>|&gt;) CLIENT:|"
    r"SMTP -(>|&gt;) FROM SERVER:|Connection: |SMTP (ERROR|NOTICE|INBOUND|Error):)"
    r"|^ {19}\t {18}"
)
_PHPMAILER_SIGNATURE = Pattern(r"(CLIENT|SERVER) -(>|&gt;) (SERVER|CLIENT|SMTP): |^ {19}\t {18}\S")


def phpmailer(lines: Sequence[Line]) -> float:
    return shaped_score(lines, _PHPMAILER_SHAPE, _PHPMAILER_SIGNATURE)


_SMTPLIB_SHAPE = Pattern(r"^(\d\d:\d\d:\d\d(\.\d{1,6})? )?(send|reply|data|connect): ")
_SMTPLIB_SIGNATURE = Pattern(
    r"reply: retcode \(-?\d+\); Msg: |^(\d\S+ )?send: b?['\"]|^(\d\S+ )?connect: to \("
)


def smtplib(lines: Sequence[Line]) -> float:
    return shaped_score(lines, _SMTPLIB_SHAPE, _SMTPLIB_SIGNATURE)


_OPENSSL_SHAPE = Pattern(
    r"^(CONNECTED\(0*[0-9A-Fa-f]+\)|depth=\d+ |verify (error:num=|return:)|---$|"
    r"(New|Reused), (TLSv1\.[0-3]|SSLv3|\(NONE\)), Cipher is |Verify return code: |"
    r"Protocol version: |Ciphersuite: |CONNECTION ESTABLISHED$|read R BLOCK$|"
    r"[0-9A-F]{6,16}:error:[0-9A-F]{8}:|Didn't find STARTTLS)"
)
_OPENSSL_SIGNATURE = Pattern(
    r"^(CONNECTED\(0{4}[0-9A-Fa-f]{4}\)$|(New|Reused), (TLSv1\.[0-3]|SSLv3|\(NONE\)), Cipher is |"
    r"verify return:\d$|CONNECTION ESTABLISHED$|Didn't find STARTTLS in server response)"
)


def openssl(lines: Sequence[Line]) -> float:
    return shaped_score(lines, _OPENSSL_SHAPE, _OPENSSL_SIGNATURE, signature_weight=0.15)


_MSMTP_SHAPE = Pattern(r"^(<--|-->)( |$)|^msmtp: |^(host|port|tls|tls_starttls|auth|from) = ")
_MSMTP_SIGNATURE = Pattern(
    r"^(TLS session parameters:$|msmtp: |using account |reading recipients from |tls_certcheck = )"
)


def msmtp(lines: Sequence[Line]) -> float:
    return shaped_score(lines, _MSMTP_SHAPE, _MSMTP_SIGNATURE, signature_weight=0.12)


_JAVAMAIL_SHAPE = Pattern(r"^DEBUG( SMTP)?: ")
_JAVAMAIL_SIGNATURE = Pattern(
    r"^DEBUG: setDebug: (Jakarta|JavaMail|Angus)|^DEBUG SMTP: (trying to connect|connected to host)"
)


def javamail(lines: Sequence[Line]) -> float:
    return shaped_score(lines, _JAVAMAIL_SHAPE, _JAVAMAIL_SIGNATURE, signature_weight=0.15)


_NODEMAILER_SHAPE = Pattern(
    r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?\] (TRACE|DEBUG|INFO|WARN|ERROR|FATAL) "
)
_NODEMAILER_SIGNATURE = Pattern(
    r"\] (DEBUG|INFO ) (\[#\S+\] )?\[\S+\] (C|S): |\] DEBUG Creating transport: "
)


def nodemailer(lines: Sequence[Line]) -> float:
    return shaped_score(lines, _NODEMAILER_SHAPE, _NODEMAILER_SIGNATURE)


_RUBY_SHAPE = Pattern(r'^(<-|->) "')
_RUBY_SIGNATURE = Pattern(r'^Connection opened: \S+:\d+$|^(<-|->) ".*\\r\\n"$')


def ruby(lines: Sequence[Line]) -> float:
    return shaped_score(lines, _RUBY_SHAPE, _RUBY_SIGNATURE)


_PERL_SHAPE = Pattern(r"^[A-Za-z_][\w:]*(=GLOB\(0x[0-9a-fA-F]+\))?(>>>|<<<) ")
_PERL_SIGNATURE = Pattern(r"^Net::SMTP\S*>>> Net::SMTP\(|=GLOB\(0x[0-9a-fA-F]+\)(>>>|<<<) ")


def perl(lines: Sequence[Line]) -> float:
    return shaped_score(lines, _PERL_SHAPE, _PERL_SIGNATURE, signature_weight=0.12)


_MAILKIT_STAMP = r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z? )?"
_MAILKIT_SHAPE = Pattern(rf"^{_MAILKIT_STAMP}(C|S): ")
_MAILKIT_SIGNATURE = Pattern(rf"^{_MAILKIT_STAMP}Connected to smtps?://")


def mailkit(lines: Sequence[Line]) -> float:
    return shaped_score(lines, _MAILKIT_SHAPE, _MAILKIT_SIGNATURE, signature_weight=0.12)


_POSTFIX_SIGNATURE = Pattern(r"postfix[\w.-]*(?:/[\w.-]+)+\[\d+\]: |^posttls-finger: ")
_POSTFIX_STRONG = Pattern(
    r"status=(sent|bounced|deferred|expired)|NOQUEUE: reject: |: [<>] \S+\[[^\]]*\](:\d+)?: "
    r"|connect from \S+\[|posttls-finger: (Connected to|< \d{3})"
)


def postfix(lines: Sequence[Line]) -> float:
    head = [line for line in lines[:SNIFF_LINES] if line.text.strip()]
    if not head:
        return 0.0
    signed = sum(1 for line in head if _POSTFIX_SIGNATURE.search(line.text))
    if not signed:
        return 0.0
    strong = sum(1 for line in head if _POSTFIX_STRONG.search(line.text))
    share = signed / len(head)
    return min(0.97, 0.35 + 0.35 * share + (0.3 if strong else 0.0))


_TSHARK_SEPARATOR = Pattern(r"^={20,}$")
_TSHARK_FOLLOW = Pattern(r"^Follow: tcp,(ascii|utf-8|ebcdic)$")
_TSHARK_NODE = Pattern(r"^Node [01]: \S+$")


def tshark(lines: Sequence[Line]) -> float:
    head = lines[:SNIFF_LINES]
    follow = any(_TSHARK_FOLLOW.match(line.text) for line in head)
    if not follow:
        return 0.0
    separator = any(_TSHARK_SEPARATOR.match(line.text) for line in head)
    nodes = sum(1 for line in head if _TSHARK_NODE.match(line.text))
    return min(0.99, 0.7 + (0.15 if separator else 0.0) + 0.07 * nodes)


_EXCHANGE_FIELDS_HEADER = Pattern(r"^#Fields: date-time,connector-id,session-id,")
EXCHANGE_RECORD = Pattern(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z,")
_EXCHANGE_NDR = Pattern(
    r"^(Diagnostic information for administrators|Generating server: |Remote Server( at .*)? "
    r"returned '|#\d{3} \d\.\d+\.\d+ .*##|.*#SMTP#)"
)


def exchange(lines: Sequence[Line]) -> float:
    head = lines[:SNIFF_LINES]
    if any(_EXCHANGE_FIELDS_HEADER.match(line.text) for line in head):
        return 0.98
    records = sum(1 for line in head if EXCHANGE_RECORD.match(line.text))
    if records >= 2:
        return 0.9
    ndr = sum(1 for line in head if _EXCHANGE_NDR.match(line.text.strip()))
    if ndr:
        return min(0.9, 0.55 + 0.15 * ndr)
    return 0.0


_SENDMAIL_STATUS = Pattern(
    r"^\S*\.\.\. (Connecting to .* via \S+\.\.\.|Sent \(|Deferred|Using cached)"
    r"|^Closing connection to |^\.\.\. while talking to |^\s*-+ Transcript of session follows"
)
_SENDMAIL_COMMAND = Pattern(r"^>>> [A-Za-z]")


def sendmail(lines: Sequence[Line]) -> float:
    head = lines[:SNIFF_LINES]
    status = sum(1 for line in head if _SENDMAIL_STATUS.search(line.text))
    if not status:
        return 0.0
    commands = sum(1 for line in head if _SENDMAIL_COMMAND.match(line.text))
    return min(0.96, 0.6 + 0.1 * status + 0.05 * commands)


_EXIM = Pattern(
    r"^  SMTP(<<|>>|\|>|\+>) |^  SMTP\([^)]*\)(<<|>>)|^cmdlog: '"
    r"|^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \S+ (=>|\*\*|==|<=|->) "
    r"|SMTP error from remote mail(er| server) after |^A message that you sent could not be "
)


def exim(lines: Sequence[Line]) -> float:
    hits = sum(1 for line in lines[:SNIFF_LINES] if _EXIM.search(line.text))
    return min(0.97, 0.6 + 0.08 * hits) if hits else 0.0


_TELNET_REPLY = Pattern(r"^[2-5]\d\d(?:[ -]|$)")
_TELNET_BANNER = Pattern(
    r"^(Trying \S+\.\.\.|Connected to \S+\.|Escape character is '\^\]'\.|"
    r"Connection closed by foreign host\.)$"
)
_OTHER_CLIENTS = Pattern(
    r"^(=~=~=~=~=~=~=~=~=~=~=~= PuTTY log |Ncat: |Connecting To \S+\.\.\.|"
    r"Could not open connection to the host, on port|telnet: Unable to connect|"
    r"Connection to \S+ \d+ port \[tcp/[^\]]*\] succeeded!|nc: connect to )"
)


def telnet(lines: Sequence[Line]) -> float:
    replies = count_matching(_TELNET_REPLY, lines)
    banner = count_matching(_TELNET_BANNER, lines) + count_matching(_OTHER_CLIENTS, lines)
    if banner and (replies or banner >= 2):
        # "Trying ..." + "telnet: Unable to connect ..." is a whole session too.
        return min(0.95, 0.7 + 0.1 * banner)
    if not replies:
        return 0.0
    # No client program notices: a bare log of replies (the seed example,
    # an `openssl s_client -quiet` paste...). Weak, so that any dialect
    # with a real signature wins.
    return min(0.4, 0.15 + 0.05 * replies)


# dialect name -> sniffer (dialects/__init__.py's REGISTRY names the same dialects)
SNIFFERS: dict[str, Callable[[Sequence[Line]], float]] = {
    "smtplog": smtplog,
    "swaks": swaks,
    "curl": curl,
    "phpmailer": phpmailer,
    "smtplib": smtplib,
    "openssl": openssl,
    "msmtp": msmtp,
    "javamail": javamail,
    "nodemailer": nodemailer,
    "ruby": ruby,
    "perl": perl,
    "mailkit": mailkit,
    "postfix": postfix,
    "tshark": tshark,
    "exchange": exchange,
    "sendmail": sendmail,
    "exim": exim,
    "telnet": telnet,
}
