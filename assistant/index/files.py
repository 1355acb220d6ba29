"""The per-report files under reports/: each report's cleaned text and passages, and its sentence-unit vectors.

    reports/<hash>.json       {"report": Report, "passages": [Passage], "units": [[(start, end, …)]] or null}
    reports/<hash>.units.npy  one float16 vector per sentence unit of every passage, in order

Named by the file's content hash; kept for context, rebuilds of derived data, and answer selection.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from assistant.errors import AssistantError
from assistant.files import atomic_save_array, atomic_save_bytes, atomic_write
from assistant.types import IndexedReport, Passage, Report

FOLDER = "reports"
# A sentence unit: start, end, and two flags (assistant/documents/passages.py unit_spans).
Unit = tuple[int, int, bool, bool]
UnitVectors = dict[str, tuple[list[Unit], np.ndarray]]
# Reports whose unit vectors are kept in memory before the cache starts again.
CACHED_REPORTS = 256
EMBEDDING_SIZE = 384


class ReportFiles:
    """Reads and writes reports/ for one index; unit vectors are cached by content hash."""

    def __init__(self, root: Path) -> None:
        self.folder = root / FOLDER
        self._units: dict[str, UnitVectors] = {}
        self._lock = threading.Lock()

    def json_path(self, digest: str) -> Path:
        return self.folder / f"{digest}.json"

    def units_path(self, digest: str) -> Path:
        return self.folder / f"{digest}.units.npy"

    def paths(self, digest: str) -> tuple[Path, Path]:
        return self.json_path(digest), self.units_path(digest)

    # ------------------------------------------------------------ reading

    def load(self, source: str, entry: IndexedReport) -> tuple[Report, list[Passage]]:
        try:
            data = json.loads(self.json_path(entry.hash).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise AssistantError(f"{source}: its stored passages cannot be read ({exc}); run `assistant ingest`") from None
        return Report(**data["report"]), [Passage(**p) for p in data["passages"]]

    def unit_vectors(self, entry: IndexedReport) -> UnitVectors:
        """Sentence (unit) spans and vectors of each passage of a report, computed at ingest."""
        cached = self._units.get(entry.hash)
        if cached is not None:
            return cached
        result: UnitVectors = {}
        try:
            data = json.loads(self.json_path(entry.hash).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return result  # removed by another process since we read the manifest
        array_path = self.units_path(entry.hash)
        if data.get("units") is not None and array_path.is_file():
            array = np.load(array_path).astype(np.float32)
            row = 0
            for passage, spans in zip(data["passages"], data["units"]):
                result[passage["id"]] = ([tuple(s) for s in spans], array[row : row + len(spans)])
                row += len(spans)
        with self._lock:
            if len(self._units) > CACHED_REPORTS:
                self._units.clear()
            self._units[entry.hash] = result
        return result

    def forget(self, digest: str | None = None) -> None:
        """Drop cached unit vectors: of one report rewritten in place, or (None) of all after another commit."""
        with self._lock:
            if digest is None:
                self._units.clear()
            else:
                self._units.pop(digest, None)

    def all_passages(self, reports: dict[str, IndexedReport]) -> Iterable[Passage]:
        for source in sorted(reports):
            yield from self.load(source, reports[source])[1]

    def present(self, digest: str) -> bool:
        return self.json_path(digest).is_file()

    # ------------------------------------------------------------ writing

    def write(
        self, report: Report, passages: Sequence[Passage], units: Sequence[Sequence[Unit]], unit_vectors: Sequence[np.ndarray]
    ) -> None:
        """Write a report's two files, each replaced in one step (units only when the embedder made them)."""
        json_path, units_path = self.paths(report.content_hash)
        if unit_vectors:
            stacked = np.concatenate(unit_vectors) if any(len(u) for u in unit_vectors) else np.zeros((0, EMBEDDING_SIZE))
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

    def saved(self, digest: str) -> dict[Path, bytes]:
        """The report's files as they are, to put back if rewriting them fails."""
        return {p: p.read_bytes() for p in self.paths(digest) if p.is_file()}

    def put_back(self, digest: str, saved: dict[Path, bytes], *, delete_new: bool) -> None:
        """Undo a write of a report's files: restore saved bytes, delete the rest when they were new."""
        for path in self.paths(digest):
            if path in saved:
                atomic_save_bytes(path, saved[path])
            elif delete_new:
                path.unlink(missing_ok=True)

    def delete(self, digest: str) -> None:
        for path in self.paths(digest):
            path.unlink(missing_ok=True)

    def keep_only(self, digests: set[str]) -> None:
        """Delete files of reports the manifest does not name, and half-written temporary files."""
        for path in self.folder.glob("*") if self.folder.is_dir() else []:
            # Hidden names are half-written temporary files; the rest are named by content hash.
            if path.name.startswith(".") or path.name.split(".")[0] not in digests:
                path.unlink(missing_ok=True)
