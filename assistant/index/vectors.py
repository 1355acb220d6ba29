"""The passages' vectors as one matrix, for exact dense search in numpy instead of Chroma's graph search.

At 100,000 passages Chroma's query restricted to a list of ids (how a council filter is applied) took
13-80 ms a call, and its vector index holds ~215 MB once loaded. Here the vectors are one float32
matrix (~154 MB at 100k), read once from Chroma by a child process (so the serving process never
loads Chroma's vector index) and cached in the index folder as

    .vectors/<key>.order.npy   which keyword-index row each matrix row is (written first)
    .vectors/<key>.npy         the unit-length vectors, rows grouped by council, then report

The key is the manifest generation, the model, and a digest of the keyword index's ids, so any
ingest or removal names another file: a reader finds the matrix of the index as it stands, or none,
never a stale one. Each file is written whole and renamed into place. The folder is hidden, so a
Chroma server's mirror (mirror.py) leaves it alone: each instance builds its own from the server.
Rows grouped by council and report make a council's or a report's filter one contiguous slice.
Above PRUNE_ABOVE rows, the matrix has a head beside it (`<key>.basis|head|rest.npy`, prune.py,
written before the matrix): searches of more rows than that read it first and rescore few rows.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from assistant.files import atomic_save_array
from assistant.index.prune import GATHER, Head, load_head, save_head

if TYPE_CHECKING:
    from assistant.index.bm25 import BM25Store
    from assistant.index.chroma import Collection
    from assistant.settings import Settings

log = logging.getLogger(__name__)

FOLDER = ".vectors"
BUILDING = ".building"  # a build under way in some process (its pid); older than BUILD_TIMEOUT, abandoned
BUILD_TIMEOUT = 30 * 60.0
RETRY_SECONDS = 60.0  # a failed or abandoned build is tried again after this long
# Rows read from Chroma per call (Chroma refuses very large batches).
BATCH = 2000
# Below this many passages Chroma's search is a few ms and its vector index small: no matrix is built.
MIN_PASSAGES = 20_000
# A search reading more rows than this is pruned (prune.py): its exact scan costs ~100 ms on two busy cores.
PRUNE_ABOVE = 150_000
# The settings the child process is given, and its exit status when the index was not in a state to build from.
CHILD_SETTINGS = {"index_dir", "chroma_url", "collection", "model_path", "max_passage_tokens"}
NOT_NOW = 3


def cache_key(generation: int, ids: list[str], model: str) -> str:
    """The name of the matrix of this commit: its generation, and a digest of its model and rows' ids."""
    digest = hashlib.sha1(model.encode("utf-8"))
    for pid in ids:
        digest.update(pid.encode("utf-8") + b"\n")
    return f"{generation}-{digest.hexdigest()[:16]}"


def layout(bm25: BM25Store) -> np.ndarray:
    """The keyword-index rows in matrix order: grouped by council, then by report (stable within)."""
    rows = np.arange(len(bm25.ids))
    council, source = bm25.meta.get("council"), bm25.meta.get("source")
    if council is None or source is None or len(council) != len(rows) or len(source) != len(rows):
        return rows
    return np.lexsort((rows, source, council))


