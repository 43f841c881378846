"""`smtplog rules`: every diagnosis with its id, group, severity and title."""

from __future__ import annotations

import json
import sys

import click


@click.command()
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
@click.option("--group", "-g", metavar="GROUP", help="Only the diagnoses of this group.")
def rules(fmt: str, group: str | None) -> None:
    """List every diagnosis smtplog can give (the JSON `id`).

    `smtplog explain ID` shows one with its causes and next steps;
    docs/diagnoses.md has them all.
    """
    from smtplog.rules import diagnoses

    table = [doc for doc in diagnoses().values() if group is None or doc.group == group]
    if group is not None and not table:
        groups = sorted({doc.group for doc in diagnoses().values()})
        raise click.BadParameter(
            f"no such group; groups: {', '.join(groups)}", param_hint="--group"
        )
    if fmt == "json":
        items = [
            {"id": d.id, "group": d.group, "severity": d.severity, "title": d.title} for d in table
        ]
        sys.stdout.write(json.dumps({"schema": "smtplog-rules/1", "rules": items}, indent=2) + "\n")
        return
    width = max(len(doc.id) for doc in table)
    group_width = max(len(doc.group) for doc in table)
    for doc in table:
        click.echo(f"{doc.id:<{width}}  {doc.group:<{group_width}}  {doc.severity:<7}  {doc.title}")
