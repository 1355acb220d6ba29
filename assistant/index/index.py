"""The index: passages embedded into Chroma, a BM25 index beside them, and a manifest of files.

Layout of the index folder:
    manifest.json        provenance (model, splitter), a generation counter, one row per ingested file (manifest.py)
    reports/<hash>.json  each report's cleaned text and passages, and its sentence-unit vectors (files.py)
    bm25/                BM25 index over every passage, rebuilt after each change (bm25.py)
    .vectors/            every passage's vector as one matrix, per commit, for exact search (vectors.py)
    commitments.json     the register, when the index is given its builder (assistant/library.py)
    derived.json         the manifest generation bm25/ and the register were built from (derived.py)
    chroma/              the embedded Chroma database, unless a Chroma server is configured (chroma.py)
    .mirror.json         with a server: which of its commits the folder holds (mirror.py)
    .dirty               present while a write is under way; found with the lock free, it means repair
    .lock                the one-writer lock, across processes (.lock.owner says who holds it; lock.py)

Ingest runs are planned in ingest.py; writes and crash repair are in store.py. This class holds
them together: it opens what is needed on first use, follows other processes' commits, and takes
the locks around every write.

With a Chroma server (ASSISTANT_CHROMA_URL) the folder is a cache of the server's copy, so any
number of instances serve one library: a write takes the server's lease (remote.py), starts from
the server's latest commit and publishes its own; readers take up others' commits within a few
seconds of them (mirror.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import assistant.index.vectors as matrices
from assistant.errors import AssistantError, IndexNotReady
from assistant.index.bm25 import FOLDER as BM25_FOLDER
from assistant.index.bm25 import BM25Store
from assistant.index.chroma import Collection, Rows, open_collection
from assistant.index.derived import Derived, DerivedData
from assistant.index.embedding import Embedder
from assistant.index.files import ReportFiles, UnitVectors
from assistant.index.ingest import FileResult, IngestSummary, run_ingest, split_report
from assistant.index.lock import DEFAULT_TIMEOUT, WriterLock
from assistant.index.manifest import Manifest
from assistant.index.mirror import Mirror
from assistant.index.store import DIRTY_FILE, Store
from assistant.index.vectors import VectorCache, Vectors
from assistant.settings import Settings, load_settings
from assistant.types import Filters, IndexedReport, Passage, Report

if TYPE_CHECKING:
    import numpy as np
    from llama_index.vector_stores.chroma import ChromaVectorStore

__all__ = ["Derived", "FileResult", "Index", "IngestSummary", "open_collection"]

log = logging.getLogger(__name__)

# Encoder batch for ingest: batches of 16 length-sorted passages pad far less than 64 and run as
# fast per token on CPU (measured: a 512-passage call at 16 matches one call over a whole corpus).
ENCODE_BATCH = 16


class Index:
    """Open an index folder (created on first write); cheap to open, the model loads on first use.

    Reads follow what other processes commit (the manifest is re-read when its file changes);
    writes from any process take one lock and start from the manifest on disk. `derived` builds
    data derived from all passages above the index (the register: see assistant/library.py).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        collection: Collection | None = None,
        derived: Sequence[Derived] = (),
        lock_timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.settings = settings or load_settings()
        self.root = Path(self.settings.index_dir)
        self._embedder = embedder
        self._bm25: BM25Store | None = None
        self._councils: tuple[tuple[int, int, int], list[str]] | None = None
        # Web sessions read while an upload writes: lazy opens are locked, writes are serialised,
        # and the manifest's report table is replaced, never changed in place, so readers see a whole one.
        self._open_lock = threading.RLock()
        self._write_lock = threading.RLock()
        self._writes = 0  # nesting depth of _writing() in the thread that holds the write lock
        self._rows = Rows(self.settings, collection, self._open_lock)
        self._manifest = Manifest(self.root, self.settings)
        self._files = ReportFiles(self.root)
        self._derived = DerivedData(self.root, derived, on_built=self._built)
        self._store = Store(self.root, self._manifest, self._files, self._rows, self._derived, lambda: self.embedder)
        self._lock = WriterLock(self.root, lock_timeout)
        self._checked = -1  # the generation whose derived data was last found up to date
        self._mirror = Mirror(self.root, self.settings) if self.settings.chroma_url else None
        self._vectors = VectorCache(self.root, self.settings)

    # ------------------------------------------------------------ plumbing

    @property
    def embedder(self) -> Embedder:
        with self._open_lock:
            if self._embedder is None:
                from assistant.index.onnx_embedding import open_embedder

                self._embedder = open_embedder(
                    self.settings.model_path, query_threads=self.settings.query_threads, batch_size=ENCODE_BATCH
                )
            return self._embedder

    @property
    def collection(self) -> Collection:
        return self._rows.collection

    @property
    def vector_store(self) -> ChromaVectorStore:
        """llama-index's store over the collection, made once (every query goes through it)."""
        self._sync()
        return self._rows.vector_store

    def nearest(self, vector: np.ndarray, n: int, filters: Filters) -> list[tuple[Passage, float]]:
        """The n passages nearest the vector under the filters, each with its cosine similarity."""
        self._sync()
        result = self._rows.nearest(vector, n, filters)
        ids, distances = result["ids"][0], (result["distances"] or [[]])[0]
        documents, metadatas = (result["documents"] or [[]])[0], (result["metadatas"] or [[]])[0]
        return [
            (Passage.from_metadata(pid, text or "", meta or {}), 1.0 - float(distance))
            for pid, text, meta, distance in zip(ids, documents, metadatas, distances, strict=True)
        ]

    def nearest_ids(
        self, vector: np.ndarray, n: int, filters: Filters, ids: list[str] | None = None
    ) -> list[tuple[str, float]]:
        """Ids of the n rows nearest the vector under the filters (or among `ids`), with cosine similarity (no
        text read: reading rows' text and metadata from Chroma costs more than the search; see retrieval/dense.py)."""
        self._sync()
        result = self._rows.nearest(vector, n, filters, rows=False, ids=ids)
        return [(pid, 1.0 - float(d)) for pid, d in zip(result["ids"][0], (result["distances"] or [[]])[0], strict=True)]

    @property
    def vectors(self) -> Vectors | None:
        """Every passage's vector as one matrix aligned with the keyword index, for the commit read now; None
        (search through Chroma) at small sizes, during a write, or until a child process has built it."""
        bm25 = self.bm25
        if (self.root / DIRTY_FILE).exists():
            return None
        return self._vectors.get(self.generation, bm25, self._manifest.contents.model or "")

    def _reload(self) -> None:
        """Read the manifest from disk and forget everything derived from the old one."""
        stat = self._manifest.stat()
        contents = self._manifest.read()
        with self._open_lock:
            if self._manifest.take(contents, stat):
                self._bm25 = None
                self._files.forget()
                self._rows.catch_up_if_open()

    def _sync(self) -> None:
        """Take up what another process committed, if the manifest file changed since we read it."""
        if self._mirror is not None and self._mirror.due():
            self._follow()
        if self._manifest.changed_on_disk():
            self._reload()

    def _follow(self) -> None:
        """Pull what another instance published to the server, if it published (one small read every few seconds)."""
        assert self._mirror is not None
        # Never wait, and never in the middle of this thread's own write: a busy folder is served as it is.
        if not self._write_lock.acquire(blocking=False):
            return
        try:
            if self._writes:
                return
            head = self._mirror.check()
            if head is None or not self._lock.try_acquire():
                return
            self._writes += 1
            try:
                self._mirror.pull(head)
            except Exception as exc:  # noqa: BLE001 - the server or network failed: answer from the folder, retry later
                log.warning("could not take up the index from the Chroma server (%s); answering from %s", exc, self.root)
            finally:
                self._writes -= 1
                self._lock.release()
        finally:
            self._write_lock.release()

    @property
    def generation(self) -> int:
        """How many commits the manifest has seen (derived data is stamped with it)."""
        return self._manifest.generation

    # ------------------------------------------------------------ reading

    @property
    def reports(self) -> dict[str, IndexedReport]:
        """Ingested files: source name → manifest entry (metadata, hash, passage count)."""
        self._sync()
        return self._manifest.reports

    @property
    def councils(self) -> list[str]:
        """The councils the ingested reports are of, sorted (reports of no known council left out)."""
        reports = self.reports
        key = (self._manifest.generation, id(reports), len(reports))
        if self._councils is None or self._councils[0] != key:
            # Asked several times a question (scope, follow-ups, the register): one pass per commit, not per call.
            self._councils = (key, sorted({entry.council for entry in reports.values()} - {""}))
        return list(self._councils[1])

    def require_ready(self) -> None:
        """Repair what a crash left (when no one is writing), then insist on something to search."""
        self.repair()
        if not self.reports:
            raise IndexNotReady(
                f"the index in {self.root} is empty: run `assistant ingest corpus/` first"
            )

    def repair(self) -> bool:
        """Finish or undo an interrupted write and rebuild stale derived data; False if a writer is busy."""
        self._sync()
        dirty = (self.root / DIRTY_FILE).exists()
        if not dirty and self._checked == self.generation:
            return True
        if not dirty and not self._store.stale_derived():
            self._checked = self.generation
            return True
        # Never wait in a read: a writer at work (here or in another process) repairs when it finishes.
        if not self._write_lock.acquire(blocking=False):
            return False
        try:
            if not self._lock.try_acquire():
                return False
            try:
                self._reload()
                if (self.root / DIRTY_FILE).exists() and self._mirror is not None:
                    # A write here died: the server's commit replaces the folder. What it left on the
                    # server is repaired by the next writer, which finds its lease not released.
                    if not self._pull_after_crash(self._mirror):
                        return False
                    self._reload()
                if (self.root / DIRTY_FILE).exists():
                    self._store.reconcile()
                    self._store.finish()
                elif self._store.stale_derived():
                    self._store.rebuild_derived()
                self._checked = self.generation
                return True
            finally:
                self._lock.release()
        except (AssistantError, OSError) as exc:
            log.warning("could not repair the index in %s (%s); run `assistant ingest` to repair it", self.root, exc)
            return False
        finally:
            self._write_lock.release()

    def _pull_after_crash(self, mirror: Mirror) -> bool:
        """Replace what a dead write left in the folder with the server's commit; False if that cannot be done now."""
        try:
            # Nothing published yet: the next write repairs, holding the server's lease.
            return mirror.pull()
        except Exception as exc:  # noqa: BLE001 - never repair server rows from a folder that may be stale
            log.warning("could not take up the index from the Chroma server (%s); the folder %s stays as it is", exc, self.root)
            return False

    def load_report(self, source: str) -> tuple[Report, list[Passage]]:
        entry = self.reports.get(source)
        if entry is None:
            raise AssistantError(f"{source} is not in the index; `assistant docs` lists what is")
        return self._files.load(source, entry)

    def unit_vectors(self, source: str) -> UnitVectors:
        """Sentence (unit) spans and vectors of each passage of a report, computed at ingest."""
        entry = self.reports.get(source)
        return {} if entry is None else self._files.unit_vectors(entry)

    def all_passages(self) -> Iterable[Passage]:
        for source in sorted(self.reports):
            yield from self.load_report(source)[1]

    def get_passages(self, ids: Sequence[str]) -> dict[str, Passage]:
        if not ids:
            return {}
        rows = self.collection.get(ids=list(ids), include=["documents", "metadatas"])
        return {
            pid: Passage.from_metadata(pid, text, meta)
            for pid, text, meta in zip(rows["ids"], rows["documents"] or [], rows["metadatas"] or [])
        }

    @property
    def bm25(self) -> BM25Store:
        """The keyword index; never raises: missing or stale, it is repaired, or searches go by meaning alone."""
        self._sync()
        with self._open_lock:
            if self._bm25 is None:
                self._bm25 = self._load_bm25()
            return self._bm25

    def _built(self, name: str) -> None:
        """Derived data `name` was rewritten: a cached copy of it is out of date."""
        if name == "bm25":
            with self._open_lock:
                self._bm25 = None

    def _load_bm25(self) -> BM25Store:
        if not self.reports:
            return BM25Store.empty()
        repaired = self.repair()
        try:
            store = BM25Store.load(self.root / BM25_FOLDER)
        except AssistantError as exc:
            log.warning("%s; searching by meaning alone until it is rebuilt", exc)
            return BM25Store.empty()
        if not repaired and "bm25" in self._store.stale_derived():
            log.warning(
                "the keyword index in %s is older than the manifest (a write is under way or was interrupted); "
                "results may miss recent reports until `assistant ingest` finishes", self.root,
            )
        return store

    # ------------------------------------------------------------ writing

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Hold the write locks (this process's threads, then other processes) and start from the disk."""
        with self._write_lock:
            self._lock.acquire()
            self._writes += 1
            try:
                if self._writes > 1:
                    yield
                elif self._mirror is None:
                    self._reload()
                    yield
                else:
                    with self._shared_write(self._mirror):
                        yield
            finally:
                self._writes -= 1
                self._lock.release()

    @contextmanager
    def _shared_write(self, mirror: Mirror) -> Iterator[None]:
        """A write to the server's index: hold its lease, start from its latest commit, publish ours."""
        lease = mirror.server.lease(timeout=self._lock.timeout)
        clean = True  # until the server is written to: released unclean, the next writer repairs first
        try:
            head = mirror.server.head()
            if head is not None and mirror.behind(head):
                mirror.pull(head)
            self._reload()
            clean = False
            if lease.after_crash:
                # The last writer died holding the lease: drop rows and files its commit does not name.
                log.warning("repairing what an interrupted write left on the Chroma server")
                self._store.reconcile()
                self._store.finish()
                mirror.sweep()
            yield
            if not (self.root / DIRTY_FILE).exists():
                mirror.publish(lease, self.generation)
                clean = True
        finally:
            lease.release(clean=clean)
            if not clean:
                mirror.forget()

    def ingest(
        self,
        paths: Sequence[Path],
        *,
        prune: bool = False,
        on_file: Callable[[FileResult], None] | None = None,
        progress: Callable[[int, int, str], None] | None = None,
    ) -> IngestSummary:
        """Bring the index in step with the given files and folders; one bad file spoils nothing."""
        with self._writing():
            summary = run_ingest(
                self._store, paths, split=self.split, max_mb=self.settings.max_file_mb,
                prune=prune, on_file=on_file, progress=progress,
            )
            self._build_vectors()
            return summary

    def split(self, report: Report) -> list[Passage]:
        """Passages of a report, through the llama-index node parser."""
        return split_report(report, max_tokens=self.settings.max_passage_tokens, model_dir=self.embedder.model_dir)

    def remove(self, source: str, *, rebuild: bool = True) -> FileResult:
        """Drop a report from the index (its file is left alone); removing the last leaves a valid empty index."""
        with self._writing():
            store = self._store
            if (self.root / DIRTY_FILE).exists():
                store.reconcile()
            result = store.remove(source)
            if rebuild and (result.status == "removed" or store.stale_derived()):
                store.rebuild_derived()
                store.finish()
                self._build_vectors()
            return result

    def _build_vectors(self) -> None:
        """After a commit, at scale: write its vector matrix from the rows this writer holds open, so readers
        find it at once rather than searching Chroma (and loading its vector index) while a child builds it.
        With a server, each instance's folder builds its own (this one's would not travel, and reading every
        row over HTTP while holding the server's lease would hold up other writers)."""
        if self._mirror is not None:
            return
        if sum(entry.passages for entry in self._manifest.reports.values()) < matrices.MIN_PASSAGES:
            return
        try:
            matrices.build_for(self.settings, self.collection)
        except Exception as exc:  # noqa: BLE001 - the commit stands; a reader builds the matrix in a child process
            log.warning("could not build the vector matrix of %s (%s); a reader builds it", self.root, exc)
