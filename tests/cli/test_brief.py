"""`assistant brief`: Markdown and HTML to stdout, mistakes named with exit code 1, a bad format a usage error."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from assistant.cli.main import cli


@pytest.fixture()
def run(sample_index_dir, monkeypatch):
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(sample_index_dir))

    def invoke(*args: str):
        return CliRunner().invoke(cli, list(args), obj={})

    return invoke


def test_cli_prints_markdown_and_html(run) -> None:
    result = run("brief", "care leavers", "--council", "North Somerset")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Briefing note: Care leavers\n")
    assert "## What Ofsted found" in result.stdout and "¶3" in result.stdout
    page = run("brief", "front door", "--format", "html")
    assert page.exit_code == 0 and page.stdout.startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["brief", "workforce", "--council", "Atlantis"], "'Atlantis' is not among the indexed councils"),
        (["brief", "workforce", "--from", "March"], "--from 'March'"),
        (["brief", "workforce", "--format", "md", "--out", "note.docx"], "--format is md"),
        (["brief", "workforce", "--out", "no/such/folder/note.md"], "does not exist"),
        (["brief", "zebra crossings"], "say nothing"),
    ],
)
def test_cli_errors_exit_1_with_the_reason(run, args, message) -> None:
    result = run(*args)
    assert result.exit_code == 1
    assert message in result.stderr


def test_cli_bad_format_is_a_usage_error(run) -> None:
    assert run("brief", "workforce", "--format", "pdf").exit_code == 2
