"""`smtplog proxy`: stand between an application and its mail server and record every session."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click

from smtplog.cli.recording import RecordingError


@click.command(
    epilog="""\b
Examples:
  smtplog proxy --upstream mail.example.com:587
      point the application at 127.0.0.1:2525 instead of mail.example.com:587
  smtplog proxy --listen 2525 --upstream 127.0.0.1:25 --analyze
  smtplog proxy --listen 0.0.0.0:2525 --upstream mx.example.com:25
      listen on every interface (only when you name the address yourself)

\b
TLS. Without --tls-cert/--tls-key the proxy does not touch TLS: after
STARTTLS the bytes pass through untouched, and the transcript records the
handshake's outcome (version, cipher, server name, or why it failed) and how
many encrypted bytes went each way, but not what they said.

\b
With --tls-cert/--tls-key the proxy TERMINATES TLS: the application does its
TLS handshake with the proxy and sees the PROXY'S certificate, not the
server's; the proxy opens its own TLS connection to the upstream and records
the whole session in clear. The application must trust that certificate (or
not check it). This is a man in the middle by design: use it only on systems
you run, with a certificate you made for the purpose.
--listen-tls ADDR takes implicit TLS (port 465 style) from the first byte.

\b
One transcript per connection is written (mode 0600) to --save-dir, default
$XDG_DATA_HOME/smtplog/transcripts; AUTH passwords are masked before anything
is written. A one-line verdict is printed as each session ends. Ctrl-C stops
the proxy: open sessions are closed and their transcripts finished.
"""
)
@click.option(
    "--listen",
    "-l",
    "listen",
    multiple=True,
    metavar="[HOST:]PORT",
    help="Where applications connect (plain SMTP, STARTTLS possible). "
    "Default 127.0.0.1:2525; a bare PORT listens on loopback only.",
)
@click.option(
    "--listen-tls",
    multiple=True,
    metavar="[HOST:]PORT",
    help="Also listen for implicit TLS (like port 465); needs --tls-cert/--tls-key.",
)
@click.option(
    "--upstream",
    "-u",
    required=True,
    metavar="HOST[:PORT]",
    help="The real mail server (port default 25).",
)
@click.option(
    "--upstream-tls", is_flag=True, help="The upstream speaks implicit TLS (port 465 style)."
)
@click.option(
    "--tls-cert",
    type=click.Path(exists=True, dir_okay=False),
    help="Certificate (PEM) the proxy shows clients: enables TLS termination (see below).",
)
@click.option(
    "--tls-key",
    type=click.Path(exists=True, dir_okay=False),
    help="Private key (PEM) of --tls-cert.",
)
@click.option(
    "--upstream-verify",
    is_flag=True,
    help="Verify the upstream's certificate when the proxy opens TLS to it (fail if it does "
    "not verify). Without it the certificate is recorded but not checked.",
)
@click.option(
    "--ca-file",
    type=click.Path(exists=True, dir_okay=False),
    help="Trust the CAs in this PEM file for --upstream-verify.",
)
@click.option(
    "--timeout",
    metavar="SECONDS",
    type=click.FloatRange(1, 3600),
    default=300.0,
    show_default=True,
    help="Close a session when nothing moves either way for this many seconds.",
)
@click.option(
    "--connect-timeout",
    metavar="SECONDS",
    type=click.FloatRange(0.1, 600),
    default=30.0,
    show_default=True,
    help="Seconds to wait for the upstream to accept a connection (and for a TLS handshake).",
)
@click.option(
    "--max-sessions",
    metavar="N",
    type=click.IntRange(1, 10000),
    default=200,
    show_default=True,
    help="Sessions at once; more clients get a 421 reply.",
)
@click.option(
    "--save-dir",
    type=click.Path(file_okay=False),
    help="Folder for the transcripts (default: $XDG_DATA_HOME/smtplog/transcripts).",
)
@click.option("--no-save", is_flag=True, help="Do not keep transcripts (verdicts only).")
@click.option(
    "--analyze",
    "show_analysis",
    is_flag=True,
    help="Print the full analysis of each session as it ends, not just its verdict.",
)
def proxy(  # noqa: PLR0917 - click passes every option
    listen: tuple[str, ...],
    listen_tls: tuple[str, ...],
    upstream: str,
    upstream_tls: bool,
    tls_cert: str | None,
    tls_key: str | None,
    upstream_verify: bool,
    ca_file: str | None,
    timeout: float,
    connect_timeout: float,
    max_sessions: int,
    save_dir: str | None,
    no_save: bool,
    show_analysis: bool,
) -> None:
    """Relay SMTP clients to --upstream and record every session, one transcript each.

    For applications that fail to send mail and keep no log: point them at
    the proxy, reproduce the problem, read the verdict.
    """
    import asyncio

    from smtplog.record.proxy import Listener, ProxyOptions, check_save_dir, serve
    from smtplog.record.target import parse_target

    if (tls_cert is None) != (tls_key is None):
        raise RecordingError("--tls-cert and --tls-key go together")
    if listen_tls and tls_cert is None:
        raise RecordingError(
            "--listen-tls needs --tls-cert and --tls-key (the proxy's certificate)"
        )
    listeners = [_listener(text, False) for text in listen]
    listeners += [_listener(text, True) for text in listen_tls]
    if not listeners:
        listeners = [Listener("127.0.0.1", 2525)]
    folder = Path(save_dir).expanduser() if save_dir else None
    if not no_save:
        from smtplog.record.proxy import transcript_folder

        try:
            check_save_dir(folder or transcript_folder())
        except OSError as exc:
            raise RecordingError(f"cannot write transcripts: {exc}") from exc
    options = ProxyOptions(
        listeners=listeners,
        upstream=parse_target(upstream, 465 if upstream_tls else 25),
        upstream_tls=upstream_tls,
        tls_cert=tls_cert,
        tls_key=tls_key,
        upstream_verify=upstream_verify,
        upstream_ca=ca_file,
        connect_timeout=connect_timeout,
        tls_timeout=connect_timeout,
        idle_timeout=timeout,
        max_sessions=max_sessions,
        save_dir=folder,
        save=not no_save,
    )
    if options.terminating and sys.version_info < (3, 11):
        raise RecordingError("TLS termination needs Python 3.11 or newer")
    printer = VerdictPrinter(show_analysis)

    def ready(bound: list[str]) -> None:
        from smtplog.render.safe import safe

        where = folder or "the default folder" if not no_save else "nowhere (--no-save)"
        mode = "terminating TLS" if options.terminating else "TLS passes through"
        click.echo(
            safe(
                f"smtplog proxy: listening on {', '.join(bound)}; forwarding to "
                f"{options.upstream.label}{' (implicit TLS)' if upstream_tls else ''}; {mode}; "
                f"transcripts: {where}. Ctrl-C stops."
            ),
            err=True,
        )

    try:
        result = asyncio.run(serve(options, printer, ready))
    except OSError as exc:
        raise RecordingError(f"cannot listen: {exc.strerror or exc}") from exc
    except ssl_errors() as exc:
        raise RecordingError(f"cannot use the certificate: {exc}") from exc
    click.echo(f"smtplog proxy: stopped after {result.count} session(s)", err=True)


def ssl_errors() -> type[Exception]:
    import ssl

    return ssl.SSLError


def _listener(text: str, implicit_tls: bool) -> object:
    """[HOST:]PORT; a bare port listens on loopback, port 0 picks a free one."""
    from smtplog.record.proxy import Listener
    from smtplog.record.target import parse_target

    text = text.strip()
    if text.isdigit():
        return Listener("127.0.0.1", _port(text), implicit_tls)
    any_port = text.endswith(":0")
    target = parse_target(text[:-2] if any_port else text, 2525)
    return Listener(target.host, 0 if any_port else target.port, implicit_tls)


def _port(text: str) -> int:
    if int(text) > 65535:
        raise RecordingError(f"{text} is not a port number (0-65535)")
    return int(text)


class VerdictPrinter:
    """One line per session as it ends (the full analysis with --analyze)."""

    def __init__(self, full: bool) -> None:
        self.full = full

    def __call__(self, result) -> None:  # type: ignore[no-untyped-def]
        from smtplog.errors import SmtplogError
        from smtplog.render.lines import verdict_text
        from smtplog.render.safe import safe

        where = f"; transcript {result.path}" if result.path else ""
        if self.full:
            from smtplog.cli.output import resolve_format, write_reports

            with contextlib.suppress(SmtplogError):  # nothing recorded: the line below says so
                write_reports([result.report()], resolve_format("auto"))
        session = result.verdict()
        if session is None:
            click.echo(
                f"session {result.number} from {safe(result.client)}: nothing recorded{where}"
            )
            return
        main = session.main
        verdict = verdict_text(
            session.outcome,
            session.failed_at,
            main.title if main else None,
            main.id if main else None,
        )
        detail = ""
        if main is not None and main.id != "delivered" and main.evidence:
            detail = " — " + main.evidence[-1].text.splitlines()[0][:160]
        click.echo(
            f"session {result.number} from {safe(result.client)} ({result.duration:.1f}s): "
            f"{safe(verdict + detail)}{safe(where)}"
        )
        sys.stdout.flush()
