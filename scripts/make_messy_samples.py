"""Regenerate samples/messy/ from the clean captures, the way pastes get mangled.

Each messy sample is a real capture put through what a forum, a ticket system,
a chat or a web page does to pasted text (HTML escaping, quoting, wrapping,
timestamps, colour...). The transformations are written here, so the samples
can be checked against their source and rebuilt at any time:

    python scripts/make_messy_samples.py      # rewrites samples/messy/ and its manifest rows

The manifest rows of samples/messy/ are replaced (origin "derived"; the
verdict, diagnosis and scenario are the source sample's: it is the same
session). Rows of other samples are left as they are.
"""

from __future__ import annotations

import csv
import html
import re
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
MESSY = SAMPLES / "messy"
MANIFEST = SAMPLES / "manifest.tsv"
COLUMNS = [
    "path", "dialect", "outcome", "failed_at", "diagnosis", "origin", "notes", "session", "scenario"
]  # fmt: skip

Lines = list[str]


def read_lines(path: str) -> Lines:
    data = (SAMPLES / path).read_bytes()
    return data.decode("utf-8", "surrogateescape").splitlines()


# -- the transformations ---------------------------------------------------------


def html_ticket(lines: Lines) -> Lines:
    """A rich-text ticket form: entities, &nbsp; for runs of spaces, <br> per line."""

    def escape(line: str) -> str:
        text = html.escape(line, quote=False)
        text = re.sub(r"^ ", "&nbsp;", text)
        return text.replace("  ", "&nbsp; ")

    body = [f"{escape(line)}<br>" for line in lines]
    return ["<p>Hello, our application cannot send mail. swaks says:<br>", *body, "</p>"]


def markdown_fence(lines: Lines) -> Lines:
    return ["```", *lines, "```"]


def forum_quote(lines: Lines, who: str = "Alice") -> Lines:
    quoted = [f"> {line}" if line else ">" for line in lines]
    return [f"On Sat, 28 Nov 2026, {who} wrote:", *quoted, "", "Did you try port 587?"]


def hard_wrap(width: int) -> Callable[[Lines], Lines]:
    def wrap(lines: Lines) -> Lines:
        out: Lines = []
        for line in lines:
            if len(line) <= width:
                out.append(line)
                continue
            out.extend(textwrap.wrap(line, width, break_on_hyphens=False, expand_tabs=False))
        return out

    return wrap


def syslog_prefix(lines: Lines) -> Lines:
    """A cron job logging through logger(1): journal lines with a syslog timestamp."""
    return [
        f"Nov 28 20:43:{5 + index // 3:02d} vm mailcheck[4242]: {line}"
        for index, line in enumerate(lines)
    ]


def iso_prefix(lines: Lines) -> Lines:
    """A wrapper script that timestamps every line (ts '%Y-%m-%dT%H:%M:%.SZ')."""
    return [
        f"2026-11-28T20:44:{1 + index // 4:02d}.{(index % 4) * 211 + 17:03d}Z {line}"
        for index, line in enumerate(lines)
    ]


def indent(lines: Lines) -> Lines:
    """A markdown / ticket code block: four spaces in front of every line."""
    return [f"    {line}" if line else "" for line in lines]


_HINT_COLOURS = (("<**", "31"), ("<-", "32"), ("<~", "32"), (" ->", "34"), ("===", "33"))


def colourise(lines: Lines) -> Lines:
    """A colourising wrapper (grc-style): each line coloured by its direction hint."""
    out = []
    for line in lines:
        colour = next((code for hint, code in _HINT_COLOURS if line.startswith(hint)), None)
        out.append(f"\x1b[{colour}m{line}\x1b[0m" if colour else line)
    return out


def caret_escapes(lines: Lines) -> Lines:
    """The colourised output seen through `cat -v`: ESC printed as ^[."""
    return [line.replace("\x1b", "^[") for line in colourise(lines)]


def per_line_backticks(lines: Lines) -> Lines:
    """A chat message where every line was wrapped in inline code."""
    return [f"`{line}`" if line.strip() else line for line in lines]


def literal_crlf(lines: Lines) -> Lines:
    """A ticket API export: the transcript as one string with escaped CRLF."""
    return ["".join(f"{line}\\r\\n" for line in lines)]


def with_prompt(command: str, lines: Lines) -> Lines:
    return [f"user@vm:~/mailtest$ {command}", *lines]


def compose(*steps: Callable[[Lines], Lines]) -> Callable[[Lines], Lines]:
    def run(lines: Lines) -> Lines:
        for step in steps:
            lines = step(lines)
        return lines

    return run


# -- the samples -------------------------------------------------------------------

SWAKS = "swaks --helo client.example.test --server 127.0.0.1:2525"


@dataclass(frozen=True)
class Messy:
    name: str
    sources: tuple[str, ...]  # the last one decides the expected verdict
    make: Callable[[list[Lines]], Lines]
    note: str


def single(transform: Callable[[Lines], Lines]) -> Callable[[list[Lines]], Lines]:
    return lambda inputs: transform(inputs[0])


def two_swaks_runs(inputs: list[Lines]) -> Lines:
    first, second = inputs
    return [
        *with_prompt(f"{SWAKS} --from sender@example.org --to alice@example.test", first),
        *with_prompt(f"{SWAKS} --from alice@example.test --to someone@example.org", second),
        "user@vm:~/mailtest$ echo $?",
        "24",
        "user@vm:~/mailtest$ ",
    ]


