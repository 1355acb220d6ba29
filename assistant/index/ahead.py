"""Work an ingest does beside the encoder, in worker processes: files read ahead, derived data warmed.

Encoding is most of an ingest; reading a PDF (pdfium, and the layout of its table pages) and extracting a report's register
entries are most of the rest, and both hold the GIL. Done here, in processes of their own, they run
while the main process encodes, instead of after it:

- `read` reads and cleans a file the ingest will reach soon (the main process splits and checks it
  in order, so results, messages and duplicate checks are as if read in place);
- `units` finds the sentence units of a file's passages once it is split (pure Python, ~2 ms a passage),
  in a worker of its own so it never queues behind the reads; the same worker then `warm`s the derived
  data's per-report caches (the register's extraction) from those passages, reusing the sentences it
  just found;
- `stage` builds all derived data (assistant/index/derived.py) ahead, once every file is split, while
  the last batches are encoded: the ingest takes it after its last commit instead of rebuilding. It runs in
  the units worker, after its last units: that process has imported the builders' modules and holds the
  sentences of the passages (the register segments the same texts again), which a fresh process would
  spend ~1 CPU s finding while the encoder works.

A worker is `python -m assistant.index.ahead`, fed pickled tasks on stdin and answering on stdout:
not multiprocessing, whose `spawn` runs the caller's main script again in each worker, and whose
`fork` would copy torch's and Chroma's threads half-held. A worker dies with the main process (a
crash leaves none writing) and starts only when an ingest has a second file to read, or a second batch.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import assistant
from assistant.documents.passages import unit_spans
from assistant.documents.read import read_report
from assistant.errors import AssistantError, ReportError
from assistant.index.derived import Derived, stage_all
from assistant.index.files import ReportFiles
from assistant.types import IndexedReport, Passage, Report, ReportMeta

log = logging.getLogger(__name__)

# Files read ahead of the one being split: a few encoder batches' worth, so reading never waits on the
# encoder and the reports held in memory stay few.
AHEAD = 12
# Loggers whose level the workers copy, so a worker says what the main process would (pypdf's warnings).
LOGGERS = ("pypdf", "assistant")
# How much lower a worker's CPU priority is than the main process's. Building derived data ahead is wanted
# only when the encoder is done, so it takes what the encoder leaves. Reads and units feed the encoder: at a
# low priority they starved whenever other work shared the machine (at a load of 9 on 2 cores, the encoder
# waited 194 s of a 610 s ingest for reads), so they run at the encoder's priority and keep pace with it.
NICENESS = 10
FEEDING = 0

# What a worker hands back for a file: the report, or the error to raise in its place.
Outcome = tuple[Report | None, tuple[str, tuple[str, ...]] | None]
# A passage's sentence units: (start, end, is_bullet, is_lead_in), as assistant.documents.passages.unit_spans gives them.
Units = tuple[tuple[int, int, bool, bool], ...]


class _Kept(logging.Handler):
    """A worker's log records, kept to travel back with the task's answer: the main process logs them where
    its own go (pypdf's warnings into the index's log file, not over the progress bar)."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        record.msg, record.args = record.getMessage(), None  # arguments may not pickle; the text does
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.exc_info = None
        self.records.append(record)

    def take(self) -> list[logging.LogRecord]:
        records, self.records = self.records, []
        return records


def _start_worker(levels: dict[str, int], niceness: int, *, tied: bool = True) -> None:
    """In a worker: die when the thread that started it ends (`tied`), and log as the main process does."""
    # Ctrl-C reaches the whole process group: it is the main process's to handle (it ends its workers), not a
    # traceback from each worker on the user's terminal.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if tied:
        try:
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # not Linux: the worker still ends when its stdin closes
            pass
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    logging.captureWarnings(True)
    _lower_priority(niceness)


_niceness = 0  # this worker's niceness above the main process's


def _lower_priority(niceness: int) -> None:
    """Run at `niceness` above the main process from now on (a process may lower its priority, not raise it)."""
    global _niceness
    if niceness > _niceness:
        with contextlib.suppress(OSError, AttributeError):
            os.nice(niceness - _niceness)
            _niceness = niceness


def _read(path: Path, data: bytes, meta: ReportMeta | None, max_mb: float) -> Outcome:
    """Read one file in a worker; an error comes back as its class and arguments (ReportError does not pickle)."""
    try:
        return read_report(path, max_mb=max_mb, meta=meta, data=data), None
    except ReportError as exc:
        return None, (type(exc).__name__, (str(exc.path), exc.detail, exc.fix))
    except AssistantError as exc:
        return None, (type(exc).__name__, (str(exc),))


