"""Worker processes of an ingest: files read ahead as if read in place, derived data warmed, no worker outliving its ingest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from index_checks import NEW_REPORT, check_consistent, process_alive
from report_files import REPORT_LINES, encrypted_pdf, scanned_pdf, text_pdf

import assistant.index.ingest as batching
from assistant.documents.passages import unit_spans
from assistant.documents.read import read_bytes, read_report
from assistant.errors import ReportError
from assistant.index.ahead import NICENESS, Ahead
from assistant.index.bm25 import BM25Store
from assistant.index.derived import AHEAD_FOLDER
from assistant.index.index import Index
from assistant.library import open_index
from assistant.register.store import build_register


def _pdfs(folder: Path) -> Path:
    folder.mkdir()
    good = text_pdf(REPORT_LINES)
    (folder / "a-report.pdf").write_bytes(good)
    (folder / "b-corrupt.pdf").write_bytes(good[:300])
    (folder / "c-locked.pdf").write_bytes(encrypted_pdf(REPORT_LINES))
    (folder / "d-scanned.pdf").write_bytes(scanned_pdf())
    (folder / "e-copy.pdf").write_bytes(good)
    (folder / "f-other.pdf").write_bytes(text_pdf([*REPORT_LINES, "19. The Panel will review the fostering pilot in spring."]))
    return folder


def test_a_file_read_ahead_is_the_report_read_in_place_and_errors_keep_their_kind(tmp_path: Path) -> None:
    folder = _pdfs(tmp_path / "pdfs")
    ahead = Ahead()
    try:
        for path in sorted(folder.iterdir()):
            data = read_bytes(path, 50)
            future = ahead.read(path, data, None, 50)
            try:
                expected: object = read_report(path, data=data)
            except ReportError as exc:
                expected = (type(exc), str(exc))
            try:
                got: object = Ahead.report(future)
            except ReportError as exc:
                got = (type(exc), str(exc))
            assert got == expected, path.name
    finally:
        ahead.close()


def test_units_found_in_a_worker_are_those_the_store_finds() -> None:
    texts = [*REPORT_LINES, "Lead inspector: Andy Waugh\n- (a) first item;\n- (b) second item.", ""]
    ahead = Ahead()
    try:
        assert ahead.units(texts).result(timeout=60) == [unit_spans(text) for text in texts]
    finally:
        ahead.close()


def test_a_task_given_to_a_worker_that_stopped_fails_at_once() -> None:
    ahead = Ahead()
    try:
        assert ahead.units(["First."]).result(timeout=60) == [unit_spans("First.")]
        worker = ahead._splitter
        assert worker is not None
        worker.process.kill()  # as a worker dies that cannot import the code it runs
        worker.process.wait()
        worker._collector.join(timeout=30)
        with pytest.raises(RuntimeError, match="stopped"):
            ahead.units(["Second."]).result(timeout=30)
    finally:
        ahead.close()


def test_an_ingest_through_workers_gives_the_results_of_reading_in_turn(sample_index: Index, tmp_path: Path) -> None:
    folder = _pdfs(tmp_path / "pdfs")
    hashes = {entry.hash: source for source, entry in sample_index.reports.items()}
    seen: set[str] = set()
    expected = []
    for path in sorted(folder.iterdir()):  # the old way: each file read and split in turn, in this process
        prepared = batching.prepare(sample_index._manifest, path, None, hashes, seen, split=sample_index.split, max_mb=50)
        expected.append(
            (path.name, prepared.status, prepared.message)
            if isinstance(prepared, batching.FileResult)
            else (path.name, "added", "")
        )
    summary = sample_index.ingest([folder])
    # Failures are recorded as met, additions when their batch commits: compared file by file.
    assert sorted((r.source, r.status, r.message) for r in summary.results) == expected
    assert [status for _, status, _ in expected] == ["added", "failed", "failed", "failed", "failed", "added"]
    check_consistent(sample_index)


def test_derived_data_built_ahead_is_what_a_full_rebuild_makes(
    sample_index: Index, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batching, "EMBED_BATCH", 1)  # a commit per report: caches warmed, data built ahead of the last
    taken: list[bool] = []
    take = batching._take

    def recorded(*args: Any) -> bool:
        taken.append(take(*args))
        return taken[-1]

    monkeypatch.setattr(batching, "_take", recorded)
    for number in (1, 2, 3):
        (corpus / f"review-{number}.txt").write_text(NEW_REPORT.replace("fourteen", f"{number} hundred"), encoding="utf-8")
    summary = sample_index.ingest([corpus])
    assert summary.count("added") == 3
    assert taken == [True]
    assert not (sample_index.root / AHEAD_FOLDER).exists()
    stored = json.loads((sample_index.root / "commitments.json").read_text(encoding="utf-8"))
    fresh = json.loads(build_register(sample_index.all_passages()).model_dump_json())
    stored.pop("built_at")
    fresh.pop("built_at")
    assert stored == fresh
    keywords = BM25Store.load(sample_index.root / "bm25")
    assert keywords.ids == [p.id for p in sample_index.all_passages()]
    check_consistent(sample_index)


def test_derived_data_built_ahead_is_not_taken_when_a_file_fails_to_commit(
    sample_index: Index, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batching, "EMBED_BATCH", 1)
    for number in (1, 2, 3):
        (corpus / f"review-{number}.txt").write_text(NEW_REPORT.replace("fourteen", f"{number} hundred"), encoding="utf-8")
    store = sample_index._store
    commit = store.commit

    def refuse_the_last(pending: Any, hashes: Any, embedded: Any = None) -> Any:
        if pending and pending[0].report.source == "review-3.txt":
            for item in pending:
                hashes.pop(item.report.content_hash, None)
            return [batching.FileResult(str(item.path), "failed", message="refused") for item in pending]
        return commit(pending, hashes, embedded=embedded)

    monkeypatch.setattr(store, "commit", refuse_the_last)
    summary = sample_index.ingest([corpus])
    assert summary.count("added") == 2 and summary.count("failed") == 1
    keywords = BM25Store.load(sample_index.root / "bm25")
    assert keywords.ids == [p.id for p in sample_index.all_passages()]  # rebuilt: review-3 is not in it
    assert not any(p.source == "review-3.txt" for p in sample_index.all_passages())
    check_consistent(sample_index)


def test_a_worker_dies_with_the_ingest_that_started_it(tmp_path: Path) -> None:
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(text_pdf(REPORT_LINES))
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        from pathlib import Path
        from assistant.index.ahead import Ahead
        ahead = Ahead()
        path = Path({str(pdf)!r})
        Ahead.report(ahead.read(path, path.read_bytes(), None, 50))
        print(ahead._reader.process.pid, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # as a crash would
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    worker = int(done.stdout.split()[0])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and process_alive(worker):
        time.sleep(0.1)
    assert not process_alive(worker)


def test_the_files_read_ahead_are_handed_to_the_worker_before_the_first_is_split(
    sample_index: Index, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "a-notes.txt").write_text(NEW_REPORT, encoding="utf-8")
    for name in ("b", "c", "d"):
        (folder / f"{name}-report.pdf").write_bytes(text_pdf([*REPORT_LINES, f"20. Report {name} closes here."]))
    events: list[str] = []
    read, split = Ahead.read, sample_index.split

    def reading(self: Ahead, path: Path, *args: Any) -> Any:
        events.append(f"read {path.name}")
        return read(self, path, *args)

    def splitting(report: Any) -> Any:
        events.append(f"split {report.source}")
        return split(report)

    monkeypatch.setattr(Ahead, "read", reading)
    monkeypatch.setattr(sample_index, "split", splitting)
    summary = sample_index.ingest([folder])
    assert summary.count("added") == 4
    # The first PDF is read here; the worker is given the others before anything is split.
    assert events[:3] == ["read c-report.pdf", "read d-report.pdf", "split a-notes.txt"]


def test_an_ingest_of_plain_text_starts_no_worker(sample_index: Index, corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_worker(self: object) -> None:
        raise AssertionError("a worker was started for plain text")

    monkeypatch.setattr("assistant.index.ahead.Worker.__init__", no_worker)
    (corpus / "fostering.txt").write_text(NEW_REPORT, encoding="utf-8")
    summary = open_index(sample_index.settings, embedder=sample_index.embedder).ingest([corpus])
    assert summary.count("added") == 1


def test_reads_left_over_when_a_run_fails_are_dropped_not_finished(tmp_path: Path) -> None:
    folder = _pdfs(tmp_path / "pdfs")
    ahead = Ahead()
    futures = [ahead.read(path, path.read_bytes(), None, 50) for path in sorted(folder.iterdir())]
    worker = ahead._reader
    assert worker is not None
    ahead.close()  # before the worker, still starting, has answered any
    assert worker.process.returncode is not None
    assert all(future.done() for future in futures)


def test_derived_data_is_built_in_the_units_worker_which_then_runs_at_a_lower_priority(
    sample_index: Index, tmp_path: Path
) -> None:
    store = sample_index._store
    ahead = Ahead()
    try:
        texts = [p.text for p in sample_index.all_passages()][:20]
        assert ahead.units(texts).result() == [unit_spans(text) for text in texts]
        worker = ahead._splitter
        assert worker is not None
        ours = os.getpriority(os.PRIO_PROCESS, 0)
        assert os.getpriority(os.PRIO_PROCESS, worker.process.pid) == ours  # it feeds the encoder
        staged = ahead.stage(store.root, tmp_path / "staged", store.derived.builders, dict(store.manifest.reports), {})
        assert staged is not None
        staged.result(timeout=120)
        assert ahead._stager is None  # no process of its own: the units worker has the modules and the sentences
        assert os.getpriority(os.PRIO_PROCESS, worker.process.pid) == ours + NICENESS
        keywords = BM25Store.load(tmp_path / "staged" / "bm25")
        assert keywords.ids == [p.id for p in sample_index.all_passages()]
    finally:
        ahead.close()
