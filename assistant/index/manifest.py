"""manifest.json: the index's commit record (provenance, a generation counter, one typed row per ingested file).

Replacing this file whole is the commit point of every write (assistant/index/store.py). Readers
follow other processes' commits by noticing the file changed (its inode, mtime and size).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant.documents.passages import SPLITTER_VERSION
from assistant.errors import IndexMismatch
from assistant.files import atomic_write
from assistant.settings import Settings
from assistant.types import IndexedReport

MANIFEST_FILE = "manifest.json"
MANIFEST_VERSION = 1
Stat = tuple[int, int, int]


class Contents(BaseModel):
    """What manifest.json holds; keys this version does not know are kept as they were."""

    model_config = ConfigDict(extra="allow")

    version: int = MANIFEST_VERSION
    generation: int = Field(0, description="How many commits the manifest has seen.")
    model: str | None = Field(None, description="The embedding model the vectors were made with.")
    splitter: str | None = Field(None, description="Splitter version / passage token limit.")
    reports: dict[str, IndexedReport] = Field(default_factory=dict, description="Source file name -> its row.")


def provenance(settings: Settings) -> dict[str, str]:
    """The model and splitter an index built with these settings must have been built with."""
    return {
        "model": settings.model_path and str(settings.model_path) or "all-MiniLM-L6-v2",
        "splitter": f"{SPLITTER_VERSION}/{settings.max_passage_tokens}",
    }


class Manifest:
    """The manifest as this process last read or wrote it; the report table is replaced, never changed in place."""

    def __init__(self, root: Path, settings: Settings) -> None:
        self.root = root
        self.path = root / MANIFEST_FILE
        self.wanted = provenance(settings)
        self.seen = self.stat()
        self.contents = self.read()

    def stat(self) -> Stat | None:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return stat.st_ino, stat.st_mtime_ns, stat.st_size

    def read(self) -> Contents:
        if not self.path.is_file():
            return Contents()
        try:
            return Contents(**json.loads(self.path.read_text(encoding="utf-8")))
        except (json.JSONDecodeError, OSError, ValidationError) as exc:
            raise IndexMismatch(
                f"{self.path} is damaged ({exc}); delete the folder {self.root} and run `assistant ingest`"
            ) from None

    def changed_on_disk(self) -> bool:
        return self.stat() != self.seen

    def take(self, contents: Contents, stat: Stat | None) -> bool:
        """Adopt what was read from disk; True when it is another generation than the one held."""
        changed = contents.generation != self.contents.generation
        self.contents, self.seen = contents, stat
        return changed

    @property
    def generation(self) -> int:
        return self.contents.generation

    @property
    def reports(self) -> dict[str, IndexedReport]:
        return self.contents.reports

    def save(self) -> None:
        """Commit: write the manifest whole, one generation on."""
        self.contents = self.contents.model_copy(update={"generation": self.generation + 1})
        atomic_write(self.path, json.dumps(self.contents.model_dump(), indent=1, sort_keys=True))
        self.seen = self.stat()

    def set_report(self, source: str, entry: IndexedReport | None) -> None:
        """Change one row in memory (committed by save)."""
        reports = dict(self.contents.reports)
        if entry is None:
            reports.pop(source, None)
        else:
            reports[source] = entry
        self.contents = self.contents.model_copy(update={"reports": reports})

    def check_provenance(self) -> None:
        """Refuse to add to an index built with another model or splitter; an empty one takes ours."""
        if not self.reports:
            self.contents = self.contents.model_copy(update=self.wanted)
            return
        for key, value in self.wanted.items():
            held: Any = getattr(self.contents, key)
            if held != value:
                raise IndexMismatch(
                    f"the index in {self.root} was built with {key} '{held}', "
                    f"not '{value}'; use another ASSISTANT_INDEX_DIR or delete {self.root} and re-ingest"
                )
