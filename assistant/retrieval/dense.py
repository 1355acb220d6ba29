"""Dense search under filters, without Chroma's slow paths: its metadata scan, its row reads, its graph search.

At scale the search is exact, in numpy, over the index's matrix of every passage's vector
(assistant/index/vectors.py, rows grouped by council and report): a filter is a mask over the
keyword index's per-passage fields (assistant/index/bm25.py), so a council or a report is one
contiguous slice and one matrix-vector product; a question searched several ways (filtered, then
narrowed to a report) reuses the first product. Passages are read from the keyword index's copy.

Measured at 100,000 passages (benchmarks/query.py's index, embedded Chroma, 2 cores shared with other
work at load ~5.5; Chroma's path and the matrix alternated in one process, medians of 12 questions):
the 40 nearest under a council filter 71 -> 17 ms, a date filter 100 -> 32 ms, one report 2.6 -> 0.6 ms,
but unfiltered 4 -> 44 ms (the whole matrix, ~150 MB, is read; Chroma's graph search reads little). Warm
`ask`, question by question: p50 0.65x of Chroma's path unfiltered (95 -> 62 ms; most questions name a
council), 0.40x with a council filter (78 -> 31 ms). Resident memory fell 665 -> 604 MB: Chroma's vector
index (~215 MB once loaded) stays on disk. On the benchmark's hashed vectors (many identical), Chroma's
graph search found nothing at all under a council filter and ~170 of 400 unfiltered; the exact search
finds the true nearest (on real vectors, 154 eval answers were identical either way).

At 1,000,000 passages (~1.5 GB of matrix) a full exact scan took 225-690 ms and a council's slice
(16-32% of the rows) 85-150 ms, at load ~8-9. So there:
- a search reading more than vectors.PRUNE_ABOVE rows is pruned by a bound (assistant/index/prune.py:
  a quarter of the reading, exact whenever the bound proves it);
- on a Chroma server, an unfiltered search goes to the server's graph (~4 ms for the 40 nearest);
- a filter keeping few rows spread far apart (each council's latest reports) reads only those rows.
Warm `ask` on `chroma run`, this against the matrix's full scans alternated in one process (load ~9,
36 asks each): p50 383 -> 282 ms, p95 806 -> 633 ms; with a council filter p50 237 -> 167 ms. At
100,000 passages nothing changes (p50 89 vs 93 ms, filtered 53 vs 53 ms, same run). At a million, most
of what is left of an ask is the answer's weighing of every report by time (answer/scope.py
report_prior, ~190 ms of the 306 ms p50 in one A/B run), then two keyword searches (~20-50 ms each).

Until a commit's matrix is built (by its writer, or by a child process a reader starts: with a Chroma
server, or on an index written before it), and below vectors.MIN_PASSAGES,
Chroma searches, as measured before (100k: the 40 nearest ids ~3-5 ms, with text ~18 ms, with a
`where` clause 600-1000 ms as it scans metadata in SQLite, restricted to ids 30-60 ms):
- a filter keeping a good share of the library: to the nearest few hundred ids, here;
- a narrower one: Chroma searches only the ids it keeps (pre-filtered by id set);
- a handful of passages: their vectors are read and compared here, exhaustively.
"""

from __future__ import annotations

import numpy as np

from assistant.index.bm25 import BM25Store
from assistant.index.index import Index
from assistant.index.vectors import Vectors
from assistant.types import Filters, Passage

# Nearest ids fetched unfiltered to filter here (~8 ms at 100k passages; 1,000 cost ~20 ms).
OVERFETCH = 400
# Fetched ids must be expected to hold this many times the passages wanted.
MARGIN = 2.0
# A filter keeping at most this many passages is searched exhaustively (vectors read at ~0.2 ms each).
EXHAUSTIVE = 100
# With a Chroma server, an unfiltered search of more passages than this is the server's graph search
# (~4 ms for the 40 nearest at a million passages; the matrix's pruned scan takes ~60 ms there).
GRAPH_ABOVE = 300_000
_counted: dict[tuple[int, int], int] = {}
# The ids a filter keeps, per keyword index (held, so its identity is not reused) and filter: at 100,000
# passages a council keeps ~30,000, and listing them cost ~4 ms a search (a question searches twice or more).
CACHED_ID_LISTS = 8
_kept_ids: dict[str, tuple[BM25Store, list[str]]] = {}


