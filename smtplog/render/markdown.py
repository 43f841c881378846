"""Markdown for a ticket: verdict, diagnosis, next steps, and the lines that matter.

Transcript text is hostile to Markdown: it holds backticks, ``|``, ``<`` and
whole HTML tags. Outside code it is backslash-escaped (CommonMark escapes any
ASCII punctuation); inside code it is fenced with more backticks than it
contains, so nothing a customer pasted can close the fence or become markup.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from smtplog.render.lines import Row, session_rows, verdict_text
from smtplog.render.safe import safe
from smtplog.render.summary import HEADERS, SummaryRow, Totals, cells, headline
from smtplog.report import Evidence, Finding, Report, SessionReport

CONTEXT_BEFORE = 3  # transcript rows shown before an evidence line
CONTEXT_AFTER = 1
WHOLE_TRANSCRIPT = 30  # sessions up to this many rows are shown in full
NOTED = ("AUTH", "user name", "⚠")  # notes kept in an excerpt besides the evidence's
ICONS = {"error": "✖", "warning": "⚠", "info": "✔"}

_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&!])")
# What starts a block when it opens a line: a heading, a quote, a list item.
_LINE_START = re.compile(r"^(\s*)([#>+=-]|(?P<number>\d+)[.)])")
_BACKTICKS = re.compile(r"`+")


def escape(text: str) -> str:
    """Text that Markdown shows literally, on one line."""
    text = " ".join(safe(text).split())
    text = _INLINE_SPECIAL.sub(r"\\\1", text)
    return _LINE_START.sub(_escape_block_start, text)


def _escape_block_start(match: re.Match[str]) -> str:
    # Backslash escapes punctuation only: "1." becomes "1\.", "#" becomes "\#".
    if match.group("number"):
        return match.group(1) + match.group("number") + "\\" + match.group(2)[-1]
    return match.group(1) + "\\" + match.group(2)


def cell(text: str) -> str:
    """A GFM table cell (escape() already protects "|")."""
    return escape(text) or " "


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in _BACKTICKS.findall(text)), default=0)


def code_span(text: str) -> str:
    """Inline code that survives backticks in ``text`` (CommonMark §6.1)."""
    text = " ".join(safe(text).split())
    ticks = "`" * (_longest_backtick_run(text) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def fence(lines: Iterable[str], info: str = "text") -> str:
    """A fenced code block no line of ``lines`` can close (CommonMark §4.5)."""
    body = [safe(line) for line in lines]
    ticks = "`" * max(3, max((_longest_backtick_run(line) for line in body), default=0) + 1)
    return "\n".join([f"{ticks}{info}", *body, ticks])


def _rows_to_show(rows: list[Row], lines: set[int]) -> list[Row | None]:
    """The rows around the evidence; None marks a gap."""
    if len(rows) <= WHOLE_TRANSCRIPT or not lines:
        return list(rows[:WHOLE_TRANSCRIPT]) + ([None] if len(rows) > WHOLE_TRANSCRIPT else [])
    keep: set[int] = set()
    for index, row in enumerate(rows):
        if row.line in lines:
            keep.update(range(index - CONTEXT_BEFORE, index + CONTEXT_AFTER + 1))
    shown: list[Row | None] = []
    previous = -1
    for index in sorted(i for i in keep if 0 <= i < len(rows)):
        if index != previous + 1:
            shown.append(None)
        shown.append(rows[index])
        previous = index
    if previous != len(rows) - 1:
        shown.append(None)
    return shown


def evidence_lines(session: SessionReport) -> set[int]:
    """Input lines the findings point at (every line of a multi-line reply)."""
    lines: set[int] = set()
    for item in session.findings:
        for evidence in (*item.evidence, *item.consequences):
            if evidence.line is not None:
                count = max(1, len(evidence.text.splitlines()))
                lines.update(range(evidence.line, evidence.line + count))
    return lines


def excerpt(session: SessionReport) -> tuple[str, str]:
    """A caption and the fenced excerpt of the session's relevant lines."""
    rows = session_rows(session.analysis)
    marked = evidence_lines(session)
    shown = _rows_to_show(rows, marked)
    numbers = [row.line for row in rows if row.line is not None]
    width = max((len(str(n)) for n in numbers), default=1)
    out: list[str] = []
    for row in shown:
        if row is None:
            out.append(f"{'':>{width + 2}}   …")
            continue
        marker = ">" if row.line in marked else " "
        number = str(row.line) if row.line is not None else "·"
        who = {"S": "S:", "C": "C:", "*": "**", "?": "??"}[row.who]
        text = f"{marker} {number:>{width}} {who} {row.text}"
        if row.note and (marker == ">" or row.style == "secret" or row.note.startswith(NOTED)):
            text = f"{text}  # {row.note}"
        out.append(text.rstrip())
    if len(shown) == len(rows):
        caption = "Transcript (secrets masked"
    else:
        caption = "Excerpt of the transcript (secrets masked"
    caption += "; > marks the evidence)" if marked else ")"
    return caption, fence(out)