class Vectors:
    """One commit's matrix: exact cosine search over all rows, or over the rows a filter keeps."""

    def __init__(self, matrix: np.ndarray, order: np.ndarray, head: Head | None = None) -> None:
        self.matrix = matrix  # unit rows, in `order`
        self.head = head  # for pruning searches of more than PRUNE_ABOVE rows (built for large matrices)
        self.order = order  # matrix row -> keyword-index row
        self.where = np.empty_like(order)  # keyword-index row -> matrix row
        self.where[order] = np.arange(len(order))
        # The last question's scores over a span of rows: a question is searched several ways (filtered,
        # then narrowed to a report), and each is a slice of the first.
        self._last: tuple[bytes, int, int, np.ndarray] | None = None
        # The last filter's rows in matrix order (the keyword index hands out the same mask for a filter):
        # reordering a mask costs ~5 ms at a million rows, and a question is searched twice or more.
        self._kept: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

    def kept(self, keep: np.ndarray | None) -> np.ndarray | None:
        """The matrix rows `keep` marks (by keyword-index row), ascending; None for every row."""
        if keep is None:
            return None
        held = self._kept
        if held is not None and held[0] is keep:
            return held[1]
        rows = np.flatnonzero(keep[self.order])
        self._kept = (keep, rows)
        return rows

    def cost(self, keep: np.ndarray | None) -> int:
        """How many rows an exact search under `keep` reads (what its time grows with)."""
        rows = self.kept(keep)
        if rows is None:
            return len(self.order)
        return 0 if not len(rows) else min(len(rows) * GATHER, int(rows[-1]) - int(rows[0]) + 1)

    def _covered(self, key: bytes, low: int, high: int) -> bool:
        """Whether the last scores kept are this question's over these rows."""
        last = self._last
        return last is not None and last[0] == key and last[1] <= low and high <= last[2]

    def _scores(self, unit: np.ndarray, key: bytes, low: int, high: int) -> np.ndarray:
        last = self._last
        if last is not None and self._covered(key, low, high):
            return last[3][low - last[1] : high - last[1]]
        scores = self.matrix[low:high] @ unit
        self._last = (key, low, high, scores)
        return scores

    def nearest(self, vector: np.ndarray, n: int, keep: np.ndarray | None = None) -> list[tuple[int, float]]:
        """The n rows nearest the vector (among those `keep` marks, by keyword-index row), as
        (keyword-index row, cosine similarity), nearest first."""
        vector = np.asarray(vector, dtype=np.float32)
        unit, key = vector / (float(np.linalg.norm(vector)) or 1.0), vector.tobytes()
        rows = self.kept(keep)
        if n <= 0 or (rows is not None and not len(rows)):
            return []
        span = (0, len(self.order)) if rows is None else (int(rows[0]), int(rows[-1]) + 1)
        if self.head is not None and self.cost(keep) > PRUNE_ABOVE and not self._covered(key, *span):
            found, cosines = self.head.nearest(self.matrix, unit, n, rows)
            return [(int(self.order[i]), float(c)) for i, c in zip(found, cosines, strict=True)]
        if rows is None:
            scores = self._scores(unit, key, 0, len(self.order))
        else:
            low, high = span
            last = self._last
            if last is not None and self._covered(key, low, high):
                scores = last[3][rows - last[1]]  # a slice of scores this question already has
            elif len(rows) * GATHER < high - low:
                scores = self.matrix[rows] @ unit  # few rows spread wide (a council's latest reports): read only those
            else:
                scores = self._scores(unit, key, low, high)[rows - low]
        count = min(n, len(scores))
        top = np.argpartition(-scores, count - 1)[:count]
        top = top[np.argsort(-scores[top], kind="stable")]
        at = top if rows is None else rows[top]
        return [(int(self.order[i]), float(scores[j])) for i, j in zip(at, top, strict=True)]

    def cosines(self, rows: list[int], vector: np.ndarray) -> np.ndarray:
        """Cosine similarity of the vector to these keyword-index rows."""
        vector = np.asarray(vector, dtype=np.float32)
        unit = vector / (float(np.linalg.norm(vector)) or 1.0)
        return np.asarray(self.matrix[self.where[np.asarray(rows, dtype=np.int64)]] @ unit)


def paths(root: Path, key: str) -> tuple[Path, Path]:
    """The matrix file and the order file of a key."""
    return root / FOLDER / f"{key}.npy", root / FOLDER / f"{key}.order.npy"


def load(root: Path, key: str, rows: int) -> Vectors | None:
    """The matrix of `key`, memory-mapped; None when it is missing or does not hold `rows` rows."""
    matrix_path, order_path = paths(root, key)
    if not matrix_path.is_file():
        return None
    try:
        matrix = np.load(matrix_path, mmap_mode="r")
        order = np.load(order_path)
        if (
            matrix.ndim != 2 or matrix.dtype != np.float32 or len(matrix) != rows or order.shape != (rows,)
            or not np.array_equal(np.sort(order), np.arange(rows))
        ):
            raise ValueError(f"shape {matrix.shape} {matrix.dtype}, order {order.shape}, {rows} rows expected")
    except (OSError, ValueError) as exc:
        log.warning("the vector cache %s is damaged (%s); it is rebuilt, and Chroma searches meanwhile", matrix_path, exc)
        for path in (matrix_path, order_path):
            path.unlink(missing_ok=True)
        return None
    return Vectors(matrix, order, load_head(root / FOLDER, key, rows, int(matrix.shape[1])))


def build(root: Path, collection: Collection, bm25: BM25Store, key: str) -> Path | None:
    """Read every row's vector from Chroma and write the matrix of `key`; None if Chroma lacks some row."""
    order = layout(bm25)
    ids = [bm25.ids[i] for i in order]
    matrix: np.ndarray | None = None
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        got = collection.get(ids=batch, include=["embeddings"])
        vectors = got["embeddings"]
        if vectors is None or len(got["ids"]) != len(batch):
            log.info("vector cache of %s not built: %d of %d rows in Chroma", root, len(got["ids"]), len(batch))
            return None
        found = np.asarray(vectors, dtype=np.float32)
        if matrix is None:
            matrix = np.empty((len(ids), found.shape[1]), dtype=np.float32)
        at = {pid: i for i, pid in enumerate(got["ids"])}
        # Chroma returns rows in its own order.
        matrix[start : start + len(batch)] = found[[at[pid] for pid in batch]]
    if matrix is None:
        return None
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    matrix /= np.where(norms > 0, norms, 1.0)
    matrix_path, order_path = paths(root, key)
    atomic_save_array(order_path, order.astype(np.int64))
    if len(matrix) > PRUNE_ABOVE:
        save_head(root / FOLDER, key, matrix)
    atomic_save_array(matrix_path, matrix)
    for old in (root / FOLDER).iterdir():
        if old.name.startswith("."):  # another build's file being written, or one a killed build left
            if old.name != BUILDING and _age(old) > BUILD_TIMEOUT:
                old.unlink(missing_ok=True)
        elif old.name.split(".", 1)[0] != key:
            old.unlink(missing_ok=True)  # a reader that mapped it keeps its copy until it moves on
    return matrix_path


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0


