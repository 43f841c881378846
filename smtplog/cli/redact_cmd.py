"""`smtplog redact`: a copy of a transcript that is safe to share."""

from __future__ import annotations

import os
import sys

import click

from smtplog.cli import warn
from smtplog.errors import ExitCode, InputError


def _complete_dialect(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    from smtplog.dialects import REGISTRY

    return [name for name in REGISTRY if name.startswith(incomplete)]


@click.command(
    epilog="""\b
Examples:
  smtplog redact session.txt > session-safe.txt       AUTH secrets removed
  smtplog redact --all session.txt -o safe.txt        and addresses, hosts, IPs
  smtplog redact --addresses --mapping key.tsv x.log  keep the key to read it back
  pbpaste | smtplog redact - | pbcopy

\b
Exit codes: 0 the copy was written, 2 usage error or unreadable input,
3 not an SMTP transcript, 70 a secret could not be removed (nothing is
written; please report it).
"""
)
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True), default="-")
@click.option("--addresses", is_flag=True, help="Replace e-mail addresses and AUTH user names.")
@click.option("--hosts", is_flag=True, help="Replace host and domain names.")
@click.option("--ips", is_flag=True, help="Replace IPv4 and IPv6 addresses.")
@click.option("--all", "everything", is_flag=True, help="All of --addresses, --hosts and --ips.")
@click.option(
    "--output",
    "-o",
    metavar="FILE",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Write the copy to FILE instead of standard output.",
)
@click.option(
    "--mapping",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="Also write which stand-in replaced what (kind, original, stand-in; tab-separated). "
    "Keep it private: it undoes the redaction.",
)
@click.option(
    "--dialect",
    "-d",
    metavar="NAME",
    shell_complete=_complete_dialect,
    help="Read the input as this dialect instead of detecting it.",
)
@click.option("--quiet", "-q", is_flag=True, help="Do not report what was replaced on stderr.")
@click.option(
    "--no-cleanup",
    is_flag=True,
    help="Read the text exactly as given, as `smtplog analyze --no-cleanup` does.",
)
def redact(  # noqa: PLR0917 (click passes every option)
    file: str,
    addresses: bool,
    hosts: bool,
    ips: bool,
    everything: bool,
    output: str | None,
    mapping: str | None,
    dialect: str | None,
    quiet: bool,
    no_cleanup: bool,
) -> None:
    """Write a copy of FILE that is safe to share, in FILE's own format.

    AUTH secrets are always removed: AUTH LOGIN passwords, AUTH PLAIN
    credentials, XOAUTH2 tokens and CRAM-MD5 responses. With --addresses,
    --hosts and --ips (or --all), those are replaced by consistent stand-ins:
    the same address gets the same stand-in everywhere in the file, and names
    in one domain stay in one domain (user1@example-1.example,
    host-1.example-1.example, 192.0.2.1, 2001:db8::1). Provider host names the
    diagnosis relies on, localhost and loopback addresses stay.

    The copy is checked: it must still analyse to the same verdict and
    diagnosis (a warning says so if not), and no secret may survive. The copy
    of a packet capture is smtplog's transcript of it.
    """
    from smtplog.cli.inputs import read_file, read_stdin
    from smtplog.redact import redact_bytes

    if dialect:
        from smtplog import dialects

        dialects.get(dialect)
    if everything:
        addresses = hosts = ips = True
    item = read_stdin() if file == "-" else read_file(file)
    result = redact_bytes(
        item.data,
        item.name,
        addresses=addresses,
        hosts=hosts,
        ips=ips,
        dialect=dialect,
        cleanup=not no_cleanup,
    )
    if output and output != "-":
        _write_atomically(output, result.data)
    elif sys.stdout.isatty():
        # On a terminal, the copy is shown, not kept: its escapes are made visible
        # (as `cat -v` would). In a file or a pipe it is byte for byte the copy.
        from smtplog.render.safe import safe

        text = result.data.decode("utf-8", errors="surrogateescape")
        sys.stdout.write("".join(safe(line) + "\n" for line in text.splitlines()))
        sys.stdout.flush()
    else:
        sys.stdout.buffer.write(result.data)
        sys.stdout.flush()
    if mapping:
        rows = "".join(f"{kind}\t{old}\t{new}\n" for kind, old, new in result.mapping)
        _write_atomically(mapping, ("kind\toriginal\tstand-in\n" + rows).encode())
    if not quiet:
        warn(_summary(result))
    for note in result.notes:
        warn(f"note: {note}")
    for change in result.changed:
        warn(f"warning: the copy analyses differently: {change}")
    sys.exit(int(ExitCode.OK))


def _summary(result) -> str:  # type: ignore[no-untyped-def]
    secrets = f"{result.secrets} AUTH secret{'s' if result.secrets != 1 else ''} removed"
    kinds: dict[str, int] = {}
    for kind, _old, _new in result.mapping:
        kinds[kind] = kinds.get(kind, 0) + 1
    labels = {
        "address": ("address", "addresses"),
        "login": ("user name", "user names"),
        "domain": ("domain", "domains"),
        "host": ("host name", "host names"),
        "ip": ("IP address", "IP addresses"),
    }
    replaced = [
        f"{kinds[key]} {one if kinds[key] == 1 else many}"
        for key, (one, many) in labels.items()
        if kinds.get(key)
    ]
    text = f"{result.dialect} transcript: {secrets}"
    if replaced:
        text += "; replaced " + ", ".join(replaced)
    return text


def _write_atomically(path: str, data: bytes) -> None:
    """Write via a temporary file, so an interrupted run leaves no half-redacted copy."""
    directory = os.path.dirname(os.path.abspath(path))
    temporary = os.path.join(directory, f".{os.path.basename(path)}.smtplog-{os.getpid()}")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except OSError as exc:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise InputError(f"{path}: cannot write ({exc.strerror or exc})") from exc
