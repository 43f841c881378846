"""Markdown and HTML reports, and no secret in any output format of any sample."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt

from smtplog import analyze_bytes, analyze_text
from smtplog.cli.output import Options, render
from smtplog.render import html as html_render
from smtplog.render import markdown as md

from .conftest import ROOT, run_cli, transcript
from .sample_secrets import leaked
from .samples import Sample, load_samples

SAMPLES = load_samples()
FORMATS = ("text", "terminal", "json", "jsonl", "markdown", "html", "quiet")

HOSTILE = transcript(
    """
    220 mx.example.test ESMTP <script>alert(1)</script> ```fence``` | pipe | &amp;
    EHLO c.example.org
    250 mx.example.test `tick` **bold** [link](http://evil.example/) <img src=x onerror=alert(2)>
    MAIL FROM:<a@example.org>
    250 2.1.0 Ok
    RCPT TO:<b@example.net>
    554 5.7.1 <b@example.net>: Relay access denied ```` <b>not bold</b> | x
    QUIT
    221 2.0.0 Bye
    """
)


# -- no secret anywhere ------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("sample", SAMPLES, ids=str)
def test_no_sample_secret_in_any_format(sample: Sample, fmt: str) -> None:
    report = analyze_bytes(sample.file.read_bytes(), sample.path)
    output = render(report, Options(fmt=fmt, color_system="truecolor", width=120))
    assert output.strip()
    assert leaked(output) == []


def test_no_secret_through_the_cli_in_a_batch() -> None:
    for fmt in ("json", "markdown", "html", "text"):
        run = run_cli("analyze", "samples/", "--glob", "*.txt", "-f", fmt, "-j", "2")
        assert run.code == 1, run.stderr
        assert leaked(run.stdout) == [], fmt


# -- Markdown ----------------------------------------------------------------


def _tokens(text: str):  # type: ignore[no-untyped-def]
    parser = MarkdownIt("commonmark", {"html": True}).enable("table")
    return parser.parse(text)


def _inline_children(tokens):  # type: ignore[no-untyped-def]
    for token in tokens:
        yield token
        yield from token.children or ()


def test_markdown_holds_hostile_text_literally() -> None:
    report = analyze_text(HOSTILE, name="ticket|42 <b>.txt")
    text = md.render_document([md.render_report(report)], None, None)
    tokens = _tokens(text)
    kinds = {token.type for token in _inline_children(tokens)}
    # Nothing from the transcript became HTML, a link or an image.
    assert "html_inline" not in kinds and "html_block" not in kinds
    assert "link_open" not in kinds and "image" not in kinds
    fences = [token for token in tokens if token.type == "fence"]
    assert len(fences) == 1
    body = fences[0].content
    # The fence holds every transcript line, backticks and all, with line numbers.
    assert "```fence```" in body and "````" in body
    assert re.search(r"^>\s+7 S: 554 5\.7\.1", body, re.MULTILINE)
    assert re.search(r"^\s+1 S: 220 mx\.example\.test ESMTP <script>", body, re.MULTILINE)
    heading = next(t for t in tokens if t.type == "inline" and "ticket" in t.content)
    assert "".join(c.content for c in heading.children if c.type == "text") == ("ticket|42 <b>.txt")


def test_markdown_gives_verdict_diagnosis_and_next_steps() -> None:
    report = analyze_text(HOSTILE)
    text = md.render_report(report)
    assert "**Verdict: failed at rcpt: relay-denied (Relaying denied)**" in text
    assert "**Next steps**" in text and "\n1. " in text
    assert "- line 7: ``" in text  # evidence as code spans that survive backticks


def test_markdown_excerpt_of_a_long_session_keeps_the_evidence() -> None:
    lines = ["220 mx.example.test ESMTP", "EHLO c"] + ["250-X" + str(i) for i in range(60)]
    lines += ["250 OK", "MAIL FROM:<a@b.example>", "250 ok", "RCPT TO:<c@d.example>"]
    lines += ["550 5.1.1 <c@d.example>: Recipient address rejected: User unknown", "QUIT"]
    caption, block = md.excerpt(analyze_text("\n".join(lines) + "\n").sessions[0])
    assert caption.startswith("Excerpt")
    assert "> 67 S: 550 5.1.1" in block
    assert "250-X10" not in block and "…" in block


@pytest.mark.parametrize(
    ("text", "expected"),
    [("a`b", "``a`b``"), ("`x`", "`` `x` ``"), ("plain", "`plain`"), ("a``b", "```a``b```")],
)
def test_code_spans_outlast_the_backticks_inside(text: str, expected: str) -> None:
    assert md.code_span(text) == expected
    parsed = _tokens(f"x {expected} y")[1].children
    assert [c.content for c in parsed if c.type == "code_inline"] == [text]


def test_markdown_batch_summary_is_a_table() -> None:
    run = run_cli("analyze", "samples/swaks", "-f", "markdown", "--summary")
    assert run.code == 1
    tokens = _tokens(run.stdout)
    cells = [t.content for t in tokens if t.type == "inline"]
    assert "samples/swaks/relay-denied.txt" in cells
    assert "relay-denied (Relaying denied)" in cells
    assert sum(1 for t in tokens if t.type == "table_open") == 2  # rows and counts
    assert "fence" not in {t.type for t in tokens}  # --summary: no reports


# -- HTML ----------------------------------------------------------------------


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend(attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _html(report_text: str, name: str = "session.txt") -> str:
    report = analyze_text(report_text, name=name)
    return html_render.render_document([html_render.render_report(report)], title=name)


def test_html_escapes_everything_from_the_transcript() -> None:
    page = _html(HOSTILE, name='<img src=x onerror="alert(3)">.txt')
    parsed = _Collector()
    parsed.feed(page)
    assert "script" not in parsed.tags and "img" not in parsed.tags and "b" in parsed.tags
    assert not [name for name, _ in parsed.attributes if name.startswith("on")]
    text = "".join(parsed.text)
    assert "<script>alert(1)</script>" in text and "<b>not bold</b>" in text
    assert '<img src=x onerror="alert(3)">.txt' in text


def test_html_is_self_contained() -> None:
    page = _html(HOSTILE)
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    parsed = _Collector()
    parsed.feed(page)
    for name, value in parsed.attributes:
        if name in ("src", "href"):
            assert value is not None and value.startswith("#"), (name, value)
    assert "<link" not in page and "@import" not in page and "url(" not in page


def test_html_evidence_links_to_its_line() -> None:
    page = _html(HOSTILE)
    assert 'id="r1-s1-L7"' in page
    assert '<a href="#r1-s1-L7">line 7</a>' in page
    assert re.search(r'<tr class="reply-5 evidence" id="r1-s1-L7">', page)


def test_html_batch_has_a_linked_summary(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "batch.html"
    run = run_cli("analyze", "samples/telnet", "-o", str(out))
    assert run.code == 1 and run.stdout == ""
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert '<a href="#report-1">samples/telnet/connection-refused.txt</a>' in page
    assert page.count('<section class="report"') == 6


def test_json_document_is_one_valid_json_value_in_a_batch() -> None:
    run = run_cli("analyze", "samples/telnet", "samples/seed", "-f", "json")
    document = json.loads(run.stdout)
    assert document["schema"] == "smtplog/1"
    assert len(document["reports"]) == 7
    assert document["summary"]["inputs"] == 7
    assert document["summary"]["diagnoses"]["relay-denied"] == 1
    assert document["errors"] == []


@pytest.mark.parametrize(
    "text", ["127.0.0.1", "1. not a list", "2) nor this", "# not a heading", "- nor a list", "> no"]
)
def test_markdown_escape_keeps_block_starts_literal(text: str) -> None:
    escaped = md.escape(text)
    for source in (escaped, f"- {escaped}"):
        tokens = _tokens(source)
        kinds = {token.type for token in tokens}
        assert not kinds & {"heading_open", "blockquote_open", "ordered_list_open"}
        inline = next(token for token in tokens if token.type == "inline")
        assert inline.content.replace("\\", "") == text.replace("\\", "")
        assert "".join(c.content for c in inline.children or []) == text


def test_observations_are_in_markdown_and_html() -> None:
    """An AUTH in clear text is an observation: a note in every format, not a diagnosis."""
    report = analyze_bytes(
        (ROOT / "samples/telnet/postfix-auth-login-delivered.txt").read_bytes(), "s.txt"
    )
    session = report.sessions[0]
    assert session.observations
    first = session.observations[0]
    assert first.title in md.render_report(report)
    page = html_render.render_report(report)
    assert f"{first.title}</b>" in page.replace("&#x27;", "'")
