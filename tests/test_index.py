"""The index: ingest, incremental updates, bad input, atomic writes, the CLI, and a Chroma server."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import SAMPLES
from report_files import REPORT_LINES, encrypted_pdf, scanned_pdf, text_pdf

import assistant.index.ingest as batching
from assistant.cli.main import cli
from assistant.errors import IndexMismatch, IndexNotReady
from assistant.index.index import Index, open_collection
from assistant.retrieval.search import BM25Store
from assistant.settings import Settings, load_settings

SAMPLE_FILES = sorted(p.name for p in SAMPLES.glob("*.txt"))
WEST_SUSSEX_2020 = "000_593dbc0cfa530023.txt"
WORCESTERSHIRE = "001_6c25ee4f623b7f02.txt"

NEW_REPORT = (
    "Fostering Service Annual Review\n\n"
    "Introduction\n\n"
    "1. The fostering service recruited fourteen new foster families during the year, against a target of twenty.\n\n"
    "2. Placement stability improved: the share of children with three or more moves fell to six per cent.\n"
)


# ---------------------------------------------------------------- helpers


class CountingEmbedder:
    """The real embedder, with a count of the texts it was asked to encode."""

    def __init__(self, inner: Any, *, fail_on_call: int | None = None) -> None:
        self.inner = inner
        self.calls = 0
        self.texts = 0
        self.fail_on_call = fail_on_call
        if hasattr(inner, "embed_with_units"):
            self.embed_with_units = self._embed_with_units

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _count(self, texts: Any) -> None:
        self.calls += 1
        self.texts += len(texts)
        if self.fail_on_call is not None and self.calls >= self.fail_on_call:
            raise RuntimeError("the encoder ran out of memory")

    def embed_batch(self, texts: Any, **kwargs: Any) -> Any:
        self._count(texts)
        return self.inner.embed_batch(texts, **kwargs)

    def _embed_with_units(self, texts: Any, spans: Any, **kwargs: Any) -> Any:
        self._count(texts)
        return self.inner.embed_with_units(texts, spans, **kwargs)


class FlakyCollection:
    """A real Chroma collection whose next `times` writes of ids containing `marker` store half the rows, then fail."""

    def __init__(self, inner: Any, marker: str, *, times: int = 1, deletes_fail: bool = False) -> None:
        self.inner = inner
        self.marker = marker
        self.times = times
        self.failures = 0
        self.deletes_fail = deletes_fail

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _write(self, method: str, ids: list[str], **columns: Any) -> Any:
        write = getattr(self.inner, method)
        if self.failures >= self.times or not any(self.marker in i for i in ids):
            return write(ids=ids, **columns)
        half = max(1, len(ids) // 2)
        write(ids=ids[:half], **{k: v[:half] for k, v in columns.items() if v is not None})
        self.failures += 1
        raise ConnectionError("connection reset by peer")

    def add(self, ids: list[str], **columns: Any) -> Any:
        return self._write("add", ids, **columns)

    def upsert(self, ids: list[str], **columns: Any) -> Any:
        return self._write("upsert", ids, **columns)

    def delete(self, ids: list[str], **kwargs: Any) -> Any:
        if self.deletes_fail:
            raise ConnectionError("server went away")
        return self.inner.delete(ids=ids, **kwargs)


def snapshot(index: Index) -> dict[str, Any]:
    """Everything the index holds on disk and in Chroma, for before/after comparisons."""
    rows = index.collection.get(include=["metadatas", "documents"])
    reopened = Index(index.settings, embedder=index._embedder)
    return {
        "manifest": (index.root / "manifest.json").read_text(encoding="utf-8"),
        "reports": reopened.reports,
        "chroma": sorted(
            (i, d, json.dumps(m, sort_keys=True)) for i, d, m in zip(rows["ids"], rows["documents"], rows["metadatas"], strict=True)
        ),
        "bm25": sorted(bm25_ids(index)),
        "files": sorted(p.name for p in (index.root / "reports").iterdir()),
        "dirty": (index.root / ".dirty").exists(),
    }


def bm25_ids(index: Index) -> set[str]:
    """Passage ids in the saved keyword index (an empty index has none, and no folder)."""
    folder = index.root / "bm25"
    return set(BM25Store.load(folder).ids) if folder.exists() else set()


def check_consistent(index: Index) -> None:
    """Manifest, Chroma, BM25, register and the per-report files all describe the same passages."""
    index = Index(index.settings, embedder=index._embedder)
    ids = {i for entry in index.reports.values() for i in entry.ids}
    assert set(index.collection.get(include=[])["ids"]) == ids
    assert bm25_ids(index) == ids
    assert {p.id for p in index.all_passages()} == ids
    assert sum(entry.passages for entry in index.reports.values()) == len(ids)
    hashes = {entry.hash for entry in index.reports.values()}
    assert {p.name.split(".")[0] for p in (index.root / "reports").iterdir()} <= hashes
    derived = json.loads((index.root / "derived.json").read_text(encoding="utf-8"))
    assert derived == {"bm25": index.generation, "register": index.generation}
    assert (index.root / "commitments.json").is_file()
    assert not (index.root / ".dirty").exists()


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    """A writable copy of the sample corpus (same file names as the ingested sample index)."""
    folder = tmp_path / "corpus"
    shutil.copytree(SAMPLES, folder)
    return folder


@pytest.fixture()
def shared_model(monkeypatch: pytest.MonkeyPatch, embedder) -> None:
    """Indexes the CLI opens use the session's (real) model instead of loading it again."""
    import assistant.index.embedding

    monkeypatch.setattr(assistant.index.embedding, "SentenceTransformerEmbedder", lambda *args, **kwargs: embedder)


