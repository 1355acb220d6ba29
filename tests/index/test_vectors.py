"""The passages' vectors as one matrix (assistant/index/vectors.py): built from real Chroma rows by a child process,
searched exactly as Chroma searches, and never used for another commit than the one it was built from."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import SAMPLES

import assistant.index.vectors as vectors
from assistant.index.index import Index
from assistant.library import open_index
from assistant.retrieval import dense
from assistant.retrieval.search import Retriever
from assistant.settings import Settings
from assistant.types import Filters

QUESTIONS = ["How many agency social workers are in post?", "When is the next monitoring visit?", "Who chairs the board?"]


@pytest.fixture(autouse=True)
def any_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sample library is far below the size a matrix is built at: build one anyway."""
    monkeypatch.setattr(vectors, "MIN_PASSAGES", 0)


def built(index: Index, timeout: float = 180.0) -> vectors.Vectors:
    """The index's matrix, once the child process it starts has written it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = index.vectors
        if found is not None:
            return found
        time.sleep(0.2)
    raise AssertionError(f"no vector matrix built in {index.root / vectors.FOLDER} within {timeout} s")


def files(index: Index) -> list[str]:
    return sorted(p.name for p in (index.root / vectors.FOLDER).glob("*.npy"))


def filters_of(index: Index) -> list[Filters]:
    councils = index.councils
    return [
        Filters(),
        *(Filters(councils=[c]) for c in councils),
        Filters(councils=councils[:2]),
        Filters(date_from="2020-06"),
        Filters(date_from="2016-01", date_to="2018-12"),
        Filters(sources=sorted(index.reports)[:1]),
        Filters(councils=["No Such Council"]),
    ]


def test_the_matrix_finds_what_chromas_own_filtered_query_finds(sample_index: Index) -> None:
    assert sample_index.vectors is None  # not built yet: searches go to Chroma while a child process builds it
    matrix = built(sample_index)
    assert files(sample_index) == [f"{vectors.cache_key(sample_index.generation, sample_index.bm25.ids, sample_index._manifest.contents.model or '')}{s}.npy" for s in ("", ".order")]
    assert matrix.matrix.shape == (len(sample_index.bm25.ids), 384)
    assert dense.matrix_of(sample_index) is matrix
    for question in QUESTIONS:
        vector = sample_index.embedder.embed_query(question)
        for filters in filters_of(sample_index):
            for n in (3, 40):
                expected = sample_index.nearest(vector, n, filters)
                got = dense.nearest(sample_index, vector, n, filters)
                assert ranked(got) == ranked(expected), (question, filters, n)
                assert [c for _, c in got] == pytest.approx([c for _, c in expected], abs=1e-5)


def ranked(found: list[tuple[Any, float]]) -> list[list[str]]:
    """Passage ids grouped by similarity (within 1e-5: the same text twice), each group sorted: Chroma orders such
    ties as its graph happens to hold them. A tie with the last found is left out: it could be any of the tie."""
    groups: list[tuple[float, list[str]]] = []
    for passage, cosine in found:
        if groups and abs(groups[-1][0] - cosine) <= 1e-5:
            groups[-1][1].append(passage.id)
        else:
            groups.append((cosine, [passage.id]))
    if len(groups) > 1 and len(groups[-1][1]) > 1:
        groups.pop()
    return [sorted(ids) for _, ids in groups]


def test_hybrid_search_ranks_alike_with_and_without_the_matrix(sample_index: Index, monkeypatch: pytest.MonkeyPatch) -> None:
    built(sample_index)
    retriever = Retriever(sample_index)

    def ranked() -> list[list[tuple[str, float, float]]]:
        return [
            [(h.passage.id, round(h.score, 5), round(h.dense_score or 0.0, 5)) for h in retriever.search(q, k=10, filters=f)]
            for q in QUESTIONS for f in filters_of(sample_index)[:-1]  # fusion needs something found
        ]

    with_matrix = ranked()
    monkeypatch.setattr(vectors, "MIN_PASSAGES", 10**9)
    assert sample_index.vectors is None
    without = ranked()
    # The same passages in the same order; scores agree but for float noise (the matrix's cosines are not
    # Chroma's to the last bit, and a rounding to five places may fall either side).
    assert [[pid for pid, _, _ in hits] for hits in without] == [[pid for pid, _, _ in hits] for hits in with_matrix]
    for hits, expected in zip(without, with_matrix, strict=True):
        for (_, score, cosine), (_, want_score, want_cosine) in zip(hits, expected, strict=True):
            assert score == pytest.approx(want_score, abs=1e-4) and cosine == pytest.approx(want_cosine, abs=1e-4)


def test_with_the_matrix_a_search_asks_chroma_for_no_vectors(sample_index: Index, monkeypatch: pytest.MonkeyPatch) -> None:
    built(sample_index)
    asked: list[str] = []
    collection = sample_index.collection
    original_query, original_get = collection.query, collection.get

    def query(**kwargs: Any) -> Any:
        asked.append("query")
        return original_query(**kwargs)

    def get(*args: Any, **kwargs: Any) -> Any:
        if "embeddings" in kwargs.get("include", []):
            asked.append("get embeddings")
        return original_get(*args, **kwargs)

    monkeypatch.setattr(collection, "query", query)
    monkeypatch.setattr(collection, "get", get)
    retriever = Retriever(sample_index)
    for question in QUESTIONS:
        for filters in filters_of(sample_index)[:-1]:
            assert retriever.search(question, k=10, filters=filters)
    assert asked == []  # Chroma's vector index is never loaded into a serving process
    monkeypatch.setattr(vectors, "MIN_PASSAGES", 10**9)
    retriever.search(QUESTIONS[0], k=10)
    assert "query" in asked  # without the matrix, Chroma searches (so the spy sees what it should)


def test_a_commit_names_another_matrix_and_a_reader_never_uses_the_old_one(
    sample_index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    reader = open_index(sample_index.settings, embedder=sample_index.embedder)
    old = built(reader)
    old_files = files(reader)
    source = sorted(sample_index.reports)[0]
    gone = set(sample_index.reports[source].ids)
    vector = sample_index.embedder.embed_query(QUESTIONS[0])
    assert gone & {p.id for p, _ in dense.nearest(reader, vector, 500, Filters())}

    assert sample_index.remove(source).status == "removed"  # another Index object: as another process would
    # The writer wrote the new commit's matrix before letting go of the lock: the reader takes both up at once.
    new = reader.vectors
    assert new is not None and new is not old
    assert len(new.order) == len(reader.bm25.ids) == len(old.order) - len(gone)
    assert not set(old_files) & set(files(reader))  # the old commit's files are deleted once the new one is written
    assert not gone & {p.id for p, _ in dense.nearest(reader, vector, 500, Filters())}

    # Without the writer's matrix (a writer below the size, or one that failed), the reader never uses the old one.
    held = files(reader)

    corpus = Path(sample_index.settings.index_dir).parent / "again"
    corpus.mkdir()
    for name in (source, "manifest.toml"):
        if (SAMPLES / name).is_file():
            (corpus / name).write_bytes((SAMPLES / name).read_bytes())
    monkeypatch.setattr(vectors, "MIN_PASSAGES", 10**9)
    assert sample_index.ingest([corpus]).count("added") == 1
    monkeypatch.setattr(vectors, "MIN_PASSAGES", 0)
    assert files(reader) == held
    assert reader.vectors is None  # the old commit's matrix is not this commit's: Chroma searches meanwhile
    assert gone <= {p.id for p, _ in dense.nearest(reader, vector, 500, Filters())}
    again = built(reader)  # by the child process the reader started
    assert len(again.order) == len(old.order)
    assert gone <= {p.id for p, _ in dense.nearest(reader, vector, 500, Filters())}


def test_reports_far_apart_are_read_row_by_row_and_found_as_chroma_finds_them(
    sample_index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    matrix = built(sample_index)
    monkeypatch.setattr(vectors, "GATHER", 1)  # any gap between the reports kept: read their rows alone
    source = sample_index.bm25.meta["source"][matrix.order]  # each matrix row's report, in matrix order
    names = sample_index.bm25.names["source"]
    apart = Filters(sources=sorted({names[source[0]], names[source[-1]]}))
    keep = sample_index.bm25.rows(apart)
    rows = matrix.kept(keep)
    assert rows is not None and len(rows) < int(rows[-1]) - int(rows[0]) + 1  # a gap: the rows are gathered
    assert matrix.kept(keep) is rows  # a filter's rows are worked out once
    for question in QUESTIONS:
        vector = sample_index.embedder.embed_query(question)
        matrix._last = None  # no earlier scores to take them from
        expected = sample_index.nearest(vector, 10, apart)
        got = dense.nearest(sample_index, vector, 10, apart)
        assert [p.id for p, _ in got] == [p.id for p, _ in expected], question
        assert [c for _, c in got] == pytest.approx([c for _, c in expected], abs=1e-5)


def test_a_damaged_or_misshapen_matrix_is_dropped_and_rebuilt(sample_index: Index) -> None:
    matrix = built(sample_index)
    vector = sample_index.embedder.embed_query(QUESTIONS[1])
    expected = [p.id for p, _ in dense.nearest(sample_index, vector, 10, Filters())]
    path = sample_index.root / vectors.FOLDER / files(sample_index)[0]
    rows = len(matrix.order)
    for damage in (b"not a numpy file", None):
        fresh = open_index(sample_index.settings, embedder=sample_index.embedder)
        if damage is None:
            np.save(path, np.zeros((rows - 1, 384), dtype=np.float32))  # a row short: another commit's shape
        else:
            path.write_bytes(damage)
        assert fresh.vectors is None and not path.exists()  # dropped; Chroma searches meanwhile
        assert [p.id for p, _ in dense.nearest(fresh, vector, 10, Filters())] == expected
        assert built(fresh).matrix.shape == (rows, 384)
        assert [p.id for p, _ in dense.nearest(fresh, vector, 10, Filters())] == expected


def test_no_matrix_is_built_during_a_write_or_from_missing_rows(sample_index: Index) -> None:
    settings = sample_index.settings
    (sample_index.root / ".dirty").touch()
    assert vectors.build_for(settings) is None
    (sample_index.root / ".dirty").unlink()
    removed = sample_index.reports[sorted(sample_index.reports)[0]].ids[:3]
    sample_index.collection.delete(ids=list(removed))  # rows the keyword index names are missing from Chroma
    assert vectors.build_for(settings) is None and files(sample_index) == []


def test_small_libraries_search_chroma_and_build_nothing(sample_index: Index, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vectors, "MIN_PASSAGES", len(sample_index.bm25.ids) + 1)
    assert sample_index.vectors is None and dense.matrix_of(sample_index) is None
    time.sleep(1.0)
    assert not (sample_index.root / vectors.FOLDER).exists()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from chroma_server import chroma_run

    with chroma_run(tmp_path_factory.mktemp("chroma-server")) as url:
        yield url


@pytest.mark.slow
def test_an_instance_with_an_empty_folder_builds_its_matrix_from_the_server(server: str, tmp_path: Path, embedder: Any) -> None:
    def settings(name: str) -> Settings:
        return Settings(index_dir=tmp_path / name, chroma_url=server, collection="vectors-test")

    writer = open_index(settings("a"), embedder=embedder)
    assert not writer.ingest([SAMPLES]).failed
    reader = open_index(settings("b"), embedder=embedder)
    assert reader.vectors is None  # its folder is pulled from the server; the matrix is not (a hidden folder)
    matrix = built(reader)
    vector = embedder.embed_query(QUESTIONS[0])
    for filters in filters_of(reader):
        expected = reader.nearest(vector, 10, filters)
        assert [p.id for p, _ in dense.nearest(reader, vector, 10, filters)] == [p.id for p, _ in expected]
    assert matrix.matrix.shape[0] == writer.collection.count()


@pytest.mark.slow
def test_on_a_server_an_unfiltered_search_of_a_large_library_is_the_servers_graph_search(
    server: str, tmp_path: Path, embedder: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = open_index(Settings(index_dir=tmp_path / "a", chroma_url=server, collection="graph-test"), embedder=embedder)
    assert not index.ingest([SAMPLES]).failed
    built(index)
    monkeypatch.setattr(dense, "GRAPH_ABOVE", 0)  # the sample library stands for one past the size
    asked: list[object] = []
    collection = index.collection
    original = collection.query

    def query(**kwargs: Any) -> Any:
        asked.append(kwargs.get("where"))
        return original(**kwargs)

    monkeypatch.setattr(collection, "query", query)
    vector = embedder.embed_query(QUESTIONS[0])
    expected = [p.id for p, _ in index.nearest(vector, 10, Filters())]
    asked.clear()
    assert [p.id for p, _ in dense.nearest(index, vector, 10, Filters())] == expected
    assert asked == [None]  # one unfiltered query to the server
    council = Filters(councils=[index.councils[0]])
    expected = [p.id for p, _ in index.nearest(vector, 10, council)]
    asked.clear()
    assert [p.id for p, _ in dense.nearest(index, vector, 10, council)] == expected
    assert asked == []  # a filter is searched in the matrix
