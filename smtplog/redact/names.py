"""What counts as a host name, an address or an IP address in transcript text.

A host name must end in a real top-level domain (the Public Suffix List, plus
the special-use names people use inside companies), so ``System.Net.Mail``,
``class.phpmailer.php`` and ``TLSv1.3`` are left alone.
"""

from __future__ import annotations

import ipaddress
import re
from functools import cache
from importlib import resources

# RFC 2606 / RFC 6761 / RFC 6762 special-use names, ICANN's .internal, and the
# private suffixes company networks use: not in the Public Suffix List, but
# exactly the names a redaction must catch (contoso.local, mail.corp.internal).
SPECIAL_USE_TLDS = frozenset(
    {"test", "example", "invalid", "localhost", "local", "internal", "lan", "corp", "home",
     "localdomain", "intranet", "private", "onion", "arpa"}
)  # fmt: skip

LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
# A dotted name, as long as it goes: validated afterwards, never shortened.
# Names may follow an escaped line break in a debug log (smtplib: b'250-x\nmx.example.com').
AFTER_ESCAPE = r"(?<=\\[nrt])"
HOST = rf"(?:{AFTER_ESCAPE}|(?<![\w@.\\-]))(?:{LABEL}\.)+{LABEL}(?![\w-]|\.[A-Za-z0-9])"
# Practical local parts: "=" and "/" would swallow log keys (sasl_username=alice@...).
LOCAL_PART = r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*"
ADDRESS = (
    rf"(?:{AFTER_ESCAPE}|(?<![\w.%+\\-]))(?P<local>{LOCAL_PART}|\"[^\"\r\n]*\")@"
    rf"(?P<domain>(?:{LABEL}\.)*{LABEL}(?![\w-]|\.[A-Za-z0-9])|\[[^\]\s]+\])"
)
IPV4 = r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)"
IPV6 = (
    r"(?:(?<=IPv6:)|(?<=ipv6:)|(?<![\w:.]))"  # "IPv6:" tags an address literal (RFC 5321)
    r"(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])"
)

# One pass over a line: the leftmost match wins, addresses before the hosts in them.
PATTERN = re.compile(rf"(?P<address>{ADDRESS})|(?P<ipv6>{IPV6})|(?P<ipv4>{IPV4})|(?P<host>{HOST})")


@cache
def public_suffixes() -> frozenset[str]:
    text = resources.files("smtplog.redact").joinpath("public-suffixes.txt").read_text("utf-8")
    rules = (line.strip() for line in text.splitlines())
    return frozenset(rule for rule in rules if rule and not rule.startswith("#"))


# Two-label names under these are host names; under the hundreds of newer
# generic TLDs (.stream, .zip, .java, .app...) a two-label name is more often
# a field or a file ("tcp.stream", "Main.java") and counts only when the file
# shows the domain elsewhere (an address, a longer host name).
CLASSIC_TLDS = frozenset({"com", "net", "org", "edu", "gov", "mil", "int", "info", "biz", "arpa"})
# Country codes that are also everyday file extensions.
FILE_EXTENSIONS = frozenset(
    {"py", "sh", "md", "rs", "pl", "so", "ps", "cs", "ai", "in", "am", "ml"}
)


def is_tld(label: str) -> bool:
    return label in SPECIAL_USE_TLDS or label in public_suffixes()


def is_host_name(name: str, known_domains: frozenset[str] | set[str] = frozenset()) -> bool:
    """A dotted name that names a host, not a file, a class or a field.

    Three labels or more: the last must be a top-level domain. Two labels: a
    classic or special-use TLD, a country code that is not a file extension,
    or a domain ``known_domains`` says the text uses elsewhere.
    """
    labels = name.lower().rstrip(".").split(".")
    if len(labels) < 2 or not is_tld(labels[-1]):
        return False
    if len(labels) >= 3 or ".".join(labels) in known_domains:
        return True
    tld = labels[-1]
    if tld in CLASSIC_TLDS or tld in SPECIAL_USE_TLDS:
        return True
    return len(tld) == 2 and tld not in FILE_EXTENSIONS


def registrable_domain(name: str) -> str:
    """``mail.example.co.uk`` -> ``example.co.uk``: the public suffix and one label more."""
    labels = name.lower().rstrip(".").split(".")
    suffixes = public_suffixes()
    for start in range(1, len(labels)):
        if ".".join(labels[start:]) in suffixes or (
            start == len(labels) - 1 and labels[start] in SPECIAL_USE_TLDS
        ):
            return ".".join(labels[start - 1 :])
    return ".".join(labels[-2:])


def parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def is_private_to_nobody(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Loopback and unspecified addresses say nothing about anyone: they stay."""
    return ip.is_loopback or ip.is_unspecified