def _error(name: str, args: tuple[str, ...]) -> AssistantError:
    import assistant.errors as errors

    kind = getattr(errors, name, AssistantError)
    if not (isinstance(kind, type) and issubclass(kind, AssistantError)):
        kind = AssistantError
    if issubclass(kind, ReportError):
        return kind(Path(args[0]), args[1], args[2])
    return kind(*args)


def _units(texts: Sequence[str]) -> list[Units]:
    """The sentence units of each passage text, as the store would find them."""
    return [unit_spans(text) for text in texts]


def _warm(root: Path, builders: Sequence[Derived], passages: list[Passage]) -> None:
    """Fill the builders' per-report caches from passages not yet committed."""
    for item in builders:
        if item.warm is not None:
            item.warm(root, passages)


def _stage(
    root: Path, folder: Path, builders: Sequence[Derived], committed: dict[str, IndexedReport], fresh: dict[str, list[Passage]]
) -> None:
    """Build the derived data of the index as it will be: the committed reports (read from their files here, not
    sent) with the fresh ones, in the order the index lists its passages (by source).

    At a lower priority from here on: the build is wanted only when the encoder is done, and takes what it
    leaves; a units worker gets no more units to find once the stage is given."""
    _lower_priority(NICENESS)
    files = ReportFiles(root)
    passages: list[Passage] = []
    for source in sorted({*committed, *fresh}):
        passages.extend(fresh[source] if source in fresh else files.load(source, committed[source])[1])
    stage_all(root, builders, folder, passages)


TASKS: dict[str, Callable[..., Any]] = {"read": _read, "units": _units, "warm": _warm, "stage": _stage}


def serve(
    levels: dict[str, int], niceness: int = NICENESS, table: dict[str, Callable[..., Any]] | None = None, *, tied: bool = True
) -> None:
    """A worker's loop: (id, task, arguments) in on stdin, (id, ok, result or error text) out on stdout; the tasks are
    `table`'s (this module's TASKS unless given)."""
    table = TASKS if table is None else table
    _start_worker(levels, niceness, tied=tied)
    kept = _Kept()
    logging.getLogger().addHandler(kept)
    if os.getppid() == 1:  # the main process died while this one started
        return
    tasks, answers = sys.stdin.buffer, os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print goes to stderr, not into the answers
    while True:
        try:
            number, name, args = pickle.load(tasks)
        except EOFError:
            return
        try:
            answer: tuple[int, bool, Any, list[logging.LogRecord]] = (number, True, table[name](*args), [])
        except Exception as exc:  # noqa: BLE001 - sent back, raised by the main process
            answer = (number, False, f"{type(exc).__name__}: {exc}", [])
        answer[3].extend(kept.take())
        pickle.dump(answer, answers)
        answers.flush()