@pytest.fixture()
def run_cli(shared_model) -> Callable[..., Any]:
    def run(*args: str, env: dict[str, str] | None = None) -> Any:
        return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)

    return run


# ---------------------------------------------------------------- ingest and updates


def test_samples_are_ingested(sample_index: Index) -> None:
    assert sorted(sample_index.reports) == SAMPLE_FILES
    assert all(entry.passages > 5 for entry in sample_index.reports.values())
    check_consistent(sample_index)
    manifest = json.loads((sample_index.root / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["model"] == "all-MiniLM-L6-v2"
    assert manifest["splitter"].endswith("/256")


def test_reingest_of_unchanged_files_does_no_embedding_work(sample_index: Index, embedder) -> None:
    counting = CountingEmbedder(embedder)
    index = Index(sample_index.settings, embedder=counting)
    before = snapshot(index)
    summary = index.ingest([SAMPLES])
    assert [r.status for r in summary.results] == ["unchanged"] * 5
    assert summary.embedded == 0
    assert counting.calls == 0
    assert snapshot(index) == before


def test_a_changed_file_replaces_its_old_passages(sample_index: Index, corpus: Path, embedder) -> None:
    old = sample_index.reports[WORCESTERSHIRE]
    path = corpus / WORCESTERSHIRE
    path.write_text(
        path.read_text(encoding="utf-8") + "\n18. The Panel noted that the zebrafinch pilot will report in spring 2018.\n",
        encoding="utf-8",
    )
    counting = CountingEmbedder(embedder)
    index = Index(sample_index.settings, embedder=counting)
    summary = index.ingest([corpus])
    statuses = {r.source: r.status for r in summary.results}
    assert statuses[WORCESTERSHIRE] == "updated"
    assert [s for name, s in statuses.items() if name != WORCESTERSHIRE] == ["unchanged"] * 4
    new = index.reports[WORCESTERSHIRE]
    assert new.hash != old.hash
    assert counting.texts == new.passages  # only the changed report was embedded
    assert not set(old.ids) & set(new.ids)
    assert index.collection.get(ids=old.ids)["ids"] == []
    bm25 = BM25Store.load(index.root / "bm25")
    assert not set(old.ids) & set(bm25.ids)
    assert bm25.search("zebrafinch pilot", 3)[0][0] in new.ids
    assert not (index.root / "reports" / f"{old.hash}.json").exists()
    check_consistent(index)


def test_a_manifest_edit_updates_metadata_in_place(sample_index: Index, corpus: Path, embedder) -> None:
    manifest = corpus / "manifest.toml"
    manifest.write_text(
        manifest.read_text(encoding="utf-8").replace('committee = "Executive"', 'committee = "Executive Committee"'),
        encoding="utf-8",
    )
    source = "003_820a53567a27642e.txt"
    old_ids = sample_index.reports[source].ids
    counting = CountingEmbedder(embedder)
    index = Index(sample_index.settings, embedder=counting)
    summary = index.ingest([corpus])
    assert {r.source: r.status for r in summary.results}[source] == "updated"
    assert index.reports[source].committee == "Executive Committee"
    rows = index.collection.get(ids=old_ids, include=["metadatas"])
    assert len(rows["ids"]) == len(old_ids)
    assert {m["committee"] for m in rows["metadatas"]} == {"Executive Committee"}
    assert {p.committee for p in index.load_report(source)[1]} == {"Executive Committee"}
    assert counting.texts == len(old_ids)
    check_consistent(index)


def test_prune_drops_files_that_left_the_corpus(sample_index: Index, corpus: Path) -> None:
    gone = sample_index.reports[WEST_SUSSEX_2020]
    (corpus / WEST_SUSSEX_2020).unlink()
    summary = sample_index.ingest([corpus], prune=True)
    assert {r.source: r.status for r in summary.results}[WEST_SUSSEX_2020] == "removed"
    assert WEST_SUSSEX_2020 not in sample_index.reports
    assert sample_index.collection.get(ids=gone.ids)["ids"] == []
    assert not set(gone.ids) & set(BM25Store.load(sample_index.root / "bm25").ids)
    assert len(sample_index.reports) == 4
    check_consistent(sample_index)


def test_prune_lets_a_renamed_file_in_under_its_new_name(sample_index: Index, corpus: Path) -> None:
    (corpus / WORCESTERSHIRE).rename(corpus / "worcestershire-2017.txt")
    refused = Index(sample_index.settings, embedder=sample_index._embedder).ingest([corpus])
    assert {r.source: r.status for r in refused.results}["worcestershire-2017.txt"] == "failed"

    summary = sample_index.ingest([corpus], prune=True)
    statuses = {r.source: r.status for r in summary.results}
    assert (statuses[WORCESTERSHIRE], statuses["worcestershire-2017.txt"]) == ("removed", "added")
    assert sorted(sample_index.reports) == sorted([*SAMPLE_FILES[:1], *SAMPLE_FILES[2:], "worcestershire-2017.txt"])
    assert sample_index.load_report("worcestershire-2017.txt")[0].council == "Worcestershire"
    check_consistent(sample_index)


def test_without_prune_missing_files_stay_indexed(sample_index: Index, corpus: Path) -> None:
    (corpus / WEST_SUSSEX_2020).unlink()
    sample_index.ingest([corpus])
    assert WEST_SUSSEX_2020 in sample_index.reports


def test_remove_drops_one_report(sample_index: Index) -> None:
    gone = sample_index.reports[WORCESTERSHIRE]
    result = sample_index.remove(WORCESTERSHIRE)
    assert (result.status, result.passages) == ("removed", gone.passages)
    assert WORCESTERSHIRE not in Index(sample_index.settings).reports
    assert sample_index.collection.get(ids=gone.ids)["ids"] == []
    check_consistent(sample_index)
    again = sample_index.remove(WORCESTERSHIRE)
    assert again.status == "failed"
    assert again.message.startswith(f"{WORCESTERSHIRE} is not in the index")


def test_an_index_built_with_another_splitter_is_refused(sample_index: Index) -> None:
    settings = sample_index.settings.model_copy(update={"max_passage_tokens": 128})
    with pytest.raises(IndexMismatch, match="splitter"):
        Index(settings).ingest([SAMPLES])


def test_an_empty_index_says_how_to_fill_it(tmp_path: Path) -> None:
    with pytest.raises(IndexNotReady, match="assistant ingest"):
        Index(Settings(index_dir=tmp_path / "empty")).require_ready()


def test_an_interrupted_write_is_repaired_on_the_next_ingest(sample_index: Index) -> None:
    before = snapshot(sample_index)
    vector = [0.0] * 383 + [1.0]
    sample_index.collection.add(ids=["orphan#0@0"], embeddings=[vector], documents=["left behind"], metadatas=[{"source": "x"}])
    (sample_index.root / "reports" / "deadbeef.json").write_text("{}", encoding="utf-8")
    (sample_index.root / ".dirty").touch()
    summary = Index(sample_index.settings, embedder=sample_index._embedder).ingest([SAMPLES])
    assert summary.count("unchanged") == 5
    assert snapshot(sample_index) == before


# ---------------------------------------------------------------- bad input


def _write(name: str, data: bytes) -> Callable[[Path], list[str]]:
    def make(folder: Path) -> list[str]:
        (folder / name).write_bytes(data)
        return []

    return make


def _vanishing(folder: Path) -> list[str]:
    (folder / "withdrawn.txt").write_text(NEW_REPORT.replace("Fostering", "Adoption"), encoding="utf-8")
    return []


def _missing_path(folder: Path) -> list[str]:
    return [str(folder.parent / "no-such-report.txt")]


BAD_INPUT = [
    ("empty.txt", _write("empty.txt", b""), "the file is empty"),
    ("minutes.xlsx", _write("minutes.xlsx", b"PK\x03\x04 spreadsheet"), "unsupported file type '.xlsx'"),
    ("corrupt.pdf", _write("corrupt.pdf", text_pdf(REPORT_LINES)[:300]), "corrupt PDF"),
    ("locked.pdf", _write("locked.pdf", encrypted_pdf(REPORT_LINES)), "encrypted: re-export without a password"),
    ("scanned.pdf", _write("scanned.pdf", scanned_pdf()), "no text layer"),
    ("junk.txt", _write("junk.txt", os.urandom(4096) + b"\x00" * 64), "binary data, not text"),
    ("huge.txt", _write("huge.txt", b"The council met and agreed the plan. " * 1000), "over the 0.02 MB limit"),
    ("withdrawn.txt", _vanishing, "disappeared before it could be read"),
    ("no-such-report.txt", _missing_path, "no such file or folder"),
    ("copy-of-report.txt", _write("copy-of-report.txt", (SAMPLES / WEST_SUSSEX_2020).read_bytes()), f"same content as {WEST_SUSSEX_2020}"),
]


@pytest.mark.parametrize(("name", "make", "complaint"), BAD_INPUT, ids=[row[0] for row in BAD_INPUT])
def test_bad_input_is_named_and_spoils_nothing(
    sample_index: Index,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    run_cli: Callable[..., Any],
    name: str,
    make: Callable[[Path], list[str]],
    complaint: str,
) -> None:
    folder = tmp_path / "incoming"
    folder.mkdir()
    (folder / "fostering.txt").write_text(NEW_REPORT, encoding="utf-8")
    extra = make(folder)
    if name == "withdrawn.txt":
        real_discover = batching.discover

        def discover_then_delete(paths: list[Path]) -> list[Path]:
            found = real_discover(paths)
            (folder / name).unlink()  # gone between discovery and reading
            return found

        monkeypatch.setattr(batching, "discover", discover_then_delete)
    before = snapshot(sample_index)
    env = {"ASSISTANT_INDEX_DIR": str(sample_index.root), "ASSISTANT_MAX_FILE_MB": "0.02"}
    result = run_cli("ingest", "--quiet", str(folder), *extra, env=env)

    assert result.exit_code == 1, result.output
    failed = [line for line in result.stdout.splitlines() if line.startswith("failed")]
    assert len(failed) == 1, result.output
    assert name in failed[0] and complaint in failed[0], failed[0]
    assert any(line.startswith("added") and "fostering.txt" in line for line in result.stdout.splitlines())

    after = Index(sample_index.settings, embedder=sample_index._embedder)
    assert sorted(after.reports) == sorted([*SAMPLE_FILES, "fostering.txt"])
    assert {k: v for k, v in after.reports.items() if k != "fostering.txt"} == before["reports"]
    check_consistent(after)
    hits = after.bm25.search("foster families recruited", 3)
    assert hits and hits[0][0] in after.reports["fostering.txt"].ids


def test_bad_manifest_stops_before_anything_is_written(sample_index: Index, corpus: Path, run_cli) -> None:
    (corpus / "manifest.toml").write_text('["a.txt"]\npublisher = "x"\n', encoding="utf-8")
    (corpus / "fostering.txt").write_text(NEW_REPORT, encoding="utf-8")
    before = snapshot(sample_index)
    result = run_cli("ingest", "-q", str(corpus), env={"ASSISTANT_INDEX_DIR": str(sample_index.root)})
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"error: {corpus / 'manifest.toml'}: [a.txt] has unknown field(s) publisher; "
        "allowed: title, council, committee, date, author, kind, published"
    )
    assert snapshot(sample_index) == before


# ---------------------------------------------------------------- atomicity


def test_an_embedder_failure_leaves_the_index_as_it_was(sample_index: Index, corpus: Path, embedder) -> None:
    path = corpus / WORCESTERSHIRE
    path.write_text(path.read_text(encoding="utf-8").replace("eight-point", "nine-point"), encoding="utf-8")
    (corpus / "fostering.txt").write_text(NEW_REPORT, encoding="utf-8")
    before = snapshot(sample_index)
    failing = CountingEmbedder(embedder, fail_on_call=1)
    summary = Index(sample_index.settings, embedder=failing).ingest([corpus])
    failed = {r.source: r.message for r in summary.results if r.status == "failed"}
    assert set(failed) == {WORCESTERSHIRE, "fostering.txt"}
    assert failed["fostering.txt"] == "fostering.txt: embedding failed (the encoder ran out of memory); the index is unchanged"
    assert snapshot(sample_index) == before

    summary = Index(sample_index.settings, embedder=embedder).ingest([corpus])
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
    summary = Index(sample_index.settings, embedder=CountingEmbedder(embedder, fail_on_call=2)).ingest([corpus])
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
    index = Index(sample_index.settings, embedder=embedder, collection=flaky)
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

    summary = Index(sample_index.settings, embedder=embedder).ingest([corpus])
    assert {r.source: r.status for r in summary.results if r.status != "unchanged"} == {WORCESTERSHIRE: "updated"}
    check_consistent(sample_index)


def test_a_failed_shared_write_is_retried_report_by_report(sample_index: Index, corpus: Path, embedder) -> None:
    (corpus / "fostering.txt").write_text(NEW_REPORT, encoding="utf-8")
    (corpus / "adoption.txt").write_text(NEW_REPORT.replace("fostering", "adoption"), encoding="utf-8")
    flaky = FlakyCollection(open_collection(sample_index.settings), marker="adoption.txt", times=1)
    index = Index(sample_index.settings, embedder=embedder, collection=flaky)
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
    index = Index(sample_index.settings, embedder=embedder, collection=flaky)
    summary = index.ingest([corpus])
    assert {r.source: r.status for r in summary.results}["fostering.txt"] == "failed"
    # Half a report is left in Chroma, but the manifest never took it and .dirty says so.
    assert (index.root / ".dirty").exists()
    assert Index(sample_index.settings).reports == before["reports"]
    assert bm25_ids(index) == set(before["bm25"])

    repaired = Index(sample_index.settings, embedder=embedder)
    repaired.ingest([SAMPLES])
    assert snapshot(repaired) == before


def test_a_failed_metadata_update_puts_the_old_rows_back(sample_index: Index, corpus: Path, embedder) -> None:
    manifest = corpus / "manifest.toml"
    manifest.write_text(
        manifest.read_text(encoding="utf-8").replace('council = "Worcestershire"', 'council = "Worcs"'), encoding="utf-8"
    )
    before = snapshot(sample_index)
    flaky = FlakyCollection(open_collection(sample_index.settings), marker=WORCESTERSHIRE)
    index = Index(sample_index.settings, embedder=embedder, collection=flaky)
    summary = index.ingest([corpus])
    assert {r.source: r.status for r in summary.results}[WORCESTERSHIRE] == "failed"
    assert snapshot(index) == before

    index = Index(sample_index.settings, embedder=embedder)
    index.ingest([corpus])
    rows = index.collection.get(ids=index.reports[WORCESTERSHIRE].ids, include=["metadatas"])
    assert {m["council"] for m in rows["metadatas"]} == {"Worcs"}
    check_consistent(index)


# ---------------------------------------------------------------- repair, empty index, one writer


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


def _hits(index: Index, query: str) -> list[str]:
    from assistant.retrieval.search import Retriever

    return [hit.passage.source for hit in Retriever(index).search(query, k=3)]


DERIVED_DAMAGE = {
    "bm25 missing": lambda root: shutil.rmtree(root / "bm25"),
    "bm25 half written": lambda root: (root / "bm25" / "ids.json").unlink(),
    "bm25 stale": lambda root: (root / "derived.json").write_text('{"bm25": 0, "register": 0}', encoding="utf-8"),
    "register missing": lambda root: (root / "commitments.json").unlink(),
    "stamps missing": lambda root: (root / "derived.json").unlink(),
}


@pytest.mark.parametrize("damage", list(DERIVED_DAMAGE))
def test_a_read_rebuilds_missing_or_stale_derived_data(sample_index: Index, embedder, damage: str) -> None:
    DERIVED_DAMAGE[damage](sample_index.root)
    index = Index(sample_index.settings, embedder=embedder)
    assert _hits(index, "uncovered vacancy gap")[0] == WEST_SUSSEX_2020
    check_consistent(index)


def test_a_read_while_another_process_writes_never_crashes_and_says_why(
    sample_index: Index, embedder, caplog: pytest.LogCaptureFixture
) -> None:
    from assistant.index.lock import WriterLock

    shutil.rmtree(sample_index.root / "bm25")
    other = WriterLock(sample_index.root)  # another writer at work: readers must not wait or repair
    other.acquire()
    try:
        index = Index(sample_index.settings, embedder=embedder)
        with caplog.at_level("WARNING"):
            assert _hits(index, "uncovered vacancy gap")[0] == WEST_SUSSEX_2020  # by meaning alone
        assert "keyword index" in caplog.text and "missing" in caplog.text
        assert not (sample_index.root / "bm25").exists()
    finally:
        other.release()
    index = Index(sample_index.settings, embedder=embedder)
    assert _hits(index, "uncovered vacancy gap")[0] == WEST_SUSSEX_2020  # the next read repairs
    check_consistent(index)


def test_a_writer_waits_for_the_lock_and_names_who_holds_it(sample_index: Index, corpus: Path, embedder) -> None:
    from assistant.index.lock import IndexBusy, WriterLock

    (corpus / "fostering.txt").write_text(NEW_REPORT, encoding="utf-8")
    holder = WriterLock(sample_index.root)
    holder.acquire()
    try:
        waiting = Index(sample_index.settings, embedder=embedder, lock_timeout=0.5)
        started = time.monotonic()
        with pytest.raises(IndexBusy) as caught:
            waiting.ingest([corpus])
        assert time.monotonic() - started >= 0.5
        message = str(caught.value)
        assert str(sample_index.root / ".lock") in message
        assert f"pid {os.getpid()}" in message
        with pytest.raises(IndexBusy):
            waiting.remove(WORCESTERSHIRE)
    finally:
        holder.release()
    assert "fostering.txt" not in Index(sample_index.settings).reports

    # Released in time, the waiter goes ahead.
    holder.acquire()
    threading.Timer(0.5, holder.release).start()
    summary = Index(sample_index.settings, embedder=embedder, lock_timeout=30).ingest([corpus])
    assert {r.source: r.status for r in summary.results}["fostering.txt"] == "added"
    check_consistent(sample_index)


def test_a_long_lived_index_sees_and_keeps_what_another_index_wrote(
    sample_index: Index, corpus: Path, tmp_path: Path, embedder
) -> None:
    server = Index(sample_index.settings, embedder=embedder)
    assert "fostering.txt" not in _hits(server, "foster families recruited")
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "fostering.txt").write_text(NEW_REPORT, encoding="utf-8")
    Index(sample_index.settings, embedder=embedder).ingest([extra])

    assert "fostering.txt" in server.reports
    assert _hits(server, "foster families recruited")[0] == "fostering.txt"
    upload = tmp_path / "upload"
    upload.mkdir()
    (upload / "adoption.txt").write_text(NEW_REPORT.replace("fostering", "adoption"), encoding="utf-8")
    server.ingest([upload])
    assert sorted(Index(sample_index.settings).reports) == sorted([*SAMPLE_FILES, "adoption.txt", "fostering.txt"])
    check_consistent(server)


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

    summary = Index(sample_index.settings, embedder=embedder).ingest([corpus])
    assert {r.source: r.status for r in summary.results}[WORCESTERSHIRE] == "updated"
    index = Index(sample_index.settings, embedder=embedder)
    assert index.reports[WORCESTERSHIRE].council == "Worcs"
    check_consistent(index)


