"""`assistant eval` through the command line: a table per file, the details file, and --check's exit code."""

from __future__ import annotations

import json

from click.testing import CliRunner
from qa_files import AGENCY, MAYOR, write_qa

from assistant.cli.main import cli


def test_eval_command_prints_a_table_per_file_and_writes_details(sample_index_dir, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(sample_index_dir))
    one, two = write_qa(tmp_path / "one.jsonl", AGENCY), write_qa(tmp_path / "two.jsonl", MAYOR)
    md, details = tmp_path / "eval.md", tmp_path / "details.jsonl"
    args = ["eval", str(one), str(two), "--no-baselines", "--markdown", str(md), "--details", str(details), "--check"]
    result = CliRunner().invoke(cli, args, obj={})
    assert result.exit_code == 0, result.output
    assert "### one.jsonl (1 questions)" in result.stdout and "### two.jsonl (1 questions)" in result.stdout
    assert md.read_text(encoding="utf-8").count("| kind | n |") == 2
    rows = [json.loads(line) for line in details.read_text(encoding="utf-8").splitlines()]
    assert [(r["file"], r["id"], r["gold_rank"]) for r in rows] == [("one.jsonl", "a", 1), ("two.jsonl", "b", None)]


def test_check_fails_when_a_target_is_missed(sample_index_dir, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(sample_index_dir))
    missed = write_qa(tmp_path / "missed.jsonl", AGENCY | {"answer_any": ["no such figure"]})
    result = CliRunner().invoke(cli, ["eval", str(missed), "--no-baselines", "--check"], obj={})
    assert result.exit_code == 1
    assert "below target: missed.jsonl: answer_hit" in result.stderr