class Worker:
    """One worker process, its tasks done in the order given: `python -m <module>`, whose main calls `serve`."""

    def __init__(self, niceness: int, module: str = "assistant.index.ahead") -> None:
        levels = {name: logging.getLogger(name).getEffectiveLevel() for name in LOGGERS}
        home = str(Path(assistant.__file__).resolve().parent.parent)  # the package this process runs, installed or not
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [home, os.environ.get("PYTHONPATH")]))}
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, json.dumps(levels), str(niceness)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
        )
        self._futures: dict[int, Future[Any]] = {}
        self._lock = threading.Lock()
        self._count = 0
        self._stopped = False  # its answers ended: a task given now fails at once
        self._told = False  # asked to end
        # Tasks are written by a thread: a file's bytes can fill the pipe while the worker is busy.
        self._outbox: queue.Queue[tuple[int, str, tuple[Any, ...]] | None] = queue.Queue()
        threading.Thread(target=self._send, daemon=True, name="ahead-send").start()
        self._collector = threading.Thread(target=self._collect, daemon=True, name="ahead-collect")
        self._collector.start()

    def submit(self, name: str, *args: Any) -> Future[Any]:
        future: Future[Any] = Future()
        with self._lock:
            if self._stopped:  # nothing would answer it
                future.set_exception(RuntimeError(f"the ingest worker had stopped (exit code {self.process.poll()})"))
                return future
            number = self._count = self._count + 1
            self._futures[number] = future
        self._outbox.put((number, name, args))
        return future

    def waiting(self) -> int:
        """Tasks given and not yet answered."""
        with self._lock:
            return len(self._futures)

    def _send(self) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        try:
            while (task := self._outbox.get()) is not None:
                pickle.dump(task, stdin)
                stdin.flush()
        except (OSError, ValueError):
            pass  # the worker died: _collect fails what it was given
        finally:
            with contextlib.suppress(OSError):
                stdin.close()

    def _collect(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        try:
            while True:
                number, ok, value, records = pickle.load(stdout)
                for record in records:
                    logging.getLogger(record.name).handle(record)
                with self._lock:
                    future = self._futures.pop(number)
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(RuntimeError(f"ingest worker: {value}"))
        except Exception:  # noqa: BLE001 - whatever ended the answers, every task left must be failed
            log.debug("ingest worker's answers ended", exc_info=True)
        with self._lock:
            self._stopped = True
            left, self._futures = list(self._futures.values()), {}
        for future in left:
            future.set_exception(RuntimeError("the ingest worker stopped before it answered"))

    def stop(self, *, abandon: bool = False) -> None:
        """Ask it to end after the tasks given, or (`abandon`) end it at once; `close` waits for it."""
        if not self._told:
            self._told = True
            self._outbox.put(None)
        if abandon:
            self.process.kill()

    def close(self, *, abandon: bool = False) -> None:
        """Stop after the tasks given, or (`abandon`) at once: a read no one will take is not worth finishing."""
        self.stop(abandon=abandon)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._collector.join(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()


class Ahead:
    """The worker processes of one ingest run; `close` them when the run ends, however it ends."""

    def __init__(self) -> None:
        self._reader: Worker | None = None
        self._splitter: Worker | None = None
        self._stager: Worker | None = None
        self._sendable: dict[tuple[Derived, ...], bool] = {}  # builders a worker can be sent (a test's closure cannot)

    def read(self, path: Path, data: bytes, meta: ReportMeta | None, max_mb: float) -> Future[Outcome]:
        """Start reading a file; `report` gives its result."""
        if self._reader is None:
            self._reader = Worker(FEEDING)
        return self._reader.submit("read", path, data, meta, max_mb)

    def units(self, texts: Sequence[str]) -> Future[list[Units]]:
        """Start finding the sentence units of passage texts (the store needs them beside each batch's vectors)."""
        return self._split_worker().submit("units", list(texts))

    def warm(self, root: Path, builders: Sequence[Derived], passages: list[Passage]) -> None:
        """Fill derived data's per-report caches from a split file's passages, after the units asked before.

        Only a cache is filled: a failure leaves the build to do the work, and is not reported."""
        builders = tuple(item for item in builders if item.warm is not None)
        if builders and self._can_send(builders):
            self._split_worker().submit("warm", root, builders, passages)

    def _split_worker(self) -> Worker:
        if self._splitter is None:
            self._splitter = Worker(FEEDING)
        return self._splitter

    def stage(
        self,
        root: Path,
        folder: Path,
        builders: Sequence[Derived],
        committed: dict[str, IndexedReport],
        fresh: dict[str, list[Passage]],
    ) -> Future[None] | None:
        """Start building the derived data of `committed` plus `fresh` into `folder`; None when it cannot be sent.

        It runs at a lower priority, in the units worker when there is one (after the units given before it)."""
        if not self._can_send(tuple(builders)):
            return None
        worker = self._splitter or self._stager
        if worker is None:
            worker = self._stager = Worker(NICENESS)
        return worker.submit("stage", root, folder, tuple(builders), dict(committed), fresh)

    @staticmethod
    def report(future: Future[Outcome]) -> Report:
        """The report read ahead, or the error reading it raised."""
        report, error = future.result()
        if error is not None:
            raise _error(*error)
        assert report is not None
        return report

    def _can_send(self, builders: tuple[Derived, ...]) -> bool:
        if builders not in self._sendable:
            try:
                pickle.dumps(builders)
                self._sendable[builders] = True
            except Exception:  # noqa: BLE001 - any pickling failure means: not in a worker
                self._sendable[builders] = False
        return self._sendable[builders]

    def close(self) -> None:
        """Stop the workers: work left over (the run failed, or a cache no one will read) is dropped."""
        workers = [worker for worker in (self._reader, self._splitter, self._stager) if worker is not None]
        for worker in workers:  # all told first: they end side by side, not one after another
            worker.stop(abandon=bool(worker.waiting()))
        for worker in workers:
            worker.close()
        self._reader = self._splitter = self._stager = None


if __name__ == "__main__":
    serve(json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}, int(sys.argv[2]) if len(sys.argv) > 2 else NICENESS)
