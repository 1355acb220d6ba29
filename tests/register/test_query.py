"""Queries over the register: by council, dates and status, and the errors a bad option gives."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.register.query import query_commitments
from assistant.register.store import Register, load_register


@pytest.fixture()
def register(shared_index) -> Register:
    return load_register(shared_index)


@pytest.mark.slow
def test_query_filters(register: Register) -> None:
    in_2021 = query_commitments(register, date_from="2021", date_to="2021")
    assert in_2021 and all(c.time.start <= "2021-12-31" and c.time.end >= "2021-01-01" for c in in_2021)
    worcs = query_commitments(register, councils=["Worcestershire"], as_of="2018-06")
    assert {c.status for c in worcs} == {"overdue"}
    assert query_commitments(register, statuses=["done"]) and all(c.status == "done" for c in query_commitments(register, statuses=["done"]))


def _run(index_dir: Path, *args: str):
    from assistant.cli.main import cli

    return CliRunner().invoke(cli, ["--index-dir", str(index_dir), *args], catch_exceptions=False)


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
