"""The register stored beside the index: rebuilt with it, cached per report, and an empty index refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.register.store import load_register

NSOM = "003_820a53567a27642e.txt"


@pytest.mark.slow
def test_register_follows_the_index(sample_index) -> None:
    path = Path(sample_index.root) / "commitments.json"
    assert path.is_file()
    assert any(c.source == NSOM for c in load_register(sample_index).commitments)
    sample_index.remove(NSOM)
    after = load_register(sample_index)
    assert not any(c.source == NSOM for c in after.commitments)
    assert not any(e.council == "North Somerset" for e in after.inspections)
    assert NSOM not in after.reports


def _run(index_dir: Path, *args: str):
    from assistant.cli.main import cli

    return CliRunner().invoke(cli, ["--index-dir", str(index_dir), *args], catch_exceptions=False)


def test_cli_on_an_empty_index(tmp_path: Path) -> None:
    result = _run(tmp_path / "empty", "commitments")
    assert result.exit_code == 1
    assert "run `assistant ingest corpus/` first" in result.output


def test_register_rebuild_reuses_unchanged_reports(sample_index, tmp_path, monkeypatch) -> None:
    """A new file re-extracts only itself: the other reports come from the per-report cache."""
    import assistant.register.store as register_module

    calls: list[str] = []
    real = register_module.extract_commitments

    def counting(passages):
        calls.append(passages[0].source)
        return real(passages)

    monkeypatch.setattr(register_module, "extract_commitments", counting)
    folder = tmp_path / "more"
    folder.mkdir()
    (folder / "extra.txt").write_text(
        "Darlington Borough Council\n\nCabinet, 10 January 2017\n\n"
        "1. The Ofsted re-inspection of Darlington will take place in March 2017.\n",
        encoding="utf-8",
    )
    sample_index.ingest([folder])
    assert calls == ["extra.txt"]
    register = register_module.load_register(sample_index)
    assert any(c.source == "extra.txt" for c in register.commitments)
    assert {c.source for c in register.commitments} >= {"000_593dbc0cfa530023.txt", "004_db1cafc63c8d4454.txt"}
