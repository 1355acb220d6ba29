"""Dense search under filters: the same passages as Chroma's own filtered query, read without its slow paths."""

from __future__ import annotations

import pytest

from assistant.index.bm25 import PASSAGES_FILE
from assistant.retrieval import dense
from assistant.types import Filters

QUESTIONS = ["How many agency social workers are in post?", "When is the next monitoring visit?", "Who chairs the board?"]


def _filters(councils: list[str]) -> list[Filters]:
    return [
        Filters(),
        *(Filters(councils=[c]) for c in councils),
        Filters(councils=councils[:2]),
        Filters(date_from="2020-06"),
        Filters(date_from="2016-01", date_to="2018-12"),
        Filters(councils=["No Such Council"]),
    ]


@pytest.mark.parametrize("n", [3, 10, 40])
def test_dense_search_finds_what_chromas_filtered_query_finds(shared_index, n: int) -> None:
    councils = shared_index.councils
    for question in QUESTIONS:
        vector = shared_index.embedder.embed_query(question)
        for filters in _filters(councils):
            expected = shared_index.nearest(vector, n, filters)
            got = dense.nearest(shared_index, vector, n, filters)
            assert [p.id for p, _ in got] == [p.id for p, _ in expected], (question, filters)
            assert [p.model_dump() for p, _ in got] == [p.model_dump() for p, _ in expected]
            assert [c for _, c in got] == pytest.approx([c for _, c in expected], abs=1e-5)


def test_a_filter_is_applied_by_id_never_by_chromas_where_clause(shared_index, monkeypatch) -> None:
    seen: list[tuple[Filters, list[str] | None]] = []
    original = type(shared_index).nearest_ids

    def spy(index, vector, n, filters, ids=None):
        seen.append((filters, ids))
        return original(index, vector, n, filters, ids)

    monkeypatch.setattr(type(shared_index), "nearest_ids", spy)
    vector = shared_index.embedder.embed_query(QUESTIONS[0])
    bm25 = shared_index.bm25
    widest = max(shared_index.councils, key=lambda c: int(bm25.rows(Filters(councils=[c])).sum()))
    own = sorted(pid for pid, keep in zip(bm25.ids, bm25.rows(Filters(councils=[widest]))) if keep)
    dense.nearest(shared_index, vector, 3, Filters(councils=[widest]))
    assert seen == [(Filters(), None)]  # the nearest few hundred, filtered here
    seen.clear()
    found = dense.nearest(shared_index, vector, len(bm25.ids), Filters(councils=[widest]))
    assert seen == [] and sorted(p.id for p, _ in found) == own  # a handful: compared here, exhaustively
    monkeypatch.setattr(dense, "EXHAUSTIVE", 0)
    found = dense.nearest(shared_index, vector, len(bm25.ids), Filters(councils=[widest]))
    assert [(f, sorted(ids or [])) for f, ids in seen] == [(Filters(), own)]  # Chroma searches those ids only
    assert sorted(p.id for p, _ in found) == own


def test_an_index_whose_keyword_index_kept_no_passages_reads_them_from_chroma(sample_index) -> None:
    (sample_index.root / "bm25" / PASSAGES_FILE).unlink()
    vector = sample_index.embedder.embed_query(QUESTIONS[1])
    for filters in _filters(sample_index.councils):
        expected = sample_index.nearest(vector, 10, filters)
        got = dense.nearest(sample_index, vector, 10, filters)
        assert [p.model_dump() for p, _ in got] == [p.model_dump() for p, _ in expected]
