"""`smtplog dialects`: the list, and `--detect FILE` for a support engineer's debugging."""

from __future__ import annotations

import json

from smtplog import dialects

from .conftest import ROOT, run_cli

MESSY = ROOT / "samples" / "messy" / "swaks-recipient-unknown-syslog.txt"


def test_lists_every_dialect_with_its_title_and_an_example() -> None:
    result = run_cli("dialects")
    assert result.code == 0, result.stderr
    for dialect in dialects.all_dialects():
        assert f"{dialect.name}  " in result.stdout
        assert dialect.title in result.stdout
        assert f"e.g. {dialect.example}" in result.stdout
    assert "html" in result.stdout and "unwrap" in result.stdout  # the cleanup steps


def test_json_lists_the_same() -> None:
    data = json.loads(run_cli("dialects", "--format", "json").stdout)
    assert [row["name"] for row in data["dialects"]] == list(dialects.REGISTRY)
    assert all(row["title"] and row["example"] for row in data["dialects"])
    assert {"html", "quote", "timestamps"} <= {row["name"] for row in data["cleanup"]}


def test_detect_shows_every_score_for_each_variant_and_the_choice() -> None:
    result = run_cli("dialects", "--detect", str(MESSY))
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    for name in dialects.REGISTRY:
        assert any(line.split()[:1] == [name] for line in lines), name
    swaks = next(line for line in lines if line.split()[:1] == ["swaks"])
    assert swaks.split()[1:3] == ["0.00", "0.98"] and swaks.endswith("<- detected")
    assert "no timestamps *" in result.stdout
    assert "read as swaks" in result.stdout


def test_detect_json_is_machine_readable() -> None:
    data = json.loads(run_cli("dialects", "--detect", str(MESSY), "-f", "json").stdout)
    detection = data["detections"][0]
    assert detection["chosen"]["dialect"] == "swaks"
    assert [variant["stage"] for variant in detection["variants"]] == [0, 2]
    assert detection["variants"][1]["chosen"] is True
    assert set(detection["variants"][0]["scores"]) == set(dialects.REGISTRY)


def test_detect_on_text_that_is_not_smtp_exits_3_with_the_scores() -> None:
    result = run_cli("dialects", "--detect", "-", stdin=b"just some prose\nand more\n")
    assert result.code == 3
    assert "no dialect recognises this text" in result.stdout


def test_detect_on_a_missing_file_is_a_one_line_usage_error() -> None:
    result = run_cli("dialects", "--detect", "/nonexistent/file.txt")
    assert result.code == 2
    assert result.stderr.strip().count("\n") == 0 and "no such file" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_top_level_help_mentions_the_command() -> None:
    assert "dialects" in run_cli("--help").stdout
