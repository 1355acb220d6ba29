"""The vector rows on a Chroma server (ASSISTANT_CHROMA_URL) instead of the embedded store."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLES
from index_checks import WEST_SUSSEX_2020

from assistant.library import open_index
from assistant.settings import load_settings


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
