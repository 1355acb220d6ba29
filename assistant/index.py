"""The index: passages embedded into Chroma, a BM25 index beside them, and a manifest of files.

Layout of the index folder:
    manifest.json        provenance (model, splitter) and one entry per ingested file
    reports/<hash>.json  each report's cleaned text and passages (for context and rebuilds)
    bm25/                BM25 index over every passage, rebuilt after each change
    chroma/              the embedded Chroma database (unless a Chroma server is configured)
    .dirty               present while a write is under way; its presence means reconcile
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.documents import content_hash, discover, load_manifest, read_bytes, read_report
from assistant.errors import AssistantError, IndexMismatch, IndexNotReady, ReportError, SettingsError
from assistant.passages import SPLITTER_VERSION, ParagraphNodeParser, passage_node, report_document, token_counter
from assistant.settings import Settings, load_settings
from assistant.types import Passage, Report, ReportMeta

log = logging.getLogger(__name__)

MANIFEST_VERSION = 1


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
        self.manifest = self._load_manifest()

    # ------------------------------------------------------------ plumbing

    @property
    def embedder(self) -> Any:
        if self._embedder is None:
            from assistant.embedding import SentenceTransformerEmbedder

            self._embedder = SentenceTransformerEmbedder(
                self.settings.model_path, query_threads=self.settings.query_threads
            )
        return self._embedder

    @property
    def collection(self) -> Any:
        if self._collection is None:
            self._collection = open_collection(self.settings)
        return self._collection

    @property
    def vector_store(self) -> Any:
        from llama_index.vector_stores.chroma import ChromaVectorStore

        return ChromaVectorStore(chroma_collection=self.collection)

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
        started = time.perf_counter()
        summary = IngestSummary()
        self._check_provenance()
        files = discover([Path(p) for p in paths])
        missing = [p for p in paths if not Path(p).exists()]
        for path in missing:
            result = FileResult(str(path), "failed", message=f"{path}: no such file or folder")
            summary.results.append(result)
            if on_file:
                on_file(result)
        manifests: dict[Path, dict[str, ReportMeta]] = {}
        hashes = {entry["hash"]: source for source, entry in self.reports.items()}
        seen: set[str] = set()
        changed = False
        dirty = self.root / ".dirty"
        if dirty.exists():
            self._reconcile()
        for number, path in enumerate(files, start=1):
            if progress:
                progress(number, len(files), path.name)
            folder = path.parent
            if folder not in manifests:
                manifests[folder] = load_manifest(folder)
            meta = manifests[folder].get(path.name)
            result = self._ingest_one(path, meta, hashes, seen, dirty)
            summary.embedded += result.passages if result.status in ("added", "updated") else 0
            changed |= result.status in ("added", "updated")
            summary.results.append(result)
            if on_file:
                on_file(result)
        if prune:
            kept = {p.name for p in files}
            for source in sorted(set(self.reports) - kept):
                result = self.remove(source, rebuild=False)
                changed = True
                summary.results.append(result)
                if on_file:
                    on_file(result)
        if changed:
            self._rebuild_bm25()
        if dirty.exists():
            dirty.unlink()
        summary.seconds = time.perf_counter() - started
        return summary

    def _ingest_one(
        self,
        path: Path,
        meta: ReportMeta | None,
        hashes: dict[str, str],
        seen: set[str],
        dirty: Path,
    ) -> FileResult:
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
            passages = self._add_report(report, meta_key, dirty)
            hashes[digest] = source
            return FileResult(str(path), "updated" if previous else "added", len(passages))
        except ReportError as exc:
            return FileResult(str(path), "failed", message=str(exc))
        except SettingsError:
            raise
        except AssistantError as exc:
            return FileResult(str(path), "failed", message=f"{source}: {exc}")

    def split(self, report: Report) -> list[Passage]:
        """Passages of a report, through the llama-index node parser."""
        parser = ParagraphNodeParser(
            max_tokens=self.settings.max_passage_tokens,
            token_counter=token_counter(self.embedder.model_dir),
            include_prev_next_rel=False,
        )
        nodes = parser.get_nodes_from_documents([report_document(report)])
        return [Passage.from_metadata(n.node_id, n.get_content(), n.metadata) for n in nodes]

    def _add_report(self, report: Report, overrides: dict[str, Any], dirty: Path) -> list[Passage]:
        passages = self.split(report)
        vectors = self.embedder.embed_batch([p.embedding_text() for p in passages])
        nodes = []
        for passage, vector in zip(passages, vectors):
            node = passage_node(passage)
            node.embedding = vector.tolist()
            nodes.append(node)
        self.root.mkdir(parents=True, exist_ok=True)
        dirty.touch()
        _atomic_write(
            self.root / "reports" / f"{report.content_hash}.json",
            json.dumps({"report": report.model_dump(), "passages": [p.model_dump() for p in passages]}),
        )
        new_ids = [p.id for p in passages]
        try:
            if nodes:
                self.vector_store.add(nodes)
        except Exception as exc:
            self._delete_ids(new_ids)
            raise AssistantError(f"the vector store refused the passages ({exc}); the index is unchanged") from exc
        old = self.reports.get(report.source)
        self.reports[report.source] = {
            "hash": report.content_hash,
            "ids": new_ids,
            "passages": len(passages),
            "overrides": overrides,
            "ingested_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
            **report.meta.model_dump(),
        }
        self._save_manifest()
        if old:
            self._delete_ids([i for i in old["ids"] if i not in set(new_ids)])
            if old["hash"] != report.content_hash:
                (self.root / "reports" / f"{old['hash']}.json").unlink(missing_ok=True)
        return passages

    def remove(self, source: str, *, rebuild: bool = True) -> FileResult:
        """Drop a report from the index (its file is left alone)."""
        entry = self.reports.get(source)
        if entry is None:
            return FileResult(source, "failed", message=f"{source} is not in the index; `assistant docs` lists what is")
        (self.root / ".dirty").touch()
        del self.reports[source]
        self._save_manifest()
        self._delete_ids(entry["ids"])
        (self.root / "reports" / f"{entry['hash']}.json").unlink(missing_ok=True)
        if rebuild:
            self._rebuild_bm25()
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
        for path in (self.root / "reports").glob("*.json"):
            if path.stem not in hashes:
                path.unlink()
        self._rebuild_bm25()

    def _rebuild_bm25(self) -> None:
        from assistant.retrieve import BM25Store

        BM25Store.build(list(self.all_passages())).save(self.root / "bm25")
        self._bm25 = None


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


def reset(settings: Settings) -> None:
    """Delete the whole index folder."""
    shutil.rmtree(settings.index_dir, ignore_errors=True)


def vectors_of(index: Index, ids: Sequence[str]) -> np.ndarray:
    rows = index.collection.get(ids=list(ids), include=["embeddings"])
    return np.asarray(rows["embeddings"], dtype=np.float32)
