"""The index: passages embedded into Chroma, a BM25 index beside them, and a manifest of files.

Layout of the index folder:
    manifest.json        provenance (model, splitter) and one entry per ingested file
    reports/<hash>.json  each report's cleaned text and passages (for context and rebuilds)
    bm25/                BM25 index over every passage, rebuilt after each change
    commitments.json     register of commitments and inspections (assistant/register.py), rebuilt with bm25/
    chroma/              the embedded Chroma database (unless a Chroma server is configured)
    .dirty               present while a write is under way; its presence means reconcile
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.documents import content_hash, discover, load_manifest, read_bytes, read_report
from assistant.errors import AssistantError, IndexMismatch, IndexNotReady, ReportError, SettingsError
from assistant.passages import (
    SPLITTER_VERSION,
    ParagraphNodeParser,
    passage_node,
    report_document,
    token_counter,
    unit_spans,
)
from assistant.settings import Settings, load_settings
from assistant.types import Passage, Report, ReportMeta

log = logging.getLogger(__name__)

MANIFEST_VERSION = 1
# Passages embedded per call across files: enough for the encoder's length-sorted batches to
# carry little padding, few enough that a batch's token vectors stay small in memory.
EMBED_BATCH = 512
# Encoder batch for ingest: batches of 16 length-sorted passages pad far less than 64 and run as
# fast per token on CPU (measured: a 512-passage call at 16 matches one call over a whole corpus).
ENCODE_BATCH = 16


@dataclass
class FileResult:
    """What ingest did with one file."""

    path: str
    status: str  # added, updated, unchanged, failed, removed
    passages: int = 0
    message: str = ""

    @property
    def source(self) -> str:
        return Path(self.path).name


@dataclass
class _Pending:
    """A report read and split, waiting to be embedded and stored."""

    path: Path
    report: Report
    passages: list[Passage]
    overrides: dict[str, Any]
    replaces: bool


@dataclass
class IngestSummary:
    results: list[FileResult] = field(default_factory=list)
    seconds: float = 0.0
    embedded: int = 0

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def failed(self) -> bool:
        return self.count("failed") > 0


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


class Index:
    """Open an index folder (created on first write); cheap to open, the model loads on first use."""

    def __init__(self, settings: Settings | None = None, *, embedder: Any = None) -> None:
        self.settings = settings or load_settings()
        self.root = Path(self.settings.index_dir)
        self._embedder = embedder
        self._client: Any = None
        self._collection: Any = None
        self._bm25: Any = None
        self._vector_store: Any = None
        self._unsafe = False  # a failed write could not be undone: keep .dirty so the next ingest repairs
        self._units: dict[str, Any] = {}
        # Web sessions read while an upload writes: lazy opens are locked, writes are serialised,
        # and the manifest's report table is replaced, never changed in place, so readers see a whole one.
        self._open_lock = threading.RLock()
        self._write_lock = threading.RLock()
        self.manifest = self._load_manifest()

    # ------------------------------------------------------------ plumbing

    @property
    def embedder(self) -> Any:
        with self._open_lock:
            if self._embedder is None:
                from assistant.embedding import SentenceTransformerEmbedder

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
        with self._open_lock:
            if self._vector_store is None:
                from llama_index.vector_stores.chroma import ChromaVectorStore

                self._vector_store = ChromaVectorStore(chroma_collection=self.collection)
            return self._vector_store

    def _manifest_path(self) -> Path:
        return self.root / "manifest.json"

    def _load_manifest(self) -> dict[str, Any]:
        path = self._manifest_path()
        if not path.is_file():
            return {"version": MANIFEST_VERSION, "model": None, "splitter": None, "reports": {}}
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, OSError) as exc:
            raise IndexMismatch(
                f"{path} is damaged ({exc}); delete the folder {self.root} and run `assistant ingest`"
            ) from None

    def _save_manifest(self) -> None:
        _atomic_write(self._manifest_path(), json.dumps(self.manifest, indent=1, sort_keys=True))

    def _provenance(self) -> dict[str, Any]:
        return {
            "model": self.settings.model_path and str(self.settings.model_path) or "all-MiniLM-L6-v2",
            "splitter": f"{SPLITTER_VERSION}/{self.settings.max_passage_tokens}",
        }

    def _check_provenance(self) -> None:
        wanted = self._provenance()
        if not self.manifest["reports"]:
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
    def reports(self) -> dict[str, dict[str, Any]]:
        """Ingested files: source name → manifest entry (metadata, hash, passage count)."""
        return self.manifest["reports"]

    def require_ready(self) -> None:
        if not self.reports:
            raise IndexNotReady(
                f"the index in {self.root} is empty: run `assistant ingest corpus/` first"
            )

    def load_report(self, source: str) -> tuple[Report, list[Passage]]:
        entry = self.reports.get(source)
        if entry is None:
            raise AssistantError(f"{source} is not in the index; `assistant docs` lists what is")
        data = json.loads((self.root / "reports" / f"{entry['hash']}.json").read_text(encoding="utf-8"))
        return Report(**data["report"]), [Passage(**p) for p in data["passages"]]

    def unit_vectors(self, source: str) -> dict[str, tuple[list[tuple[int, int, bool, bool]], np.ndarray]]:
        """Sentence (unit) spans and vectors of each passage of a report, computed at ingest."""
        entry = self.reports.get(source)
        if entry is None:
            return {}
        cached = self._units.get(entry["hash"])
        if cached is not None:
            return cached
        folder = self.root / "reports"
        data = json.loads((folder / f"{entry['hash']}.json").read_text(encoding="utf-8"))
        result: dict[str, tuple[list[tuple[int, int, bool, bool]], np.ndarray]] = {}
        array_path = folder / f"{entry['hash']}.units.npy"
        if data.get("units") is not None and array_path.is_file():
            array = np.load(array_path).astype(np.float32)
            row = 0
            for passage, spans in zip(data["passages"], data["units"]):
                result[passage["id"]] = ([tuple(s) for s in spans], array[row : row + len(spans)])  # type: ignore[misc]
                row += len(spans)
        if len(self._units) > 256:
            self._units.clear()
        self._units[entry["hash"]] = result
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
        with self._open_lock:
            if self._bm25 is None:
                from assistant.retrieve import BM25Store

                self._bm25 = BM25Store.load(self.root / "bm25")
            return self._bm25

    # ------------------------------------------------------------ writing

    def ingest(
        self,
        paths: Sequence[Path],
        *,
        prune: bool = False,
        on_file: Callable[[FileResult], None] | None = None,
        progress: Callable[[int, int, str], None] | None = None,
    ) -> IngestSummary:
        """Bring the index in step with the given files and folders; one bad file spoils nothing."""
        with self._write_lock:
            return self._ingest(paths, prune=prune, on_file=on_file, progress=progress)

    def _ingest(
        self,
        paths: Sequence[Path],
        *,
        prune: bool,
        on_file: Callable[[FileResult], None] | None,
        progress: Callable[[int, int, str], None] | None,
    ) -> IngestSummary:
        started = time.perf_counter()
        summary = IngestSummary()

        def record(result: FileResult) -> None:
            summary.results.append(result)
            if result.status in ("added", "updated"):
                summary.embedded += result.passages
            if on_file:
                on_file(result)

        self._check_provenance()
        given = [Path(p) for p in paths]
        for path in given:
            if not path.exists():
                record(FileResult(str(path), "failed", message=f"{path}: no such file or folder (check the path)"))
        files = discover([p for p in given if p.exists()])
        # Every manifest is read before any work, so a bad one stops the run with nothing written.
        manifests = {folder: load_manifest(folder) for folder in dict.fromkeys(p.parent for p in files)}
        seen: set[str] = set()
        dirty = self.root / ".dirty"
        self._unsafe = False
        if dirty.exists():
            self._reconcile()
        if prune:
            # Pruned first: a report renamed on disk is then added under its new name, not refused
            # as a copy of the old one.
            kept = {p.name for p in files}
            for source in sorted(set(self.reports) - kept):
                record(self.remove(source, rebuild=False))
        hashes = {entry["hash"]: source for source, entry in self.reports.items()}
        pending: list[_Pending] = []

        def flush() -> None:
            for result in self._commit(pending, hashes, dirty):
                record(result)
            pending.clear()

        for number, path in enumerate(files, start=1):
            if progress:
                progress(number, len(files), path.name)
            prepared = self._prepare(path, manifests[path.parent].get(path.name), hashes, seen)
            if isinstance(prepared, FileResult):
                record(prepared)
                continue
            pending.append(prepared)
            if sum(len(p.passages) for p in pending) >= EMBED_BATCH:
                flush()
        flush()
        if any(r.status in ("added", "updated", "removed") for r in summary.results):
            self._rebuild_derived()
        if dirty.exists() and not self._unsafe:
            dirty.unlink()
        summary.seconds = time.perf_counter() - started
        return summary

    def _prepare(
        self,
        path: Path,
        meta: ReportMeta | None,
        hashes: dict[str, str],
        seen: set[str],
    ) -> FileResult | _Pending:
        """Read and split one file, or say why it is skipped or refused; nothing is written."""
        source = path.name
        try:
            data = read_bytes(path, self.settings.max_file_mb)
            digest = content_hash(data)
            meta_key = meta.model_dump() if meta else {}
            previous = self.reports.get(source)
            if source in seen:
                return FileResult(str(path), "failed", message=f"{source}: another file of the same name was ingested in this run; rename one")
            seen.add(source)
            if previous and previous["hash"] == digest and previous.get("overrides", {}) == meta_key:
                return FileResult(str(path), "unchanged", previous["passages"])
            owner = hashes.get(digest)
            if owner and owner != source:
                return FileResult(
                    str(path), "failed",
                    message=f"{source}: same content as {owner}, already indexed; remove one copy",
                )
            report = read_report(path, max_mb=self.settings.max_file_mb, meta=meta, data=data)
            passages = self.split(report)
        except ReportError as exc:
            return FileResult(str(path), "failed", message=str(exc))
        except SettingsError:
            raise
        except AssistantError as exc:
            return FileResult(str(path), "failed", message=f"{source}: {exc}")
        hashes[digest] = source
        return _Pending(path, report, passages, meta_key, previous is not None)

    def split(self, report: Report) -> list[Passage]:
        """Passages of a report, through the llama-index node parser."""
        parser = ParagraphNodeParser(
            max_tokens=self.settings.max_passage_tokens,
            token_counter=token_counter(self.embedder.model_dir),
            include_prev_next_rel=False,
        )
        nodes = parser.get_nodes_from_documents([report_document(report)])
        return [Passage.from_metadata(n.node_id, n.get_content(), n.metadata) for n in nodes]

    def _embed(self, passages: list[Passage]) -> tuple[np.ndarray, list[Any], list[np.ndarray]]:
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

    def _commit(self, pending: list[_Pending], hashes: dict[str, str], dirty: Path) -> list[FileResult]:
        """Embed the pending reports in one call, then store each whole or not at all."""
        if not pending:
            return []
        every = [p for item in pending for p in item.passages]
        try:
            # One call across files: the encoder sorts by length, so batches carry less padding.
            vectors, units, unit_vectors = self._embed(every)
            if len(vectors) != len(every):
                raise ValueError(f"{len(vectors)} vectors for {len(every)} passages")
        except Exception as exc:
            for item in pending:
                hashes.pop(item.report.content_hash, None)
            return [
                FileResult(str(item.path), "failed", message=f"{item.report.source}: embedding failed ({exc}); the index is unchanged")
                for item in pending
            ]
        self.root.mkdir(parents=True, exist_ok=True)
        dirty.touch()
        nodes: list[list[Any]] = []
        row = 0
        for item in pending:
            nodes.append(self._nodes(item.passages, vectors[row : row + len(item.passages)]))
            row += len(item.passages)
        added = self._add_together([n for item, n in zip(pending, nodes, strict=True) if not self._in_place(item.report)])
        results: list[FileResult] = []
        cleanup: list[tuple[list[str], list[Path]]] = []
        row = 0
        for item, item_nodes in zip(pending, nodes, strict=True):
            end = row + len(item.passages)
            try:
                cleanup.append(
                    self._store(
                        item,
                        item_nodes,
                        units[row:end],
                        unit_vectors[row:end] if unit_vectors else [],
                        already_added=added and not self._in_place(item.report),
                    )
                )
                results.append(FileResult(str(item.path), "updated" if item.replaces else "added", len(item.passages)))
            except AssistantError as exc:
                hashes.pop(item.report.content_hash, None)
                results.append(FileResult(str(item.path), "failed", message=f"{item.report.source}: {exc}"))
            row = end
        if cleanup:
            # The manifest is the commit point: written once per batch, before old passages go.
            self._save_manifest()
            for ids, files in cleanup:
                self._delete_ids(ids)
                for path in files:
                    path.unlink(missing_ok=True)
        return results

    @staticmethod
    def _nodes(passages: list[Passage], vectors: np.ndarray) -> list[Any]:
        nodes = []
        for passage, vector in zip(passages, vectors, strict=True):
            node = passage_node(passage)
            node.embedding = vector.tolist()
            nodes.append(node)
        return nodes

    def _in_place(self, report: Report) -> bool:
        old = self.reports.get(report.source)
        return old is not None and old["hash"] == report.content_hash

    def _add_together(self, groups: list[list[Any]]) -> bool:
        """Add several new reports' rows in one Chroma call (each call is a commit, ~40 ms embedded).

        False when there is nothing to share or the call failed: after undoing it, each report
        is then added on its own, so one report the store refuses fails alone.
        """
        batch = [node for group in groups for node in group]
        if sum(1 for group in groups if group) < 2:
            return False
        try:
            self.vector_store.add(batch)
            return True
        except Exception:
            log.warning("adding %d passages at once failed; adding report by report", len(batch), exc_info=True)
            try:
                self._delete_ids([node.node_id for node in batch])
            except Exception:
                self._unsafe = True
            return False

    def _store(
        self,
        item: _Pending,
        nodes: list[Any],
        units: list[Any],
        unit_vectors: list[np.ndarray],
        *,
        already_added: bool = False,
    ) -> tuple[list[str], list[Path]]:
        """Write one report to Chroma and its files, or undo it all; returns what it replaced."""
        report, passages = item.report, item.passages
        folder = self.root / "reports"
        json_path = folder / f"{report.content_hash}.json"
        units_path = folder / f"{report.content_hash}.units.npy"
        new_ids = [p.id for p in passages]
        old = self.reports.get(report.source)
        # Same content with new manifest metadata: the passage ids are the same, so rows are
        # overwritten in place and the old ones kept to put back if anything fails.
        in_place = self._in_place(report)
        backup: dict[str, Any] = {}
        saved_files: dict[Path, bytes] = {}
        if old is not None and in_place:
            backup = self.collection.get(ids=old["ids"], include=["embeddings", "metadatas", "documents"])
            saved_files = {p: p.read_bytes() for p in (json_path, units_path) if p.is_file()}
        try:
            if in_place:
                self._upsert(nodes)
            elif nodes and not already_added:
                self.vector_store.add(nodes)
            if unit_vectors:
                stacked = np.concatenate(unit_vectors) if any(len(u) for u in unit_vectors) else np.zeros((0, 384))
                _atomic_save_array(units_path, stacked.astype(np.float16))
            _atomic_write(
                json_path,
                json.dumps(
                    {
                        "report": report.model_dump(),
                        "passages": [p.model_dump() for p in passages],
                        "units": [[list(span) for span in u] for u in units] if unit_vectors else None,
                    }
                ),
            )
        except Exception as exc:
            self._undo(new_ids, in_place, backup, saved_files, (json_path, units_path))
            raise AssistantError(f"the vector store refused the passages ({exc}); the index is unchanged") from exc
        self._set_report(report.source, {
            "hash": report.content_hash,
            "ids": new_ids,
            "passages": len(passages),
            "overrides": item.overrides,
            "ingested_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
            **report.meta.model_dump(),
        })
        self._units.pop(report.content_hash, None)
        if old is None:
            return [], []
        stale_ids = [i for i in old["ids"] if i not in set(new_ids)]
        stale_files = [] if in_place else [folder / f"{old['hash']}.json", folder / f"{old['hash']}.units.npy"]
        return stale_ids, stale_files

    def _upsert(self, nodes: list[Any]) -> None:
        """Overwrite rows by id, stored exactly as ChromaVectorStore.add stores them."""
        from llama_index.core.vector_stores.utils import node_to_metadata_dict

        metadatas = []
        for node in nodes:
            metadata = node_to_metadata_dict(node, remove_text=True, flat_metadata=True)
            metadatas.append({k: ("" if v is None else v) for k, v in metadata.items()})
        self.collection.upsert(
            ids=[n.node_id for n in nodes],
            embeddings=[n.get_embedding() for n in nodes],
            metadatas=metadatas,
            documents=[n.get_content() for n in nodes],
        )

    def _undo(
        self,
        new_ids: list[str],
        in_place: bool,
        backup: dict[str, Any],
        saved_files: dict[Path, bytes],
        written: tuple[Path, ...],
    ) -> None:
        """Put the index back as it was before a report's failed write (reconcile later if this fails too)."""
        try:
            if in_place:
                if backup.get("ids"):
                    self.collection.upsert(
                        ids=backup["ids"],
                        embeddings=backup["embeddings"],
                        metadatas=backup["metadatas"],
                        documents=backup["documents"],
                    )
            else:
                self._delete_ids(new_ids)
            for path in written:
                if path in saved_files:
                    _atomic_save_bytes(path, saved_files[path])
                elif not in_place:
                    path.unlink(missing_ok=True)
        except Exception:
            log.warning("could not undo a failed write; the next ingest will repair the index", exc_info=True)
            self._unsafe = True

    def _set_report(self, source: str, entry: dict[str, Any] | None) -> None:
        reports = dict(self.manifest["reports"])
        if entry is None:
            reports.pop(source, None)
        else:
            reports[source] = entry
        self.manifest = {**self.manifest, "reports": reports}

    def remove(self, source: str, *, rebuild: bool = True) -> FileResult:
        """Drop a report from the index (its file is left alone)."""
        with self._write_lock:
            return self._remove(source, rebuild=rebuild)

    def _remove(self, source: str, *, rebuild: bool) -> FileResult:
        entry = self.reports.get(source)
        if entry is None:
            return FileResult(source, "failed", message=f"{source} is not in the index; `assistant docs` lists what is")
        (self.root / ".dirty").touch()
        self._set_report(source, None)
        self._save_manifest()
        self._delete_ids(entry["ids"])
        (self.root / "reports" / f"{entry['hash']}.json").unlink(missing_ok=True)
        (self.root / "reports" / f"{entry['hash']}.units.npy").unlink(missing_ok=True)
        if rebuild:
            self._rebuild_derived()
            (self.root / ".dirty").unlink(missing_ok=True)
        return FileResult(source, "removed", entry["passages"])

    def _delete_ids(self, ids: list[str]) -> None:
        for start in range(0, len(ids), 5000):
            self.collection.delete(ids=ids[start : start + 5000])

    def _reconcile(self) -> None:
        """After an interrupted write: drop vectors and files the manifest does not own."""
        wanted = {i for entry in self.reports.values() for i in entry["ids"]}
        stored = self.collection.get(include=[])["ids"]
        orphans = [i for i in stored if i not in wanted]
        if orphans:
            log.warning("removing %d passages left by an interrupted ingest", len(orphans))
            self._delete_ids(orphans)
        hashes = {entry["hash"] for entry in self.reports.values()}
        for path in (self.root / "reports").glob("*.*"):
            if path.name.split(".")[0] not in hashes:
                path.unlink()
        self._rebuild_derived()

    def _rebuild_derived(self) -> None:
        """Rebuild what is derived from all passages: the BM25 index and the commitments register."""
        from assistant.register import write_register
        from assistant.retrieve import BM25Store

        passages = list(self.all_passages())
        BM25Store.build(passages).save(self.root / "bm25")
        self._bm25 = None
        # The commitments register is derived from the same passages: rebuilt with them.
        write_register(self.root, passages)


def _atomic_save_bytes(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _atomic_save_array(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".npy")
    with os.fdopen(fd, "wb") as handle:
        np.save(handle, array)
    os.replace(tmp, path)


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
