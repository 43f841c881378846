"""The batch summary: one row per session, counts per diagnosis.

Rows are plain, picklable data (a batch computes them in worker processes);
every renderer draws the same rows its own way.
"""

# No `from __future__ import annotations` here: typing.NamedTuple would compile every
# string annotation at import (~2 ms); real annotations cost nothing.

from collections import Counter
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from smtplog.report import Report, SessionReport

# What an input that could not be analysed shows in the outcome column.
UNREADABLE = "unreadable"
NOT_SMTP = "not-smtp"


# NamedTuple, not a frozen dataclass: these modules load on every run, and a
# dataclass costs ~0.7 ms to create at import (start-up matters in pipes).
class SummaryRow(NamedTuple):
    source: str
    dialect: str | None
    outcome: str
    failed_at: str | None
    diagnosis: str | None  # the main diagnosis id ("delivered" for a delivered session)
    title: str | None  # its title, or the error message for an unreadable input
    severity: str | None  # of the main diagnosis: error | warning | info
    session: int = 1
    sessions: int = 1

    @property
    def label(self) -> str:
        """The file, and which session when the file holds several."""
        if self.sessions > 1:
            return f"{self.source} [{self.session}/{self.sessions}]"
        return self.source

    @property
    def problem(self) -> bool:
        return self.outcome in (UNREADABLE, NOT_SMTP) or self.severity in ("error", "warning")


def session_row(
    source: str, dialect: str, session: "SessionReport", index: int = 1, total: int = 1
) -> SummaryRow:
    main = session.main
    return SummaryRow(
        source=source,
        dialect=dialect,
        outcome=session.outcome,
        failed_at=session.failed_at,
        diagnosis=main.id if main else None,
        title=main.title if main else None,
        severity=main.severity if main else None,
        session=index,
        sessions=total,
    )


def report_rows(report: "Report") -> tuple[SummaryRow, ...]:
    total = len(report.sessions)
    return tuple(
        session_row(report.source, report.dialect, session, index, total)
        for index, session in enumerate(report.sessions, 1)
    )


def error_row(source: str, message: str, not_smtp: bool) -> SummaryRow:
    message = message.removeprefix(f"{source}: ")
    return SummaryRow(
        source=source,
        dialect=None,
        outcome=NOT_SMTP if not_smtp else UNREADABLE,
        failed_at=None,
        diagnosis=None,
        title=message,
        severity=None,
    )


class Totals(NamedTuple):
    inputs: int
    sessions: int
    outcomes: dict[str, int]
    diagnoses: list[tuple[str, int]]  # most frequent first, then by id

    def to_dict(self) -> dict[str, object]:
        return {
            "inputs": self.inputs,
            "sessions": self.sessions,
            "outcomes": self.outcomes,
            "diagnoses": dict(self.diagnoses),
        }


def totals(rows: list[SummaryRow], inputs: int | None = None) -> Totals:
    """Counts over ``rows``; ``inputs`` is the number of inputs (a file may be given twice)."""
    counts = Counts()
    for row in rows:
        counts.add(row)
    return counts.totals(inputs if inputs is not None else len({row.source for row in rows}))


class Counts:
    """Running counts of rows: the summary of any number of sessions in constant memory."""

    def __init__(self) -> None:
        self.sessions = 0
        self.outcomes: Counter[str] = Counter()
        self.diagnoses: Counter[str] = Counter()

    def add(self, row: SummaryRow) -> None:
        self.outcomes[row.outcome] += 1
        if row.outcome not in (UNREADABLE, NOT_SMTP):
            self.sessions += 1
            self.diagnoses[row.diagnosis or "(none)"] += 1

    def totals(self, inputs: int) -> Totals:
        return Totals(
            inputs=inputs,
            sessions=self.sessions,
            outcomes=dict(sorted(self.outcomes.items(), key=lambda item: (-item[1], item[0]))),
            diagnoses=sorted(self.diagnoses.items(), key=lambda item: (-item[1], item[0])),
        )


HEADERS = ("file", "dialect", "outcome", "failed at", "diagnosis")


def cells(row: SummaryRow) -> tuple[str, str, str, str, str]:
    """The table cells of a row, unescaped (each renderer escapes for its medium)."""
    if row.outcome in (UNREADABLE, NOT_SMTP):
        diagnosis = row.title or ""
    elif row.diagnosis and row.diagnosis != "delivered":
        diagnosis = f"{row.diagnosis} ({row.title})" if row.title else row.diagnosis
    else:
        diagnosis = row.diagnosis or "-"
    return (row.label, row.dialect or "-", row.outcome, row.failed_at or "-", diagnosis)


def count_lines(summary: Totals) -> list[str]:
    """The totals as short lines of text ("3 relay-denied")."""
    width = max((len(str(count)) for _, count in summary.diagnoses), default=1)
    return [f"{count:>{width}}  {key}" for key, count in summary.diagnoses]


def headline(summary: Totals) -> str:
    files = f"{summary.inputs} file{'s' if summary.inputs != 1 else ''}"
    sessions = f"{summary.sessions} session{'s' if summary.sessions != 1 else ''}"
    outcomes = ", ".join(f"{count} {outcome}" for outcome, count in summary.outcomes.items())
    return f"{files}, {sessions}: {outcomes}" if outcomes else f"{files}, {sessions}"


def render_rich(console, rows: list[SummaryRow], summary: Totals) -> None:  # type: ignore[no-untyped-def]
    """The summary as rich tables (the terminal format); text only, never markup."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from smtplog.render.safe import safe
    from smtplog.render.terminal import OUTCOME_STYLE

    texts = [cells(row) for row in rows]
    natural = sum(max([len(h), *(len(t[i]) for t in texts)]) + 3 for i, h in enumerate(HEADERS))
    # Too wide for the terminal: share the room out (ratios); otherwise natural widths.
    table = Table(
        box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False, expand=natural > console.width
    )
    table.title = Text(f"Summary: {headline(summary)}", style="bold")
    longest = max((len(row.label) for row in rows), default=10)
    for name in HEADERS:
        if name == "file":  # whole when there is room, folded (never cut) when there is not
            table.add_column(name, overflow="fold", ratio=3, min_width=min(longest, 24))
        elif name == "diagnosis":
            table.add_column(name, overflow="fold", ratio=2, min_width=16)
        else:
            table.add_column(name, no_wrap=True)
    for row in rows:
        values = [Text(safe(value)) for value in cells(row)]
        style = OUTCOME_STYLE.get(row.outcome, "bold red" if row.problem else "")
        values[2].stylize(style)
        table.add_row(*values)
    console.print(table)
    counts = Table(box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left")
    counts.title = Text("Sessions per diagnosis", style="bold")
    counts.add_column("sessions", justify="right")
    counts.add_column("diagnosis")
    for key, count in summary.diagnoses:
        counts.add_row(str(count), Text(safe(key)))
    console.print(counts)
