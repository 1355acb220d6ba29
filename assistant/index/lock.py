"""One writer at a time per index folder, across processes; and the crash hook the tests pull."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from filelock import FileLock, Timeout

from assistant.errors import AssistantError

log = logging.getLogger(__name__)

LOCK_FILE = ".lock"
OWNER_FILE = ".lock.owner"
# Long enough for another process to finish a large ingest; short enough that a stuck one is reported.
DEFAULT_TIMEOUT = 600.0


class IndexBusy(AssistantError):
    """Another process holds the index's write lock for longer than we may wait."""


def crash_point(stage: str) -> None:
    """Die here, as `kill -9` would, when ASSISTANT_CRASH_AT names this stage (the crash tests' hook)."""
    if os.environ.get("ASSISTANT_CRASH_AT") == stage:
        os.kill(os.getpid(), signal.SIGKILL)


class WriterLock:
    """An flock on `<index>/.lock`, with who holds it written beside it for the waiter's message."""

    def __init__(self, folder: Path, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.folder = folder
        self.path = folder / LOCK_FILE
        self.timeout = timeout
        # Not thread-local: a threading lock serialises threads; this one is for processes. The file is kept:
        # unlinking it on release lets a waiter and a newcomer lock two different files.
        self._lock = FileLock(self.path, thread_local=False, preserve_lock_file=True)

    def owner(self) -> str:
        """Who holds the lock, as its holder recorded it ('' when unknown)."""
        try:
            data = json.loads((self.folder / OWNER_FILE).read_text(encoding="utf-8"))
            return f"pid {data['pid']}: {data['command']}, since {data['since']}"
        except (OSError, ValueError, KeyError, TypeError):
            return ""

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it (readers repairing derived data never wait)."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._lock.acquire(timeout=0)
        except (Timeout, OSError):
            return False
        self._record_owner()
        return True

    def acquire(self) -> None:
        """Take the lock, waiting up to the timeout for another writer to finish."""
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            holder = self.owner() or "another process"
            log.warning("waiting for %s to finish writing the index (lock %s)", holder, self.path)
            try:
                self._lock.acquire(timeout=self.timeout)
            except Timeout:
                holder = self.owner() or "another process"
                raise IndexBusy(
                    f"the index in {self.folder} is being written by {holder}; waited {self.timeout:.0f}s "
                    f"for {self.path}. Try again when it finishes"
                ) from None
        self._record_owner()

    def release(self) -> None:
        if self._lock.lock_counter == 1:
            (self.folder / OWNER_FILE).unlink(missing_ok=True)
        self._lock.release()

    @contextmanager
    def held(self) -> Iterator[None]:
        self.acquire()
        try:
            yield
        finally:
            self.release()

    def _record_owner(self) -> None:
        if self._lock.lock_counter > 1:
            return
        program = Path(sys.argv[0]).name if sys.argv else ""
        # `python -m assistant` runs __main__.py: name it as the user typed it.
        command = " ".join(["assistant" if program in ("__main__.py", "") else program, *sys.argv[1:]])[:200]
        since = time.strftime("%H:%M:%S")
        with suppress(OSError):  # the owner note only improves a waiter's message
            (self.folder / OWNER_FILE).write_text(
                json.dumps({"pid": os.getpid(), "command": command, "since": since}), encoding="utf-8"
            )
