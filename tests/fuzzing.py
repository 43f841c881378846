"""What the fuzz tests feed smtplog, and what must hold whatever it is fed.

Used by tests/test_fuzz.py (hypothesis, bounded in CI, long with
``make fuzz``) and tests/fuzz_atheris.py (coverage-guided, ``make fuzz``).

Inputs: any bytes; the samples (every file in samples/manifest.tsv, packet
captures included) mutated: bytes flipped, lines dropped, duplicated or
reordered, truncated, two samples spliced, control characters and escapes
inserted, very long lines, invalid UTF-8, line endings changed, gzip; and
synthetic sessions with AUTH secrets in them.

Properties, for every input and every dialect forced on it:
- no exception but SmtplogError (with a documented exit code);
- every span, reply line and evidence line inside the input, first <= last;
- every output format valid for its kind (JSON and each JSONL line parse,
  HTML parses with html5lib in strict mode, Markdown has no HTML or links and
  one fence per session) and inert on a terminal (tests/hostile.py);
- the secrets of the input in no output.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import io
import json
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from hypothesis import strategies as st

from smtplog import dialects
from smtplog.analysis import analyze_bytes
from smtplog.cli.output import Options, render
from smtplog.errors import ExitCode, SmtplogError
from smtplog.events import DataBody, Reply
from smtplog.report import Report

from .hostile import HOSTILE, INVALID_UTF8, rich_markup_was_interpreted, unsafe_characters
from .samples import load_samples

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTED_EXIT_CODES = {ExitCode.OK, ExitCode.FAILURE, ExitCode.USAGE, ExitCode.NOT_SMTP}
FORMATS = ("terminal", "text", "json", "jsonl", "markdown", "html", "quiet")
DIALECTS = (None, *dialects.REGISTRY)  # None: detected


@cache
def sample_files() -> tuple[bytes, ...]:
    return tuple(sample.file.read_bytes() for sample in load_samples())


# -- mutations ------------------------------------------------------------------------

SNIPPETS = [
    *(text.encode("utf-8") for text in HOSTILE.values()),
    INVALID_UTF8,
    b"\r",
    b"\r\n",
    b"\n",
    b"\x00",
    b"\x08",
    b"\t",
    b"\xff\xfb\x01",  # a telnet IAC negotiation
    b"250-",
    b"354 ",
    b"334 VXNlcm5hbWU6\n",
    b"\n.\n",
    b"AUTH LOGIN\n",
    b"```\n",
    b"&lt;br&gt;",
    b"<br>",
    b"> ",
]


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def _join(lines: list[bytes]) -> bytes:
    return b"\n".join(lines)


@st.composite
def mutation(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` changed in one way."""
    kind = draw(
        st.sampled_from(
            [
                "flip",
                "drop",
                "duplicate",
                "swap",
                "shuffle",
                "truncate",
                "splice",
                "insert",
                "long line",
                "bytes",
                "line endings",
                "gzip",
            ]
        )
    )
    size = len(data)
    lines = _lines(data)
    index = draw(st.integers(0, max(0, len(lines) - 1)))
    position = draw(st.integers(0, size))
    if kind == "flip" and size:
        out = bytearray(data)
        out[min(position, size - 1)] ^= 1 << draw(st.integers(0, 7))
        return bytes(out)
    if kind == "drop" and lines:
        return _join(lines[:index] + lines[index + 1 :])
    if kind == "duplicate" and lines:
        times = draw(st.integers(1, 3))
        return _join(lines[: index + 1] + [lines[index]] * times + lines[index + 1 :])
    if kind == "swap" and len(lines) > 1:
        other = draw(st.integers(0, len(lines) - 1))
        lines[index], lines[other] = lines[other], lines[index]
        return _join(lines)
    if kind == "shuffle" and len(lines) > 1:
        window = lines[index : index + draw(st.integers(2, 8))]
        shuffled = draw(st.permutations(window))
        return _join(lines[:index] + list(shuffled) + lines[index + len(window) :])
    if kind == "truncate":
        return data[:position]
    if kind == "splice":
        other = draw(st.sampled_from(sample_files()))
        return data[:position] + other[draw(st.integers(0, len(other))) :]
    if kind == "insert":
        return data[:position] + draw(st.sampled_from(SNIPPETS)) + data[position:]
    if kind == "long line":
        piece = draw(st.sampled_from([b"A", b"250-", b"\xff", "é".encode(), b"<", b" "]))
        return data[:position] + piece * draw(st.integers(1_000, 20_000)) + data[position:]
    if kind == "bytes":
        return data[:position] + draw(st.binary(min_size=1, max_size=64)) + data[position:]
    if kind == "line endings":
        return data.replace(b"\n", draw(st.sampled_from([b"\r\n", b"\r", b"\r\r\n", b"\n\n"])))
    if kind == "gzip":
        packed = gzip.compress(data)
        return packed[: draw(st.integers(2, len(packed)))]  # whole, or cut short
    return data


