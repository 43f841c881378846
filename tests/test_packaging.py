"""The wheel carries the grammars and knowledge files and installs a working `smtplog`."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from .conftest import ROOT, transcript

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (built,) = out.glob("smtplog-*.whl")
    return built


def test_the_wheel_ships_grammars_and_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    grammars = {path.name for path in (ROOT / "grammar").glob("*.lark")}
    assert grammars, "no grammars in the source tree"
    assert {f"smtplog/grammar/{name}" for name in grammars} <= names
    for data in ("reply-codes.tsv", "enhanced-status-codes.tsv", "diagnoses.toml", "patterns.tsv"):
        assert f"smtplog/knowledge/{data}" in names
    for name in grammars:  # the standalone parsers the build hook generates
        module = name.replace(".lark", ".py")
        assert module == "common.py" or f"smtplog/_parsers/{module}" in names, module
    assert "smtplog/_parsers/_runtime.py" in names
    knowledge = ROOT / "smtplog" / "knowledge"
    for path in [*knowledge.glob("*.t[so][vm]*"), *knowledge.glob("providers/*.toml")]:
        assert f"smtplog/knowledge/{path.relative_to(knowledge)}" in names, path.name


def test_the_installed_command_parses_a_transcript(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    pip = env_dir / "bin" / "pip"
    subprocess.run(
        [str(pip), "install", "-q", str(wheel)], check=True, capture_output=True, timeout=600
    )
    sample = tmp_path / "session.txt"
    sample.write_text(
        transcript(
            """
            220 mx ESMTP
            EHLO c
            250 mx
            MAIL FROM:<a@b.example>
            250 ok
            RCPT TO:<nobody@mx.example>
            550 5.1.1 <nobody@mx.example>: Recipient address rejected: User unknown
            """
        )
    )
    # Run outside the source tree so the installed package (not ./smtplog) is used.
    result = subprocess.run(
        [str(env_dir / "bin" / "smtplog"), "analyze", str(sample)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "recipient-unknown" in result.stdout
    located = subprocess.run(
        [
            str(env_dir / "bin" / "python"),
            "-c",
            "import smtplog.grammars as g; print(g.grammar_dir())",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    )
    assert "site-packages/smtplog/grammar" in located.stdout
    standalone = subprocess.run(
        [
            str(env_dir / "bin" / "python"),
            "-c",
            "import sys; from smtplog.grammars import build_parser as b, Transformer as T; "
            "print(b('telnet', T()).standalone, 'lark' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    )
    assert standalone.stdout.split() == ["True", "False"]


def test_the_build_finds_the_source_tree_without_the_working_folder_on_the_path(
    tmp_path: Path,
) -> None:
    """The build hook runs ``-m smtplog.standalone`` in a fresh build environment, where
    smtplog is not installed: with PYTHONSAFEPATH the working folder is not on the path."""
    import os

    env = {**os.environ, "PYTHONSAFEPATH": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    (built,) = tmp_path.glob("smtplog-*.whl")
    assert "smtplog/_parsers/_runtime.py" in zipfile.ZipFile(built).namelist()
