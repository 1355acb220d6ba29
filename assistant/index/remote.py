"""The index folder's files kept on the Chroma server, and the lease that lets one instance write at a time.

With ASSISTANT_CHROMA_URL set, the passages' rows are on the server, but the manifest, reports/ (texts
and sentence-unit vectors), bm25/ and the register are files. They are kept in a second collection,
`<collection>-files`, so the server holds everything an instance needs (assistant/index/mirror.py
keeps a local folder in step with it). Its records, each with a 1-d placeholder vector (Chroma wants one):

    blob:<sha256>:<part>  a file's bytes, zlib-compressed, in parts of PART_BYTES, base64 in the metadata
                          (documents would be full-text indexed: 30x slower to write, measured on `chroma run`)
    head                  the commit: generation, and the blob of the file table (path -> sha256, size, parts)
                          of that generation and of the one before (whose blobs are kept one commit longer)
    lease:<epoch>         a writer's lease: holder, token, a heartbeat counter, released/clean flags
    lease-epoch           the latest epoch, a hint for finding the current lease

Blobs are named by content, so a table's files are uploaded before the head names them and a reader
never sees a head with missing files. Chroma has no compare-and-set, but `add` of an existing id keeps
the first record (checked on 1.5): writers race to add `lease:<epoch+1>` and the one whose token reads
back holds it. A lease is taken when the last was released, or when its heartbeat has not moved for
`lease_seconds` on the waiter's own clock (its holder died; no clocks are compared). A lease not
released cleanly means its holder may have left rows the head does not name: the next holder repairs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import socket
import threading
import time
import uuid
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from assistant.errors import AssistantError
from assistant.index.lock import IndexBusy

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection
    from chromadb.api.types import Metadata

log = logging.getLogger(__name__)

HEAD = "head"
EPOCH = "lease-epoch"
# Compressed bytes per record, and per request: Chroma stores metadata at ~10 MB/s, and answers fast at this size.
PART_BYTES = 2 << 20
REQUEST_BYTES = 16 << 20
IDS_PER_REQUEST = 500
LEASE_SECONDS = 60.0
# path under the index folder -> (sha256 of its bytes, size in bytes, parts on the server)
Table = dict[str, tuple[str, int, int]]


class ServerError(AssistantError):
    """The Chroma server's copy of the index folder cannot be read or written."""


@dataclass(frozen=True)
class Head:
    """The server's commit: which generation, and which table of files it is made of."""

    generation: int
    table: str  # sha256 of the table blob
    table_parts: int
    previous: str = ""  # the table of the commit before (its blobs are still kept)
    previous_parts: int = 0


def placeholders(n: int) -> np.ndarray:
    """The vectors of n records that are not searched by meaning (Chroma wants one per record)."""
    return np.zeros((n, 1), dtype=np.float32)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def part_id(sha: str, part: int) -> str:
    return f"blob:{sha}:{part}"


def pack(data: bytes) -> list[str]:
    """A file's bytes as the parts stored on the server (at least one, even when empty)."""
    packed = zlib.compress(data, 1)  # reports' unit vectors hardly compress: level 6 costs more and saves ~2%
    return [base64.b64encode(packed[i : i + PART_BYTES]).decode("ascii") for i in range(0, max(len(packed), 1), PART_BYTES)]


def _batches(ids: list[str], sizes: list[int]) -> Iterator[list[str]]:
    """Ids in requests of at most IDS_PER_REQUEST ids and about REQUEST_BYTES."""
    batch: list[str] = []
    total = 0
    for pid, size in zip(ids, sizes, strict=True):
        if batch and (len(batch) >= IDS_PER_REQUEST or total + size > REQUEST_BYTES):
            yield batch
            batch, total = [], 0
        batch.append(pid)
        total += size
    if batch:
        yield batch