class VectorCache:
    """An index's matrix for the commit it reads: loaded when built, else built in a child process while
    Chroma searches (the child's reading loads Chroma's vector index there, not in the serving process)."""

    def __init__(self, root: Path, settings: Settings) -> None:
        self.root = root
        self.settings = settings
        self._held: tuple[str, Vectors] | None = None
        self._digest: tuple[BM25Store, int, str] | None = None  # the store held, so its identity is not reused
        self._started: dict[str, float] = {}  # keys whose build this process started, and when
        self._lock = threading.Lock()

    def key(self, generation: int, bm25: BM25Store, model: str) -> str:
        digest = self._digest
        if digest is None or digest[0] is not bm25 or digest[1] != generation:
            digest = (bm25, generation, cache_key(generation, bm25.ids, model))
            self._digest = digest
        return digest[2]

    def get(self, generation: int, bm25: BM25Store, model: str, *, build: bool = True) -> Vectors | None:
        """The matrix aligned with `bm25` at this generation (of vectors made by `model`), or None (Chroma
        searches) until it is built."""
        if len(bm25.ids) < MIN_PASSAGES:
            return None
        key = self.key(generation, bm25, model)
        held = self._held
        if held is not None and held[0] == key:
            return held[1]
        with self._lock:
            vectors = load(self.root, key, len(bm25.ids))
            self._held = None if vectors is None else (key, vectors)
            if vectors is None and build:
                self._start(key)
            return vectors

    def _start(self, key: str) -> None:
        started = self._started.get(key)
        if started is not None and time.monotonic() - started < RETRY_SECONDS:
            return
        self._started = {key: time.monotonic()}
        threading.Thread(target=self._build_in_child, name="vector-cache", daemon=True).start()

    def _build_in_child(self) -> None:
        # Only what opening the rows needs travels on the command line (never an API key).
        wanted = self.settings.model_dump_json(include=CHILD_SETTINGS)
        command = [sys.executable, "-m", "assistant.index.vectors", wanted]
        env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
        try:
            done = subprocess.run(command, env=env, capture_output=True, timeout=BUILD_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.warning("could not build the vector cache of %s (%s); Chroma searches instead", self.root, exc)
            return
        if done.returncode == NOT_NOW:
            log.debug("vector cache of %s not built now (a write is under way or rows are missing)", self.root)
        elif done.returncode != 0:
            log.warning("could not build the vector cache of %s: %s", self.root, done.stderr.decode(errors="replace")[-500:])


def build_for(settings: Settings, collection: Collection | None = None) -> Path | None:
    """Build the matrix of the index in `settings` as committed now, from `collection` or the one the settings
    name (None if a write is under way, the keyword index lags the commit, another process is building, or
    Chroma lacks rows); what the child process runs, and a writer after its commit."""
    from assistant.index.bm25 import FOLDER as BM25_FOLDER
    from assistant.index.bm25 import BM25Store
    from assistant.index.chroma import open_collection
    from assistant.index.derived import DerivedData
    from assistant.index.manifest import Manifest
    from assistant.index.store import DIRTY_FILE

    root = Path(settings.index_dir)

    def committed() -> int | None:
        """The generation, when nothing is being written and the keyword index was built from it."""
        generation = Manifest(root, settings).generation
        stamped = DerivedData(root, (), on_built=lambda _: None).stamps().get("bm25")
        return None if (root / DIRTY_FILE).exists() or stamped != generation else generation

    generation = committed()
    if generation is None:
        return None
    bm25 = BM25Store.load(root / BM25_FOLDER)
    key = cache_key(generation, bm25.ids, Manifest(root, settings).contents.model or "")
    if paths(root, key)[0].is_file():
        return paths(root, key)[0]
    (root / FOLDER).mkdir(parents=True, exist_ok=True)
    marker = root / FOLDER / BUILDING
    try:
        if time.time() - marker.stat().st_mtime < BUILD_TIMEOUT:
            return None  # another process is building it
        marker.unlink(missing_ok=True)
    except FileNotFoundError:
        pass
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return None
    try:
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        built = build(root, collection if collection is not None else open_collection(settings), bm25, key)
        if built is not None and committed() != generation:
            # A write began while the rows were read: they may be newer than the commit named.
            for path in paths(root, key):
                path.unlink(missing_ok=True)
            return None
        return built
    finally:
        marker.unlink(missing_ok=True)


if __name__ == "__main__":
    from assistant.settings import Settings as _Settings

    logging.basicConfig(level=logging.WARNING)
    sys.exit(0 if build_for(_Settings.model_validate_json(sys.argv[1])) is not None else NOT_NOW)
