"""Ingest runs: find which files changed, read and split them, and hand them to the store in batches."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.documents.passages import token_counter, unit_spans
from assistant.documents.read import content_hash, discover, load_manifest, read_bytes, read_report
from assistant.errors import AssistantError, ReportError, SettingsError
from assistant.index.ahead import AHEAD, Ahead, Outcome, Units
from assistant.index.derived import AHEAD_FOLDER
from assistant.index.embedding import Embedder
from assistant.index.manifest import Manifest
from assistant.index.store import Embedded, FileResult, Pending, Store, embed_passages
from assistant.types import Passage, Report, ReportMeta

__all__ = ["EMBED_BATCH", "FileResult", "IngestSummary", "prepare", "run_ingest", "split_report"]

log = logging.getLogger(__name__)

# Passages embedded per call across files: enough for the encoder's length-sorted batches to carry
# little padding (2,048 field passages sorted by tokens: 5% padding; 512: 20%, which the raw encoder,
# given them all at once, does not pay). The encoder pools each batch of 64 as it goes, so a call holds
# few token vectors. A call is made with a quarter of that when the encoder would otherwise wait for
# files still being read.
EMBED_BATCH = 2048
# Read in place: plain text needs no parsing, so a worker would only add the cost of sending it.
PLAIN = (".txt", ".md")


@dataclass
class IngestSummary:
    """What an ingest run did: one result per file, its time, and how many passages it embedded."""

    results: list[FileResult] = field(default_factory=list)
    seconds: float = 0.0
    embedded: int = 0

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def failed(self) -> bool:
        return self.count("failed") > 0


def run_ingest(
    store: Store,
    paths: Sequence[Path],
    *,
    split: Callable[[Report], list[Passage]],
    max_mb: float,
    prune: bool,
    on_file: Callable[[FileResult], None] | None,
    progress: Callable[[int, int, str], None] | None,
) -> IngestSummary:
    """Bring the index in step with the given files and folders (the caller holds the write lock)."""
    started = time.perf_counter()
    summary = IngestSummary()

    def record(result: FileResult) -> None:
        summary.results.append(result)
        if result.status in ("added", "updated"):
            summary.embedded += result.passages
        if on_file:
            on_file(result)

    manifest = store.manifest
    manifest.check_provenance()
    given = [Path(p) for p in paths]
    for path in given:
        if not path.exists():
            record(FileResult(str(path), "failed", message=f"{path}: no such file or folder (check the path)"))
    files = discover([p for p in given if p.exists()])
    # Every manifest is read before any work, so a bad one stops the run with nothing written.
    manifests = {folder: load_manifest(folder) for folder in dict.fromkeys(p.parent for p in files)}
    seen: set[str] = set()
    store.unsafe = False
    if store.dirty.exists():
        store.reconcile()
    if prune:
        # Pruned first: a report renamed on disk is then added under its new name, not refused
        # as a copy of the old one.
        kept = {p.name for p in files}
        for source in sorted(set(manifest.reports) - kept):
            record(store.remove(source))
    hashes = {entry.hash: source for source, entry in manifest.reports.items()}
    pending: list[Pending] = []
    found: list[Future[list[Units]] | None] = []  # each pending file's sentence units, when found in a worker
    ahead = Ahead()
    builders = store.derived.builders
    # The batch being encoded, in a thread of its own: it is written once the next batch is under way, so
    # Chroma, the report files and the manifest are written while the encoder works, not between its batches.
    encoding: tuple[list[Pending], Future[Embedded]] | None = None
    splits = 0
    split_first: list[Pending] = []  # the first file split, warmed with the second (no worker for one file)

    def write(batch: list[Pending], vectors: Future[Embedded]) -> None:
        for result in store.commit(batch, hashes, embedded=vectors.result):
            record(result)

    def flush(*, last: bool = False) -> None:
        nonlocal encoding
        batch, units = list(pending), list(found)
        pending.clear()
        found.clear()
        before = encoding[1] if encoding else None
        started = (batch, _in_thread(_encode, store.embedder, batch, units, before)) if batch else None
        if encoding is not None:
            write(*encoding)
        encoding = started
        if last and encoding is not None:
            write(*encoding)
            encoding = None

    def take() -> None:
        """The first file checked: record why it is skipped, or split it into the batch (committed when full)."""
        nonlocal encoding, splits
        number, path, item = checked.popleft()
        if progress:
            progress(number, len(files), path.name)
        if isinstance(item, AssistantError):
            if encoding is not None:  # batches full before this file are stored, as when encoding in turn
                write(*encoding)
                encoding = None
            raise item
        if isinstance(item, Checked) and not _ready(item) and idle():
            flush()  # the encoder has nothing to do while this file is read: it takes what is split so far
        prepared = item if isinstance(item, FileResult) else finish(item, hashes, split=split, max_mb=max_mb)
        if isinstance(prepared, FileResult):
            record(prepared)
            return
        splits += 1
        pending.append(prepared)
        # From the second file on, a worker finds the units while files before it are encoded, then fills the
        # derived data's caches from the same sentences (the first file's too, once a worker is under way).
        found.append(ahead.units([p.text for p in prepared.passages]) if splits > 1 else None)
        if splits > 1:
            ahead.warm(store.root, builders, [p for item in split_first + [prepared] for p in item.passages])
            split_first.clear()
        else:
            split_first.append(prepared)
        if sum(len(p.passages) for p in pending) >= EMBED_BATCH or idle():
            flush()

    def idle() -> bool:
        """Whether the encoder waits while enough is split for a batch worth its call (the first, or after slow reads)."""
        return (encoding is None or encoding[1].done()) and sum(len(p.passages) for p in pending) >= EMBED_BATCH // 4

    def build_ahead() -> tuple[Future[None], dict[str, str]] | None:
        """Once every file is split: start building the derived data of the index as the last commit will leave
        it, with what it should then hold (source -> content hash); None when it cannot be built ahead, or when
        too little is left to encode to hide the work of a worker behind."""
        waiting = (encoding[0] if encoding else []) + pending
        if sum(len(item.passages) for item in waiting) < max(1, EMBED_BATCH // 4) or not store.derived.stageable():
            return None
        fresh = {item.report.source: item.passages for item in waiting}
        committed = {source: entry for source, entry in manifest.reports.items() if source not in fresh}
        future = ahead.stage(store.root, store.root / AHEAD_FOLDER, builders, committed, fresh)
        if future is None:
            return None
        expected = {source: entry.hash for source, entry in committed.items()}
        expected.update((item.report.source, item.report.content_hash) for item in waiting)
        return future, expected

    # Files are checked in order, read ahead in a worker, then split and committed in order, so the
    # results are those of reading each in turn. The first file to parse is read here: a worker
    # starts only when there is a second to read beside it.
    checked: deque[tuple[int, Path, FileResult | Checked | AssistantError]] = deque()
    to_parse = 0
    try:
        for number, path in enumerate(files, start=1):
            item = check(manifest, path, manifests[path.parent].get(path.name), seen, max_mb=max_mb)
            if isinstance(item, Checked) and path.suffix.lower() not in PLAIN:
                to_parse += 1
                if to_parse > 1:
                    item.reading = ahead.read(item.path, item.data, item.meta, max_mb)
            checked.append((number, path, item))
            if number < min(AHEAD, len(files)):
                # The window is filled before the first file is split: the reading worker starts, and
                # reads, while this process loads the splitter (0.7 s) and splits the first files.
                continue
            while checked and (len(checked) > AHEAD or _ready(checked[0][2])):
                take()
        while checked:
            take()
        staged = build_ahead()
        flush(last=True)
        taken = staged is not None and _take(store, *staged)
    finally:
        if encoding is not None:  # the run failed: the batch under way is dropped (it wrote nothing)
            encoding[1].cancel()
        ahead.close()
        shutil.rmtree(store.root / AHEAD_FOLDER, ignore_errors=True)
    if not taken and (any(r.status in ("added", "updated", "removed") for r in summary.results) or store.stale_derived()):
        store.rebuild_derived()
    store.finish()
    summary.seconds = time.perf_counter() - started
    return summary


def _take(store: Store, staged: Future[None], expected: dict[str, str]) -> bool:
    """Take the derived data built ahead when the index holds what it was built for (a file may have failed
    to commit since); False, having moved nothing, when it was not."""
    try:
        staged.result()
    except Exception:  # noqa: BLE001 - built ahead only to save time: the rebuild does it, and reports its own errors
        log.debug("building derived data ahead failed", exc_info=True)
        return False
    if {source: entry.hash for source, entry in store.manifest.reports.items()} != expected:
        return False
    return store.derived.take(store.manifest.generation, store.root / AHEAD_FOLDER)


@dataclass
class Checked:
    """A file that needs reading: its bytes and what the manifest says, and its read when one is under way."""

    path: Path
    data: bytes
    digest: str
    meta: ReportMeta | None
    meta_key: dict[str, Any]
    replaces: bool
    reading: Future[Outcome] | None = None


def _ready(item: FileResult | Checked | AssistantError) -> bool:
    """Whether the file at the front can be taken without waiting on a worker."""
    return not isinstance(item, Checked) or item.reading is None or item.reading.done()


def prepare(
    manifest: Manifest,
    path: Path,
    meta: ReportMeta | None,
    hashes: dict[str, str],
    seen: set[str],
    *,
    split: Callable[[Report], list[Passage]],
    max_mb: float,
) -> FileResult | Pending:
    """Read and split one file, or say why it is skipped or refused; nothing is written."""
    item = check(manifest, path, meta, seen, max_mb=max_mb)
    if isinstance(item, AssistantError):
        raise item
    return item if isinstance(item, FileResult) else finish(item, hashes, split=split, max_mb=max_mb)


def check(
    manifest: Manifest, path: Path, meta: ReportMeta | None, seen: set[str], *, max_mb: float
) -> FileResult | Checked | SettingsError:
    """The checks before reading: size and type, a name seen twice, content unchanged since the last ingest."""
    source = path.name
    try:
        data = read_bytes(path, max_mb)
        digest = content_hash(data)
        meta_key = meta.model_dump() if meta else {}
        previous = manifest.reports.get(source)
        if source in seen:
            return FileResult(str(path), "failed", message=f"{source}: another file of the same name was ingested in this run; rename one")
        seen.add(source)
        if previous and previous.hash == digest and previous.overrides == meta_key:
            return FileResult(str(path), "unchanged", previous.passages)
    except ReportError as exc:
        return FileResult(str(path), "failed", message=str(exc))
    except SettingsError as exc:
        return exc  # raised when the file's turn comes, as reading it in turn would
    except AssistantError as exc:
        return FileResult(str(path), "failed", message=f"{source}: {exc}")
    return Checked(path, data, digest, meta, meta_key, previous is not None)


def finish(
    item: Checked, hashes: dict[str, str], *, split: Callable[[Report], list[Passage]], max_mb: float
) -> FileResult | Pending:
    """Refuse a copy of a report already indexed, else read (or take the read ahead) and split the file."""
    path, source = item.path, item.path.name
    owner = hashes.get(item.digest)
    if owner and owner != source:
        return FileResult(str(path), "failed", message=f"{source}: same content as {owner}, already indexed; remove one copy")
    try:
        if item.reading is not None:
            report = Ahead.report(item.reading)
        else:
            report = read_report(path, max_mb=max_mb, meta=item.meta, data=item.data)
        passages = split(report)
    except ReportError as exc:
        return FileResult(str(path), "failed", message=str(exc))
    except SettingsError:
        raise
    except AssistantError as exc:
        return FileResult(str(path), "failed", message=f"{source}: {exc}")
    hashes[item.digest] = source
    return Pending(path, report, passages, item.meta_key, item.replaces)


def _in_thread(function: Callable[..., Embedded], *args: Any) -> Future[Embedded]:
    """Run `function` in a daemon thread (an interrupted ingest does not wait for a batch no one will store)."""
    future: Future[Embedded] = Future()

    def run() -> None:
        if future.set_running_or_notify_cancel():
            try:
                future.set_result(function(*args))
            except BaseException as exc:  # noqa: BLE001 - raised where the result is taken
                future.set_exception(exc)

    threading.Thread(target=run, daemon=True, name="ingest-encode").start()
    return future


def _encode(
    embedder: Callable[[], Embedder],
    batch: list[Pending],
    found: list[Future[list[Units]] | None],
    before: Future[Embedded] | None,
) -> Embedded:
    """A batch's vectors, once the batch before it is encoded: one encode at a time uses every core."""
    if before is not None:
        wait([before])
    units: list[Units] = []
    for item, future in zip(batch, found, strict=True):
        if future is None or future.exception() is not None:  # not sent, or the worker failed: found here
            units.extend(unit_spans(p.text) for p in item.passages)
        else:
            units.extend(future.result())
    return embed_passages(embedder(), [p for item in batch for p in item.passages], units)


def split_report(report: Report, *, max_tokens: int, model_dir: Path) -> list[Passage]:
    """Passages of a report, through the llama-index node parser (passages measured by the model's tokenizer)."""
    from assistant.documents.nodes import ParagraphNodeParser, report_document  # llama-index: only when ingesting

    parser = ParagraphNodeParser(
        max_tokens=max_tokens,
        token_counter=token_counter(model_dir),
        include_prev_next_rel=False,
    )
    nodes = parser.get_nodes_from_documents([report_document(report)])
    return [Passage.from_metadata(n.node_id, n.get_content(), n.metadata) for n in nodes]
