"""`smtplog dialects`: every dialect with an example line; `--detect FILE` shows the scores."""

from __future__ import annotations

import sys
from typing import Any

import click

from smtplog.cli import warn
from smtplog.errors import ExitCode, InputError, SmtplogError, worse

_STAGES = {0: "as given", 1: "cleaned", 2: "no timestamps"}


@click.command(
    epilog="""\b
Examples:
  smtplog dialects                        list the dialects smtplog reads
  smtplog dialects --detect session.txt   why a file was read as the dialect it was
  smtplog analyze --dialect swaks FILE    override detection
"""
)
@click.option(
    "--detect",
    "files",
    metavar="FILE",
    multiple=True,
    help="Show every dialect's score for FILE ('-' for standard input), as detection saw it.",
)
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
def dialects(files: tuple[str, ...], fmt: str) -> None:
    """List the transcript dialects smtplog reads, or explain the detection for FILEs."""
    from smtplog import dialects as registry

    if not files:
        _list(registry.all_dialects(), fmt)
        return
    from smtplog.cli.inputs import read_inputs

    worst = ExitCode.OK
    results = []
    for item in read_inputs(files):
        if isinstance(item, InputError):
            warn(str(item))
            worst = worse(worst, item.exit_code)
            continue
        try:
            result = _detection(item.name, item.data)
        except SmtplogError as exc:
            warn(str(exc))
            worst = worse(worst, exc.exit_code)
            continue
        if result["chosen"]["dialect"] is None:
            worst = worse(worst, ExitCode.NOT_SMTP)
        results.append(result)
    if fmt == "json":
        from smtplog.cli.output import json_text

        sys.stdout.write(json_text({"detections": results}, indent=2) + "\n")
    else:
        for result in results:
            click.echo("\n".join(_detection_text(result)))
    sys.exit(int(worst))


def _list(all_dialects: list[Any], fmt: str) -> None:
    from smtplog.cleanup import ALL

    rows = [{"name": d.name, "title": d.title, "example": d.example} for d in all_dialects]
    cleanup = [{"name": n.name, "undoes": n.undoes} for n in ALL]
    if fmt == "json":
        document = {"dialects": rows, "cleanup": cleanup}
        from smtplog.cli.output import json_text

        sys.stdout.write(json_text(document, indent=2) + "\n")
        return
    width = max(len(row["name"]) for row in rows)
    for row in rows:
        click.echo(f"{row['name']:<{width}}  {row['title']}")
        click.echo(f"{'':<{width}}  e.g. {row['example']}")
    click.echo("\nPasted text is cleaned up first when that helps a dialect read it:")
    for item in cleanup:
        click.echo(f"  {item['name']:<16}  {item['undoes']}")


def _detection(name: str, data: bytes) -> dict[str, Any]:
    from smtplog import dialects as registry
    from smtplog.reading import candidates, choose
    from smtplog.source import source_from_bytes

    source = source_from_bytes(data, name)
    options = candidates(source)
    chosen = choose(options)
    variants = [
        {
            "stage": option.cleaning.stage,
            "cleanup": option.cleaning.applied,
            "chosen": option is chosen,
            "scores": dict(option.scores),
        }
        for option in options
    ]
    ranked = list(chosen.scores)
    best_name, best = ranked[0]
    recognised = best >= registry.MIN_SCORE
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    return {
        "source": name,
        "variants": variants,
        "chosen": {
            "stage": chosen.cleaning.stage,
            "dialect": best_name if recognised else None,
            "confidence": registry.confidence(best, runner_up) if recognised else 0.0,
            "notes": chosen.cleaning.notes,
        },
    }


def _detection_text(result: dict[str, Any]) -> list[str]:
    from smtplog.render.safe import safe

    variants = result["variants"]
    chosen = result["chosen"]
    names = list(variants[0]["scores"])
    width = max(len(name) for name in names)
    header = f"  {'dialect':<{width}}  " + "  ".join(
        f"{_STAGES[v['stage']] + (' *' if v['chosen'] else ''):>15}" for v in variants
    )
    lines = [f"{safe(result['source'])}:", header]
    by_chosen = next(v for v in variants if v["chosen"])["scores"]
    for name in sorted(names, key=lambda n: -by_chosen[n]):
        cells = "  ".join(f"{v['scores'][name]:>15.2f}" for v in variants)
        mark = "  <- detected" if name == chosen["dialect"] else ""
        lines.append(f"  {name:<{width}}  {cells}{mark}")
    if chosen["dialect"] is None:
        lines.append("  no dialect recognises this text (exit code 3)")
    else:
        lines.append(
            f"  read as {chosen['dialect']} (confidence {chosen['confidence']:.2f}), "
            f"text {_STAGES[chosen['stage']]} (* marks the variant read)"
        )
    lines.extend(f"  {note}" for note in chosen["notes"])
    return lines
