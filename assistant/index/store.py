"""The index's write path: store reports whole or not at all, remove them, repair after a crash.

Order of a write, so a crash at any point leaves something the next command repairs:
    .dirty touched -> Chroma rows and report files written -> manifest.json replaced (the commit)
    -> rows and files the manifest no longer names deleted -> BM25 and register rebuilt and stamped
    in derived.json with the manifest's generation -> .dirty removed.
Everything before the commit is undone by `reconcile` (rows and files the manifest does not name are
dropped); everything after it is redone (stale derived data is rebuilt).
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.documents.passages import passage_node
from assistant.errors import AssistantError
from assistant.files import atomic_save_array, atomic_save_bytes, atomic_write
from assistant.index.lock import crash_point
from assistant.types import IndexedReport, Passage, Report

if TYPE_CHECKING:
    from assistant.index.index import Index
    from assistant.index.ingest import FileResult

log = logging.getLogger(__name__)

DIRTY_FILE = ".dirty"
DERIVED_FILE = "derived.json"
# A manifest entry whose rows may hold newer metadata than it says: the next ingest of the file redoes it.
INTERRUPTED = {"interrupted": True}


@dataclass
class Pending:
    """A report read and split, waiting to be embedded and stored."""

    path: Path
    report: Report
    passages: list[Passage]
    overrides: dict[str, Any]
    replaces: bool


class Store:
    """Writes for one Index; the caller holds the index's write locks."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self.unsafe = False  # a failed write could not be undone: keep .dirty so the next command repairs

    @property
    def dirty(self) -> Path:
        return self.index.root / DIRTY_FILE

    def mark_dirty(self, in_place: str = "") -> None:
        """Say a write is under way; name a report whose rows are overwritten in place."""
        self.index.root.mkdir(parents=True, exist_ok=True)
        journal = self._journal()
        if in_place and in_place not in journal:
            journal.append(in_place)
        atomic_write(self.dirty, json.dumps({"in_place": journal}))

    def _journal(self) -> list[str]:
        try:
            return list(json.loads(self.dirty.read_text(encoding="utf-8") or "{}").get("in_place", []))
        except (OSError, ValueError, AttributeError):
            return []

    def finish(self) -> None:
        """The write is done and the derived data stamped: drop .dirty unless an undo failed."""
        if not self.unsafe:
            self.dirty.unlink(missing_ok=True)

    # ------------------------------------------------------------ adding

    def commit(self, pending: list[Pending], hashes: dict[str, str]) -> list[FileResult]:
        """Embed the pending reports in one call, then store each whole or not at all."""
        from assistant.index.ingest import FileResult

        if not pending:
            return []
        crash_point("read")
        every = [p for item in pending for p in item.passages]
        try:
            # One call across files: the encoder sorts by length, so batches carry less padding.
            vectors, units, unit_vectors = self.index.embed(every)
            if len(vectors) != len(every):
                raise ValueError(f"{len(vectors)} vectors for {len(every)} passages")
        except Exception as exc:
            for item in pending:
                hashes.pop(item.report.content_hash, None)
            return [
                FileResult(str(item.path), "failed", message=f"{item.report.source}: embedding failed ({exc}); the index is unchanged")
                for item in pending
            ]
        crash_point("embedded")
        self.mark_dirty()
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
        crash_point("chroma")
        if cleanup:
            # The manifest is the commit point: written once per batch, before old passages go.
            self.index.save_manifest()
            crash_point("manifest")
            for ids, files in cleanup:
                self.delete_ids(ids)
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
        old = self.index.reports.get(report.source)
        return old is not None and old.hash == report.content_hash

    def _add_together(self, groups: list[list[Any]]) -> bool:
        """Add several new reports' rows in one Chroma call (each call is a commit, ~40 ms embedded).

        False when there is nothing to share or the call failed: after undoing it, each report
        is then added on its own, so one report the store refuses fails alone.
        """
        batch = [node for group in groups for node in group]
        if sum(1 for group in groups if group) < 2:
            return False
        try:
            self.index.vector_store.add(batch)
            return True
        except Exception:
            log.warning("adding %d passages at once failed; adding report by report", len(batch), exc_info=True)
            try:
                self.delete_ids([node.node_id for node in batch])
            except Exception:
                self.unsafe = True
            return False

    def _store(
        self,
        item: Pending,
        nodes: list[Any],
        units: list[Any],
        unit_vectors: list[np.ndarray],
        *,
        already_added: bool = False,
    ) -> tuple[list[str], list[Path]]:
        """Write one report to Chroma and its files, or undo it all; returns what it replaced."""
        report, passages = item.report, item.passages
        folder = self.index.root / "reports"
        json_path = folder / f"{report.content_hash}.json"
        units_path = folder / f"{report.content_hash}.units.npy"
        new_ids = [p.id for p in passages]
        old = self.index.reports.get(report.source)
        # Same content with new manifest metadata: the passage ids are the same, so rows are
        # overwritten in place and the old ones kept to put back if anything fails.
        in_place = self._in_place(report)
        backup: dict[str, Any] = {}
        saved_files: dict[Path, bytes] = {}
        if old is not None and in_place:
            backup = self.index.collection.get(ids=old.ids, include=["embeddings", "metadatas", "documents"])
            saved_files = {p: p.read_bytes() for p in (json_path, units_path) if p.is_file()}
            self.mark_dirty(in_place=report.source)
        try:
            if in_place:
                self._upsert(nodes)
            elif nodes and not already_added:
                self.index.vector_store.add(nodes)
            if unit_vectors:
                stacked = np.concatenate(unit_vectors) if any(len(u) for u in unit_vectors) else np.zeros((0, 384))
                atomic_save_array(units_path, stacked.astype(np.float16))
            atomic_write(
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
        self.index.set_report(report.source, IndexedReport(
            hash=report.content_hash,
            ids=new_ids,
            passages=len(passages),
            overrides=item.overrides,
            ingested_at=time.strftime("%Y-%m-%dT%H:%M:%S"),
            **report.meta.model_dump(),
        ))
        if old is None:
            return [], []
        stale_ids = [i for i in old.ids if i not in set(new_ids)]
        stale_files = [] if in_place else [folder / f"{old.hash}.json", folder / f"{old.hash}.units.npy"]
        return stale_ids, stale_files

    def _upsert(self, nodes: list[Any]) -> None:
        """Overwrite rows by id, stored exactly as ChromaVectorStore.add stores them."""
        from llama_index.core.vector_stores.utils import node_to_metadata_dict

        metadatas = []
        for node in nodes:
            metadata = node_to_metadata_dict(node, remove_text=True, flat_metadata=True)
            metadatas.append({k: ("" if v is None else v) for k, v in metadata.items()})
        self.index.collection.upsert(
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
                    self.index.collection.upsert(
                        ids=backup["ids"],
                        embeddings=backup["embeddings"],
                        metadatas=backup["metadatas"],
                        documents=backup["documents"],
                    )
            else:
                self.delete_ids(new_ids)
            for path in written:
                if path in saved_files:
                    atomic_save_bytes(path, saved_files[path])
                elif not in_place:
                    path.unlink(missing_ok=True)
        except Exception:
            log.warning("could not undo a failed write; the next command will repair the index", exc_info=True)
            self.unsafe = True

    # ------------------------------------------------------------ removing and repairing

    def remove(self, source: str) -> FileResult:
        """Drop a report's manifest entry (the commit), then its rows and files."""
        from assistant.index.ingest import FileResult

        entry = self.index.reports.get(source)
        if entry is None:
            return FileResult(source, "failed", message=f"{source} is not in the index; `assistant docs` lists what is")
        self.mark_dirty()
        self.index.set_report(source, None)
        self.index.save_manifest()
        crash_point("remove")
        self.delete_ids(entry.ids)
        crash_point("removed-rows")
        (self.index.root / "reports" / f"{entry.hash}.json").unlink(missing_ok=True)
        (self.index.root / "reports" / f"{entry.hash}.units.npy").unlink(missing_ok=True)
        return FileResult(source, "removed", entry.passages)

    def delete_ids(self, ids: list[str]) -> None:
        for start in range(0, len(ids), 5000):
            self.index.collection.delete(ids=ids[start : start + 5000])

    def reconcile(self) -> None:
        """After an interrupted write: make Chroma, report files and derived data agree with the manifest."""
        index = self.index
        folder = index.root / "reports"
        broken = [s for s, e in index.reports.items() if not (folder / f"{e.hash}.json").is_file()]
        for source in broken:
            # Cannot happen in the order we write; if someone deleted the file, the entry is unusable.
            log.warning("%s lost its stored passages; it is dropped from the index: ingest it again", source)
            index.set_report(source, None)
        interrupted = [s for s in self._journal() if s in index.reports]
        for source in interrupted:
            # Its rows may hold metadata newer than the manifest: the next ingest of the file redoes it.
            index.set_report(source, index.reports[source].model_copy(update={"overrides": INTERRUPTED}))
        if broken or interrupted:
            index.save_manifest()
        wanted = {i for entry in index.reports.values() for i in entry.ids}
        stored = index.collection.get(include=[])["ids"]
        orphans = [i for i in stored if i not in wanted]
        if orphans:
            log.warning("removing %d passages left by an interrupted write", len(orphans))
            self.delete_ids(orphans)
        hashes = {entry.hash for entry in index.reports.values()}
        for path in folder.glob("*") if folder.is_dir() else []:
            # Hidden names are half-written temporary files; the rest are named by content hash.
            if path.name.startswith(".") or path.name.split(".")[0] not in hashes:
                path.unlink(missing_ok=True)
        self.rebuild_derived()

    # ------------------------------------------------------------ derived data

    def stamps(self) -> dict[str, Any]:
        try:
            return dict(json.loads((self.index.root / DERIVED_FILE).read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return {}

    def stale_derived(self) -> list[str]:
        """Which derived data (bm25, register) was not built from the manifest as it stands."""
        from assistant.register.commitments import REGISTER_FILE

        root, generation = self.index.root, self.index.generation
        if not (root / "manifest.json").is_file():
            return []  # nothing ever committed: nothing is derived
        stamps = self.stamps()
        stale = []
        if stamps.get("bm25") != generation or (self.index.reports and not (root / "bm25" / "ids.json").is_file()):
            stale.append("bm25")
        if stamps.get("register") != generation or not (root / REGISTER_FILE).is_file():
            stale.append("register")
        return stale

    def _stamp(self, **built: int) -> None:
        atomic_write(self.index.root / DERIVED_FILE, json.dumps({**self.stamps(), **built}))

    def rebuild_derived(self) -> None:
        """Rebuild what is derived from all passages: the BM25 index and the commitments register."""
        from assistant.register.store import write_register
        from assistant.retrieval.search import BM25Store

        generation = self.index.generation
        passages = list(self.index.all_passages())
        if passages:
            BM25Store.build(passages).save(self.index.root / "bm25")
        else:
            # bm25s cannot index nothing; an empty index has no keyword index, and readers know it.
            shutil.rmtree(self.index.root / "bm25", ignore_errors=True)
        self.index.forget_bm25()
        crash_point("bm25")
        self._stamp(bm25=generation)
        # The commitments register is derived from the same passages: rebuilt with them.
        write_register(self.index.root, passages)
        crash_point("register")
        self._stamp(register=generation)
