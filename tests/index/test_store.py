"""The write path: a report is stored whole or not at all; removals; undo and repair after failures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SAMPLES
from index_checks import (
    NEW_REPORT,
    SAMPLE_FILES,
    WORCESTERSHIRE,
    CountingEmbedder,
    FlakyCollection,
    bm25_ids,
    check_consistent,
    snapshot,
)

import assistant.index.ingest as batching
from assistant.index.chroma import open_collection
from assistant.index.index import Index
from assistant.library import open_index


def test_remove_drops_one_report(sample_index: Index) -> None:
    gone = sample_index.reports[WORCESTERSHIRE]
    result = sample_index.remove(WORCESTERSHIRE)
    assert (result.status, result.passages) == ("removed", gone.passages)
    assert WORCESTERSHIRE not in open_index(sample_index.settings).reports
    assert sample_index.collection.get(ids=gone.ids)["ids"] == []
    check_consistent(sample_index)
    again = sample_index.remove(WORCESTERSHIRE)
    assert again.status == "failed"
    assert again.message.startswith(f"{WORCESTERSHIRE} is not in the index")


def test_removing_the_last_report_leaves_a_valid_empty_index(sample_index: Index, corpus: Path, run_cli) -> None:
    for source in SAMPLE_FILES:
        assert sample_index.remove(source).status == "removed"
    assert sample_index.reports == {}
    check_consistent(sample_index)
    env = {"ASSISTANT_INDEX_DIR": str(sample_index.root)}
    empty = run_cli("search", "--json", "agency social workers", env=env)
    assert (empty.exit_code, empty.stdout) == (1, "")
    assert "is empty: run `assistant ingest" in empty.stderr
    again = run_cli("ingest", "-q", str(corpus), env=env)
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines()[-1].startswith("5 added; 5 reports indexed")
    check_consistent(sample_index)


def test_an_interrupted_write_is_repaired_on_the_next_ingest(sample_index: Index) -> None:
    before = snapshot(sample_index)
    vector = [0.0] * 383 + [1.0]
    sample_index.collection.add(ids=["orphan#0@0"], embeddings=[vector], documents=["left behind"], metadatas=[{"source": "x"}])
    (sample_index.root / "reports" / "deadbeef.json").write_text("{}", encoding="utf-8")
    (sample_index.root / ".dirty").touch()
    summary = open_index(sample_index.settings, embedder=sample_index.embedder).ingest([SAMPLES])
    assert summary.count("unchanged") == 5
    assert snapshot(sample_index) == before


def test_an_embedder_failure_leaves_the_index_as_it_was(sample_index: Index, corpus: Path, embedder) -> None:
    path = corpus / WORCESTERSHIRE
    path.write_text(path.read_text(encoding="utf-8").replace("eight-point", "nine-point"), encoding="utf-8")
    (corpus / "fostering.txt").write_text(NEW_REPORT, encoding="utf-8")
    before = snapshot(sample_index)
    failing = CountingEmbedder(embedder, fail_on_call=1)
    summary = open_index(sample_index.settings, embedder=failing).ingest([corpus])
    failed = {r.source: r.message for r in summary.results if r.status == "failed"}
    assert set(failed) == {WORCESTERSHIRE, "fostering.txt"}
    assert failed["fostering.txt"] == "fostering.txt: embedding failed (the encoder ran out of memory); the index is unchanged"
    assert snapshot(sample_index) == before

    summary = open_index(sample_index.settings, embedder=embedder).ingest([corpus])
    assert {r.source: r.status for r in summary.results if r.status != "unchanged"} == {
        WORCESTERSHIRE: "updated",
        "fostering.txt": "added",
    }
    check_consistent(sample_index)


def test_an_embedder_failure_in_a_later_batch_keeps_the_earlier_reports(
    sample_index: Index, corpus: Path, embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batching, "EMBED_BATCH", 1)  # one report per embedding call
    for number in (1, 2):
        (corpus / f"review-{number}.txt").write_text(NEW_REPORT.replace("fourteen", f"{number} hundred"), encoding="utf-8")
    summary = open_index(sample_index.settings, embedder=CountingEmbedder(embedder, fail_on_call=2)).ingest([corpus])
    assert {r.source: r.status for r in summary.results if r.status != "unchanged"} == {
        "review-1.txt": "added",
        "review-2.txt": "failed",
    }
    check_consistent(sample_index)


def test_a_vector_store_failure_mid_report_leaves_the_index_as_it_was(sample_index: Index, corpus: Path, embedder) -> None:
    path = corpus / WORCESTERSHIRE
    path.write_text(path.read_text(encoding="utf-8").replace("eight-point", "nine-point"), encoding="utf-8")
    (corpus / "fostering.txt").write_text(NEW_REPORT, encoding="utf-8")
    before = snapshot(sample_index)
    # Both new reports go to Chroma in one call; it fails, and so does Worcestershire's own retry.
    flaky = FlakyCollection(open_collection(sample_index.settings), marker=WORCESTERSHIRE, times=2)
    index = open_index(sample_index.settings, embedder=embedder, collection=flaky)
    summary = index.ingest([corpus])
    statuses = {r.source: (r.status, r.message) for r in summary.results if r.status != "unchanged"}
    assert flaky.failures == 2
    assert statuses[WORCESTERSHIRE] == (
        "failed",
        f"{WORCESTERSHIRE}: the vector store refused the passages (connection reset by peer); the index is unchanged",
    )
    assert statuses["fostering.txt"][0] == "added"
    after = snapshot(index)
    assert after["reports"][WORCESTERSHIRE] == before["reports"][WORCESTERSHIRE]
    assert [row for row in after["chroma"] if WORCESTERSHIRE in row[0]] == [
        row for row in before["chroma"] if WORCESTERSHIRE in row[0]
    ]
    assert sorted(set(after["files"]) - set(before["files"])) == sorted(
        f"{after['reports']['fostering.txt'].hash}{suffix}" for suffix in (".json", ".units.npy")
        if (index.root / "reports" / f"{after['reports']['fostering.txt'].hash}{suffix}").exists()
    )
    check_consistent(index)

    summary = open_index(sample_index.settings, embedder=embedder).ingest([corpus])
    assert {r.source: r.status for r in summary.results if r.status != "unchanged"} == {WORCESTERSHIRE: "updated"}
    check_consistent(sample_index)


def test_a_failed_shared_write_is_retried_report_by_report(sample_index: Index, corpus: Path, embedder) -> None:
    (corpus / "fostering.txt").write_text(NEW_REPORT, encoding="utf-8")
    (corpus / "adoption.txt").write_text(NEW_REPORT.replace("fostering", "adoption"), encoding="utf-8")
    flaky = FlakyCollection(open_collection(sample_index.settings), marker="adoption.txt", times=1)
    index = open_index(sample_index.settings, embedder=embedder, collection=flaky)
    summary = index.ingest([corpus])
    assert flaky.failures == 1
    assert {r.source: r.status for r in summary.results if r.status != "unchanged"} == {
        "adoption.txt": "added",
        "fostering.txt": "added",
    }
    check_consistent(index)


def test_a_failed_undo_is_repaired_by_the_next_ingest(sample_index: Index, corpus: Path, embedder) -> None:
    (corpus / "fostering.txt").write_text(NEW_REPORT, encoding="utf-8")
    before = snapshot(sample_index)
    flaky = FlakyCollection(open_collection(sample_index.settings), marker="fostering.txt", deletes_fail=True)
    index = open_index(sample_index.settings, embedder=embedder, collection=flaky)
    summary = index.ingest([corpus])
    assert {r.source: r.status for r in summary.results}["fostering.txt"] == "failed"
    # Half a report is left in Chroma, but the manifest never took it and .dirty says so.
    assert (index.root / ".dirty").exists()
    assert open_index(sample_index.settings).reports == before["reports"]
    assert bm25_ids(index) == set(before["bm25"])

    repaired = open_index(sample_index.settings, embedder=embedder)
    repaired.ingest([SAMPLES])
    assert snapshot(repaired) == before


def test_a_failed_metadata_update_puts_the_old_rows_back(sample_index: Index, corpus: Path, embedder) -> None:
    manifest = corpus / "manifest.toml"
    manifest.write_text(
        manifest.read_text(encoding="utf-8").replace('council = "Worcestershire"', 'council = "Worcs"'), encoding="utf-8"
    )
    before = snapshot(sample_index)
    flaky = FlakyCollection(open_collection(sample_index.settings), marker=WORCESTERSHIRE)
    index = open_index(sample_index.settings, embedder=embedder, collection=flaky)
    summary = index.ingest([corpus])
    assert {r.source: r.status for r in summary.results}[WORCESTERSHIRE] == "failed"
    assert snapshot(index) == before

    index = open_index(sample_index.settings, embedder=embedder)
    index.ingest([corpus])
    rows = index.collection.get(ids=index.reports[WORCESTERSHIRE].ids, include=["metadatas"])
    assert {m["council"] for m in rows["metadatas"]} == {"Worcs"}
    check_consistent(index)


def test_an_interrupted_in_place_update_is_redone_by_the_next_ingest(sample_index: Index, corpus: Path, embedder) -> None:
    manifest = corpus / "manifest.toml"
    manifest.write_text(
        manifest.read_text(encoding="utf-8").replace('council = "Worcestershire"', 'council = "Worcs"'), encoding="utf-8"
    )
    # As a crash leaves it: rows overwritten with the new council, the manifest still the old one.
    ids = sample_index.reports[WORCESTERSHIRE].ids
    rows = sample_index.collection.get(ids=ids, include=["metadatas"])
    sample_index.collection.update(ids=ids, metadatas=[{**m, "council": "Worcs"} for m in rows["metadatas"]])
    (sample_index.root / ".dirty").write_text(json.dumps({"in_place": [WORCESTERSHIRE]}), encoding="utf-8")

    summary = open_index(sample_index.settings, embedder=embedder).ingest([corpus])
    assert {r.source: r.status for r in summary.results}[WORCESTERSHIRE] == "updated"
    index = open_index(sample_index.settings, embedder=embedder)
    assert index.reports[WORCESTERSHIRE].council == "Worcs"
    check_consistent(index)