@st.composite
def mutated_sample(draw: st.DrawFn) -> bytes:
    data = draw(st.sampled_from(sample_files()))
    for _ in range(draw(st.integers(1, 4))):
        data = draw(mutation(data))
    return data


any_bytes = st.one_of(
    st.binary(max_size=2_000),
    st.text(max_size=500).map(lambda text: text.encode("utf-8", "surrogatepass")),
)

# -- synthetic sessions with secrets --------------------------------------------------

_SECRET_CHARS = st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="\\")


@dataclass(frozen=True)
class SecretSession:
    data: bytes
    secrets: tuple[str, ...]  # none of these may appear in any output


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@st.composite
def secret_session(draw: st.DrawFn) -> SecretSession:
    """A telnet-style session authenticating with a random password, with noise around
    (never inside) the AUTH exchange."""
    # A digit and a symbol in it: an English word could be found in the explanations.
    password = draw(
        st.text(_SECRET_CHARS, min_size=8, max_size=24).filter(
            lambda p: any(c.isdigit() for c in p) and not p.isalnum()
        )
    )
    user = draw(st.sampled_from(["alice@example.test", "bob", "u"]))
    mechanism = draw(st.sampled_from(["LOGIN", "PLAIN", "PLAIN-initial"]))
    if mechanism == "LOGIN":
        auth = [
            "AUTH LOGIN",
            "334 VXNlcm5hbWU6",
            _b64(user.encode()),
            "334 UGFzc3dvcmQ6",
            _b64(password.encode()),
        ]
        secrets = (password, _b64(password.encode()))
    else:
        blob = _b64(b"\0" + user.encode() + b"\0" + password.encode())
        auth = (
            [f"AUTH PLAIN {blob}"] if mechanism == "PLAIN-initial" else ["AUTH PLAIN", "334 ", blob]
        )
        secrets = (password, blob)
    outcome = draw(st.sampled_from(["235 2.7.0 Authentication successful", "535 5.7.8 Error"]))
    before = ["220 mx.example.test ESMTP", "EHLO client.example.org", "250-mx.example.test",
              "250 AUTH LOGIN PLAIN"]  # fmt: skip
    after = ["MAIL FROM:<alice@example.test>", "250 2.1.0 Ok", "QUIT", "221 2.0.0 Bye"]
    noise = st.lists(st.sampled_from([s.decode("utf-8", "replace") for s in SNIPPETS]), max_size=3)
    lines = [*before]
    for line in draw(noise):
        lines.insert(draw(st.integers(1, len(lines))), line.rstrip("\n"))
    lines += [*auth, outcome]
    tail = [*after]
    for line in draw(noise):
        tail.insert(draw(st.integers(0, len(tail))), line.rstrip("\n"))
    text = "\n".join([*lines, *tail]) + "\n"
    return SecretSession(text.encode("utf-8", "surrogateescape"), secrets)


# -- the properties ---------------------------------------------------------------------


def analyze(data: bytes, dialect: str | None = None, cleanup: bool = True) -> Report | None:
    """The report, or None for input smtplog refuses (with a documented exit code)."""
    try:
        return analyze_bytes(data, "fuzz.txt", dialect, cleanup=cleanup)
    except SmtplogError as error:
        assert error.exit_code in DOCUMENTED_EXIT_CODES, error
        assert str(error), "an error without a message"
        return None


