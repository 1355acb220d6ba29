"""The Index as a whole: an empty one, one that lives long beside other writers, readers during a write, the CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import SAMPLES
from index_checks import (
    NEW_REPORT,
    SAMPLE_FILES,
    WEST_SUSSEX_2020,
    WORCESTERSHIRE,
    check_consistent,
    hits,
)

from assistant.errors import IndexNotReady
from assistant.index.index import Index
from assistant.library import open_index
from assistant.settings import Settings


def test_an_empty_index_says_how_to_fill_it(tmp_path: Path) -> None:
    with pytest.raises(IndexNotReady, match="assistant ingest"):
        open_index(Settings(index_dir=tmp_path / "empty")).require_ready()


def test_a_long_lived_index_sees_and_keeps_what_another_index_wrote(
    sample_index: Index, corpus: Path, tmp_path: Path, embedder
) -> None:
    server = open_index(sample_index.settings, embedder=embedder)
    assert "fostering.txt" not in hits(server, "foster families recruited")
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "fostering.txt").write_text(NEW_REPORT, encoding="utf-8")
    open_index(sample_index.settings, embedder=embedder).ingest([extra])

    assert "fostering.txt" in server.reports
    assert hits(server, "foster families recruited")[0] == "fostering.txt"
    upload = tmp_path / "upload"
    upload.mkdir()
    (upload / "adoption.txt").write_text(NEW_REPORT.replace("fostering", "adoption"), encoding="utf-8")
    server.ingest([upload])
    assert sorted(open_index(sample_index.settings).reports) == sorted([*SAMPLE_FILES, "adoption.txt", "fostering.txt"])
    check_consistent(server)


def test_questions_while_a_report_is_ingested(sample_index_dir, tmp_path, embedder) -> None:
    """Web sessions ask while an upload writes: lazy opens race, readers see whole manifests."""
    from assistant.answer.engine import Engine

    folder = tmp_path / "concurrent-index"
    shutil.copytree(sample_index_dir, folder)
    engine = Engine(Settings(index_dir=folder), index=open_index(Settings(index_dir=folder), embedder=embedder))
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "darlington_2017.txt").write_text(
        "Darlington Borough Council\n\n1. The re-inspection of Darlington took place in March 2017 and judged services good.\n",
        encoding="utf-8",
    )
    errors: list[BaseException] = []

    def asker() -> None:
        try:
            for _ in range(3):
                assert engine.answer("How many agency social workers does West Sussex have in post?").citations
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=asker) for _ in range(3)]
    writer = threading.Thread(target=lambda: engine.index.ingest([extra]))
    for thread in [*threads, writer]:
        thread.start()
    for thread in [*threads, writer]:
        thread.join(timeout=120)
    assert errors == []
    assert "darlington_2017.txt" in engine.index.reports


SEARCH_FIELDS = {"source", "title", "council", "committee", "date", "paragraph", "section", "text", "score"}


def test_cli_ingest_docs_and_search(tmp_path: Path, run_cli) -> None:
    env = {"ASSISTANT_INDEX_DIR": str(tmp_path / "cli-index")}
    result = run_cli("ingest", "-q", str(SAMPLES), env=env)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert sorted(line.split()[1] for line in lines if line.startswith("added")) == SAMPLE_FILES
    assert lines[-1].startswith("5 added; 5 reports indexed")

    again = run_cli("ingest", "-q", str(SAMPLES), env=env)
    assert again.exit_code == 0
    assert again.stdout.splitlines()[-1].startswith("5 unchanged; 5 reports indexed")

    docs = run_cli("docs", "--json", env=env)
    assert docs.exit_code == 0
    rows = json.loads(docs.stdout)
    assert sorted(row["source"] for row in rows) == SAMPLE_FILES
    north_somerset = next(row for row in rows if row["source"] == "003_820a53567a27642e.txt")
    assert north_somerset == {
        "source": "003_820a53567a27642e.txt",
        "title": "Ofsted Report and Draft Improvement Plan",
        "council": "North Somerset",
        "committee": "Executive",
        "date": "2020-10-21",
        "author": "Sheila Smith, Director, People and Communities",
        "passages": north_somerset["passages"],
    }
    assert north_somerset["passages"] > 20

    search = run_cli("search", "--json", "uncovered vacancy gap", "-k", "3", env=env)
    assert search.exit_code == 0, search.output
    hits = json.loads(search.stdout)
    assert len(hits) == 3
    for hit in hits:
        assert set(hit) >= SEARCH_FIELDS
        assert isinstance(hit["score"], float)
        assert hit["text"].strip()
    assert [hit["score"] for hit in hits] == sorted((hit["score"] for hit in hits), reverse=True)
    top = hits[0]
    assert (top["source"], top["paragraph"], top["council"], top["date"]) == (WEST_SUSSEX_2020, "8", "West Sussex", "2020-02")
    assert top["section"] == "Strengthening the Workforce"
    assert "5.34%" in top["text"]


def test_cli_remove(sample_index: Index, run_cli) -> None:
    env = {"ASSISTANT_INDEX_DIR": str(sample_index.root)}
    result = run_cli("remove", WORCESTERSHIRE, env=env)
    assert result.exit_code == 0
    assert result.stdout.startswith(f"removed {WORCESTERSHIRE} (")
    missing = run_cli("remove", "nothing.txt", env=env)
    assert missing.exit_code == 1
    assert missing.stderr.startswith("error: nothing.txt is not in the index")


def test_cli_search_on_an_empty_index_says_what_to_do(tmp_path: Path, run_cli) -> None:
    result = run_cli("search", "--json", "anything", env={"ASSISTANT_INDEX_DIR": str(tmp_path / "nothing")})
    assert result.exit_code == 1
    assert "run `assistant ingest" in result.stderr
    assert result.stdout == ""


def test_python_m_assistant_docs(shared_index: Index) -> None:
    env = {**os.environ, "ASSISTANT_INDEX_DIR": str(shared_index.root)}
    done = subprocess.run(
        [sys.executable, "-m", "assistant", "docs", "--json"], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert sorted(row["source"] for row in json.loads(done.stdout)) == SAMPLE_FILES
