"""Uploads into the corpus folder under safe names, ingested together; removal from the index."""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath

from assistant.index.index import FileResult, Index
from ui.render import FileOutcome

UPLOADS = "uploads"
_INCOMING = ".incoming"  # hidden, so `assistant ingest corpus/` never reads a half-finished upload
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def safe_name(name: str) -> str:
    """A plain file name from whatever a browser sent: no folders, no leading dots, no odd characters."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()  # é → e
    base = PurePosixPath(ascii_name.replace("\\", "/")).name
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = re.sub(r"[ _]+", "_", _UNSAFE.sub("_", stem)).strip("._- ")[:80] or "report"
    suffix = _UNSAFE.sub("", suffix).lower()[:10]
    return f"{stem}.{suffix}" if suffix else stem


def uploads_dir(index: Index) -> Path:
    return Path(index.settings.corpus_dir) / UPLOADS


def _destination(index: Index, name: str) -> Path:
    """Where an upload is kept: a new upload of the same name replaces the earlier one; a name
    already used by a report that came from elsewhere gets a numbered variant."""
    folder = uploads_dir(index)
    path = folder / name
    stem, suffix = path.stem, path.suffix
    number = 2
    while not path.exists() and path.name in index.reports:
        path = folder / f"{stem}-{number}{suffix}"
        number += 1
    return path


def add_uploads(
    index: Index,
    files: Sequence[tuple[Path, str]],
    *,
    progress: Callable[[int, int, str], None] | None = None,
) -> list[FileOutcome]:
    """Store each (temporary path, original name) under the corpus folder and ingest it.

    A file that fails is not kept, so the corpus folder only holds reports that were read.
    """
    incoming = uploads_dir(index) / _INCOMING
    incoming.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path, str]] = []
    taken: set[str] = set()
    for temp, original in files:
        final = _destination(index, safe_name(original))
        stem, suffix, number = final.stem, final.suffix, 2
        while final.name in taken:  # two uploads in one batch with the same safe name
            final = final.with_name(f"{stem}-{number}{suffix}")
            number += 1
        taken.add(final.name)
        path = incoming / final.name
        shutil.copyfile(temp, path)
        staged.append((path, final, original))
    try:
        summary = index.ingest([path for path, _, _ in staged], progress=progress)
    except BaseException:
        for path, _, _ in staged:
            path.unlink(missing_ok=True)
        raise
    outcomes: list[FileOutcome] = []
    done = {r.path: r for r in summary.results}
    for path, final, original in staged:
        result = done.get(str(path)) or FileResult(str(path), "failed", message=f"{final.name}: not read")
        if result.status == "failed":
            path.unlink(missing_ok=True)
        else:
            os.replace(path, final)
        shown = original if final.name == original else f"{original} (kept as {final.name})"
        outcomes.append(FileOutcome(shown, result.status, result.passages, result.message))
    return outcomes


def remove_report(index: Index, source: str) -> FileOutcome:
    """Drop a report from the index; an uploaded copy is deleted too, other files are left alone."""
    result = index.remove(source)
    if result.status == "failed":
        return FileOutcome(source, "failed", message=result.message)
    uploaded = uploads_dir(index) / source
    if uploaded.is_file():
        uploaded.unlink()
        note = "its uploaded file was deleted"
    else:
        note = "its file in the corpus folder was kept; `assistant ingest` would add it back"
    return FileOutcome(source, "removed", result.passages, f"Removed from the index; {note}.")
