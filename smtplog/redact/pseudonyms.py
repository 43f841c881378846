"""Consistent stand-ins for addresses, host names and IP addresses.

The same original always gets the same stand-in within one file, and the
stand-ins keep the relations a reader needs: every name under one registrable
domain gets the same pseudo-domain (``alice@customer.com`` ->
``user1@example-1.example``, ``mx1.customer.com`` -> ``host-1.example-1.example``).
Stand-ins are reserved names (RFC 2606: ``.example``) and documentation ranges
(RFC 5737: 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24; RFC 3849:
2001:db8::/32), so they can never point at someone real.

Kept as they are: loopback and unspecified addresses, ``localhost``, role
accounts (postmaster@, abuse@...; their domain is still replaced), public names
(the domains the provider knowledge recognises, and ``public-names.txt``:
blocklists, large mailbox providers), which name a provider, not the customer,
and which the diagnosis and the reader need; and stand-ins this module made
(redacting twice changes nothing). A customer's name that a diagnosis pattern
looks at keeps only the label the pattern needs (``barracuda.customer.com`` ->
``barracuda.example-1.example``), and a tenant label in a provider's name goes
(``contoso-com.mail.protection.outlook.com``).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from smtplog.redact.names import (
    AFTER_ESCAPE,
    PATTERN,
    is_host_name,
    is_private_to_nobody,
    parse_ip,
    registrable_domain,
)

if TYPE_CHECKING:
    from smtplog.rules.classify import LazyPattern

ROLE_ACCOUNTS = frozenset(
    {"postmaster", "abuse", "mailer-daemon", "hostmaster", "webmaster", "noc", "security"}
)
KEPT_HOSTS = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
IPV4_RANGES = (
    ipaddress.ip_network("192.0.2.0/24"),
    ipaddress.ip_network("198.51.100.0/24"),
    ipaddress.ip_network("203.0.113.0/24"),
)
IPV6_RANGE = ipaddress.ip_network("2001:db8::/32")
_OWN_NAME = re.compile(r"^(?:host-\d+\.)?example-\d+\.example$|^user\d+$", re.IGNORECASE)
_REPLY_PREFIX = re.compile(r"^([2-5]\d\d-)(.+)$")
_BASE64_TOKEN = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{6,}={0,2}(?![A-Za-z0-9+/=])")


@cache
def provider_markers() -> tuple[LazyPattern, ...]:
    """How the diagnosis recognises a provider by name (providers/*.toml markers)."""
    from smtplog.rules.classify import providers

    return tuple(
        marker
        for provider in providers().values()
        for variant in provider.variants
        for marker in variant.markers
    )


@cache
def knowledge_patterns() -> tuple[re.Pattern[str], ...]:
    """Every regular expression the diagnosis matches against transcript text:
    provider markers, provider and generic reply patterns, client error texts."""
    from smtplog.knowledge import read_tsv
    from smtplog.rules.classify import all_rules

    patterns = list(provider_markers())
    patterns += [rule.pattern for rule in all_rules() if rule.pattern is not None]
    for row in read_tsv("client-errors.tsv"):
        text = row.get("pattern", "")
        if text and text != "*":
            try:
                patterns.append(re.compile(text, re.IGNORECASE))
            except re.error:
                continue
    return tuple(patterns)


@cache
def public_names() -> frozenset[str]:
    text = resources.files("smtplog.redact").joinpath("public-names.txt").read_text("utf-8")
    rules = (line.strip().lower() for line in text.splitlines())
    return frozenset(rule for rule in rules if rule and not rule.startswith("#"))


def is_public(domain: str) -> bool:
    """A provider's or a blocklist's registrable domain: it names no customer."""
    probe = f".{domain}/"
    return domain in public_names() or any(m.search(probe) for m in provider_markers())


def known_to_the_rules(host: str) -> bool:
    """Would a provider marker or a diagnosis pattern match this name?"""
    probe = f".{host}/"
    return any(pattern.search(probe) for pattern in knowledge_patterns())


@dataclass(slots=True)
class Pseudonyms:
    """Replaces what the options ask for in text, remembering every stand-in it gave."""

    addresses: bool = False
    hosts: bool = False
    ips: bool = False
    keep: Callable[[str], bool] = known_to_the_rules
    domains: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # host name -> stand-in
    people: dict[str, str] = field(default_factory=dict)  # address or login -> userN
    numbers: dict[str, str] = field(default_factory=dict)  # IP address -> stand-in
    words: dict[str, str] = field(default_factory=dict)  # single-label names seen in EHLO
    counts: dict[str, int] = field(default_factory=lambda: {"address": 0, "host": 0, "ip": 0})
    subhosts: int = 0
    known: set[str] = field(default_factory=set)  # registrable domains the text uses
    _words_pattern: re.Pattern[str] | None = None
    _glued_pattern: re.Pattern[str] | None = None
    _glued_size: int = 0

    @property
    def active(self) -> bool:
        return self.addresses or self.hosts or self.ips

    # -- stand-ins ---------------------------------------------------------

    def domain(self, name: str) -> str:
        """The stand-in of a DNS name: its registrable domain -> example-N.example.

        Public names (providers, blocklists) stay; a name the diagnosis
        patterns look at keeps the labels they need (``barracuda.customer.com``
        -> ``barracuda.example-1.example``); the rest is replaced whole.
        """
        lowered = name.lower().rstrip(".")
        if lowered in KEPT_HOSTS or _OWN_NAME.match(lowered):
            return name
        if lowered in self.names:
            return self.names[lowered]
        base = registrable_domain(lowered)
        if is_public(base):
            return self._tenant(name, lowered)
        if lowered != base and self.keep(lowered):
            candidate = lowered[: -len(base)] + self._domain_stand_in(base, commit=False)
            if self.keep(candidate):
                self._domain_stand_in(base)
                self.names[lowered] = candidate
                return candidate
        stand_in = self._domain_stand_in(base)
        if lowered != base:
            self.subhosts += 1
            stand_in = f"host-{self.subhosts}.{stand_in}"
        self.names[lowered] = stand_in
        return stand_in

    def _domain_stand_in(self, base: str, commit: bool = True) -> str:
        stand_in = self.domains.get(base) or f"example-{len(self.domains) + 1}.example"
        if commit:
            self.domains.setdefault(base, stand_in)
        return stand_in

    def _tenant(self, name: str, lowered: str) -> str:
        """A provider's name stays, except a first label naming the customer.

        Microsoft 365 names a tenant's MX after its domain
        (``contoso-com.mail.protection.outlook.com``): that label goes, as long
        as the rest still tells the rules which provider it is.
        """
        first, _, rest = lowered.partition(".")
        parts = first.split("-")
        if len(parts) < 2 or not is_host_name(f"x.{parts[-1]}") or not rest:
            return name
        candidate = f"host-{self.subhosts + 1}.{rest}"
        if not self.keep(candidate):
            return name
        self.subhosts += 1
        self.names[lowered] = candidate
        return candidate

    def person(self, local: str, domain: str | None) -> str:
        key = f"{local}@{domain}".lower() if domain else local.lower()
        if local.lower() in ROLE_ACCOUNTS:
            return local
        if key not in self.people:
            self.people[key] = f"user{len(self.people) + 1}"
        return self.people[key]

    def ip(self, text: str) -> str:
        parsed = parse_ip(text)
        if parsed is None or is_private_to_nobody(parsed):
            return text
        if parsed.version == 4 and any(parsed in net for net in IPV4_RANGES):
            return text  # already a documentation address
        if parsed.version == 6 and parsed in IPV6_RANGE:
            return text
        key = str(parsed)
        if key not in self.numbers:
            same_family = sum(1 for k in self.numbers if (":" in k) == (parsed.version == 6))
            self.numbers[key] = _documentation_ip(parsed.version, same_family)
        return self.numbers[key]

    def learn_word(self, word: str) -> None:
        """A single-label name (``EHLO johns-laptop``) to replace wherever it appears."""
        lowered = word.lower()
        if not self.hosts or lowered in KEPT_HOSTS or lowered in self.words or "." in lowered:
            return
        if not re.fullmatch(r"[A-Za-z0-9-]{2,63}", word) or word.isdigit():
            return
        self.words[lowered] = f"host-{len(self.words) + 1}"
        from smtplog.recache import private

        with private():  # the transcript's own names: never in the user cache
            self._words_pattern = re.compile(
                r"(?<![\w.@-])(?:"
                + "|".join(re.escape(w) for w in sorted(self.words, key=len, reverse=True))
                + r")(?![\w@-]|\.[A-Za-z0-9])",
                re.IGNORECASE,
            )

    def learn_domains(self, text: str) -> None:
        """Domains the whole text shows in addresses or in names of three labels or more,
        so that their two-label form is recognised anywhere (``acme.online``)."""
        for match in PATTERN.finditer(text):
            if match.group("address") is not None:
                domain = match.group("domain")
                if not domain.startswith("["):
                    self.known.add(registrable_domain(domain))
            elif match.lastgroup == "host" and match.group(0).count(".") >= 2:
                name = _REPLY_PREFIX.sub(r"\2", match.group(0))
                if is_host_name(name):
                    self.known.add(registrable_domain(name))

    def learn_login(self, login: str) -> None:
        """An AUTH user name without a domain: replaced with the addresses."""
        if self.addresses and "@" not in login and login.strip():
            self.person(login, None)

    # -- text --------------------------------------------------------------

    def text(self, line: str) -> str:
        if not self.active:
            return line
        line = PATTERN.sub(self._replace, line)
        if self._words_pattern is not None:
            line = self._words_pattern.sub(lambda m: self.words[m.group(0).lower()], line)
        return line

    def glued(self, line: str) -> str:
        """Names already replaced elsewhere, where they are glued to other text: a
        certificate in a hex dump ("mx.example.test0..."), a reply whose line
        breaks a tool removed ("mx.example.test250-PIPELINING")."""
        if not self.names:
            return line
        if self._glued_pattern is None or self._glued_size != len(self.names):
            originals = sorted((n for n in self.names if "." in n), key=len, reverse=True)
            self._glued_size = len(self.names)
            self._glued_pattern = re.compile(
                rf"(?:{AFTER_ESCAPE}|(?<=[2-5]\d\d-)|(?<![A-Za-z0-9\\-]))(?:"
                + "|".join(map(re.escape, originals))
                + ")",
                re.IGNORECASE,
            )
        return self._glued_pattern.sub(lambda m: self.names[m.group(0).lower()], line)

    def _replace(self, match: re.Match[str]) -> str:
        original = match.group(0)
        kind = match.lastgroup
        if match.group("address") is not None:
            return self._address(match) if self.addresses else self._address_parts(match)
        if kind in ("ipv4", "ipv6"):
            if not self.ips:
                return original
            replaced = self.ip(original)
            self.counts["ip"] += replaced != original
            return replaced
        if kind == "host" and self.hosts:
            prefix = ""
            if reply := _REPLY_PREFIX.match(original):  # "250-mx.example.com" is code + name
                prefix, original = reply.group(1), reply.group(2)
            if not is_host_name(original, self.known):
                return match.group(0)
            replaced = prefix + self.domain(original)
            original = match.group(0)
            self.counts["host"] += replaced != original
            return replaced
        return original

    def _address(self, match: re.Match[str]) -> str:
        local, domain = match.group("local"), match.group("domain")
        if domain.startswith("["):
            literal = domain[1:-1]
            tag = "IPv6:" if literal[:5].lower() == "ipv6:" else ""
            new_domain = f"[{tag}{self.ip(literal[len(tag) :])}]" if self.ips else domain
        else:
            new_domain = self.domain(domain)
        replaced = f"{self.person(local, domain)}@{new_domain}"
        self.counts["address"] += replaced != match.group(0)
        return replaced

    def _address_parts(self, match: re.Match[str]) -> str:
        """Without --addresses the mailbox stays; with --hosts its domain is a domain name."""
        local, domain = match.group("local"), match.group("domain")
        if not self.hosts or domain.startswith("[") or not is_host_name(domain, self.known):
            return match.group(0)
        replaced = f"{local}@{self.domain(domain)}"
        self.counts["host"] += replaced != match.group(0)
        return replaced

    def logins(self, text: str) -> str:
        """Replace a known AUTH login name standing alone (``alice``)."""
        key = text.strip().lower()
        if self.addresses and key in self.people and "@" not in key:
            return text.replace(text.strip(), self.people[key])
        return text

    # -- base64 ------------------------------------------------------------

    def base64_tokens(self, line: str) -> str:
        """Replace inside base64 words that decode to text (AUTH LOGIN user names,
        CRAM-MD5 challenges naming the server, base64 message bodies)."""
        if not self.active:
            return line
        return _BASE64_TOKEN.sub(self._base64, line)

    def _base64(self, match: re.Match[str]) -> str:
        token = match.group(0)
        if len(token) % 4 or len(token) < 8:
            return token
        try:
            decoded = base64.b64decode(token, validate=True).decode("utf-8")
        except (binascii.Error, ValueError, UnicodeDecodeError):
            return token
        if not decoded.isprintable():
            return token
        replaced = self.logins(self.text(decoded))
        if replaced == decoded:
            return token
        return base64.b64encode(replaced.encode("utf-8")).decode("ascii")

    def mapping(self) -> list[tuple[str, str, str]]:
        """(kind, original, stand-in) for everything replaced: the key to read a copy back."""
        rows = [("domain", k, v) for k, v in self.domains.items()]
        rows += [("host", k, v) for k, v in self.names.items() if k not in self.domains]
        rows += [("host", k, v) for k, v in self.words.items()]
        for key, user in self.people.items():
            if "@" in key:
                domain = key.rsplit("@", 1)[1]
                rows.append(("address", key, f"{user}@{self.names.get(domain, domain)}"))
            else:
                rows.append(("login", key, user))
        rows += [("ip", k, v) for k, v in self.numbers.items()]
        return rows


def _documentation_ip(version: int, index: int) -> str:
    if version == 4:
        # 762 usable stand-ins (1..254 in each range); beyond that they repeat.
        net = IPV4_RANGES[(index // 254) % len(IPV4_RANGES)]
        return str(net.network_address + 1 + index % 254)
    return str(IPV6_RANGE.network_address + 1 + index)
