"""Derived data (BM25, and what the index is given: the register): stamped, rebuilt when missing or stale, never blocking a read."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from index_checks import WEST_SUSSEX_2020, check_consistent, hits

from assistant.index.derived import Derived, DerivedData
from assistant.index.index import Index
from assistant.library import open_index
from assistant.types import Passage

DERIVED_DAMAGE = {
    "bm25 missing": lambda root: shutil.rmtree(root / "bm25"),
    "bm25 half written": lambda root: (root / "bm25" / "ids.json").unlink(),
    "bm25 stale": lambda root: (root / "derived.json").write_text('{"bm25": 0, "register": 0}', encoding="utf-8"),
    "register missing": lambda root: (root / "commitments.json").unlink(),
    "stamps missing": lambda root: (root / "derived.json").unlink(),
    # Up to date by generation, but written by a keyword-index build older than this one.
    "bm25 built by an older version": lambda root: (root / "derived.json").write_text(
        json.dumps({**json.loads((root / "derived.json").read_text(encoding="utf-8")), "versions": {}}), encoding="utf-8"
    ),
}


@pytest.mark.parametrize("damage", list(DERIVED_DAMAGE))
def test_a_read_rebuilds_missing_or_stale_derived_data(sample_index: Index, embedder, damage: str) -> None:
    DERIVED_DAMAGE[damage](sample_index.root)
    index = open_index(sample_index.settings, embedder=embedder)
    assert hits(index, "uncovered vacancy gap")[0] == WEST_SUSSEX_2020
    check_consistent(index)


def test_a_read_while_another_process_writes_never_crashes_and_says_why(
    sample_index: Index, embedder, caplog: pytest.LogCaptureFixture
) -> None:
    from assistant.index.lock import WriterLock

    shutil.rmtree(sample_index.root / "bm25")
    other = WriterLock(sample_index.root)  # another writer at work: readers must not wait or repair
    other.acquire()
    try:
        index = open_index(sample_index.settings, embedder=embedder)
        with caplog.at_level("WARNING"):
            assert hits(index, "uncovered vacancy gap")[0] == WEST_SUSSEX_2020  # by meaning alone
        assert "keyword index" in caplog.text and "missing" in caplog.text
        assert not (sample_index.root / "bm25").exists()
    finally:
        other.release()
    index = open_index(sample_index.settings, embedder=embedder)
    assert hits(index, "uncovered vacancy gap")[0] == WEST_SUSSEX_2020  # the next read repairs
    check_consistent(index)


class Recorder:
    """A derived builder that writes its output and records what it was given."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, root: Path, passages: list[Passage]) -> None:
        self.calls.append([p.id for p in passages])
        (root / "summary.txt").write_text(str(len(passages)), encoding="utf-8")


def _passage(pid: str, text: str) -> Passage:
    return Passage(id=pid, source=f"{pid}.txt", paragraph="1", ordinal=0, start=0, end=len(text), text=text)


def test_a_given_builder_runs_after_the_keyword_index_and_is_stamped(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text("{}", encoding="utf-8")
    recorder, built = Recorder(), []
    derived = DerivedData(tmp_path, [Derived("summary", "summary.txt", recorder)], on_built=built.append)
    assert derived.stale(3, has_reports=True) == ["bm25", "summary"]
    derived.rebuild(3, [_passage("a", "The vacancy gap is 5.34%.")])
    assert built == ["bm25", "summary"] and recorder.calls == [["a"]]
    assert derived.stamps() == {"bm25": 3, "summary": 3}
    assert derived.stale(3, has_reports=True) == []
    (tmp_path / "summary.txt").unlink()
    assert derived.stale(3, has_reports=True) == ["summary"]  # a missing output is stale whatever its stamp
    assert derived.stale(4, has_reports=True) == ["bm25", "summary"]
    newer = DerivedData(tmp_path, [Derived("summary", "summary.txt", recorder, version=2)], on_built=built.append)
    assert newer.stale(3, has_reports=True) == ["summary"]  # built by an older version of its builder


def test_an_empty_index_needs_no_keyword_index_and_nothing_committed_needs_nothing(tmp_path: Path) -> None:
    derived = DerivedData(tmp_path, [], on_built=lambda name: None)
    assert derived.stale(0, has_reports=False) == []  # no manifest: nothing was ever committed
    (tmp_path / "manifest.json").write_text("{}", encoding="utf-8")
    derived.rebuild(1, [])
    assert not (tmp_path / "bm25").exists()
    assert derived.stale(1, has_reports=False) == []


def test_an_index_not_given_the_register_leaves_its_stamp_alone(sample_index: Index, embedder) -> None:
    stamps = json.loads((sample_index.root / "derived.json").read_text(encoding="utf-8"))
    bare = Index(sample_index.settings, embedder=embedder)
    bare.remove(WEST_SUSSEX_2020)
    after = json.loads((sample_index.root / "derived.json").read_text(encoding="utf-8"))
    assert after["bm25"] == stamps["bm25"] + 1 and after["register"] == stamps["register"]
    # Opened as the library, the register is found stale and rebuilt on the next read.
    library = open_index(sample_index.settings, embedder=embedder)
    assert library.repair()
    check_consistent(library)
