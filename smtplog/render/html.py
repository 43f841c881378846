"""One self-contained HTML file that looks like the terminal rendering.

No scripts, no external assets (a Content-Security-Policy says so to the
browser too), every piece of transcript text escaped with ``html.escape`` after
``safe()`` made control characters visible. Line numbers are links, and the
evidence of each finding links to its line, so a colleague can point at "line
21" in the attached file.
"""

from __future__ import annotations

from collections.abc import Iterator
from html import escape as _escape

from smtplog import __version__
from smtplog.render.lines import session_rows, verdict_text
from smtplog.render.markdown import evidence_lines
from smtplog.render.safe import safe
from smtplog.render.summary import HEADERS, SummaryRow, Totals, cells, headline
from smtplog.report import Evidence, Finding, Report, SessionReport

ICONS = {"error": "✖", "warning": "⚠", "info": "✔"}
WHO = {"S": "S:", "C": "C:", "*": "**", "?": "??"}

# The terminal renderer's palette (render/terminal.py) as CSS.
STYLE = """
:root { color-scheme: dark; --bg: #101216; --fg: #d8dee9; --dim: #7b8394; --rule: #3b4252;
  --green: #8fcf6e; --cyan: #5fc7d1; --yellow: #e5c07b; --red: #f0616d; --magenta: #d48fe0;
  --blue: #6fa8f0; --mark: #2a2f3a; }
* { box-sizing: border-box; }
body { margin: 0; padding: 1.5rem 2rem; background: var(--bg); color: var(--fg);
  font: 14px/1.45 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, "Liberation Mono", monospace; }
a { color: inherit; text-decoration: none; }
a:hover { text-decoration: underline; }
h1 { font-size: 1.1rem; margin: 0 0 1rem; }
h2.rule { font-size: 1rem; margin: 1.5rem 0 .75rem; padding-bottom: .25rem;
  border-bottom: 1px solid var(--rule); }
h3 { font-size: 1rem; margin: 1rem 0 .5rem; text-decoration: underline; }
.dim, .note { color: var(--dim); }
.note { font-style: italic; }
table.transcript { border-collapse: collapse; margin: .5rem 0 1rem; width: 100%; }
table.transcript td { padding: 0 .5rem 0 0; vertical-align: top; }
td.num { text-align: right; color: var(--dim); white-space: nowrap; width: 1%; }
td.who { color: var(--dim); white-space: nowrap; width: 1%; }
td.text { white-space: pre-wrap; overflow-wrap: anywhere; }
td.note { white-space: pre-wrap; overflow-wrap: anywhere; width: 38%; }
tr.evidence td { background: var(--mark); }
tr:target td { outline: 1px solid var(--yellow); }
.reply-2 .text { color: var(--green); } .reply-3 .text { color: var(--cyan); }
.reply-4 .text { color: var(--yellow); } .reply-5 .text { color: var(--red); font-weight: bold; }
.inferred .text { color: var(--dim); font-style: italic; } .secret .text { color: var(--magenta); }
.unparsed .text, .body .text { color: var(--dim); } .info .text { color: var(--blue); }
.error .text { color: var(--red); } .plain .text { font-weight: bold; }
section.finding { position: relative; border: 1px solid var(--c); border-radius: 4px;
  margin: 1.4rem 0 1rem; padding: 1rem 1rem .5rem; }
section.finding > h4 { position: absolute; top: -.8rem; left: .75rem; margin: 0; padding: 0 .4rem;
  background: var(--bg); color: var(--c); font-size: 1rem; }
.sev-error { --c: var(--red); } .sev-warning { --c: var(--yellow); }
.sev-info { --c: var(--green); }
section.finding h5 { font-size: 1rem; margin: .75rem 0 .25rem; }
section.finding p { margin: .35rem 0; }
section.finding ul, section.finding ol { margin: .25rem 0; padding-left: 2rem; }
code { white-space: pre-wrap; overflow-wrap: anywhere; }
.verdict { font-weight: bold; margin: 1rem 0 2rem; }
.verdict.top { margin: .25rem 0 .75rem; }
.outcome-delivered { color: var(--green); }
.outcome-failed, .outcome-no-connection { color: var(--red); }
.outcome-deferred { color: var(--yellow); } .outcome-incomplete { color: var(--blue); }
table.summary { border-collapse: collapse; margin: .5rem 0 1rem; }
table.summary th, table.summary td { text-align: left; padding: .1rem 1rem .1rem 0;
  border-bottom: 1px solid var(--rule); vertical-align: top; }
table.summary td.count { text-align: right; }
table.summary th, table.summary td:nth-child(2), table.summary td:nth-child(3),
table.summary td:nth-child(4) { white-space: nowrap; }
ul.observations { list-style: none; padding: 0; margin: .5rem 0; }
ul.observations b { color: var(--c); }
footer { color: var(--dim); margin-top: 2rem; font-size: .85rem; }
@media print { :root { color-scheme: light; --bg: #fff; --fg: #000; --dim: #555; --mark: #eee;
  --green: #18781f; --cyan: #0b7285; --yellow: #8a6100; --red: #b00020; --magenta: #862e9c;
  --blue: #1c5fb8; } }
"""

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'"
)


