"""Many inputs at once, and the conventions of a well-behaved command-line tool."""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from smtplog.cli.batch import Job, Result, run
from smtplog.cli.inputs import Pending, find_inputs, glob_matches
from smtplog.cli.output import Options
from smtplog.errors import ExitCode, InputError

from .conftest import ROOT, run_cli, transcript

GREYLISTED = transcript(
    """
    220 mx.example.test ESMTP
    EHLO c.example.org
    250 mx.example.test
    MAIL FROM:<a@example.org>
    250 2.1.0 Ok
    RCPT TO:<b@example.test>
    450 4.2.0 <b@example.test>: Recipient address rejected: Greylisted, see http://postgrey.example/
    QUIT
    221 2.0.0 Bye
    """
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A ticket folder: real samples in sub-folders, notes, hidden files."""
    root = tmp_path / "tickets"
    (root / "t1").mkdir(parents=True)
    (root / "t2" / "deep").mkdir(parents=True)
    (root / ".git").mkdir()
    shutil.copy(ROOT / "samples/swaks/relay-denied.txt", root / "t1" / "swaks.log")
    shutil.copy(ROOT / "samples/telnet/postfix-auth-login-delivered.txt", root / "t1" / "a.txt")
    shutil.copy(ROOT / "samples/swaks/tls-required.txt", root / "t2" / "deep" / "b.txt")
    (root / "t2" / "grey.txt").write_text(GREYLISTED)
    (root / "t2" / "notes.md").write_text("The customer says mail does not work.\n")
    (root / ".hidden.txt").write_text(GREYLISTED)
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    return root


def test_folders_are_walked_in_order_skipping_hidden_files(folder: Path) -> None:
    names = [item.name for item in find_inputs((str(folder),)) if isinstance(item, Pending)]
    assert [Path(name).relative_to(folder).as_posix() for name in names] == [
        "t1/a.txt",
        "t1/swaks.log",
        "t2/deep/b.txt",
        "t2/grey.txt",
        "t2/notes.md",
    ]


@pytest.mark.parametrize(
    ("patterns", "expected"),
    [
        (("*.txt",), ["t1/a.txt", "t2/deep/b.txt", "t2/grey.txt"]),
        (("*.txt", "!grey*"), ["t1/a.txt", "t2/deep/b.txt"]),
        (("t2/*",), ["t2/grey.txt", "t2/notes.md"]),
        (("!*.md",), ["t1/a.txt", "t1/swaks.log", "t2/deep/b.txt", "t2/grey.txt"]),
    ],
)
def test_glob_filters_folders(folder: Path, patterns: tuple[str, ...], expected: list[str]) -> None:
    found = [item.name for item in find_inputs((str(folder),), patterns)]
    assert [Path(name).relative_to(folder).as_posix() for name in found] == expected


def test_files_named_explicitly_are_read_whatever_the_glob(folder: Path) -> None:
    notes = str(folder / "t2" / "notes.md")
    found = list(find_inputs((notes,), ("*.txt",)))
    assert [item.name for item in found if isinstance(item, Pending)] == [notes]
    assert glob_matches("a/b.txt", ("*.txt",)) and not glob_matches("a/b.txt", ("!*.txt",))


def test_batch_summary_table_and_counts(folder: Path) -> None:
    run_ = run_cli("analyze", str(folder), "--summary")
    assert run_.code == 3  # notes.md is not SMTP; that outranks the diagnosed failures
    lines = run_.stdout.splitlines()
    assert lines[0] == (
        "Summary: 5 files, 4 sessions: 2 failed, 1 deferred, 1 delivered, 1 not-smtp"
    )
    assert lines[1].split() == ["file", "dialect", "outcome", "failed", "at", "diagnosis"]
    rows = {line.split()[0].rsplit("/", 2)[-1]: line.split()[1:4] for line in lines[2:7]}
    assert rows["swaks.log"] == ["swaks", "failed", "rcpt"]
    assert rows["a.txt"] == ["telnet", "delivered", "-"]
    assert rows["b.txt"] == ["swaks", "failed", "mail"]
    assert rows["grey.txt"] == ["telnet", "deferred", "rcpt"]
    assert rows["notes.md"][:2] == ["-", "not-smtp"]
    counts = run_.stdout.split("Sessions per diagnosis:\n", 1)[1].split()
    assert counts == ["1", "delivered", "1", "greylisted", "1", "relay-denied", "1", "tls-required"]
    assert "notes.md: no SMTP session found" in run_.stderr


def test_batch_prints_each_report_then_the_summary(folder: Path) -> None:
    run_ = run_cli("analyze", str(folder / "t1"))
    assert run_.stdout.count("Verdict: ") == 2
    assert run_.stdout.index("Verdict: delivered") < run_.stdout.index("Summary: 2 files")


@pytest.mark.parametrize("fmt", ["text", "json", "jsonl", "markdown", "html"])
def test_jobs_do_not_change_the_output(folder: Path, fmt: str) -> None:
    one = run_cli("analyze", str(folder), "-f", fmt, "--jobs", "1")
    two = run_cli("analyze", str(folder), "-f", fmt, "--jobs", "2")
    assert one.code == two.code == 3
    assert one.stdout == two.stdout
    assert one.stderr == two.stderr


def test_jsonl_is_one_report_per_line(folder: Path) -> None:
    run_ = run_cli("analyze", str(folder), "--format", "jsonl")
    reports = [json.loads(line) for line in run_.stdout.splitlines()]
    assert [Path(r["source"]).name for r in reports] == ["a.txt", "swaks.log", "b.txt", "grey.txt"]
    assert [r["sessions"][0]["outcome"] for r in reports] == [
        "delivered",
        "failed",
        "failed",
        "deferred",
    ]


def test_jsonl_streams_each_report_as_it_is_done(tmp_path: Path) -> None:
    """The first report is out while the second input is still being written."""
    first = tmp_path / "first.txt"
    first.write_text(GREYLISTED)
    fifo = tmp_path / "second.fifo"
    os.mkfifo(fifo)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "smtplog",
            "analyze",
            "-f",
            "jsonl",
            "-j",
            "1",
            str(first),
            str(fifo),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # blocks until the first report is written
        assert json.loads(line)["source"] == str(first)
        with fifo.open("w") as writer:
            writer.write(GREYLISTED)
        rest = process.stdout.read()
        assert json.loads(rest)["source"] == str(fifo)
    finally:
        process.kill() if process.poll() is None else None
        process.wait(timeout=30)


def test_unreadable_inputs_are_rows_of_the_summary(tmp_path: Path, folder: Path) -> None:
    run_ = run_cli("analyze", str(folder / "t1"), str(tmp_path / "missing.txt"), "-s")
    assert run_.code == 2
    row = next(line for line in run_.stdout.splitlines() if "missing.txt" in line)
    assert row.split()[1:] == ["-", "unreadable", "-", "no", "such", "file"]
    assert "missing.txt: no such file" in run_.stderr


def test_an_empty_folder_is_an_error(tmp_path: Path) -> None:
    run_ = run_cli("analyze", str(tmp_path))
    assert run_.code == 2
    assert "is a directory and it holds no files" in run_.stderr


def test_a_bug_in_one_file_does_not_stop_the_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    import smtplog.analysis

    real = smtplog.analysis.analyze_stream

    def flaky(data, name: str = "", dialect: str | None = None, cleanup: bool = True):  # type: ignore[no-untyped-def]
        if name == "boom":
            raise RuntimeError("kaputt")
        return real(data, name, dialect, cleanup)

    monkeypatch.setattr(smtplog.analysis, "analyze_stream", flaky)
    monkeypatch.delenv("SMTPLOG_DEBUG", raising=False)
    items = [Pending("boom", GREYLISTED.encode()), Pending("fine", GREYLISTED.encode())]
    results: list[Result] = []
    for item in run(items, Options(fmt="quiet"), jobs=1):  # run here: each a Job
        assert isinstance(item, Job)
        results.append(item.result("".join(item.pieces())))
    assert results[0].code == ExitCode.INTERNAL and "kaputt" in (results[0].error or "")
    assert results[1].code == ExitCode.OK and "greylisted" in results[1].output


# -- conventions ---------------------------------------------------------------


def test_quiet_prints_only_verdicts(folder: Path) -> None:
    single = run_cli("analyze", "-q", str(folder / "t1" / "swaks.log"))
    assert single.stdout == "failed at rcpt: relay-denied (Relaying denied)\n"
    several = run_cli("analyze", "-q", str(folder / "t1"))
    assert several.stdout.splitlines() == [
        f"{folder}/t1/a.txt: delivered: the server accepted the message",
        f"{folder}/t1/swaks.log: failed at rcpt: relay-denied (Relaying denied)",
    ]


@pytest.mark.parametrize(
    ("fail_on", "relay_code", "grey_code"),
    [("error", 1, 0), ("warning", 1, 1), ("never", 0, 0)],
)
def test_fail_on_sets_the_exit_code_policy(
    folder: Path, fail_on: str, relay_code: int, grey_code: int
) -> None:
    relay = run_cli("analyze", "-q", "--fail-on", fail_on, str(folder / "t1" / "swaks.log"))
    grey = run_cli("analyze", "-q", "--fail-on", fail_on, str(folder / "t2" / "grey.txt"))
    assert (relay.code, grey.code) == (relay_code, grey_code)


def test_unreadable_input_still_fails_with_fail_on_never(tmp_path: Path) -> None:
    assert run_cli("analyze", "--fail-on", "never", str(tmp_path / "nope.txt")).code == 2


@pytest.mark.parametrize(
    ("args", "env", "coloured"),
    [
        (("--format", "terminal"), {}, False),  # a pipe: auto means no colour
        (("--format", "terminal", "--color", "always"), {}, True),
        (("--color", "always"), {"NO_COLOR": "1"}, True),  # the flag wins over the variable
        (("--format", "terminal", "--color", "never"), {"FORCE_COLOR": "1"}, False),
        (("--format", "terminal"), {"NO_COLOR": "1", "FORCE_COLOR": "1"}, False),
        (("--format", "terminal"), {"FORCE_COLOR": "1"}, True),
    ],
)
def test_colour_follows_the_flag_and_the_environment(
    folder: Path, args: tuple[str, ...], env: dict[str, str], coloured: bool
) -> None:
    run_ = run_cli("analyze", *args, str(folder / "t1" / "swaks.log"), env=env)
    assert ("\x1b[" in run_.stdout) is coloured
    assert "Relaying denied" in run_.stdout


def test_terminal_width_is_respected(folder: Path) -> None:
    for width in (60, 140):
        run_ = run_cli("analyze", "-f", "terminal", str(folder / "t1"), env={"COLUMNS": str(width)})
        assert max(len(line) for line in run_.stdout.splitlines()) == width


@pytest.mark.parametrize(
    ("name", "marker"),
    [("r.html", "<!DOCTYPE html>"), ("r.md", "# smtplog report"), ("r.json", '"schema"')],
)
def test_output_file_format_follows_its_suffix(
    folder: Path, tmp_path: Path, name: str, marker: str
) -> None:
    target = tmp_path / name
    run_ = run_cli("analyze", str(folder / "t1" / "swaks.log"), "-o", str(target))
    assert run_.code == 1 and run_.stdout == ""
    assert target.read_text().startswith(marker) or marker in target.read_text()


def test_quiet_refuses_a_document_format(folder: Path) -> None:
    run_ = run_cli("analyze", "-q", "-f", "json", str(folder))
    assert run_.code == 2 and "--quiet" in run_.stderr


def _in_a_terminal(
    args: list[str], env: dict[str, str], stdout_tty: bool = True
) -> tuple[str, str]:
    """Run smtplog with stderr (and stdout) on a pseudo-terminal; return (stdout, stderr)."""
    master, slave = pty.openpty()
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    environment.update({"TERM": "xterm-256color", "COLUMNS": "100", **env})
    process = subprocess.Popen(
        [sys.executable, "-m", "smtplog", *args],
        stdin=slave,  # a user at a terminal: a pager needs stdin to be the terminal too
        stdout=slave if stdout_tty else subprocess.PIPE,
        stderr=slave,
        cwd=ROOT,
        env=environment,
    )
    os.close(slave)
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain)
    reader.start()
    piped = process.stdout.read().decode() if process.stdout else ""
    process.wait(timeout=120)
    reader.join(timeout=10)
    os.close(master)
    return piped, b"".join(chunks).decode(errors="replace")


def test_a_terminal_gets_colour_unless_no_color(folder: Path) -> None:
    target = str(folder / "t1" / "swaks.log")
    _, coloured = _in_a_terminal(["analyze", target], {})
    _, plain = _in_a_terminal(["analyze", target], {"NO_COLOR": "1"})
    assert "\x1b[" in coloured and "Relaying denied" in coloured
    assert "\x1b[3" not in plain and "Relaying denied" in plain  # no colour codes


def test_pager_only_when_asked_and_on_a_terminal(folder: Path) -> None:
    target = str(folder / "t1" / "swaks.log")
    pager = {"PAGER": "sed 's/^/PAGED: /'"}
    _, paged = _in_a_terminal(["analyze", "--pager", target], pager)
    _, unpaged = _in_a_terminal(["analyze", target], pager)
    assert "PAGED: " in paged and "PAGED: " not in unpaged
    assert "PAGED: " not in run_cli("analyze", "--pager", target, env=pager).stdout


def test_progress_bar_on_a_terminal_when_the_output_goes_elsewhere(tmp_path: Path) -> None:
    for index in range(8):
        (tmp_path / f"{index}.txt").write_text(GREYLISTED)
    piped, stderr = _in_a_terminal(["analyze", str(tmp_path), "-f", "jsonl"], {}, stdout_tty=False)
    assert len(piped.splitlines()) == 8
    assert "analysing" in stderr
    _, quiet_stderr = _in_a_terminal(["analyze", "-q", str(tmp_path)], {}, stdout_tty=False)
    assert "analysing" not in quiet_stderr
    assert "analysing" not in run_cli("analyze", str(tmp_path), "-f", "jsonl").stderr


def test_shell_completion_knows_commands_and_dialects() -> None:
    env = {"_SMTPLOG_COMPLETE": "bash_complete", "COMP_WORDS": "smtplog re", "COMP_CWORD": "1"}
    assert "plain,redact" in run_cli(env=env).stdout.split()
    env.update(COMP_WORDS="smtplog analyze --dialect sw", COMP_CWORD="3")
    assert run_cli(env=env).stdout.split() == ["plain,swaks"]
    source = run_cli(env={"_SMTPLOG_COMPLETE": "bash_source"})
    assert "_smtplog_completion" in source.stdout


@pytest.mark.parametrize("command", ["analyze", "redact"])
def test_help_has_examples(command: str) -> None:
    run_ = run_cli(command, "--help")
    assert run_.code == 0
    assert "Examples:" in run_.stdout and f"smtplog {command} " in run_.stdout


def test_write_reports_renders_like_analyze(folder: Path) -> None:
    """The recorder commands render their analysis through the same writer."""
    import io

    from smtplog.analysis import analyze_bytes
    from smtplog.cli.output import write_reports

    path = folder / "t1" / "swaks.log"
    buffer = io.StringIO()
    write_reports([analyze_bytes(path.read_bytes(), str(path))], "text", buffer)
    assert buffer.getvalue() == run_cli("analyze", "-f", "text", str(path)).stdout


def test_streamed_json_is_exactly_what_json_dumps_writes(folder: Path) -> None:
    run_ = run_cli("analyze", str(folder), "-f", "json")
    assert run_.stdout == json.dumps(json.loads(run_.stdout), indent=2) + "\n"
    document = json.loads(run_.stdout)
    assert [Path(e["source"]).name for e in document["errors"]] == ["notes.md"]
    assert document["errors"][0]["exit_code"] == 3


def test_json_summary_of_a_single_file(folder: Path) -> None:
    document = json.loads(run_cli("analyze", "-f", "json", str(folder / "t1" / "swaks.log")).stdout)
    assert document["summary"] == {
        "inputs": 1,
        "sessions": 1,
        "outcomes": {"failed": 1},
        "diagnoses": {"relay-denied": 1},
    }


def test_an_input_failing_after_its_sessions_began_to_stream(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sessions written, then a read error: the json stays valid, the summary counts the
    input once and the sessions written."""
    from smtplog import limits, reader

    from .fuzzing import run_cli as run_here

    session = (ROOT / "samples" / "telnet" / "relay-denied.txt").read_bytes()
    big, good = tmp_path / "big.txt", tmp_path / "good.txt"
    big.write_bytes(session * 600)
    good.write_bytes(session)
    real = reader.file_chunks

    def failing(file, name: str, size: int = limits.READ_CHUNK):  # type: ignore[no-untyped-def]
        taken = 0
        for chunk in real(file, name, 16 * 1024):
            taken += len(chunk)
            if name == str(big) and taken > 256 * 1024:  # after the head (5,000 lines)
                raise InputError(f"{name}: cannot read (Input/output error)")
            yield chunk

    monkeypatch.setattr(reader, "file_chunks", failing)
    monkeypatch.setattr(limits, "HELD_SESSIONS", 1)  # written a session at a time at once
    code, out, err = run_here(["analyze", "--jobs", "1", "-f", "json", str(big), str(good)])
    assert code == 2 and "cannot read (Input/output error)" in err
    data = json.loads(out)
    cut, whole = data["reports"]
    written = len(cut["sessions"])
    assert 1 < written < 600 and cut["session_count"] == written
    assert cut["error"] == f"{big}: cannot read (Input/output error)"
    assert len(whole["sessions"]) == 1 and "error" not in whole
    assert [error["source"] for error in data["errors"]] == [str(big)]
    assert data["summary"]["inputs"] == 2
    assert data["summary"]["sessions"] == written + 1
    assert data["summary"]["outcomes"] == {"failed": written + 1, "unreadable": 1}
    # The text summary counts the same.
    code, out, err = run_here(["analyze", "--jobs", "1", "-s", str(big), str(good)])
    assert f"{written + 1} sessions" in out.split("Summary: ", 1)[1].splitlines()[0], out
