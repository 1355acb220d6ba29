"""The index folder as a cache of the Chroma server's copy: published after each write, pulled when the server moves.

Why mirror files rather than derive everything from the rows: answers read more than the rows hold
(each report's sentence-unit vectors, the BM25 index with its boilerplate flags and vocabulary, the
register), and rebuilding those on every instance after every ingest would cost each of them what
the writer already paid, and risk answers differing between instances. So the writer publishes the
folder's files (assistant/index/remote.py: content-addressed blobs, then one `head` record naming
them) and every other instance pulls what changed. Only changed files travel: reports are named
by content, and unchanged files are known by the table the folder last matched (.mirror.json).

Following: at most every `follow_every` seconds an instance reads the server's head (one small read)
and pulls when its table differs from the folder's, or the folder's manifest is not the one pulled.
A pull downloads into .pull/ first, then moves files into place, bm25/ swapped whole, derived.json
and the manifest last (the commit readers follow); .pulling marks the moves, so an interrupted
pull is redone before the folder is trusted again.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from assistant.files import atomic_write
from assistant.index import remote
from assistant.index.bm25 import FOLDER as BM25_FOLDER
from assistant.index.derived import DERIVED_FILE
from assistant.index.lock import crash_point
from assistant.index.manifest import MANIFEST_FILE
from assistant.index.remote import Head, ServerError, ServerFiles, Table, digest
from assistant.index.store import DIRTY_FILE
from assistant.settings import Settings

if TYPE_CHECKING:
    from assistant.index.remote import Lease

log = logging.getLogger(__name__)

# How often an instance asks the server whether another one committed (a read of one small record).
FOLLOW_SECONDS = 2.0
STATE_FILE = ".mirror.json"
STAGING = ".pull"
PULLING = ".pulling"
# Folders replaced whole, as their writer replaces them: a reader never sees half of one.
SWAPPED = (BM25_FOLDER,)
# Written last, in this order: the stamps of derived data, then the commit itself.
LAST = (DERIVED_FILE, MANIFEST_FILE)
PULL_ATTEMPTS = 3


def mirrored(root: Path, chroma: str = "chroma") -> Iterator[tuple[str, Path]]:
    """The files of the folder the server keeps: not hidden ones (locks, temporary files), not embedded Chroma."""
    for folder, dirs, names in os.walk(root):
        rel = PurePosixPath(Path(folder).relative_to(root).as_posix())
        dirs[:] = sorted(d for d in dirs if _kept(rel / d, chroma))
        for name in sorted(names):
            if _kept(rel / name, chroma):
                yield str(rel / name), Path(folder) / name


def _kept(rel: PurePosixPath, chroma: str) -> bool:
    parts = [p for p in rel.parts if p != "."]
    return bool(parts) and parts[0] != chroma and not any(p.startswith(".") or p.endswith((".tmp", ".old")) for p in parts)


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


def _place(source: Path, target: Path) -> None:
    """Put a copy of `source` at `target` in one step (a hard link when the file system allows)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.pull")
    tmp.unlink(missing_ok=True)
    try:
        os.link(source, tmp)
    except OSError:
        shutil.copyfile(source, tmp)
    os.replace(tmp, target)


