"""Ingest: new, changed, renamed and pruned files, bad input named and spoiling nothing."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLES
from index_checks import (
    NEW_REPORT,
    SAMPLE_FILES,
    WEST_SUSSEX_2020,
    WORCESTERSHIRE,
    CountingEmbedder,
    check_consistent,
    snapshot,
)
from report_files import REPORT_LINES, encrypted_pdf, scanned_pdf, text_pdf

import assistant.index.ingest as batching
from assistant.index.bm25 import BM25Store
from assistant.index.index import Index
from assistant.index.store import Store
from assistant.library import open_index


def test_samples_are_ingested(shared_index: Index) -> None:
    assert sorted(shared_index.reports) == SAMPLE_FILES
    assert all(entry.passages > 5 for entry in shared_index.reports.values())
    check_consistent(shared_index)
    manifest = json.loads((shared_index.root / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["model"] == "all-MiniLM-L6-v2"
    assert manifest["splitter"].endswith("/256")


def test_reingest_of_unchanged_files_does_no_embedding_work(sample_index: Index, embedder) -> None:
    counting = CountingEmbedder(embedder)
    index = open_index(sample_index.settings, embedder=counting)
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
    index = open_index(sample_index.settings, embedder=counting)
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
    index = open_index(sample_index.settings, embedder=counting)
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
    refused = open_index(sample_index.settings, embedder=sample_index.embedder).ingest([corpus])
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

    after = open_index(sample_index.settings, embedder=sample_index.embedder)
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


def test_a_batch_is_stored_while_the_next_is_encoded(
    sample_index: Index, corpus: Path, embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batching, "EMBED_BATCH", 1)  # one report a batch
    for number in (1, 2):
        (corpus / f"review-{number}.txt").write_text(NEW_REPORT.replace("fourteen", f"{number} hundred"), encoding="utf-8")
    encoding = threading.Event()
    waited: list[bool] = []
    store_one = Store._store

    def store_when_encoding(self: Store, *args: Any, **kwargs: Any) -> Any:
        if not waited:  # the first report's write waits (in vain, were batches encoded in turn) for the second's encode
            waited.append(encoding.wait(timeout=30))
        return store_one(self, *args, **kwargs)

    monkeypatch.setattr(Store, "_store", store_when_encoding)

    class Encoder(CountingEmbedder):
        def _embed_with_units(self, texts: Any, spans: Any, **kwargs: Any) -> Any:
            if self.calls == 1:
                encoding.set()
            return super()._embed_with_units(texts, spans, **kwargs)

    summary = open_index(sample_index.settings, embedder=Encoder(embedder)).ingest([corpus])
    assert summary.count("added") == 2
    assert waited == [True]
    check_consistent(sample_index)