# ---------------------------------------------------------------- CLI


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


def test_python_m_assistant_docs(sample_index: Index) -> None:
    env = {**os.environ, "ASSISTANT_INDEX_DIR": str(sample_index.root)}
    done = subprocess.run(
        [sys.executable, "-m", "assistant", "docs", "--json"], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert sorted(row["source"] for row in json.loads(done.stdout)) == SAMPLE_FILES


# ---------------------------------------------------------------- Chroma server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _close_http_clients() -> None:
    """Close the HTTP sessions chromadb keeps per server (it never does), so no socket outlives the test."""
    from chromadb.api.shared_system_client import SharedSystemClient

    for identifier, system in list(SharedSystemClient._identifier_to_system.items()):
        if not str(system.settings.chroma_api_impl).endswith("FastAPI"):
            continue  # embedded clients of other tests stay as they are
        for component in system.components():
            session = getattr(component, "_session", None)
            if session is not None and hasattr(session, "close"):
                session.close()
        SharedSystemClient._identifier_to_system.pop(identifier, None)
        SharedSystemClient._identifier_to_refcount.pop(identifier, None)


@pytest.fixture()
def chroma_server(tmp_path: Path) -> Any:
    chroma = Path(sys.executable).with_name("chroma")
    if not chroma.exists():
        pytest.fail(f"{chroma} is missing: run `make install`")
    port = _free_port()
    log = (tmp_path / "chroma.log").open("w")
    process = subprocess.Popen(
        [str(chroma), "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(tmp_path / "chroma-server")],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"chroma run did not start: {(tmp_path / 'chroma.log').read_text()}")
            time.sleep(0.25)
        yield url
    finally:
        _close_http_clients()
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.mark.slow
def test_server_mode_ingest_and_search(chroma_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedder) -> None:
    from assistant.retrieval.search import Retriever

    monkeypatch.setenv("ASSISTANT_CHROMA_URL", chroma_server)
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "server-index"))
    settings = load_settings()
    index = Index(settings, embedder=embedder)
    summary = index.ingest([SAMPLES])
    assert summary.count("added") == 5
    assert not (settings.index_dir / "chroma").exists()  # the vectors live on the server
    count = index.collection.count()
    assert count == sum(entry.passages for entry in index.reports.values())

    hits = Retriever(Index(settings, embedder=embedder)).search("uncovered vacancy gap", k=3)
    assert (hits[0].passage.source, hits[0].passage.paragraph) == (WEST_SUSSEX_2020, "8")

    again = Index(settings, embedder=embedder).ingest([SAMPLES])
    assert again.count("unchanged") == 5
    assert Index(settings, embedder=embedder).collection.count() == count


def test_questions_while_a_report_is_ingested(sample_index_dir, tmp_path, embedder) -> None:
    """Web sessions ask while an upload writes: lazy opens race, readers see whole manifests."""
    import shutil
    import threading

    from assistant.answer.engine import Engine
    from assistant.index.index import Index
    from assistant.settings import Settings

    folder = tmp_path / "concurrent-index"
    shutil.copytree(sample_index_dir, folder)
    engine = Engine(Settings(index_dir=folder), index=Index(Settings(index_dir=folder), embedder=embedder))
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