def two_telnet_runs(inputs: list[Lines]) -> Lines:
    first, second = inputs
    return [
        *with_prompt("telnet 127.0.0.1 2525", first),
        *with_prompt("telnet 127.0.0.1 2525", second),
        "user@vm:~/mailtest$ ",
    ]


MESSY_SAMPLES = (
    Messy(
        "swaks-relay-denied-html.txt",
        ("swaks/relay-denied.txt",),
        single(html_ticket),
        "HTML-escaped by a rich-text ticket form: &lt; &gt; &nbsp;, <br> per line, <p> around",
    ),
    Messy(
        "telnet-auth-markdown-quoted.txt",
        ("telnet/postfix-auth-login-delivered.txt",),
        single(compose(markdown_fence, forum_quote)),
        "in a markdown code fence, then quoted with '> ' in a forum reply (prose around it)",
    ),
    Messy(
        "telnet-exchange-wrapped-72.txt",
        ("telnet/exchange-style-delivered.txt",),
        single(hard_wrap(72)),
        "hard-wrapped at 72 columns by a mailer (the greeting and the 250 queued reply break)",
    ),
    Messy(
        "swaks-recipient-unknown-wrapped-72.txt",
        ("swaks/recipient-unknown.txt",),
        single(hard_wrap(72)),
        "hard-wrapped at 72 columns (the 102-column 550 reply is split in two)",
    ),
    Messy(
        "swaks-recipient-unknown-syslog.txt",
        ("swaks/recipient-unknown.txt",),
        single(syslog_prefix),
        "run from cron through logger(1): 'Nov 28 20:43:05 vm mailcheck[4242]: ' on every line",
    ),
    Messy(
        "swaks-auth-rejected-colour.txt",
        ("swaks/auth-rejected.txt",),
        single(colourise),
        "coloured by a grc-style wrapper: real ESC[..m sequences around every hinted line",
    ),
    Messy(
        "swaks-tls-required-caret-escapes.txt",
        ("swaks/tls-required.txt",),
        single(caret_escapes),
        "colourised output seen through cat -v: escapes printed as ^[[32m ... ^[[0m",
    ),
    Messy(
        "swaks-two-runs-prompts.txt",
        ("swaks/delivered.txt", "swaks/relay-denied.txt"),
        two_swaks_runs,
        "two swaks runs pasted from a terminal with their shell prompts and an echo $? "
        "(second run decides)",
    ),
    Messy(
        "telnet-two-sessions-prompts.txt",
        ("telnet/postfix-auth-login-delivered.txt", "telnet/relay-denied.txt"),
        two_telnet_runs,
        "two telnet sessions pasted one after another with shell prompts (second decides)",
    ),
    Messy(
        "telnet-relay-denied-iso-indented.txt",
        ("telnet/relay-denied.txt",),
        single(compose(iso_prefix, indent)),
        "ISO timestamps on every line (ts), then indented four spaces as a ticket code block",
    ),
    Messy(
        "telnet-relay-denied-literal-crlf.txt",
        ("telnet/relay-denied.txt",),
        single(literal_crlf),
        "exported by a ticket API as one line with literal \\r\\n between the lines",
    ),
    Messy(
        "swaks-tls-required-backticks.txt",
        ("swaks/tls-required.txt",),
        single(per_line_backticks),
        "pasted into a chat with every line in `inline code`",
    ),
)


# -- manifest ----------------------------------------------------------------------


def read_manifest() -> tuple[list[str], list[dict[str, str]]]:
    with MANIFEST.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        rows = list(reader)
        columns = list(reader.fieldnames or [])
    for column in COLUMNS:
        if column not in columns:
            columns.append(column)
    return columns, rows


def write_manifest(columns: list[str], rows: list[dict[str, str]]) -> None:
    # Written by hand, not with csv: the notes hold quotes, which csv would escape.
    lines = ["\t".join(columns)]
    lines += ["\t".join(row.get(column) or "" for column in columns).rstrip("\t") for row in rows]
    MANIFEST.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> int:
    columns, rows = read_manifest()
    by_path = {row["path"].removeprefix("samples/"): row for row in rows}
    MESSY.mkdir(exist_ok=True)
    kept = [row for row in rows if not row["path"].removeprefix("samples/").startswith("messy/")]
    made = []
    for messy in MESSY_SAMPLES:
        missing = [source for source in messy.sources if source not in by_path]
        if missing:
            print(f"skipped messy/{messy.name}: {', '.join(missing)} not in the manifest")
            continue
        lines = messy.make([read_lines(source) for source in messy.sources])
        text = "\n".join(lines) + "\n"
        (MESSY / messy.name).write_bytes(text.encode("utf-8", "surrogateescape"))
        decisive = by_path[messy.sources[-1]]
        made.append(
            {
                **{key: decisive.get(key, "") for key in columns},
                "path": f"messy/{messy.name}",
                "origin": "derived",
                "notes": f"from {' + '.join(messy.sources)}: {messy.note}",
                # Several runs pasted together: the labels are the last run's.
                "session": "last" if len(messy.sources) > 1 else decisive.get("session", ""),
            }
        )
        print(f"wrote samples/messy/{messy.name}")
    for stale in MESSY.glob("*.txt"):
        if stale.name not in {messy.name for messy in MESSY_SAMPLES}:
            stale.unlink()
            print(f"removed samples/messy/{stale.name}")
    write_manifest(columns, kept + made)
    return 0


if __name__ == "__main__":
    sys.exit(main())
