"""`smtplog explain WHAT`: a reply code, an enhanced code, a reply line or a diagnosis id."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import click

WIDTH = 100
PHASES = ("banner", "ehlo", "starttls", "auth", "mail", "rcpt", "data", "message", "quit", "queue")


@click.command(
    epilog="""\b
Examples:
  smtplog explain 535
  smtplog explain 5.7.139
  smtplog explain "550 5.1.1 <x@example.com>: Recipient address rejected: User unknown"
  smtplog explain relay-denied
  smtplog explain --format json 5.7.1
"""
)
@click.argument("what", nargs=-1, required=True)
@click.option(
    "--phase",
    "-p",
    type=click.Choice(PHASES),
    help="The command a reply line answered (default: the phase with the strongest evidence).",
)
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
def explain(what: tuple[str, ...], phase: str | None, fmt: str) -> None:
    """Explain a reply code (535), an enhanced status code (5.7.1), a whole reply
    line, or a diagnosis id (see `smtplog rules`).

    Meanings come from the RFC and IANA tables, what providers mean by the
    same numbers from smtplog's provider tables, and the diagnosis with its
    likely causes and next steps from the registry.
    """
    from smtplog.rules.explain import explain as build

    result = build(" ".join(what), phase)
    if fmt == "json":
        document = {"schema": "smtplog-explain/1", **result.to_dict()}
        from smtplog.cli.output import json_text

        sys.stdout.write(json_text(document, indent=2) + "\n")
        return
    sys.stdout.write("\n".join(render(result.to_dict())) + "\n")


def _wrap(text: str, indent: str = "  ", first: str | None = None) -> list[str]:
    wrapper = textwrap.TextWrapper(
        width=WIDTH,
        initial_indent=indent if first is None else first,
        subsequent_indent=indent if first is None else " " * len(first),
        break_on_hyphens=False,
    )
    return wrapper.wrap(text) or [indent.rstrip()]


def render(data: dict[str, Any]) -> Iterator[str]:
    from smtplog.render.safe import safe

    kind = {
        "reply-code": "reply code",
        "enhanced-code": "enhanced status code",
        "reply": "reply",
        "diagnosis": "diagnosis",
    }[data["kind"]]
    yield f"{safe(data['query'])}: {kind}"
    if data["kind"] == "diagnosis":
        yield from _diagnosis(data)
        return
    if data["meanings"]:
        yield ""
        yield "Meaning"
        width = max(len(m["code"]) for m in data["meanings"])
        for meaning in data["meanings"]:
            label = f"  {meaning['code']:<{width}}  "
            title = f"{meaning['title']}: " if meaning["title"] else ""
            yield from _wrap(f"{title}{meaning['text']} ({meaning['source']})", first=label)
    for note in data["notes"]:
        yield ""
        yield from _wrap(safe(note), indent="", first="Note: ")
    classification = data["classification"]
    if classification:
        yield ""
        phase = classification["phase"]
        where = ""
        if phase:
            assumed = " (assumed; --phase changes it)" if classification["phase_assumed"] else ""
            where = f" as a reply to {_phase_name(phase)}{assumed}"
        yield from _wrap(
            f"{classification['diagnosis']}{where}: {classification['confidence']} confidence, "
            f"matched by {safe(classification['matched_by'])}",
            indent="  ",
            first="Diagnosis: ",
        )
    if data["provider_meanings"]:
        yield ""
        yield "What providers mean by it" if data["kind"] != "reply" else "Provider knowledge"
        for item in data["provider_meanings"][:12]:
            yield f"  {item['provider']} -> {item['diagnosis']}"
            yield from _wrap(f'"{item["example"]}"', indent="      ")
            yield from _wrap(item["meaning"], indent="      ")
        hidden = len(data["provider_meanings"]) - 12
        if hidden > 0:
            yield f"  ... and {hidden} more (--format json lists them all)"
    if data["mappings"] and data["kind"] != "reply":
        yield ""
        yield "How smtplog maps it (generic tables)"
        for mapping in data["mappings"][:15]:
            where = f" at {'/'.join(mapping['phases'])}" if mapping["phases"] else ""
            evidence = mapping["evidence"]
            if len(evidence) > 80:
                evidence = evidence[:79] + "…"
            yield from _wrap(
                f"{mapping['diagnosis']}{where}: {evidence} [{mapping['source']}]",
                indent="      ",
                first="  - ",
            )
        hidden = len(data["mappings"]) - 15
        if hidden > 0:
            yield f"  ... and {hidden} more (--format json lists them all)"
    docs = data["diagnoses"]
    if len(docs) == 1 or (docs and data["kind"] in ("reply", "diagnosis")):
        yield from _doc(docs[0])
    elif docs:
        yield ""
        yield "Diagnoses it can lead to (`smtplog explain ID` for causes and next steps)"
        for doc in docs:
            yield f"  {doc['id']:<32} {doc['title']}"


def _diagnosis(data: dict[str, Any]) -> Iterator[str]:
    yield from _doc(data["diagnoses"][0])
    examples = data["provider_meanings"]
    if examples:
        yield ""
        yield "  Provider texts that lead to it:"
        for item in examples[:10]:
            yield from _wrap(
                f'"{item["example"]}"', indent="      ", first=f"    {item['provider']}: "
            )
        if len(examples) > 10:
            yield f"    ... and {len(examples) - 10} more (--format json lists them all)"
    if data["mappings"]:
        yield ""
        yield "  Generic rules (patterns.tsv), strongest first:"
        for mapping in data["mappings"]:
            where = f" at {'/'.join(mapping['phases'])}" if mapping["phases"] else ""
            evidence = mapping["evidence"]
            if len(evidence) > 90:
                evidence = evidence[:89] + "…"
            yield from _wrap(f"{evidence}{where}", indent="      ", first="    - ")


def _phase_name(phase: str) -> str:
    from smtplog.rules.explain import PHASE_NAMES

    return PHASE_NAMES.get(phase, phase)


def _doc(doc: dict[str, Any]) -> Iterator[str]:
    yield ""
    yield f"{doc['id']}: {doc['title']} ({doc['group']}, {doc['severity']})"
    yield from _wrap(doc["explanation"])
    if doc["causes"]:
        yield ""
        yield "  Likely causes (most likely first):"
        for cause in doc["causes"]:
            yield from _wrap(cause, indent="      ", first="    - ")
    if doc["next_steps"]:
        yield ""
        yield "  Next steps:"
        for number, step in enumerate(doc["next_steps"], 1):
            yield from _wrap(step, indent="       ", first=f"    {number}. ")
    if doc["detection"]:
        yield ""
        yield from _wrap(doc["detection"], indent="    ", first="  Recognised by: ")
    if doc["references"]:
        yield ""
        yield from _wrap("; ".join(doc["references"]), indent="    ", first="  References: ")
