"""Data derived from every passage (the keyword index, and what the index is given: the register), kept in step.

Each kind is rebuilt after a commit and stamped in derived.json with the manifest generation it was
built from; a stamp behind the manifest, or a missing output, means a rebuild is due. The index
builds its own keyword index; data derived above it arrives as `Derived` builders
(assistant/library.py gives the register's), so the index imports nothing above itself.

An ingest knows every passage the index will hold once all its files are split, while the last batches
are still being encoded: a kind that can be staged is then built ahead, into a folder beside the
index's (assistant/index/ahead.py), and taken (moved into place and stamped) when the last commit
leaves the index holding exactly those passages. Otherwise it is rebuilt as after any commit.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.files import atomic_write, replace_path
from assistant.index.bm25 import FOLDER as BM25_FOLDER
from assistant.index.bm25 import build_bm25, stage_bm25
from assistant.index.lock import crash_point
from assistant.index.manifest import MANIFEST_FILE
from assistant.types import Passage

DERIVED_FILE = "derived.json"
# Where an ingest builds derived data ahead of its last commit (hidden: no part of the index a server mirrors).
AHEAD_FOLDER = ".derived-ahead"


@dataclass(frozen=True)
class Derived:
    """One kind of derived data: how to build it from all passages, and the file that shows it was."""

    name: str  # its stamp in derived.json, and the crash point after it is written
    output: str  # path under the index folder its build writes; missing means a rebuild is due
    build: Callable[[Path, list[Passage]], object]  # (index folder, every passage) -> written
    needed_when_empty: bool = True  # False: an index with no reports has no output, and that is fine
    version: int = 1  # raised when the build changes what it writes: data built by an older one is stale
    # Built ahead: `stage(root, passages, folder)` writes what `build` would, under `folder` (caches are still
    # read and kept under root), and `staged` names the file or folder it writes there, moved whole into root.
    stage: Callable[[Path, list[Passage], Path], object] | None = None
    staged: str = ""
    # Fills caches of `build` from some reports' passages before they are committed (the ingest's workers
    # call it as files are split), so the build after the last commit does little per report.
    warm: Callable[[Path, list[Passage]], object] | None = None


# 2: a templated line with its own date ("The DCS has been in post since May 2015") is no longer boilerplate.
# 3: nouns the stemmer kept apart from their verb meet it ("delivery"/"delivers", text.py).
KEYWORDS = Derived(
    "bm25", f"{BM25_FOLDER}/ids.json", build_bm25, needed_when_empty=False, version=3, stage=stage_bm25, staged=BM25_FOLDER
)
VERSIONS = "versions"  # derived.json's key for the builders' versions, beside the generation stamps


def stage_all(root: Path, builders: Sequence[Derived], folder: Path, passages: list[Passage]) -> None:
    """Build every kind from `passages` into `folder` (made afresh): nothing under `root` changes but caches."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for item in builders:
        if item.stage is None:
            raise ValueError(f"derived data {item.name!r} cannot be built ahead")
        item.stage(root, passages, folder)


class DerivedData:
    """The derived data of one index folder: its stamps, which are stale, and the rebuild."""

    def __init__(self, root: Path, builders: Sequence[Derived], on_built: Callable[[str], None]) -> None:
        self.root = root
        self.builders = (KEYWORDS, *builders)
        self.on_built = on_built  # told each name as it is rewritten (the index drops its cached copy)

    def _read(self) -> dict[str, object]:
        try:
            return dict(json.loads((self.root / DERIVED_FILE).read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return {}

    def stamps(self) -> dict[str, int]:
        """The manifest generation each kind was built from."""
        return {name: stamp for name, stamp in self._read().items() if name != VERSIONS}  # type: ignore[misc]

    def versions(self) -> dict[str, int]:
        """The builder version each kind was built by (1 when not recorded)."""
        found = self._read().get(VERSIONS)
        return dict(found) if isinstance(found, dict) else {}

    def stale(self, generation: int, *, has_reports: bool) -> list[str]:
        """Which derived data was not built from the manifest as it stands."""
        if not (self.root / MANIFEST_FILE).is_file():
            return []  # nothing ever committed: nothing is derived
        stamps, versions = self.stamps(), self.versions()
        return [
            item.name
            for item in self.builders
            if stamps.get(item.name) != generation
            or versions.get(item.name, 1) != item.version
            or ((has_reports or item.needed_when_empty) and not (self.root / item.output).is_file())
        ]

    def _stamp(self, item: Derived, generation: int) -> None:
        stamped = {**self.stamps(), item.name: generation, VERSIONS: {**self.versions(), item.name: item.version}}
        atomic_write(self.root / DERIVED_FILE, json.dumps(stamped))

    def rebuild(self, generation: int, passages: list[Passage]) -> None:
        """Rebuild everything derived from all passages, in order, stamping each as it is done (and drop what an
        ingest killed while taking it had built ahead)."""
        shutil.rmtree(self.root / AHEAD_FOLDER, ignore_errors=True)
        for item in self.builders:
            item.build(self.root, passages)
            self.on_built(item.name)
            crash_point(item.name)
            self._stamp(item, generation)

    def stageable(self) -> bool:
        """Whether every kind can be built ahead (a kind that cannot is rebuilt with the rest, after the commit)."""
        return all(item.stage is not None and item.staged for item in self.builders)

    def take(self, generation: int, folder: Path) -> bool:
        """Move what `stage` built into place, stamping each kind as `rebuild` does; False (nothing moved) when
        some kind's output is missing from `folder`, and then the caller rebuilds."""
        if not all(item.staged and (folder / item.staged).exists() for item in self.builders):
            return False
        for item in self.builders:
            replace_path(folder / item.staged, self.root / item.staged)
            self.on_built(item.name)
            crash_point(item.name)
            self._stamp(item, generation)
        shutil.rmtree(folder, ignore_errors=True)
        return True