def check_spans(report: Report) -> None:
    """Everything points inside the input: lines 1..line_count, first <= last."""
    count = report.line_count

    def inside(number: int | None, what: object) -> None:
        if number is not None:
            assert 1 <= number <= count, f"line {number} of {count}: {what!r}"[:300]

    for session in report.sessions:
        for event in session.analysis.events:
            if event.span is not None:
                assert event.span.first <= event.span.last, event
                inside(event.span.first, event)
                inside(event.span.last, event)
            if isinstance(event, Reply | DataBody):
                for number in event.line_numbers:
                    inside(number, event)
        for finding in (*session.findings, *session.observations):
            for item in (*finding.evidence, *finding.consequences):
                inside(item.line, (finding.id, item))


def render_all(report: Report) -> dict[str, str]:
    outputs = {}
    for fmt in FORMATS:
        options = Options(
            fmt=fmt,
            color_system="truecolor" if fmt == "terminal" else None,
            width=100,
            summary=True,
        )
        outputs[fmt] = render(report, options)
    outputs["summary"] = _summary(report)
    return outputs


def _summary(report: Report) -> str:
    """The batch summary table (text) as `smtplog analyze a b` writes it."""
    from smtplog.cli.output import Writer
    from smtplog.render.summary import report_rows

    out = io.StringIO()
    options = Options(fmt="text", summary=True, label=True)
    writer = Writer(out, options, summary=True)
    writer.add(1, report.source, "", report_rows(report))
    writer.finish()
    return out.getvalue()


def check_outputs(outputs: dict[str, str], sessions: int) -> None:
    for fmt, text in outputs.items():
        text.encode("utf-8")  # no lone surrogate: undecodable bytes are shown as \xNN
        found = unsafe_characters(text, terminal=fmt == "terminal")
        assert not found, f"{fmt}: {found}"
    assert not rich_markup_was_interpreted(outputs["terminal"] + outputs["text"])
    json.loads(outputs["json"])
    assert len(outputs["jsonl"].splitlines()) == 1
    json.loads(outputs["jsonl"])
    check_html(outputs["html"])
    check_markdown(outputs["markdown"], sessions)


def check_html(text: str) -> None:
    import html5lib

    from smtplog.render.html import render_document

    document = render_document([text], title="fuzz")
    tree = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(document)
    for element in tree.iter():
        assert element.tag not in ("script", "img", "iframe", "object", "embed"), element.tag
        for name, value in element.attrib.items():
            assert not name.startswith("on"), name
            if name in ("href", "src"):
                assert value.startswith("#"), value


@cache
def _markdown():  # type: ignore[no-untyped-def]
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table")


def check_markdown(text: str, sessions: int) -> None:
    tokens = _markdown().parse(text)
    kinds = {t.type for t in tokens} | {c.type for t in tokens for c in t.children or []}
    assert not kinds & {"html_block", "html_inline", "link_open", "image"}, kinds
    assert sum(1 for t in tokens if t.type == "fence") == sessions


def check_secrets(outputs: dict[str, str], secrets: tuple[str, ...]) -> None:
    for fmt, text in outputs.items():
        for secret in secrets:
            assert secret not in text, f"a secret in the {fmt} output"


def check_input(data: bytes, dialect: str | None = None, cleanup: bool = True) -> None:
    """Every property, for one input read as ``dialect`` (None: detected)."""
    report = analyze(data, dialect, cleanup)
    if report is None:
        return
    check_spans(report)
    check_outputs(render_all(report), len(report.sessions))


def run_cli(argv: list[str], stdin: bytes = b"") -> tuple[int, str, str]:
    """`smtplog ARGV` in this process: exit code, stdout, stderr (streams with a
    binary buffer underneath, as a process has)."""
    from smtplog.cli import main

    def stream(data: bytes = b"") -> io.TextIOWrapper:
        return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", write_through=True)

    out, err = stream(), stream()
    code = 0
    real_stdin = sys.stdin
    sys.stdin = stream(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main(argv)
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    finally:
        sys.stdin = real_stdin
    return code, _text(out), _text(err)


def _text(stream: io.TextIOWrapper) -> str:
    stream.flush()
    return stream.buffer.getvalue().decode("utf-8")  # type: ignore[attr-defined]