class ServerFiles:
    """Blobs, the head and leases in the server's files collection."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    # ------------------------------------------------------------ blobs

    def present(self, shas: Iterable[str]) -> set[str]:
        """Which blobs the server holds whole (the first part is written last)."""
        ids = [part_id(sha, 0) for sha in set(shas)]
        found: set[str] = set()
        for start in range(0, len(ids), IDS_PER_REQUEST):
            found.update(self.collection.get(ids=ids[start : start + IDS_PER_REQUEST], include=[])["ids"])
        return {pid.split(":")[1] for pid in found}

    def put(self, blobs: dict[str, list[str]]) -> None:
        """Upload blobs (sha -> parts), every first part last, so a blob whose first part is there is whole."""
        order = [(sha, i) for sha, parts in blobs.items() for i in range(1, len(parts))] + [(sha, 0) for sha in blobs]
        ids = [part_id(sha, i) for sha, i in order]
        data = {pid: blobs[sha][i] for pid, (sha, i) in zip(ids, order, strict=True)}
        # Many small files share a request: each request is a commit on the server (~40 ms).
        for batch in _batches(ids, [len(data[pid]) for pid in ids]):
            self.collection.upsert(
                ids=batch,
                embeddings=placeholders(len(batch)),
                metadatas=[cast("Metadata", {"data": data[pid]}) for pid in batch],
            )

    def get(self, blobs: dict[str, tuple[int, int]]) -> Iterator[tuple[str, bytes]]:
        """Download blobs (sha -> (size, parts)), checked against their sha256; yields each as it is whole."""
        ids = [part_id(sha, i) for sha, (_, parts) in blobs.items() for i in range(parts)]
        # Compressed parts are at most PART_BYTES, and rarely bigger than the file itself.
        sizes = [min(size + 64, PART_BYTES) for _, (size, parts) in blobs.items() for _ in range(parts)]
        received: dict[str, str] = {}
        done: set[str] = set()
        for batch in _batches(ids, sizes):
            rows = self.collection.get(ids=batch, include=["metadatas"])
            for pid, meta in zip(rows["ids"], rows["metadatas"] or [], strict=True):
                received[pid] = str((meta or {})["data"])
            # Only blobs this request reached can have become whole (at scale, tens of thousands are asked for).
            for sha in dict.fromkeys(pid.split(":")[1] for pid in batch):
                parts = blobs[sha][1]
                if sha in done or part_id(sha, parts - 1) not in received:
                    continue
                names = [part_id(sha, i) for i in range(parts)]
                if any(name not in received for name in names):
                    raise ServerError(f"the server's file {sha[:12]} is incomplete; another instance may have replaced it")
                data = zlib.decompress(b"".join(base64.b64decode(received.pop(name)) for name in names))
                if digest(data) != sha:
                    raise ServerError(f"the server's file {sha[:12]} does not match its checksum")
                done.add(sha)
                yield sha, data
        if len(done) != len(blobs):
            missing = sorted(set(blobs) - done)
            raise ServerError(f"{len(missing)} of the server's files are missing (first {missing[0][:12]}); another instance may have replaced them")

    def delete(self, blobs: dict[str, int]) -> None:
        """Delete blobs (sha -> parts)."""
        ids = [part_id(sha, i) for sha, parts in blobs.items() for i in range(parts)]
        for start in range(0, len(ids), IDS_PER_REQUEST):
            self.collection.delete(ids=ids[start : start + IDS_PER_REQUEST])

    def sweep(self, keep: set[str]) -> int:
        """Delete every blob not in `keep` (what writers that died mid-publish left); returns how many."""
        ids = [pid for pid in self.collection.get(include=[])["ids"] if pid.startswith("blob:") and pid.split(":")[1] not in keep]
        for start in range(0, len(ids), IDS_PER_REQUEST):
            self.collection.delete(ids=ids[start : start + IDS_PER_REQUEST])
        return len({pid.split(":")[1] for pid in ids})

    # ------------------------------------------------------------ the head and its tables

    def head(self) -> Head | None:
        """The commit the server holds (one small read), or None when nothing was ever published."""
        rows = self.collection.get(ids=[HEAD], include=["metadatas"])
        if not rows["ids"]:
            return None
        meta: dict[str, Any] = dict((rows["metadatas"] or [{}])[0] or {})
        try:
            return Head(**{key: meta[key] for key in Head.__dataclass_fields__ if key in meta})
        except TypeError as exc:
            raise ServerError(f"the server's record '{HEAD}' is damaged ({exc}); publish again with `assistant ingest`") from None

    def table(self, sha: str, parts: int) -> Table:
        if not sha:
            return {}
        for _, data in self.get({sha: (PART_BYTES * parts, parts)}):
            return {path: (str(e[0]), int(e[1]), int(e[2])) for path, e in json.loads(data).items()}
        return {}

    def put_table(self, table: Table) -> tuple[str, int]:
        data = json.dumps({path: list(entry) for path, entry in sorted(table.items())}).encode("utf-8")
        sha, parts = digest(data), pack(data)
        if sha not in self.present([sha]):
            self.put({sha: parts})
        return sha, len(parts)

    def put_head(self, head: Head) -> None:
        """The commit: after this one write, readers see the new table."""
        meta = cast("Metadata", {key: getattr(head, key) for key in Head.__dataclass_fields__})
        self.collection.upsert(ids=[HEAD], embeddings=placeholders(1), metadatas=[meta])

    # ------------------------------------------------------------ the lease

    def lease(self, *, timeout: float, lease_seconds: float | None = None) -> Lease:
        """Take the writers' lease, waiting up to `timeout` for a live holder to finish."""
        lease_seconds = LEASE_SECONDS if lease_seconds is None else lease_seconds
        deadline = time.monotonic() + timeout
        seen: tuple[tuple[int, object], float] | None = None
        warned = False
        while True:
            epoch, meta = self._current_lease()
            after_crash = False
            if meta is not None and not meta.get("released"):
                beat = (epoch, meta.get("beat"))
                now = time.monotonic()
                if seen is None or seen[0] != beat:
                    seen = (beat, now)
                if now - seen[1] < lease_seconds:
                    holder = str(meta.get("holder", "another instance"))
                    if now > deadline:
                        raise IndexBusy(
                            f"the index on the Chroma server is being written by {holder}; waited {timeout:.0f}s "
                            "for its lease. Try again when it finishes"
                        )
                    if not warned:
                        log.warning("waiting for %s to finish writing the index on the Chroma server", holder)
                        warned = True
                    time.sleep(min(0.5, lease_seconds / 4))
                    continue
                log.warning("the last writer of the index on the Chroma server (%s) stopped answering; taking over", meta.get("holder"))
                after_crash = True
            elif meta is not None:
                after_crash = not meta.get("clean")
            lease = Lease(self, epoch + 1, after_crash, lease_seconds)
            if lease.claim():
                return lease

    def _current_lease(self) -> tuple[int, dict[str, Any] | None]:
        """The latest lease epoch and its record (0, None before any)."""
        hint = self.collection.get(ids=[EPOCH], include=["metadatas"])
        start = int(str(((hint["metadatas"] or [{}])[0] or {}).get("epoch", 0))) if hint["ids"] else 0
        while True:
            ids = [f"lease:{e}" for e in range(max(start, 1), start + 16)]
            rows = self.collection.get(ids=ids, include=["metadatas"])
            found = {int(pid.split(":")[1]): dict(meta or {}) for pid, meta in zip(rows["ids"], rows["metadatas"] or [], strict=True)}
            if not found:
                return start, None
            latest = max(found)
            if latest < start + 15:
                return latest, found[latest]
            start = latest


