"""One writer at a time: a writer waits for the lock and names who holds it."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from index_checks import NEW_REPORT, WORCESTERSHIRE, check_consistent

from assistant.index.index import Index
from assistant.library import open_index


def test_a_writer_waits_for_the_lock_and_names_who_holds_it(sample_index: Index, corpus: Path, embedder) -> None:
    from assistant.index.lock import IndexBusy, WriterLock

    (corpus / "fostering.txt").write_text(NEW_REPORT, encoding="utf-8")
    holder = WriterLock(sample_index.root)
    holder.acquire()
    try:
        waiting = open_index(sample_index.settings, embedder=embedder, lock_timeout=0.5)
        started = time.monotonic()
        with pytest.raises(IndexBusy) as caught:
            waiting.ingest([corpus])
        assert time.monotonic() - started >= 0.5
        message = str(caught.value)
        assert str(sample_index.root / ".lock") in message
        assert f"pid {os.getpid()}" in message
        with pytest.raises(IndexBusy):
            waiting.remove(WORCESTERSHIRE)
    finally:
        holder.release()
    assert "fostering.txt" not in open_index(sample_index.settings).reports

    # Released in time, the waiter goes ahead.
    holder.acquire()
    threading.Timer(0.5, holder.release).start()
    summary = open_index(sample_index.settings, embedder=embedder, lock_timeout=30).ingest([corpus])
    assert {r.source: r.status for r in summary.results}["fostering.txt"] == "added"
    check_consistent(sample_index)
