"""Pruning the matrix's exact search (assistant/index/prune.py): on real vectors of the sample reports, a search
whose bound proves its answer returns exactly the full scan's, and one it cannot prove is counted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import assistant.index.prune as prune
import assistant.index.vectors as vectors
from assistant.index.index import Index
from assistant.types import Filters

QUESTIONS = [
    "How many agency social workers are in post?",
    "When is the next monitoring visit?",
    "Who chairs the board?",
    "What did the inspectors find about care leavers?",
]


@pytest.fixture
def matrix(shared_index: Index, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> vectors.Vectors:
    """The sample index's matrix, built with its head (as a matrix above PRUNE_ABOVE rows is) and searched pruned."""
    monkeypatch.setattr(vectors, "PRUNE_ABOVE", 0)
    monkeypatch.setattr(prune, "HEAD_DIMS", 4)  # of 384: a head this poor leaves the bound much to decide
    bm25 = shared_index.bm25
    assert vectors.build(tmp_path, shared_index.collection, bm25, "k") is not None
    loaded = vectors.load(tmp_path, "k", len(bm25.ids))
    assert loaded is not None and loaded.head is not None
    return loaded


def keeps(index: Index) -> list[np.ndarray | None]:
    bm25 = index.bm25
    councils = index.councils
    return [None, *(bm25.rows(Filters(councils=[c])) for c in councils), bm25.rows(Filters(date_from="2020-06"))]


def exact(matrix: vectors.Vectors) -> vectors.Vectors:
    return vectors.Vectors(np.asarray(matrix.matrix), matrix.order)


def test_the_head_is_written_only_beside_a_large_matrix(shared_index: Index, tmp_path: Path) -> None:
    bm25 = shared_index.bm25
    assert vectors.build(tmp_path, shared_index.collection, bm25, "small") is not None
    assert not any(path.exists() for path in prune.head_paths(tmp_path / vectors.FOLDER, "small").values())
    loaded = vectors.load(tmp_path, "small", len(bm25.ids))
    assert loaded is not None and loaded.head is None


def test_no_row_passes_its_bound_and_the_bound_is_close(shared_index: Index, matrix: vectors.Vectors) -> None:
    assert matrix.head is not None
    rows = np.asarray(matrix.matrix)
    for question in QUESTIONS:
        vector = shared_index.embedder.embed_query(question)
        unit = vector / np.linalg.norm(vector)
        cosines, bounds = rows @ unit, matrix.head.bounds(unit)
        assert np.all(bounds >= cosines - 1e-6)
        some = np.flatnonzero(bounds < 0.9)[:7]  # a sample of rows, taken as a filter keeping them would
        assert matrix.head.bounds(unit, some) == pytest.approx(bounds[some], abs=1e-6)
        assert float(np.median(bounds - cosines)) < 0.6  # four directions of 384 still bound something
    for row in (0, len(rows) // 2, len(rows) - 1):  # a question that is a passage's own vector: its bound is 1
        assert matrix.head.bounds(rows[row])[row] >= 1.0 - 1e-6


def test_a_search_its_bound_proves_is_the_full_scans(
    shared_index: Index, matrix: vectors.Vectors, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prune, "CANDIDATES", 2)  # few rows first: the bound must decide which others to read
    monkeypatch.setattr(prune, "EXPAND", 10**6)
    full = exact(matrix)
    assert matrix.head is not None
    for question in QUESTIONS:
        vector = shared_index.embedder.embed_query(question)
        for keep in keeps(shared_index):
            for n in (3, 10):
                expected = full.nearest(vector, n, keep)
                got = matrix.nearest(vector, n, keep)
                assert [row for row, _ in got] == [row for row, _ in expected], (question, n)
                assert [c for _, c in got] == pytest.approx([c for _, c in expected], abs=1e-5)
    assert matrix.head.proven[0] == matrix.head.proven[1] > 0


def test_a_search_its_bound_cannot_prove_is_counted_and_scored_exactly(
    shared_index: Index, matrix: vectors.Vectors, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prune, "CANDIDATES", 1)
    monkeypatch.setattr(prune, "EXPAND", 0)
    assert matrix.head is not None
    rows = np.asarray(matrix.matrix)[matrix.where]  # by keyword-index row
    for question in QUESTIONS:
        vector = shared_index.embedder.embed_query(question)
        unit = vector / np.linalg.norm(vector)
        got = matrix.nearest(vector, 10, None)
        assert len(got) == 10
        assert [c for _, c in got] == pytest.approx([float(rows[row] @ unit) for row, _ in got], abs=1e-5)
    assert matrix.head.proven[0] < matrix.head.proven[1] == len(QUESTIONS)


def test_a_damaged_head_is_left_out_and_the_search_stays_exact(shared_index: Index, matrix: vectors.Vectors, tmp_path: Path) -> None:
    head_file = prune.head_paths(tmp_path / vectors.FOLDER, "k")["head"]
    head_file.write_bytes(head_file.read_bytes()[:200])
    loaded = vectors.load(tmp_path, "k", len(shared_index.bm25.ids))
    assert loaded is not None and loaded.head is None
    vector = shared_index.embedder.embed_query(QUESTIONS[0])
    assert loaded.nearest(vector, 5) == exact(matrix).nearest(vector, 5)
