"""The index: passages embedded into Chroma, a BM25 index beside them, and a manifest of files.

Layout of the index folder:
    manifest.json        provenance (model, splitter), a generation counter, one entry per ingested file
    reports/<hash>.json  each report's cleaned text and passages (for context and rebuilds)
    bm25/                BM25 index over every passage, rebuilt after each change
    commitments.json     register of commitments and inspections (assistant/register.py), rebuilt with bm25/
    derived.json         the manifest generation bm25/ and the register were built from
    chroma/              the embedded Chroma database (unless a Chroma server is configured)
    .dirty               present while a write is under way; found with the lock free, it means repair
    .lock                the one-writer lock, across processes (.lock.owner says who holds it)

Ingest runs are planned in assistant/batching.py; writes and crash repair are in assistant/store.py.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from assistant.documents.passages import (
    SPLITTER_VERSION,
    ParagraphNodeParser,
    report_document,
    token_counter,
    unit_spans,
)
from assistant.errors import AssistantError, IndexMismatch, IndexNotReady, SettingsError
from assistant.files import atomic_write
from assistant.index.ingest import FileResult, IngestSummary, run_ingest
from assistant.index.lock import DEFAULT_TIMEOUT, WriterLock
from assistant.index.store import DIRTY_FILE, Store
from assistant.settings import Settings, load_settings
from assistant.types import IndexedReport, Passage, Report

__all__ = ["FileResult", "Index", "IngestSummary", "open_collection"]

log = logging.getLogger(__name__)

MANIFEST_VERSION = 1
# Encoder batch for ingest: batches of 16 length-sorted passages pad far less than 64 and run as
# fast per token on CPU (measured: a 512-passage call at 16 matches one call over a whole corpus).
ENCODE_BATCH = 16
# An id no passage has: deleting it is a no-op write that makes Chroma take up other processes' writes.
_SYNC_ID = "__sync__"


def _empty_manifest() -> dict[str, Any]:
    return {"version": MANIFEST_VERSION, "generation": 0, "model": None, "splitter": None, "reports": {}}


class Index:
    """Open an index folder (created on first write); cheap to open, the model loads on first use.

    Reads follow what other processes commit (the manifest is re-read when its file changes);
    writes from any process take one lock and start from the manifest on disk.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: Any = None,
        collection: Any = None,
        lock_timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.settings = settings or load_settings()
        self.root = Path(self.settings.index_dir)
        self._embedder = embedder
        self._collection: Any = collection
        self._bm25: Any = None
        self._vector_store: Any = None
        self._units: dict[str, Any] = {}
        self._store = Store(self)
        self._lock = WriterLock(self.root, lock_timeout)
        # Web sessions read while an upload writes: lazy opens are locked, writes are serialised,
        # and the manifest's report table is replaced, never changed in place, so readers see a whole one.
        self._open_lock = threading.RLock()
        self._write_lock = threading.RLock()
        self._writes = 0  # nesting depth of _writing() in the thread that holds the write lock
        self._seen = self._manifest_stat()
        self.manifest = self._load_manifest()
        self._checked = -1  # the generation whose derived data was last found up to date

    # ------------------------------------------------------------ plumbing

    @property
    def embedder(self) -> Any:
        with self._open_lock:
            if self._embedder is None:
                from assistant.index.embedding import SentenceTransformerEmbedder

                self._embedder = SentenceTransformerEmbedder(
                    self.settings.model_path, query_threads=self.settings.query_threads, batch_size=ENCODE_BATCH
                )
            return self._embedder

    @property
    def collection(self) -> Any:
        with self._open_lock:
            if self._collection is None:
                self._collection = open_collection(self.settings)
            return self._collection

    @property
    def vector_store(self) -> Any:
        """llama-index's store over the collection, made once (every query goes through it)."""
        self._sync()
        with self._open_lock:
            if self._vector_store is None:
                from llama_index.vector_stores.chroma import ChromaVectorStore

                # This process's Chroma client may be shared with older Index objects that fell behind.
                self._catch_up()
                self._vector_store = ChromaVectorStore(chroma_collection=self.collection)
            return self._vector_store

    def _catch_up(self) -> None:
        """Make embedded Chroma's in-memory vector index take up rows other processes wrote.

        Chroma reads rows from SQLite but answers nearest-neighbour queries from an in-memory index
        that only applies other processes' writes when this process writes (measured with chromadb 1.x).
        """
        try:
            self.collection.delete(ids=[_SYNC_ID])
        except Exception:  # noqa: BLE001 - a read-only or busy store just stays as it was
            log.debug("could not bring Chroma up to date", exc_info=True)

    # ------------------------------------------------------------ the manifest

    def _manifest_path(self) -> Path:
        return self.root / "manifest.json"

    def _manifest_stat(self) -> tuple[int, int, int] | None:
        try:
            stat = self._manifest_path().stat()
        except OSError:
            return None
        return stat.st_ino, stat.st_mtime_ns, stat.st_size

    def _load_manifest(self) -> dict[str, Any]:
        path = self._manifest_path()
        if not path.is_file():
            return _empty_manifest()
        try:
            manifest = {**_empty_manifest(), **json.loads(path.read_text(encoding="utf-8"))}
            manifest["reports"] = {s: IndexedReport(**row) for s, row in manifest["reports"].items()}
            return manifest
        except (json.JSONDecodeError, OSError, ValidationError) as exc:
            raise IndexMismatch(
                f"{path} is damaged ({exc}); delete the folder {self.root} and run `assistant ingest`"
            ) from None

    def _reload(self) -> None:
        """Read the manifest from disk and forget everything derived from the old one."""
        stat = self._manifest_stat()
        manifest = self._load_manifest()
        with self._open_lock:
            changed = manifest.get("generation") != self.manifest.get("generation")
            self.manifest, self._seen = manifest, stat
            if changed:
                self._bm25 = None
                self._units.clear()
                if self._collection is not None:
                    self._catch_up()

    def _sync(self) -> None:
        """Take up what another process committed, if the manifest file changed since we read it."""
        if self._manifest_stat() != self._seen:
            self._reload()

    @property
    def generation(self) -> int:
        """How many commits the manifest has seen (derived data is stamped with it)."""
        return int(self.manifest.get("generation") or 0)

    def save_manifest(self) -> None:
        """Commit: write the manifest whole, one generation on."""
        self.manifest = {**self.manifest, "generation": self.generation + 1}
        rows = {source: entry.model_dump() for source, entry in self.manifest["reports"].items()}
        atomic_write(self._manifest_path(), json.dumps({**self.manifest, "reports": rows}, indent=1, sort_keys=True))
        self._seen = self._manifest_stat()

    def set_report(self, source: str, entry: IndexedReport | None) -> None:
        """Change one entry in memory (committed by save_manifest)."""
        reports = dict(self.manifest["reports"])
        if entry is None:
            reports.pop(source, None)
        else:
            reports[source] = entry
            self._units.pop(entry.hash, None)
        self.manifest = {**self.manifest, "reports": reports}

    def _provenance(self) -> dict[str, Any]:
        return {
            "model": self.settings.model_path and str(self.settings.model_path) or "all-MiniLM-L6-v2",
            "splitter": f"{SPLITTER_VERSION}/{self.settings.max_passage_tokens}",
        }

    def check_provenance(self) -> None:
        wanted = self._provenance()
        if not self.reports:
            self.manifest.update(wanted)
            return
        for key, value in wanted.items():
            if self.manifest.get(key) != value:
                raise IndexMismatch(
                    f"the index in {self.root} was built with {key} '{self.manifest.get(key)}', "
                    f"not '{value}'; use another ASSISTANT_INDEX_DIR or delete {self.root} and re-ingest"
                )

    # ------------------------------------------------------------ reading

    @property
    def reports(self) -> dict[str, IndexedReport]:
        """Ingested files: source name → manifest entry (metadata, hash, passage count)."""
        self._sync()
        return self.manifest["reports"]

    @property
    def councils(self) -> list[str]:
        """The councils the ingested reports are of, sorted (reports of no known council left out)."""
        return sorted({entry.council for entry in self.reports.values()} - {""})

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

    def load_report(self, source: str) -> tuple[Report, list[Passage]]:
        entry = self.reports.get(source)
        if entry is None:
            raise AssistantError(f"{source} is not in the index; `assistant docs` lists what is")
        path = self.root / "reports" / f"{entry.hash}.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise AssistantError(f"{source}: its stored passages cannot be read ({exc}); run `assistant ingest`") from None
        return Report(**data["report"]), [Passage(**p) for p in data["passages"]]

    def unit_vectors(self, source: str) -> dict[str, tuple[list[tuple[int, int, bool, bool]], np.ndarray]]:
        """Sentence (unit) spans and vectors of each passage of a report, computed at ingest."""
        entry = self.reports.get(source)
        if entry is None:
            return {}
        cached = self._units.get(entry.hash)
        if cached is not None:
            return cached
        folder = self.root / "reports"
        result: dict[str, tuple[list[tuple[int, int, bool, bool]], np.ndarray]] = {}
        try:
            data = json.loads((folder / f"{entry.hash}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return result  # removed by another process since we read the manifest
        array_path = folder / f"{entry.hash}.units.npy"
        if data.get("units") is not None and array_path.is_file():
            array = np.load(array_path).astype(np.float32)
            row = 0
            for passage, spans in zip(data["passages"], data["units"]):
                result[passage["id"]] = ([tuple(s) for s in spans], array[row : row + len(spans)])  # type: ignore[misc]
                row += len(spans)
        if len(self._units) > 256:
            self._units.clear()
        self._units[entry.hash] = result
        return result

    def all_passages(self) -> Iterable[Passage]:
        for source in sorted(self.reports):
            yield from self.load_report(source)[1]

    def get_passages(self, ids: Sequence[str]) -> dict[str, Passage]:
        if not ids:
            return {}
        rows = self.collection.get(ids=list(ids), include=["documents", "metadatas"])
        return {
            pid: Passage.from_metadata(pid, text, meta)
            for pid, text, meta in zip(rows["ids"], rows["documents"], rows["metadatas"])
        }

    @property
    def bm25(self) -> Any:
        """The keyword index; never raises: missing or stale, it is repaired, or searches go by meaning alone."""
        self._sync()
        with self._open_lock:
            if self._bm25 is None:
                self._bm25 = self._load_bm25()
            return self._bm25

    def forget_bm25(self) -> None:
        with self._open_lock:
            self._bm25 = None

    def _load_bm25(self) -> Any:
        from assistant.retrieval.search import BM25Store

        if not self.reports:
            return BM25Store(None, [], {}, {"council": [], "source": []}, {})
        repaired = self.repair()
        try:
            store = BM25Store.load(self.root / "bm25")
        except AssistantError as exc:
            log.warning("%s; searching by meaning alone until it is rebuilt", exc)
            return BM25Store(None, [], {}, {"council": [], "source": []}, {})
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
                if self._writes == 1:
                    self._reload()
                yield
            finally:
                self._writes -= 1
                self._lock.release()

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
            return run_ingest(self, self._store, paths, prune=prune, on_file=on_file, progress=progress)

    def split(self, report: Report) -> list[Passage]:
        """Passages of a report, through the llama-index node parser."""
        parser = ParagraphNodeParser(
            max_tokens=self.settings.max_passage_tokens,
            token_counter=token_counter(self.embedder.model_dir),
            include_prev_next_rel=False,
        )
        nodes = parser.get_nodes_from_documents([report_document(report)])
        return [Passage.from_metadata(n.node_id, n.get_content(), n.metadata) for n in nodes]

    def embed(self, passages: list[Passage]) -> tuple[np.ndarray, list[Any], list[np.ndarray]]:
        """Vectors (and sentence-unit vectors, when the embedder makes them) for many passages at once."""
        texts = [p.embedding_text() for p in passages]
        units = [unit_spans(p.text) for p in passages]
        with_units = getattr(self.embedder, "embed_with_units", None)
        if with_units is None:
            return self.embedder.embed_batch(texts), units, []
        shifts = [len(t) - len(p.text) for t, p in zip(texts, passages, strict=True)]
        spans = [[(shift + s, shift + e) for s, e, _, _ in u] for shift, u in zip(shifts, units, strict=True)]
        vectors, unit_vectors = with_units(texts, spans)
        return vectors, units, unit_vectors

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
            return result


def open_collection(settings: Settings) -> Any:
    """The Chroma collection: embedded in the index folder, or on a server when a URL is set."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        from urllib.parse import urlparse

        url = urlparse(settings.chroma_url)
        if not url.hostname:
            raise SettingsError(f"ASSISTANT_CHROMA_URL={settings.chroma_url}: expected a URL like http://127.0.0.1:8000")
        try:
            client = chromadb.HttpClient(
                host=url.hostname,
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        except Exception as exc:
            raise SettingsError(
                f"cannot reach the Chroma server at {settings.chroma_url} ({exc}); start it with "
                "`chroma run` or unset ASSISTANT_CHROMA_URL to use the embedded store"
            ) from None
    else:
        settings.chroma_dir.mkdir(parents=True, exist_ok=True)
        client = chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)
    return client.get_or_create_collection(
        settings.collection, metadata={"hnsw:space": "cosine"}, embedding_function=None
    )
