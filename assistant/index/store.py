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
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.documents.passages import unit_spans
from assistant.errors import AssistantError
from assistant.files import atomic_write
from assistant.index.chroma import Rows
from assistant.index.derived import DerivedData
from assistant.index.embedding import Embedder, UnitEmbedder
from assistant.index.files import ReportFiles
from assistant.index.lock import crash_point
from assistant.index.manifest import Manifest
from assistant.types import IndexedReport, Passage, Report

if TYPE_CHECKING:
    from chromadb.api.types import GetResult
    from llama_index.core.schema import TextNode

log = logging.getLogger(__name__)

DIRTY_FILE = ".dirty"
# A manifest entry whose rows may hold newer metadata than it says: the next ingest of the file redoes it.
INTERRUPTED = {"interrupted": True}


Units = tuple[tuple[int, int, bool, bool], ...]


Embedded = tuple[np.ndarray, list[Units], list[np.ndarray]]


def embed_passages(embedder: Embedder, passages: list[Passage], units: list[Units] | None = None) -> Embedded:
    """Vectors for many passages at once, their sentence units (found here unless given), and the units' vectors
    (when the embedder makes them)."""
    texts = [p.embedding_text() for p in passages]
    units = units if units is not None else [unit_spans(p.text) for p in passages]
    if not isinstance(embedder, UnitEmbedder):
        return embedder.embed_batch(texts), units, []
    shifts = [len(t) - len(p.text) for t, p in zip(texts, passages, strict=True)]
    spans = [[(shift + s, shift + e) for s, e, _, _ in u] for shift, u in zip(shifts, units, strict=True)]
    vectors, unit_vectors = embedder.embed_with_units(texts, spans)
    return vectors, units, unit_vectors


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
class Pending:
    """A report read and split, waiting to be embedded and stored."""

    path: Path
    report: Report
    passages: list[Passage]
    overrides: dict[str, Any]
    replaces: bool


