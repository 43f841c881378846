"""TARGET on the command line, and the mail servers of a domain (MX, RFC 5321 §5.1).

Forms: ``host``, ``host:port``, ``[ipv6]:port``, ``[ip]`` or a bare IPv6
address. With ``--mx`` TARGET is a mail domain: its MX records in preference
order, or, when it has none, the domain itself (its A/AAAA records) as the
implicit MX. A null MX ("0 .", RFC 7505) means the domain accepts no mail.
dnspython is imported only for ``--mx``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from smtplog.errors import SmtplogError


class TargetError(SmtplogError):
    """TARGET cannot be understood (exit code 2)."""


@dataclass(frozen=True, slots=True)
class Target:
    host: str
    port: int

    @property
    def label(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_target(text: str, default_port: int) -> Target:
    text = text.strip()
    if not text:
        raise TargetError("TARGET is empty: give a host, host:port or [ip]:port")
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep:
            raise TargetError(f"{text}: missing ']' after the address")
        port_text = rest[1:] if rest.startswith(":") else rest
        if rest and not rest.startswith(":"):
            raise TargetError(f"{text}: expected ':PORT' after ']'")
        return Target(host, _port(port_text, default_port, text))
    if text.count(":") > 1:  # a bare IPv6 address has no port
        try:
            ipaddress.IPv6Address(text)
        except ValueError:
            raise TargetError(f"{text}: write an IPv6 address with a port as [addr]:port") from None
        return Target(text, default_port)
    host, _, port_text = text.partition(":")
    if not host:
        raise TargetError(f"{text}: the host is missing")
    return Target(host, _port(port_text, default_port, text))


def _port(text: str, default: int, whole: str) -> int:
    if not text:
        return default
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise TargetError(f"{whole}: '{text}' is not a port number (1-65535)")
    return int(text)


@dataclass(slots=True)
class MailServer:
    """One server a mail domain names: its MX host (or the domain itself) and addresses."""

    host: str
    preference: int | None  # None: the implicit MX (no MX record)
    addresses: list[str] = field(default_factory=list)
    error: str | None = None  # why it could not be resolved


@dataclass(slots=True)
class MxResult:
    domain: str
    servers: list[MailServer]
    implicit: bool = False  # no MX records: the domain's own A/AAAA
    null_mx: bool = False
    error: str | None = None  # the domain itself failed to resolve


def _resolver(nameserver: str | None, timeout: float):  # type: ignore[no-untyped-def]
    import dns.resolver

    resolver = dns.resolver.Resolver(configure=nameserver is None)
    if nameserver:
        host, _, port = nameserver.rpartition(":") if nameserver.count(":") == 1 else (
            nameserver, "", "")  # fmt: skip
        resolver.nameservers = [host or nameserver]
        if port:
            resolver.port = int(port)
    resolver.lifetime = timeout
    resolver.timeout = timeout
    return resolver


def _addresses(resolver, host: str) -> tuple[list[str], str | None]:  # type: ignore[no-untyped-def]
    import dns.exception
    import dns.resolver

    found: list[str] = []
    errors: list[str] = []
    for rdtype in ("AAAA", "A"):
        try:
            answer = resolver.resolve(host, rdtype)
        except dns.resolver.NXDOMAIN:
            return [], f"{host} does not exist (NXDOMAIN)"
        except dns.resolver.NoAnswer:
            continue
        except dns.resolver.NoNameservers as exc:
            errors.append(f"no name server answered for {host} ({exc})")
            continue
        except dns.exception.Timeout:
            errors.append(f"the DNS query for {host} {rdtype} timed out")
            continue
        found.extend(record.to_text() for record in answer)
    if not found:
        return [], "; ".join(errors) or f"{host} has no A or AAAA record"
    return found, None


def resolve_mx(domain: str, nameserver: str | None = None, timeout: float = 10.0) -> MxResult:
    """The mail servers of ``domain`` in the order a sender tries them."""
    import dns.exception
    import dns.resolver

    resolver = _resolver(nameserver, timeout)
    domain = domain.rstrip(".")
    try:
        answer = resolver.resolve(domain, "MX")
    except dns.resolver.NXDOMAIN:
        return MxResult(domain, [], error=f"the domain {domain} does not exist (NXDOMAIN)")
    except dns.resolver.NoAnswer:
        # RFC 5321 §5.1: no MX records -> the domain itself is the mail server.
        addresses, error = _addresses(resolver, domain)
        server = MailServer(domain, None, addresses, error)
        return MxResult(domain, [server], implicit=True, error=error)
    except dns.resolver.NoNameservers as exc:
        return MxResult(domain, [], error=f"no name server answered for {domain} MX ({exc})")
    except dns.exception.Timeout:
        return MxResult(domain, [], error=f"the DNS query for {domain} MX timed out")
    records = sorted(
        ((record.preference, record.exchange.to_text().rstrip(".")) for record in answer),
        key=lambda item: (item[0], item[1]),
    )
    if len(records) == 1 and records[0][1] in ("", "."):
        return MxResult(domain, [], null_mx=True)
    servers = []
    for preference, host in records:
        addresses, error = _addresses(resolver, host)
        servers.append(MailServer(host, preference, addresses, error))
    return MxResult(domain, servers)
