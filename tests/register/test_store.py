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


def _stored(tmp_path: Path) -> Path:
    """A register of an inspection report and two papers that mention its inspection, written as ingest writes it."""
    from inspection_reports import ILACS_STANDARD, MENTION, passages

    from assistant.register.store import write_register

    paper = "Cabinet, 1 March 2024\n\n1. Ofsted will carry out a monitoring visit in June 2024.\n\n" + MENTION
    write_register(tmp_path, [
        *passages(ILACS_STANDARD, "ofsted.pdf"),
        *passages(paper, "cabinet.txt", date="2024-03-01"),
        *passages(paper, "cabinet-again.txt", date="2024-03-02"),
    ])
    return tmp_path / "commitments.json"


def test_a_stored_register_reads_back_as_written_with_repeated_text_held_once(tmp_path: Path) -> None:
    from assistant.register.store import Register, read_register

    path = _stored(tmp_path)
    register = read_register(path.read_bytes())
    assert register.model_dump_json() == path.read_text(encoding="utf-8")
    assert register == Register.model_validate_json(path.read_bytes())
    cited = [c for e in register.inspections for c in [e.citation, *e.also]] + [c.citation for c in register.commitments]
    assert len(cited) >= 3
    # The papers print the same sentence: one string for it, however many citations quote it.
    quotes = [c.quote for c in cited if c.quote.startswith("5. Ofsted inspected")]
    assert len(quotes) >= 2 and all(q is quotes[0] for q in quotes)
    # Status is set on copies: the shared citation and field sets stay as read.
    planned = register.commitments[0]
    copy = planned.model_copy(update={"status": "open"})
    assert copy.status == "open" and planned.status == "" and copy.citation is planned.citation


@pytest.mark.parametrize("cut", [1, 200, -2])
def test_a_damaged_register_is_refused(tmp_path: Path, cut: int) -> None:
    from assistant.register.store import read_register

    data = _stored(tmp_path).read_bytes()
    with pytest.raises((ValueError, IndexError)):
        read_register(data[:cut])
