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


# Writes rows to an embedded store on each line read from stdin ("<first id> <count>"), staying alive between.
WRITER = """
import sys
import numpy as np
from assistant.index.chroma import open_collection
from assistant.settings import Settings
collection = open_collection(Settings(index_dir=sys.argv[1]))
for line in sys.stdin:
    first, count = map(int, line.split())
    vectors = np.random.default_rng(first).random((count, 384)).astype(np.float32)
    collection.add(ids=[f"r{first + i}" for i in range(count)], embeddings=vectors.tolist(), documents=["d"] * count)
    print("written", flush=True)
"""


def test_embedded_rows_another_process_writes_are_found_by_first_and_later_opens(tmp_path: Path) -> None:
    """A process's first open loads every row (no catch-up write needed); a later client of the same folder
    shares its in-memory index, so it catches up before its first query."""
    import subprocess
    import sys
    import threading

    import numpy as np

    from assistant.index.chroma import Rows
    from assistant.settings import Settings
    from assistant.types import Filters

    settings = Settings(index_dir=tmp_path / "index")
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(settings.index_dir)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert writer.stdin is not None and writer.stdout is not None

    def write(first: int, count: int) -> np.ndarray:
        writer.stdin.write(f"{first} {count}\n")
        writer.stdin.flush()
        assert writer.stdout.readline().strip() == "written"
        return np.random.default_rng(first).random((count, 384)).astype(np.float32)

    def found(rows: Rows, first: int, vectors: np.ndarray) -> int:
        return sum(rows.nearest(v.tolist(), 1, Filters(), rows=False)["ids"][0] == [f"r{first + i}"] for i, v in enumerate(vectors))

    try:
        before = write(0, 30)
        caught_up: list[Rows] = []

        class Counted(Rows):
            def catch_up(self) -> None:
                caught_up.append(self)
                super().catch_up()

        first = Counted(settings, None, threading.RLock())
        assert found(first, 0, before) == 30 and caught_up == []
        after = write(100, 30)
        later = Counted(settings, None, threading.RLock())
        assert found(later, 100, after) == 30 and caught_up == [later]
    finally:
        writer.stdin.close()
        writer.wait(timeout=60)
        writer.stdout.close()