@dataclass(eq=False)  # compared by identity: one Store a folder
class Store:
    """Writes for one index folder; the caller holds the index's write locks."""

    root: Path
    manifest: Manifest
    files: ReportFiles
    rows: Rows
    derived: DerivedData
    embedder: Callable[[], Embedder]  # called when needed: the model loads on first use
    unsafe: bool = field(default=False, init=False)  # a failed write could not be undone: keep .dirty so the next command repairs

    @property
    def dirty(self) -> Path:
        return self.root / DIRTY_FILE

    def mark_dirty(self, in_place: str = "") -> None:
        """Say a write is under way; name a report whose rows are overwritten in place."""
        self.root.mkdir(parents=True, exist_ok=True)
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

    def commit(
        self, pending: list[Pending], hashes: dict[str, str], embedded: Callable[[], Embedded] | None = None
    ) -> list[FileResult]:
        """Embed the pending reports in one call (or take `embedded`, their embed_passages already under way), then
        store each whole or not at all."""
        if not pending:
            return []
        crash_point("read")
        every = [p for item in pending for p in item.passages]
        try:
            # One call across files: the encoder sorts by length, so batches carry less padding.
            vectors, units, unit_vectors = embedded() if embedded is not None else embed_passages(self.embedder(), every)
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
        nodes: list[list[TextNode]] = []
        row = 0
        for item in pending:
            nodes.append(self._nodes(item.passages, vectors[row : row + len(item.passages)]))
            row += len(item.passages)
        added = self._add_together([n for item, n in zip(pending, nodes, strict=True) if not self._in_place(item.report)])
        results: list[FileResult] = []
        cleanup: list[tuple[list[str], str | None]] = []
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
            self.manifest.save()
            crash_point("manifest")
            for ids, stale_files in cleanup:
                self.delete_ids(ids)
                if stale_files:
                    self.files.delete(stale_files)
        return results

    @staticmethod
    def _nodes(passages: list[Passage], vectors: np.ndarray) -> list[TextNode]:
        from assistant.documents.nodes import passage_node  # llama-index: only when writing

        nodes = []
        for passage, vector in zip(passages, vectors, strict=True):
            node = passage_node(passage)
            node.embedding = vector.tolist()
            nodes.append(node)
        return nodes

    def _in_place(self, report: Report) -> bool:
        old = self.manifest.reports.get(report.source)
        return old is not None and old.hash == report.content_hash

    def _add_together(self, groups: list[list[TextNode]]) -> bool:
        """Add several new reports' rows in one Chroma call (each call is a commit, ~40 ms embedded).

        False when there is nothing to share or the call failed: after undoing it, each report
        is then added on its own, so one report the store refuses fails alone.
        """
        batch = [node for group in groups for node in group]
        if sum(1 for group in groups if group) < 2:
            return False
        try:
            self.rows.add(batch)
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
        nodes: list[TextNode],
        units: Sequence[Units],
        unit_vectors: list[np.ndarray],
        *,
        already_added: bool = False,
    ) -> tuple[list[str], str | None]:
        """Write one report to Chroma and its files, or undo it all; returns the ids and files (by hash) it replaced."""
        report, passages = item.report, item.passages
        digest = report.content_hash
        new_ids = [p.id for p in passages]
        old = self.manifest.reports.get(report.source)
        # Same content with new manifest metadata: the passage ids are the same, so rows are
        # overwritten in place and the old ones kept to put back if anything fails.
        in_place = self._in_place(report)
        backup: GetResult | None = None
        saved_files: dict[Path, bytes] = {}
        if old is not None and in_place:
            backup = self.rows.backup(old.ids)
            saved_files = self.files.saved(digest)
            self.mark_dirty(in_place=report.source)
        try:
            if in_place:
                self.rows.upsert(nodes)
            elif nodes and not already_added:
                self.rows.add(nodes)
            self.files.write(report, passages, units, unit_vectors)
        except Exception as exc:
            self._undo(digest, new_ids, in_place, backup, saved_files)
            raise AssistantError(f"the vector store refused the passages ({exc}); the index is unchanged") from exc
        self.manifest.set_report(report.source, IndexedReport(
            hash=digest,
            ids=new_ids,
            passages=len(passages),
            overrides=item.overrides,
            ingested_at=time.strftime("%Y-%m-%dT%H:%M:%S"),
            **report.meta.model_dump(),
        ))
        self.files.forget(digest)
        if old is None:
            return [], None
        stale_ids = [i for i in old.ids if i not in set(new_ids)]
        return stale_ids, None if in_place else old.hash

    def _undo(
        self,
        digest: str,
        new_ids: list[str],
        in_place: bool,
        backup: GetResult | None,
        saved_files: dict[Path, bytes],
    ) -> None:
        """Put the index back as it was before a report's failed write (reconcile later if this fails too)."""
        try:
            if in_place:
                self.rows.restore(backup)
            else:
                self.delete_ids(new_ids)
            self.files.put_back(digest, saved_files, delete_new=not in_place)
        except Exception:
            log.warning("could not undo a failed write; the next command will repair the index", exc_info=True)
            self.unsafe = True

    # ------------------------------------------------------------ removing and repairing

    def remove(self, source: str) -> FileResult:
        """Drop a report's manifest entry (the commit), then its rows and files."""
        entry = self.manifest.reports.get(source)
        if entry is None:
            return FileResult(source, "failed", message=f"{source} is not in the index; `assistant docs` lists what is")
        self.mark_dirty()
        self.manifest.set_report(source, None)
        self.manifest.save()
        crash_point("remove")
        self.delete_ids(entry.ids)
        crash_point("removed-rows")
        self.files.delete(entry.hash)
        return FileResult(source, "removed", entry.passages)

    def delete_ids(self, ids: list[str]) -> None:
        self.rows.delete(ids)

    def reconcile(self) -> None:
        """After an interrupted write: make Chroma, report files and derived data agree with the manifest."""
        manifest = self.manifest
        broken = [s for s, e in manifest.reports.items() if not self.files.present(e.hash)]
        for source in broken:
            # Cannot happen in the order we write; if someone deleted the file, the entry is unusable.
            log.warning("%s lost its stored passages; it is dropped from the index: ingest it again", source)
            manifest.set_report(source, None)
        interrupted = [s for s in self._journal() if s in manifest.reports]
        for source in interrupted:
            # Its rows may hold metadata newer than the manifest: the next ingest of the file redoes it.
            manifest.set_report(source, manifest.reports[source].model_copy(update={"overrides": INTERRUPTED}))
        if broken or interrupted:
            manifest.save()
        wanted = {i for entry in manifest.reports.values() for i in entry.ids}
        orphans = [i for i in self.rows.ids() if i not in wanted]
        if orphans:
            log.warning("removing %d passages left by an interrupted write", len(orphans))
            self.delete_ids(orphans)
        self.files.keep_only({entry.hash for entry in manifest.reports.values()})
        self.rebuild_derived()

    # ------------------------------------------------------------ derived data

    def stale_derived(self) -> list[str]:
        """Which derived data (bm25, and what the index was given) was not built from the manifest as it stands."""
        return self.derived.stale(self.manifest.generation, has_reports=bool(self.manifest.reports))

    def rebuild_derived(self) -> None:
        """Rebuild what is derived from all passages: the BM25 index, then what the index was given."""
        reports = self.manifest.reports
        self.derived.rebuild(self.manifest.generation, list(self.files.all_passages(reports)))
