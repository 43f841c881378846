"""`smtplog rules`: every diagnosis with its id and title."""

from __future__ import annotations

import click


@click.command()
def rules() -> None:
    """List every diagnosis smtplog can give (the JSON `id`)."""
    from smtplog.rules import diagnoses

    table = diagnoses()
    width = max(len(key) for key in table)
    for key, doc in table.items():
        click.echo(f"{key:<{width}}  {doc.group:<10}  {doc.title}")
