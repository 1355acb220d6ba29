"""What the commands share: an AssistantError is one line and exit code 1, filter options are checked dates."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Unpack

import click
import pytest
from click.testing import CliRunner

from assistant.cli.common import FilterOptions, check_writable, emit_json, fail_cleanly, filter_options, to_filters
from assistant.errors import AssistantError


@click.command()
@filter_options
@fail_cleanly
def probe(**options: Unpack[FilterOptions]) -> None:
    """A command with the shared filter options: prints its filters, or fails as the real commands do."""
    filters = to_filters(**options)
    if "Nowhere" in filters.councils:
        raise AssistantError("no reports from Nowhere: see `assistant docs`")
    emit_json(filters.model_dump())


def test_filter_options_become_filters() -> None:
    result = CliRunner().invoke(probe, ["--council", "Croydon", "--council", "Tameside", "--from", "2020", "--to", "2021-06", "--report", "a.txt"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"councils": ["Croydon", "Tameside"], "date_from": "2020", "date_to": "2021-06", "sources": ["a.txt"]}


@pytest.mark.parametrize(("args", "message"), [
    (["--from", "2020/03"], "'2020/03' is not a date: use 2020, 2020-03 or 2020-03-19"),
    (["--from", "2022", "--to", "2021"], "from date 2022 is after to date 2021: swap them"),
])
def test_bad_filter_options_are_usage_errors(args: list[str], message: str) -> None:
    result = CliRunner().invoke(probe, args)
    assert result.exit_code == 2 and message in result.output


def test_an_assistant_error_is_one_line_on_stderr_and_exit_code_1() -> None:
    result = CliRunner().invoke(probe, ["--council", "Nowhere"])
    assert result.exit_code == 1
    assert result.stderr == "error: no reports from Nowhere: see `assistant docs`\n" and result.stdout == ""


def test_an_index_folder_that_cannot_be_written_is_named_with_the_fix(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if os.geteuid() == 0:
        locked = Path("/sys/kernel")  # root writes anywhere but a kernel file system (CI runs as root)
    with pytest.raises(AssistantError, match=f"the index folder {locked} cannot be written .*--index-dir or ASSISTANT_INDEX_DIR"):
        check_writable(locked)


def test_a_file_in_the_way_of_the_index_folder_is_named_with_the_fix(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("", encoding="utf-8")
    with pytest.raises(AssistantError, match="cannot be written .*fix its permissions"):
        check_writable(tmp_path / "taken" / "index")
    check_writable(tmp_path / "new" / "index")
    assert (tmp_path / "new" / "index").is_dir()