def text(value: str) -> str:
    """Transcript or knowledge text, safe to put between tags or in an attribute."""
    return _escape(safe(value), quote=True)


def _anchor(report: int, session: int, line: int) -> str:
    return f"r{report}-s{session}-L{line}"


def _transcript(session: SessionReport, report: int, index: int) -> Iterator[str]:
    marked = evidence_lines(session)
    used: set[int] = set()
    yield '<table class="transcript">'
    for row in session_rows(session.analysis):
        classes = [row.style or "plain"]
        if row.line is not None and row.line in marked:
            classes.append("evidence")
        anchor = ""
        number = "·"
        if row.line is not None:
            number = str(row.line)
            if row.line not in used:
                used.add(row.line)
                name = _anchor(report, index, row.line)
                anchor = f' id="{name}"'
                number = f'<a href="#{name}">{row.line}</a>'
        yield (
            f'<tr class="{" ".join(classes)}"{anchor}><td class="num">{number}</td>'
            f'<td class="who">{WHO[row.who]}</td><td class="text">{text(row.text)}</td>'
            f'<td class="note">{text(row.note)}</td></tr>'
        )
    yield "</table>"


def _evidence(items: tuple[Evidence, ...], report: int, index: int) -> Iterator[str]:
    yield '<ul class="evidence">'
    for item in items:
        where = (
            f'<a href="#{_anchor(report, index, item.line)}">line {item.line}</a>'
            if item.line
            else "inferred"
        )
        for line in item.text.splitlines() or [""]:
            yield f"<li>{where}: <code>{text(line)}</code></li>"
    yield "</ul>"


def _finding(item: Finding, report: int, index: int) -> Iterator[str]:
    icon = ICONS.get(item.severity, "")
    severity = item.severity if item.severity in ICONS else "info"
    yield f'<section class="finding sev-{severity}">'
    yield f"<h4>{icon} {text(item.id)} — {text(item.title)}</h4>"
    yield f"<p><b>{text(item.summary)}</b></p>"
    yield f"<p>{text(item.explanation)}</p>"
    if item.evidence:
        yield "<h5>Evidence</h5>"
        yield from _evidence(item.evidence, report, index)
    if item.consequences:
        yield "<h5>Consequences (not separate problems)</h5>"
        yield from _evidence(item.consequences, report, index)
    if item.causes:
        yield "<h5>Likely causes</h5><ul>"
        yield from (f"<li>{text(cause)}</li>" for cause in item.causes)
        yield "</ul>"
    if item.next_steps:
        yield "<h5>Next steps</h5><ol>"
        yield from (f"<li>{text(step)}</li>" for step in item.next_steps)
        yield "</ol>"
    footer = []
    if item.matched_by:
        footer.append(f"matched by {text(item.matched_by)}; {text(item.confidence)} confidence")
    if item.references:
        footer.append("see " + text("; ".join(item.references)))
    if footer:
        yield f'<p class="dim">{"<br>".join(footer)}</p>'
    yield "</section>"


