"""Plain text: the default when stdout is not a terminal. No colour, no boxes."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

from smtplog.render.lines import session_rows, verdict_text
from smtplog.render.safe import safe
from smtplog.report import Finding, Report, SessionReport

WIDTH = 100


def _observation(finding: Finding) -> Iterator[str]:
    """Observations are notes: their summary says it all (`smtplog explain ID` says more)."""
    yield f"-- {finding.id}: {finding.title} ({finding.severity})"
    wrap = textwrap.TextWrapper(width=WIDTH, initial_indent="   ", subsequent_indent="   ")
    lines = [item.line for item in finding.evidence if item.line]
    where = f" [line {lines[0]}]" if lines else ""
    yield from wrap.wrap(safe(finding.summary) + where)


def _finding(finding: Finding) -> Iterator[str]:
    if finding.observation:
        yield from _observation(finding)
        return
    yield f"-- {finding.id}: {finding.title} ({finding.severity}, {finding.confidence} confidence)"
    wrap = textwrap.TextWrapper(width=WIDTH, initial_indent="   ", subsequent_indent="   ")
    yield from wrap.wrap(safe(finding.summary))
    yield from wrap.wrap(safe(finding.explanation))
    if finding.evidence:
        yield "   Evidence:"
        for item in finding.evidence:
            where = f"line {item.line}" if item.line else "inferred"
            for text in item.text.splitlines() or [""]:
                yield f"     {where}: {safe(text)}"
    if finding.consequences:
        yield "   Consequences of this (not separate problems):"
        for item in finding.consequences:
            yield f"     line {item.line}: {safe(item.text.splitlines()[0] if item.text else '')}"
    bullets = textwrap.TextWrapper(
        width=WIDTH, initial_indent="     - ", subsequent_indent="       "
    )
    if finding.causes:
        yield "   Likely causes:"
        for cause in finding.causes:
            yield from bullets.wrap(safe(cause))
    if finding.next_steps:
        yield "   Next steps:"
        for number, step in enumerate(finding.next_steps, 1):
            numbered = textwrap.TextWrapper(
                width=WIDTH, initial_indent=f"     {number}. ", subsequent_indent="        "
            )
            yield from numbered.wrap(safe(step))
    if finding.matched_by:
        yield f"   Matched by: {safe(finding.matched_by)}"
    if finding.references:
        yield f"   References: {'; '.join(finding.references)}"


def session_lines(session: SessionReport, index: int, total: int | None) -> Iterator[str]:
    """One session; ``total`` None: a long input written as it is read (count unknown)."""
    analysis = session.analysis
    if total is None or total > 1:
        of = f" of {total}" if total is not None else ""
        yield f"--- session {index}{of}" + (f": {safe(analysis.target)}" if analysis.target else "")
    for row in session_rows(analysis):
        number = f"{row.line:>5}" if row.line is not None else "    ·"
        who = {"S": "S:", "C": "C:", "*": "**", "?": "??"}[row.who]
        line = f"{number} {who} {row.text}"
        if row.note:
            line = f"{line:<70} # {row.note}" if len(line) < 70 else f"{line}  # {row.note}"
        yield line.rstrip()
    for note in analysis.notes:
        yield f"   note: {safe(note)}"
    yield ""
    for finding in session.findings:
        yield from _finding(finding)
        yield ""
    for finding in session.observations:
        yield from _finding(finding)
        yield ""
    main = session.main
    yield "Verdict: " + verdict_text(
        session.outcome, session.failed_at, main.title if main else None, main.id if main else None
    )


def header(report: Report, count: int | None) -> Iterator[str]:
    """The input's title line and notes; ``count`` None: sessions follow as they are read."""
    sessions = (
        f"{count} session{'s' if count != 1 else ''}"
        if count is not None
        else "a long input: each session is shown when it is complete"
    )
    yield (
        f"== {safe(report.source)}: {report.dialect} transcript "
        f"(confidence {report.confidence:.2f}), {sessions} =="
    )
    for note in report.notes:
        yield f"   note: {safe(note)}"


def footer(source: str, count: int, notes: list[str]) -> Iterator[str]:
    """The end of a long input written as it was read: the count, and notes found since."""
    yield f"== {safe(source)}: {count} session{'s' if count != 1 else ''} =="
    for note in notes:
        yield f"   note: {safe(note)}"


def render_report(report: Report) -> Iterator[str]:
    count = len(report.sessions)
    yield from header(report, count)
    for index, session in enumerate(report.sessions, 1):
        yield from session_lines(session, index, count)
        yield ""


def render(reports: list[Report]) -> str:
    return "\n".join(line for report in reports for line in render_report(report))
