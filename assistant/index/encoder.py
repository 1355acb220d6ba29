"""Passages encoded in a process of their own, so an ingest's other work never waits on the encoder, nor it on them.

An encoder thread in the ingest's own process shares the GIL with everything else that process does: Chroma's
add holds the GIL for its whole call (1.5 s for 2,048 rows), and while the main thread splits and writes, each
of the encoder's ~200 torch calls a batch waits for the GIL back. In a process of its own it waits for nothing.
The child also makes an ingest's process lighter: torch is imported there, not here.

The child is `python -m assistant.index.encoder` (assistant/index/ahead.py's worker protocol), started on the
first batch and kept while batches keep coming: stopped after `IDLE_S` without one, so a server that ingested
once does not hold the model's memory for good, and started again by the next batch.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.errors import AssistantError
from assistant.index.ahead import Worker, serve

if TYPE_CHECKING:
    from assistant.index.embedding import SentenceTransformerEmbedder

# Seconds without a batch before the child stops and frees the model's memory (~400 MB).
IDLE_S = 120.0


class ProcessEmbedder:
    """sentence-transformers' passage vectors, computed in a child process (same model, same batches, same results)."""

    def __init__(self, local: SentenceTransformerEmbedder, *, idle_s: float = IDLE_S) -> None:
        self.local = local  # checked the model folder; its settings go to the child, its model is never loaded here
        self.name = local.name
        self.model_dir = local.model_dir
        self.batch_size = local.batch_size
        self.idle_s = idle_s
        self._worker: Worker | None = None
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._busy = 0

    def embed_batch(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        return self._call("embed_batch", list(texts))

    def embed_with_units(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]], *, show_progress: bool = False
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        return self._call("embed_with_units", list(texts), [list(s) for s in spans])

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_batch([text])[0]

    def _call(self, task: str, *args: Any) -> Any:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._worker is None or self._worker.process.poll() is not None:
                # Not tied to the starting thread's life (ingest encodes in short-lived threads): the child
                # ends when this process does, as its stdin closes.
                self._worker = Worker(0, "assistant.index.encoder")
            worker = self._worker
            self._busy += 1
        try:
            return worker.submit(task, str(self.model_dir), self.batch_size, *args).result()
        except RuntimeError as exc:  # the child died or failed: say so as the model's failure, not a crash
            raise AssistantError(f"the embedding model's process failed ({exc}); run the command again") from exc
        finally:
            with self._lock:
                self._busy -= 1
                if not self._busy and self._worker is worker:
                    self._timer = threading.Timer(self.idle_s, self._stop_if_idle, args=(worker,))
                    self._timer.daemon = True
                    self._timer.start()

    def _stop_if_idle(self, worker: Worker) -> None:
        with self._lock:
            if self._busy or self._worker is not worker:
                return
            self._worker = None
        worker.close()

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs (a benchmark counts its CPU time)."""
        worker = self._worker
        return worker.process.pid if worker is not None and worker.process.poll() is None else None

    def close(self) -> None:
        """Stop the child now (it starts again if asked for more vectors)."""
        with self._lock:
            worker, self._worker = self._worker, None
            if self._timer is not None:
                self._timer.cancel()
        if worker is not None:
            worker.close()


_SHARED: dict[tuple[Path, int], ProcessEmbedder] = {}
_SHARED_LOCK = threading.Lock()


def shared(local: SentenceTransformerEmbedder) -> ProcessEmbedder:
    """The process's one encoder child for this model and batch size: every index of a server shares it."""
    key = (local.model_dir, local.batch_size)
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = ProcessEmbedder(local)
        return _SHARED[key]


# ------------------------------------------------------------ in the child

_LOADED: dict[tuple[str, int], SentenceTransformerEmbedder] = {}


def _model(model_dir: str, batch_size: int) -> SentenceTransformerEmbedder:
    from assistant.index.embedding import SentenceTransformerEmbedder

    key = (model_dir, batch_size)
    if key not in _LOADED:
        _LOADED[key] = SentenceTransformerEmbedder(Path(model_dir), batch_size=batch_size)
    return _LOADED[key]


def _embed_batch(model_dir: str, batch_size: int, texts: list[str]) -> np.ndarray:
    return _model(model_dir, batch_size).embed_batch(texts)


def _embed_with_units(
    model_dir: str, batch_size: int, texts: list[str], spans: list[list[tuple[int, int]]]
) -> tuple[np.ndarray, list[np.ndarray]]:
    return _model(model_dir, batch_size).embed_with_units(texts, spans)


TASKS: dict[str, Callable[..., Any]] = {"embed_batch": _embed_batch, "embed_with_units": _embed_with_units}


def _orphan_watch(parent: int) -> None:
    """End at once when the process that started this one dies, even mid-batch: no one will take the vectors.

    (PR_SET_PDEATHSIG would fire when the starting *thread* ends, and ingest encodes from short-lived threads.)"""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


if __name__ == "__main__":
    threading.Thread(target=_orphan_watch, args=(os.getppid(),), daemon=True, name="orphan-watch").start()
    serve(json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}, int(sys.argv[2]) if len(sys.argv) > 2 else 0, TASKS, tied=False)