@dataclass(eq=False)
class Lease:
    """The writers' lease, held while one instance writes; a thread keeps its heartbeat going."""

    files: ServerFiles
    epoch: int
    after_crash: bool  # the last holder did not finish cleanly: repair before writing
    lease_seconds: float
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    holder: str = field(default_factory=lambda: f"pid {os.getpid()} on {socket.gethostname()}")
    _beats: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    @property
    def record(self) -> str:
        return f"lease:{self.epoch}"

    def _meta(self, **extra: object) -> Metadata:
        return cast("Metadata", {"token": self.token, "holder": self.holder, "beat": self._beats, "released": False, "clean": False, **extra})

    def claim(self) -> bool:
        """Race for this epoch: add keeps the first record, so whoever reads back their token holds it."""
        collection = self.files.collection
        collection.add(ids=[self.record], embeddings=placeholders(1), metadatas=[self._meta()])
        rows = collection.get(ids=[self.record], include=["metadatas"])
        if not rows["ids"] or ((rows["metadatas"] or [{}])[0] or {}).get("token") != self.token:
            return False
        collection.upsert(ids=[EPOCH], embeddings=placeholders(1), metadatas=[cast("Metadata", {"epoch": self.epoch})])
        if self.epoch > 2:
            collection.delete(ids=[f"lease:{self.epoch - 2}"])
        self._thread = threading.Thread(target=self._beat, name=f"lease-{self.epoch}", daemon=True)
        self._thread.start()
        return True

    def _beat(self) -> None:
        while not self._stop.wait(self.lease_seconds / 4):
            self._beats += 1
            try:
                self.files.collection.upsert(ids=[self.record], embeddings=placeholders(1), metadatas=[self._meta()])
            except Exception:  # noqa: BLE001 - a missed beat is retried; the check before publishing decides
                log.warning("could not renew the write lease on the Chroma server", exc_info=True)

    def check(self) -> None:
        """Insist the lease is still ours (nobody took it over while we were stalled)."""
        rows = self.files.collection.get(ids=[f"lease:{self.epoch + 1}"], include=[])
        if rows["ids"]:
            raise IndexBusy(
                "another instance took over the write lease on the Chroma server while this one was stalled; "
                "nothing was published: run the ingest again"
            )

    def release(self, *, clean: bool) -> None:
        """Stop the heartbeat and release; not clean tells the next holder to repair first."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        try:
            self.files.collection.upsert(ids=[self.record], embeddings=placeholders(1), metadatas=[self._meta(released=True, clean=clean)])
        except Exception:  # noqa: BLE001 - unreleased, the lease lapses after lease_seconds
            log.warning("could not release the write lease on the Chroma server; it lapses in %.0fs", self.lease_seconds, exc_info=True)
