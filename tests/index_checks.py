"""Helpers for the index tests: test doubles given through the constructor, snapshots, and the consistency check."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from conftest import SAMPLES

from assistant.index.bm25 import BM25Store
from assistant.index.index import Index
from assistant.library import open_index

SAMPLE_FILES = sorted(p.name for p in SAMPLES.glob("*.txt"))
WEST_SUSSEX_2020 = "000_593dbc0cfa530023.txt"
WORCESTERSHIRE = "001_6c25ee4f623b7f02.txt"

NEW_REPORT = (
    "Fostering Service Annual Review\n\n"
    "Introduction\n\n"
    "1. The fostering service recruited fourteen new foster families during the year, against a target of twenty.\n\n"
    "2. Placement stability improved: the share of children with three or more moves fell to six per cent.\n"
)


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
    reopened = open_index(index.settings, embedder=index.embedder)
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
    index = open_index(index.settings, embedder=index.embedder)
    ids = {i for entry in index.reports.values() for i in entry.ids}
    assert set(index.collection.get(include=[])["ids"]) == ids
    assert bm25_ids(index) == ids
    assert {p.id for p in index.all_passages()} == ids
    assert sum(entry.passages for entry in index.reports.values()) == len(ids)
    hashes = {entry.hash for entry in index.reports.values()}
    assert {p.name.split(".")[0] for p in (index.root / "reports").iterdir()} <= hashes
    derived = json.loads((index.root / "derived.json").read_text(encoding="utf-8"))
    assert derived.pop("versions").keys() == {"bm25", "register"}
    assert derived == {"bm25": index.generation, "register": index.generation}
    assert (index.root / "commitments.json").is_file()
    assert not (index.root / ".dirty").exists()


def hits(index: Index, query: str) -> list[str]:
    """Sources of the top three hybrid hits."""
    from assistant.retrieval.search import Retriever

    return [hit.passage.source for hit in Retriever(index).search(query, k=3)]


def process_alive(pid: int) -> bool:
    """Whether a process runs (a zombie, dead but not yet waited for, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return not (status.is_file() and status.read_text().split(")")[-1].split()[0] == "Z")
