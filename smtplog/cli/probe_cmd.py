"""`smtplog probe`: test an SMTP server the way Microsoft's telnet procedure does, recorded."""

from __future__ import annotations

import click

from smtplog.cli.recording import (
    RecordingError,
    certificate_options,
    finish,
    open_transcript,
    read_password,
    transcript_options,
)

QUIT_POINTS = ("connect", "banner", "ehlo", "tls", "auth", "mail", "rcpt", "data")


@click.command(
    epilog="""\b
Examples:
  smtplog probe mx.example.com                       is SMTP up, what does it offer?
  smtplog probe mx.example.com --to user@example.com --quit-after rcpt
                                                     can this user receive?
  smtplog probe example.com --mx --to postmaster@example.com --quit-after rcpt
                                                     do all MX accept mail for the domain?
  SMTPLOG_PASSWORD=... smtplog probe smtp.example.com:587 --user me@example.com \\
      --from me@example.com --to you@example.org     send a test message as a user

\b
The password comes from SMTPLOG_PASSWORD or a prompt, never from the command
line. Exit codes are those of `smtplog analyze` (0 delivered or nothing wrong,
1 a failure was diagnosed, 2 usage error).
"""
)
@click.argument("target")
@click.option("--mx", is_flag=True, help="TARGET is a mail domain: test each of its MX servers.")
@click.option(
    "--port", "-p", type=click.IntRange(1, 65535), help="Port (default 25; 465 with --tls)."
)
@click.option(
    "--tls", "tls_mode", flag_value="implicit", help="Implicit TLS from the first byte (port 465)."
)
@click.option(
    "--starttls", "tls_mode", flag_value="starttls", help="Require STARTTLS; fail if not offered."
)
@click.option(
    "--no-tls", "tls_mode", flag_value="none", help="Do not use STARTTLS even when offered."
)
@certificate_options("Go on when the certificate does not verify (recorded).")
@click.option(
    "--helo",
    "--ehlo",
    "helo",
    metavar="NAME",
    help="Name to send with EHLO/HELO (default: this host's FQDN).",
)
@click.option(
    "--auth",
    type=click.Choice(["LOGIN", "PLAIN", "auto"], case_sensitive=False),
    help="Authenticate (auto: PLAIN, else LOGIN).",
)
@click.option(
    "--user",
    "-u",
    metavar="NAME",
    help="User name for AUTH (password: $SMTPLOG_PASSWORD or a prompt).",
)
@click.option(
    "--from",
    "-f",
    "sender",
    metavar="ADDRESS",
    help="MAIL FROM address (default with --to: the null sender <>).",
)
@click.option(
    "--to",
    "-t",
    "recipients",
    metavar="ADDRESS",
    multiple=True,
    help="RCPT TO address; repeat for more.",
)
@click.option(
    "--body",
    type=click.File("rb"),
    help="Send this file as the message (default: a generated test message).",
)
@click.option(
    "--quit-after",
    type=click.Choice(QUIT_POINTS, case_sensitive=False),
    help="Stop after this phase.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(0.1, 600),
    default=30.0,
    show_default=True,
    help="Seconds to wait at each step (never more than RFC 5321 §4.5.3.2 allows).",
)
@click.option(
    "--dns-server",
    metavar="IP[:PORT]",
    help="Ask this DNS server for --mx (default: the system's).",
)
@transcript_options("Output format of the analysis.")
def probe(  # noqa: PLR0917 - click passes every option
    target: str,
    mx: bool,
    port: int | None,
    tls_mode: str | None,
    insecure: bool,
    ca_file: str | None,
    tls_name: str | None,
    helo: str | None,
    auth: str | None,
    user: str | None,
    sender: str | None,
    recipients: tuple[str, ...],
    body: click.utils.LazyFile | None,
    quit_after: str | None,
    timeout: float,
    dns_server: str | None,
    save: str | None,
    no_save: bool,
    fmt: str,
) -> None:
    """Connect to an SMTP server, run the session phase by phase, record and explain it.

    TARGET is host, host:port, [ip]:port, or with --mx a mail domain.
    """
    from smtplog.record.probe import ProbeOptions, probe_target
    from smtplog.record.recorder import Recorder
    from smtplog.record.target import parse_target

    tls_mode = tls_mode or "auto"
    default_port = port or (465 if tls_mode == "implicit" else 25)
    if auth and not user:
        raise RecordingError("--auth needs --user")
    if quit_after in ("mail", "rcpt", "data") and not (sender is not None or recipients):
        raise RecordingError(f"--quit-after {quit_after} needs --from or --to")
    if quit_after in ("rcpt", "data") and not recipients:
        raise RecordingError(f"--quit-after {quit_after} needs --to")
    options = ProbeOptions(
        tls_mode=tls_mode,
        auth=auth,
        user=user,
        sender=sender,
        recipients=recipients,
        body=body.read() if body is not None else None,
        quit_after=quit_after.lower() if quit_after else None,
        timeout=timeout,
        verify=not insecure,
        cafile=ca_file,
        tls_name=tls_name,
    )
    if helo:
        options.helo = helo
    if user is not None:
        options.password = read_password(user)
    if mx:
        label = target.strip().rstrip(".")
        if not label or any(c in label for c in ":[]/ "):
            raise RecordingError(f"{target}: with --mx, TARGET is a mail domain (no port)")
    else:
        parsed = parse_target(target, default_port)
        label = parsed.label
    path, sink = open_transcript(save, no_save, label, "probe")
    recorder = Recorder(label, command="probe", sink=sink)
    extra: dict[str, object] = {"target": label}
    try:
        if mx:
            extra["mx"] = _probe_mx(label, options, default_port, dns_server, recorder)
        else:
            probe_target(options, parsed, recorder)
    finally:
        options.password = None
    finish(recorder, path, fmt, extra)


def _probe_mx(domain, options, port, dns_server, recorder) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    from smtplog.events import ConnectFailed
    from smtplog.record.probe import probe_mail_server
    from smtplog.record.target import resolve_mx

    result = resolve_mx(domain, dns_server, timeout=min(options.timeout, 30.0))
    if result.null_mx:
        recorder.add(
            ConnectFailed(
                reason="dns",
                detail=f"{domain} publishes a null MX (RFC 7505): it accepts no mail",
                time=recorder.now(),
            )
        )
        return []
    if not result.servers:
        recorder.add(
            ConnectFailed(reason="dns", detail=result.error or "no MX", time=recorder.now())
        )
        return []
    servers = []
    for server in result.servers:
        preference = "implicit MX" if server.preference is None else f"MX {server.preference}"
        recorder.stream = f"{server.host} ({preference})"
        probe_mail_server(options, server, port, recorder)
        servers.append(
            {
                "host": server.host,
                "preference": server.preference,
                "addresses": server.addresses,
                "error": server.error,
                "session": recorder.stream,
            }
        )
    recorder.stream = None
    return servers
