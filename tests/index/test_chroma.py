"""The vector rows on a Chroma server (ASSISTANT_CHROMA_URL) instead of the embedded store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from chroma_server import chroma_run
from conftest import SAMPLES
from index_checks import WEST_SUSSEX_2020

from assistant.library import open_index
from assistant.settings import load_settings


@pytest.fixture()
def chroma_server(tmp_path: Path) -> Iterator[str]:
    with chroma_run(tmp_path / "chroma-server") as url:
        yield url


@pytest.mark.slow
def test_server_mode_ingest_and_search(chroma_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedder) -> None:
    from assistant.retrieval.search import Retriever

    monkeypatch.setenv("ASSISTANT_CHROMA_URL", chroma_server)
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "server-index"))
    settings = load_settings()
    index = open_index(settings, embedder=embedder)
    summary = index.ingest([SAMPLES])
    assert summary.count("added") == 5
    assert not (settings.index_dir / "chroma").exists()  # the vectors live on the server
    count = index.collection.count()
    assert count == sum(entry.passages for entry in index.reports.values())

    hits = Retriever(open_index(settings, embedder=embedder)).search("uncovered vacancy gap", k=3)
    assert (hits[0].passage.source, hits[0].passage.paragraph) == (WEST_SUSSEX_2020, "8")

    again = open_index(settings, embedder=embedder).ingest([SAMPLES])
    assert again.count("unchanged") == 5
    assert open_index(settings, embedder=embedder).collection.count() == count


def test_filters_become_the_where_clause_llama_index_would_send() -> None:
    from assistant.index.chroma import where_clause
    from assistant.types import Filters

    assert where_clause(Filters()) is None
    assert where_clause(Filters(councils=["Croydon"])) == {"council": {"$in": ["Croydon"]}}
    assert where_clause(Filters(councils=["Croydon"], date_from="2021", date_to="2021-06")) == {
        "$and": [{"council": {"$in": ["Croydon"]}}, {"date_to": {"$gte": 20210101}}, {"date_from": {"$lte": 20210631}}]
    }
