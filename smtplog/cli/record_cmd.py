"""`smtplog record`: an interactive SMTP session, like telnet, recorded and then explained."""

from __future__ import annotations

import sys

import click

from smtplog.cli.recording import (
    certificate_options,
    finish,
    open_transcript,
    transcript_options,
)


@click.command(
    epilog="""\b
Examples:
  smtplog record mx.example.com            type EHLO, MAIL FROM, ... as in telnet
  smtplog record smtp.example.com:465 --tls
  printf 'EHLO me\\nQUIT\\n' | smtplog record 127.0.0.1:25

\b
Inside: STARTTLS upgrades the connection, /auth login asks for the user name
and password and sends the base64 itself (masked everywhere), /help lists the
helpers, Ctrl-D or QUIT ends the session and the analysis follows.
"""
)
@click.argument("target")
@click.option(
    "--port", "-p", type=click.IntRange(1, 65535), help="Port (default 25; 465 with --tls)."
)
@click.option(
    "--tls", "implicit_tls", is_flag=True, help="Implicit TLS from the first byte (port 465)."
)
@certificate_options("Do not verify the server's certificate.")
@click.option(
    "--timeout",
    type=click.FloatRange(0.1, 600),
    default=60.0,
    show_default=True,
    help="Seconds to wait for each reply.",
)
@transcript_options("Output format of the analysis at the end.")
@click.option(
    "--colour/--no-colour",
    "--color/--no-color",
    "colour",
    default=None,
    help="Colour the live session (default: on a terminal).",
)
def record(  # noqa: PLR0917 - click passes every option
    target: str,
    port: int | None,
    implicit_tls: bool,
    insecure: bool,
    ca_file: str | None,
    tls_name: str | None,
    timeout: float,
    save: str | None,
    no_save: bool,
    colour: bool | None,
    fmt: str,
) -> None:
    """Talk SMTP to TARGET by hand, like telnet, with TLS, AUTH helpers and a recording.

    TARGET is host, host:port or [ip]:port.
    """
    from smtplog.record import tls
    from smtplog.record.interactive import HELP, Interactive, Screen, stdin_is_tty
    from smtplog.record.probe import Probe, ProbeOptions
    from smtplog.record.recorder import Recorder
    from smtplog.record.session import SessionEnded
    from smtplog.record.target import parse_target

    parsed = parse_target(target, port or (465 if implicit_tls else 25))
    tty = stdin_is_tty()
    screen = Screen(
        out=sys.stderr if fmt == "json" else sys.stdout,
        colour=colour if colour is not None else sys.stdout.isatty(),
        echo_client=not tty,
    )
    path, sink = open_transcript(save, no_save, parsed.label, "record")
    recorder = Recorder(parsed.label, command="record", sink=sink, listener=screen)
    if tty:
        screen.message(HELP.splitlines()[0] + " /help for more.")
    hostname = tls_name or parsed.host
    options = ProbeOptions(timeout=timeout, verify=not insecure, cafile=ca_file, tls_name=hostname)
    connector = Probe(options, recorder)
    if connector.connect(parsed):
        conversation = connector.conversation
        assert conversation is not None
        try:
            if implicit_tls:
                context = tls.make_context(verify=not insecure, cafile=ca_file)
                why = "" if not insecure else "not checked (--insecure)"
                conversation.start_tls(
                    context, hostname, timeout, verified=None if insecure else True, why=why
                )
            Interactive(
                conversation,
                screen,
                stdin_fd=sys.stdin.fileno(),
                tty=tty,
                timeout=timeout,
                tls_options={"verify": not insecure, "cafile": ca_file, "hostname": hostname},
            ).run()
        except SessionEnded:
            pass
        except KeyboardInterrupt:
            conversation.close(by_client=True)
        finally:
            conversation.close(by_client=True)
    if fmt != "json":
        sys.stdout.write("\n")
    finish(recorder, path, fmt, {"target": parsed.label})