class Mirror:
    """Publishes an index folder to the Chroma server and pulls the server's commits into it.

    The caller (assistant/index/index.py) holds the folder's write locks around `pull` and `publish`,
    and the server's lease around writes.
    """

    def __init__(self, root: Path, settings: Settings, follow_every: float = FOLLOW_SECONDS) -> None:
        self.root = root
        self.settings = settings
        self.follow_every = follow_every
        self._server: ServerFiles | None = None
        self._checked = float("-inf")
        self._open = threading.Lock()
        self._cached: tuple[tuple[int, int] | None, dict[str, Any]] = (None, {})

    @property
    def server(self) -> ServerFiles:
        with self._open:
            if self._server is None:
                from assistant.index.chroma import open_files_collection

                self._server = ServerFiles(open_files_collection(self.settings))
            return self._server

    # ------------------------------------------------------------ what the folder holds

    def _state(self) -> dict[str, Any]:
        """What .mirror.json says, read again only when the file changed (it names every file: large at scale)."""
        path = self.root / STATE_FILE
        stat = _stat(path)
        with self._open:
            if stat is not None and self._cached[0] == stat:
                return self._cached[1]
        try:
            state = dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return {}
        with self._open:
            self._cached = (stat, state)
        return state

    def _save_state(self, head: Head, table: Table) -> None:
        files: dict[str, list[object]] = {}
        for path, (sha, size, parts) in table.items():
            stat = _stat(self.root / path)
            if stat is not None:
                files[path] = [sha, size, parts, stat[1]]
        atomic_write(self.root / STATE_FILE, json.dumps({"table": head.table, "generation": head.generation, "files": files}))

    def forget(self) -> None:
        """The folder no longer matches what it pulled or published (a write failed): pull at the next check."""
        state = self._state()
        if state:
            atomic_write(self.root / STATE_FILE, json.dumps({**state, "table": ""}))
        self._checked = float("-inf")

    def _local(self) -> dict[str, tuple[str, int, int | None]]:
        """The folder's mirrored files: path -> (sha256, size, parts when known), hashing only what changed."""
        recorded: dict[str, list[Any]] = self._state().get("files", {})
        found: dict[str, tuple[str, int, int | None]] = {}
        for rel, path in mirrored(self.root, self.settings.chroma_dir.name):
            stat = _stat(path)
            if stat is None:
                continue
            entry = recorded.get(rel)
            if entry and (entry[1], entry[3]) == stat:
                found[rel] = (str(entry[0]), stat[0], int(entry[2]))
            else:
                found[rel] = (digest(path.read_bytes()), stat[0], None)
        return found

    # ------------------------------------------------------------ following

    def due(self) -> bool:
        """Time to ask the server again (at once after opening: an interrupted pull is then redone)."""
        return time.monotonic() - self._checked >= self.follow_every

    def check(self) -> Head | None:
        """The server's head when the folder is behind it (one small read), else None."""
        self._checked = time.monotonic()
        try:
            head = self.server.head()
        except Exception as exc:  # noqa: BLE001 - answer from the folder while the server is away
            log.warning("cannot read the index's files on the Chroma server at %s (%s); answering from %s",
                        self.settings.chroma_url, exc, self.root)
            return None
        return head if head is not None and self.behind(head) else None

    def behind(self, head: Head) -> bool:
        """The folder is not the server's commit: another was published, or this folder's write was not."""
        state = self._state()
        if (self.root / PULLING).exists() or state.get("table") != head.table:
            return True
        recorded = state.get("files", {}).get(MANIFEST_FILE)
        return recorded is None or _stat(self.root / MANIFEST_FILE) != (recorded[1], recorded[3])

    def pull(self, head: Head | None = None) -> bool:
        """Make the folder the server's latest commit (False when the server has none); caller holds the folder's locks."""
        for attempt in range(PULL_ATTEMPTS):
            head = head or self.server.head()
            if head is None:
                return False
            try:
                self._pull(head)
                return True
            except ServerError as exc:
                if attempt == PULL_ATTEMPTS - 1:
                    raise
                # Its files were swept while we read: another commit followed; start from that one.
                log.info("the server's commit moved on during a pull (%s); pulling the new one", exc)
                head = None
        return False

    def _pull(self, head: Head) -> None:
        started = time.perf_counter()
        table = self.server.table(head.table, head.table_parts)
        local = self._local()
        at = {sha: path for path, (sha, _, _) in local.items()}
        staging = self.root / STAGING
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        needed = {sha: (size, parts) for sha, size, parts in table.values() if sha not in at}
        for sha, data in self.server.get(needed):
            (staging / sha).write_bytes(data)
        changed = {path for path, entry in table.items() if local.get(path, ("",))[0] != entry[0]}
        for sha in {table[path][0] for path in changed} - set(needed):
            # Content already here under another name: linked aside first, as its own file may be replaced.
            _place(self.root / at[sha], staging / sha)
        sources = {sha: staging / sha for sha in {table[path][0] for path in changed}}
        for path, (sha, _, _) in local.items():
            if path in table and path not in changed:
                sources.setdefault(sha, self.root / path)
        gone = set(local) - set(table)
        (self.root / PULLING).touch()
        for folder in SWAPPED:
            inside = [p for p in table if p.startswith(folder + "/")]
            if any(p.startswith(folder + "/") for p in changed | gone):
                self._swap_folder(folder, {p: sources[table[p][0]] for p in inside})
        for path in sorted(changed):
            if path.split("/")[0] not in SWAPPED and path not in LAST:
                _place(sources[table[path][0]], self.root / path)
        crash_point("pulled-files")
        for path in LAST:
            if path in changed:
                _place(sources[table[path][0]], self.root / path)
        for path in gone:
            if path.split("/")[0] not in SWAPPED:
                (self.root / path).unlink(missing_ok=True)
        self._save_state(head, table)
        (self.root / PULLING).unlink(missing_ok=True)
        (self.root / DIRTY_FILE).unlink(missing_ok=True)  # the server's commit replaced what a crash here left
        shutil.rmtree(staging, ignore_errors=True)
        log.info("took up generation %d of the index from the Chroma server: %d files changed, %.1f MB downloaded in %.2fs",
                 head.generation, len(changed), sum(size for size, _ in needed.values()) / 1e6, time.perf_counter() - started)

    def _swap_folder(self, folder: str, files: dict[str, Path]) -> None:
        """Build the folder beside the old one, then swap them, as its writer does (bm25.py)."""
        target = self.root / folder
        tmp, old = target.with_name(folder + ".tmp"), target.with_name(folder + ".old")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for path, source in files.items():
            _place(source, tmp / path[len(folder) + 1 :])
        shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            target.rename(old)
        if files:
            tmp.rename(target)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)

    # ------------------------------------------------------------ publishing

    def publish(self, lease: Lease, generation: int) -> bool:
        """Upload what changed, then commit it with one write of the head; False when the server already has it."""
        started = time.perf_counter()
        server = self.server
        head = server.head()
        state = self._state()
        if head is not None and state.get("table") == head.table:
            held: Table = {p: (str(e[0]), int(e[1]), int(e[2])) for p, e in state.get("files", {}).items()}
        else:
            held = server.table(head.table, head.table_parts) if head is not None else {}
        # Files the server's commit holds keep its record; the others are uploaded (if no other commit left them there).
        parts_of = {sha: parts for sha, _, parts in held.values()}
        table: Table = {}
        new: dict[str, list[str]] = {}  # sha -> paths of files whose content the commit does not hold
        for path, (sha, size, _) in self._local().items():
            if sha in parts_of:
                table[path] = (sha, size, parts_of[sha])
            else:
                new.setdefault(sha, []).append(path)
                table[path] = (sha, size, 0)
        if head is not None and head.generation == generation and not new and table == held:
            self._save_state(head, table)
            return False
        counts, uploaded = self._upload(new)
        for sha, paths in new.items():
            for path in paths:
                table[path] = (table[path][0], table[path][1], counts[sha])
        crash_point("published-files")
        table_sha, table_parts = server.put_table(table)
        lease.check()
        commit = Head(generation, table_sha, table_parts, head.table if head else "", head.table_parts if head else 0)
        server.put_head(commit)
        crash_point("published")
        self._save_state(commit, table)
        if head is not None and head.previous:
            self._sweep_table(head, held, table, commit)
        log.info("published generation %d of the index to the Chroma server: %.1f MB uploaded in %.2fs",
                 generation, uploaded * 3 / 4 / 1e6, time.perf_counter() - started)
        return True

    def _upload(self, new: dict[str, list[str]]) -> tuple[dict[str, int], int]:
        """Pack and upload files by content (sha -> paths), streamed: a request's worth is packed while the one
        before is written, and no more than two are held (at a million passages the folder is gigabytes).
        Returns each blob's part count and the base64 characters sent."""
        server = self.server
        present = server.present(new)
        counts: dict[str, int] = {}
        uploaded = 0
        batch: dict[str, list[str]] = {}
        size = 0
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mirror-upload") as pool:
            writing: deque[Future[None]] = deque()

            def send() -> None:
                writing.append(pool.submit(server.put, dict(batch)))
                batch.clear()
                while len(writing) > 1:
                    writing.popleft().result()

            for sha, paths in new.items():
                parts = remote.pack((self.root / paths[0]).read_bytes())
                counts[sha] = len(parts)
                if sha in present and len(parts) == 1:
                    continue  # a blob of several parts may have been cut differently: sent again, it is ours
                batch[sha] = parts
                size += sum(len(part) for part in parts)
                uploaded += sum(len(part) for part in parts)
                if size >= remote.REQUEST_BYTES:
                    send()
                    size = 0
            if batch:
                send()
            while writing:
                writing.popleft().result()
        return counts, uploaded

    def _sweep_table(self, head: Head, held: Table, table: Table, new: Head) -> None:
        """Delete the blobs only the table before last named: no reader can still be pulling it."""
        try:
            older = self.server.table(head.previous, head.previous_parts)
            keep = {e[0] for e in held.values()} | {e[0] for e in table.values()} | {new.table, head.table}
            drop = {sha: parts for sha, _, parts in older.values() if sha not in keep}
            if head.previous not in keep:
                drop[head.previous] = head.previous_parts
            self.server.delete(drop)
        except Exception:  # noqa: BLE001 - a blob left behind costs space, not correctness
            log.warning("could not delete the server's files of an old commit", exc_info=True)

    def sweep(self) -> None:
        """Delete every blob the head's two tables do not name (after a writer died mid-publish)."""
        server = self.server
        head = server.head()
        if head is None:
            return
        keep = {head.table, head.previous}
        for sha, parts in ((head.table, head.table_parts), (head.previous, head.previous_parts)):
            if sha:
                keep |= {e[0] for e in server.table(sha, parts).values()}
        swept = server.sweep(keep)
        if swept:
            log.warning("deleted %d files an interrupted publish left on the Chroma server", swept)
