"""`assistant commitments`, `inspections` and `facts`: the register as the CLI prints it, and the errors a bad option gives."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner


def _run(index_dir: Path, *args: str):
    from assistant.cli.main import cli

    return CliRunner().invoke(cli, ["--index-dir", str(index_dir), *args], catch_exceptions=False)


@pytest.mark.slow
def test_cli_commitments_json(shared_index) -> None:
    result = _run(shared_index.root, "commitments", "--json", "--council", "West Sussex", "--from", "2021", "--to", "2021")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows and all(r["council"] == "West Sussex" for r in rows)
    for row in rows:
        assert row["start"] <= "2021-12-31" and row["end"] >= "2021-01-01"
        assert {"source", "paragraph", "quote"} <= set(row["citation"]) and row["time"]
    assert any(r["time"] == "in the early part of 2022" for r in rows) is False


@pytest.mark.slow
def test_cli_commitments_csv_and_status(shared_index) -> None:
    result = _run(shared_index.root, "commitments", "--format", "csv", "--status", "overdue")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert rows and {r["status"] for r in rows} == {"overdue"}
    assert {"source", "paragraph", "quote", "start", "end", "time"} <= set(rows[0])


@pytest.mark.slow
def test_cli_inspections(shared_index) -> None:
    result = _run(shared_index.root, "inspections", "--council", "Worcestershire", "--format", "md")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("| council |") and "2018-02-01" in result.output


@pytest.mark.slow
def test_cli_facts(sample_index_dir: Path) -> None:
    listed = _run(sample_index_dir, "facts")
    assert listed.exit_code == 0, listed.output
    assert listed.output.startswith("metric") and "vacancy rate" in listed.output
    series = _run(sample_index_dir, "facts", "uncovered vacancy gap", "--council", "West Sussex", "--format", "json")
    assert series.exit_code == 0, series.output
    rows = json.loads(series.output)
    assert [(r["metric"], r["date"], r["value"], r["unit"]) for r in rows] == [
        ("vacancy rate", "2019-02", 18.5, "%"), ("vacancy rate", "2020-02", 5.34, "%"),
    ]
    assert rows[0]["citation"]["paragraph"] == "8" and "18.5%" in rows[0]["citation"]["quote"]
    table = _run(sample_index_dir, "facts", "vacancy rate")
    assert "5.34" in table.output and "000_593dbc0cfa530023.txt" in table.output
    unknown = _run(sample_index_dir, "facts", "banana")
    assert unknown.exit_code == 1 and "metric 'banana' is not known" in unknown.output


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["commitments", "--council", "Nowhere"], "--council 'Nowhere' is not among the indexed councils"),
        (["commitments", "--from", "banana"], "--from 'banana': expected a date like 2021"),
        (["commitments", "--from", "2022", "--to", "2021"], "--from 2022 is after --to 2021"),
        (["inspections", "--to", "2021-13"], "--to '2021-13': expected a date"),
    ],
)
def test_cli_bad_input(shared_index, args: list[str], message: str) -> None:
    result = _run(shared_index.root, *args)
    assert result.exit_code == 1
    assert message in result.output