def _observation(item: Finding, report: int, index: int) -> str:
    """One line, as in the terminal: an observation is a note, not a diagnosis."""
    icon = {"warning": "⚠", "info": "•"}.get(item.severity, ICONS.get(item.severity, ""))
    severity = item.severity if item.severity in ICONS else "info"
    lines = [evidence.line for evidence in item.evidence if evidence.line]
    where = (
        f' <a class="dim" href="#{_anchor(report, index, lines[0])}">[line {lines[0]}]</a>'
        if lines
        else ""
    )
    return (
        f'<li class="sev-{severity}"><b>{icon} {text(item.title)}</b>: '
        f"{text(item.summary)}{where}</li>"
    )


def _verdict(session: SessionReport, top: bool = False) -> str:
    main = session.main
    verdict = verdict_text(
        session.outcome, session.failed_at, main.title if main else None, main.id if main else None
    )
    return (
        f'<p class="verdict{" top" if top else ""}">Verdict: '
        f'<span class="outcome-{text(session.outcome)}">{text(verdict)}</span></p>'
    )


def render_report(report: Report, number: int = 1) -> str:
    """One report as an HTML section; ``number`` keeps anchors unique in a batch."""
    count = len(report.sessions)
    out = [
        f'<section class="report" id="report-{number}">',
        f'<h2 class="rule">{text(report.source)} <span class="dim">{text(report.dialect)} '
        f"transcript · confidence {report.confidence:.2f} · {count} "
        f"session{'s' if count != 1 else ''}</span></h2>",
    ]
    out.extend(f'<p class="note">note: {text(note)}</p>' for note in report.notes)
    for index, session in enumerate(report.sessions, 1):
        if count > 1:
            target = session.analysis.target
            title = f"session {index} of {count}" + (f": {target}" if target else "")
            out.append(f"<h3>{text(title)}</h3>")
        out.append(_verdict(session, top=True))
        out.extend(_transcript(session, number, index))
        out.extend(f'<p class="note">note: {text(note)}</p>' for note in session.analysis.notes)
        for item in session.findings:
            out.extend(_finding(item, number, index))
        if session.observations:
            out.append('<ul class="observations">')
            out.extend(_observation(item, number, index) for item in session.observations)
            out.append("</ul>")
        out.append(_verdict(session))
    out.append("</section>")
    return "\n".join(out)


def render_summary(rows: list[SummaryRow], summary: Totals, links: dict[str, int]) -> str:
    out = [
        '<section class="summary">',
        f'<h2 class="rule">Summary <span class="dim">{text(headline(summary))}</span></h2>',
        '<table class="summary"><thead><tr>',
        *(f"<th>{name}</th>" for name in HEADERS),
        "</tr></thead><tbody>",
    ]
    for row in rows:
        values = [text(value) for value in cells(row)]
        if row.source in links:
            values[0] = f'<a href="#report-{links[row.source]}">{values[0]}</a>'
        outcome = f'<span class="outcome-{text(row.outcome)}">{values[2]}</span>'
        values[2] = outcome
        out.append("<tr>" + "".join(f"<td>{value}</td>" for value in values) + "</tr>")
    out.append("</tbody></table>")
    out.append('<table class="summary"><thead><tr><th>diagnosis</th><th>sessions</th></tr></thead>')
    out.append("<tbody>")
    out.extend(
        f'<tr><td>{text(key)}</td><td class="count">{count}</td></tr>'
        for key, count in summary.diagnoses
    )
    out.append("</tbody></table></section>")
    return "\n".join(out)


def render_document(
    sections: list[str],
    rows: list[SummaryRow] | None = None,
    summary: Totals | None = None,
    links: dict[str, int] | None = None,
    title: str = "smtplog report",
) -> str:
    body = []
    if rows is not None and summary is not None:
        body.append(render_summary(rows, summary, links or {}))
    body.extend(sections)
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<meta name="color-scheme" content="dark">',
            f'<meta name="generator" content="smtplog {__version__}">',
            f"<title>{text(title)}</title>",
            f"<style>{STYLE}</style>",
            "</head>",
            "<body>",
            f"<h1>{text(title)}</h1>",
            *body,
            f"<footer>Generated by smtplog {__version__}. AUTH secrets are masked.</footer>",
            "</body>",
            "</html>",
            "",
        ]
    )
