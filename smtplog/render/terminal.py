"""The rich rendering for a terminal: colour by reply class, one panel per finding.

Every piece of transcript text goes into ``rich.text.Text`` objects (never
parsed as markup) after ``safe()`` has replaced control characters.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from smtplog.render.lines import session_rows, verdict_text
from smtplog.render.safe import safe
from smtplog.report import Finding, Report, SessionReport

ROW_STYLES = {
    "reply-2": "green",
    "reply-3": "cyan",
    "reply-4": "yellow",
    "reply-5": "bold red",
    "inferred": "dim italic",
    "secret": "magenta",
    "unparsed": "dim",
    "info": "blue",
    "error": "red",
    "body": "dim",
    "": "bold",
}
SEVERITY = {
    "error": ("✖", "red"),
    "warning": ("⚠", "yellow"),
    "info": ("✔", "green"),
}
OUTCOME_STYLE = {
    "delivered": "bold green",
    "failed": "bold red",
    "deferred": "bold yellow",
    "no-connection": "bold red",
    "incomplete": "bold blue",
    "unknown": "bold",
}


def _transcript(session: SessionReport) -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(justify="right", style="dim", no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")
    table.add_column(style="dim italic", overflow="fold")
    for row in session_rows(session.analysis):
        number = str(row.line) if row.line is not None else "·"
        who = Text(row.who + (":" if row.who in "SC" else ""), style="dim")
        table.add_row(
            number, who, Text(row.text, style=ROW_STYLES.get(row.style, "")), Text(row.note)
        )
    return table


def _listing(title: str, items: list[tuple[str, str]], item_style: str = "") -> Group:
    """A heading and hanging-indented items (bullets or numbers)."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True, style="dim")
    grid.add_column(overflow="fold", style=item_style)
    for mark, text in items:
        grid.add_row(mark, Text(text))
    return Group(Text(title, style="bold"), grid)


def _observation(finding: Finding) -> Text:
    """Observations are one-line notes, not panels (`smtplog explain ID` says more)."""
    icon, colour = {"warning": ("⚠", "yellow"), "info": ("•", "blue")}.get(
        finding.severity, SEVERITY[finding.severity]
    )
    text = Text(f"{icon} {finding.title}: ", style=f"bold {colour}")
    text.append(safe(finding.summary))
    lines = [item.line for item in finding.evidence if item.line]
    if lines:
        text.append(f" [line {lines[0]}]", style="dim")
    return text


def _finding(finding: Finding) -> Panel | Text:
    if finding.observation:
        return _observation(finding)
    icon, colour = SEVERITY[finding.severity]
    body: list[Any] = [
        Text(safe(finding.summary), style="bold"),
        Text(safe(finding.explanation)),
    ]
    if finding.evidence:
        evidence = [
            (f"line {item.line}:" if item.line else "inferred:", safe(text))
            for item in finding.evidence
            for text in (item.text.splitlines() or [""])
        ]
        body.append(_listing("Evidence", evidence))
    if finding.consequences:
        first_lines = [
            (f"line {item.line}:", safe(item.text.splitlines()[0] if item.text else ""))
            for item in finding.consequences
        ]
        body.append(_listing("Consequences (not separate problems)", first_lines))
    if finding.causes:
        body.append(_listing("Likely causes", [("•", safe(cause)) for cause in finding.causes]))
    if finding.next_steps:
        steps = [(f"{n}.", safe(step)) for n, step in enumerate(finding.next_steps, 1)]
        body.append(_listing("Next steps", steps))
    footer = Text(style="dim")
    if finding.matched_by:
        footer.append(f"matched by {safe(finding.matched_by)}; {finding.confidence} confidence\n")
    if finding.references:
        footer.append("see " + "; ".join(finding.references))
    body.append(footer)
    spaced: list[Any] = []
    for part in body:
        spaced.extend((part, Text()))
    title = Text(f" {icon} {finding.id} — {finding.title} ", style=f"bold {colour}")
    return Panel(Group(*spaced[:-1]), title=title, title_align="left", border_style=colour)


def _verdict(session: SessionReport) -> Text:
    main = session.main
    text = Text("Verdict: ", style="bold")
    text.append(
        verdict_text(
            session.outcome,
            session.failed_at,
            main.title if main else None,
            main.id if main else None,
        ),
        style=OUTCOME_STYLE.get(session.outcome, "bold"),
    )
    return text


def render_header(console: Console, report: Report, count: int | None) -> None:
    """The input's title rule and notes; ``count`` None: sessions follow as they are read."""
    header = Text(safe(report.source), style="bold")
    sessions = (
        f"{count} session{'s' if count != 1 else ''}"
        if count is not None
        else "a long input: each session is shown when it is complete"
    )
    header.append(
        f"  {report.dialect} transcript · confidence {report.confidence:.2f} · {sessions}",
        style="dim",
    )
    console.rule(header, align="left")
    for note in report.notes:
        console.print(Text(f"note: {safe(note)}", style="dim"))


def render_session(console: Console, session: SessionReport, index: int, total: int | None) -> None:
    """One session; ``total`` None: a long input written as it is read (count unknown)."""
    if total is None or total > 1:
        target = f": {safe(session.analysis.target)}" if session.analysis.target else ""
        of = f" of {total}" if total is not None else ""
        console.print(Text(f"session {index}{of}{target}", style="bold underline"))
    console.print(_transcript(session))
    for note in session.analysis.notes:
        console.print(Text(f"note: {safe(note)}", style="dim"))
    for finding in session.findings:
        console.print(_finding(finding))
    for finding in session.observations:
        console.print(_finding(finding))
    console.print(_verdict(session))
    console.print()


def render_footer(console: Console, source: str, count: int, notes: list[str]) -> None:
    """The end of a long input written as it was read: the count, and notes found since."""
    text = Text(safe(source), style="bold")
    text.append(f"  {count} session{'s' if count != 1 else ''}", style="dim")
    console.rule(text, align="left")
    for note in notes:
        console.print(Text(f"note: {safe(note)}", style="dim"))


def render(console: Console, reports: list[Report]) -> None:
    for report in reports:
        count = len(report.sessions)
        render_header(console, report, count)
        for index, session in enumerate(report.sessions, 1):
            render_session(console, session, index, count)