def nearest(index: Index, vector: np.ndarray, n: int, filters: Filters) -> list[tuple[Passage, float]]:
    """The n passages nearest the vector under the filters, each with its cosine similarity."""
    bm25 = index.bm25
    if not bm25.ids:
        return index.nearest(vector, n, filters)  # no keyword index to read passages or fields from
    matrix = matrix_of(index)
    if matrix is not None and matrix.dim == len(vector):
        keep = None if filters.is_empty() else bm25.rows(filters)
        if keep is None and index.settings.chroma_url and len(bm25.ids) > GRAPH_ABOVE:
            found = index.nearest_ids(vector, n, filters)
        else:
            found = [(bm25.ids[row], cosine) for row, cosine in matrix.nearest(vector, n, keep)]
    elif filters.is_empty():
        found = index.nearest_ids(vector, n, filters)
    elif _in_step(index):
        found = _filtered(index, vector, n, filters)
    else:  # the keyword index lags the rows (a write under way): Chroma's own filter sees them all
        found = index.nearest_ids(vector, n, filters)
    ids = [pid for pid, _ in found]
    passages = bm25.passages(ids)
    missing = [pid for pid in ids if pid not in passages]
    if missing:  # written since the keyword index was built, or an index built before it kept passages
        passages.update(index.get_passages(missing))
    return [(passages[pid], cosine) for pid, cosine in found if pid in passages]


def matrix_of(index: Index) -> Vectors | None:
    """The index's vector matrix, when it is built and the keyword index covers every row; else None."""
    if not _in_step(index):
        return None
    return index.vectors


def _in_step(index: Index) -> bool:
    """Whether the keyword index holds as many passages as the manifest (so its fields cover every row)."""
    key = (id(index), index.generation)
    if key not in _counted:
        _counted.clear()
        _counted[key] = sum(entry.passages for entry in index.reports.values())
    return _counted[key] == len(index.bm25.ids)


def _filtered(index: Index, vector: np.ndarray, n: int, filters: Filters) -> list[tuple[str, float]]:
    bm25 = index.bm25
    keep = bm25.rows(filters)
    allowed = np.flatnonzero(keep)
    total = len(bm25.ids)
    if len(allowed) == 0:
        return []
    if len(allowed) / total * min(OVERFETCH, total) >= MARGIN * min(n, len(allowed)):
        found = []
        for pid, cosine in index.nearest_ids(vector, min(OVERFETCH, total), Filters()):
            i = bm25.position(pid)
            if i is not None and keep[i]:
                found.append((pid, cosine))
                if len(found) == n:
                    return found
        if len(found) == len(allowed):
            return found
    ids = _ids_kept(bm25, allowed, filters)
    if len(ids) <= EXHAUSTIVE:
        rows = index.collection.get(ids=ids, include=["embeddings"])
        if rows["embeddings"] is not None and len(rows["ids"]) == len(ids):
            cosines = np.asarray(rows["embeddings"], dtype=np.float32) @ np.asarray(vector, dtype=np.float32)
            order = np.argsort(-cosines, kind="stable")[:n]
            return [(rows["ids"][i], float(cosines[i])) for i in order]
    return index.nearest_ids(vector, n, Filters(), ids=ids)


def _ids_kept(bm25: BM25Store, allowed: np.ndarray, filters: Filters) -> list[str]:
    """The ids of the keyword index's rows `allowed` (those `filters` keep), listed once per index and filter."""
    key = filters.model_dump_json()
    cached = _kept_ids.get(key)
    if cached is not None and cached[0] is bm25:
        return cached[1]
    ids = [bm25.ids[i] for i in allowed]
    if len(_kept_ids) >= CACHED_ID_LISTS:
        _kept_ids.pop(next(iter(_kept_ids)))
    _kept_ids[key] = (bm25, ids)
    return ids