def _evidence(items: tuple[Evidence, ...]) -> Iterator[str]:
    for item in items:
        where = f"line {item.line}" if item.line else "inferred"
        for text in item.text.splitlines() or [""]:
            yield f"- {where}: {code_span(text)}"


def finding(item: Finding) -> Iterator[str]:
    icon = ICONS.get(item.severity, "")
    yield f"#### {icon} {escape(item.title)} ({code_span(item.id)})"
    yield ""
    yield f"**{escape(item.summary)}**"
    yield ""
    yield escape(item.explanation)
    yield ""
    if item.evidence:
        yield "**Evidence**"
        yield ""
        yield from _evidence(item.evidence)
        yield ""
    if item.consequences:
        yield "**Consequences** (not separate problems)"
        yield ""
        yield from _evidence(item.consequences)
        yield ""
    if item.causes:
        yield "**Likely causes**"
        yield ""
        yield from (f"- {escape(cause)}" for cause in item.causes)
        yield ""
    if item.next_steps:
        yield "**Next steps**"
        yield ""
        yield from (f"{n}. {escape(step)}" for n, step in enumerate(item.next_steps, 1))
        yield ""
    meta = [f"{item.severity}, {item.confidence} confidence"]
    if item.matched_by:
        meta.append(f"matched by {item.matched_by}")
    if item.references:
        meta.append("see " + "; ".join(item.references))
    yield f"*{escape(' · '.join(meta))}*"
    yield ""


def observation(item: Finding) -> str:
    """One line: an observation is a note, not a diagnosis (`smtplog explain ID` says more)."""
    icon = {"warning": "⚠", "info": "•"}.get(item.severity, ICONS.get(item.severity, ""))
    lines = [evidence.line for evidence in item.evidence if evidence.line]
    where = f" (line {lines[0]})" if lines else ""
    return f"- {icon} **{escape(item.title)}**: {escape(item.summary)}{where}"


def session_verdict(session: SessionReport) -> str:
    main = session.main
    return verdict_text(
        session.outcome, session.failed_at, main.title if main else None, main.id if main else None
    )


def render_report(report: Report) -> str:
    """One report as a Markdown section (a ``##`` heading and what follows)."""
    count = len(report.sessions)
    out = [
        f"## {escape(report.source)}",
        "",
        f"{escape(report.dialect)} transcript (detection confidence "
        f"{report.confidence:.2f}), {count} session{'s' if count != 1 else ''}. "
        "Analysed by smtplog.",
        "",
    ]
    out.extend(f"> note: {escape(note)}" for note in report.notes)
    if report.notes:
        out.append("")
    for index, session in enumerate(report.sessions, 1):
        if count > 1:
            target = session.analysis.target
            out += [f"### Session {index} of {count}" + (f": {escape(target)}" if target else "")]
            out.append("")
        out += [f"**Verdict: {escape(session_verdict(session))}**", ""]
        for item in session.findings:
            out.extend(finding(item))
        if session.observations:
            out += ["**Observations** (they do not change the verdict)", ""]
            out.extend(observation(item) for item in session.observations)
            out.append("")
        out.extend(f"> note: {escape(note)}" for note in session.analysis.notes)
        if session.analysis.notes:
            out.append("")
        caption, block = excerpt(session)
        out += [f"**{escape(caption)}**", "", block, ""]
    return "\n".join(out)


def render_summary(rows: list[SummaryRow], summary: Totals) -> str:
    out = [
        f"## Summary: {escape(headline(summary))}",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "---|" * len(HEADERS),
    ]
    out.extend("| " + " | ".join(cell(text) for text in cells(row)) + " |" for row in rows)
    out += ["", "| diagnosis | sessions |", "|---|---:|"]
    out.extend(f"| {cell(key)} | {count} |" for key, count in summary.diagnoses)
    out.append("")
    return "\n".join(out)


def render_document(
    sections: list[str], rows: list[SummaryRow] | None, summary: Totals | None
) -> str:
    """The whole Markdown document: a title, the summary of a batch, then each report."""
    if rows is not None and summary is not None:
        count = summary.inputs
        head = [f"# smtplog: {count} transcripts" if count > 1 else "# smtplog report", ""]
        return "\n".join([*head, render_summary(rows, summary), *sections]).rstrip() + "\n"
    return "\n".join(["# smtplog report", "", *sections]).rstrip() + "\n"
