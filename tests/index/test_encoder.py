"""Passages encoded in a child process: the same vectors as in-process, a child that comes and goes, and an
ingest through the index's own embedder that never imports torch in its own process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from index_checks import process_alive

from assistant.errors import AssistantError
from assistant.index.embedding import SentenceTransformerEmbedder
from assistant.index.encoder import ProcessEmbedder

ROOT = Path(__file__).resolve().parents[2]
TEXTS = [
    "The council approved £1.2m for highways maintenance.",
    "Children's social care was judged to require improvement to be good.",
    "",
    "Ynys Môn — naïve café 🙂",
]


# Each child loads torch and the model (~4 s): the module's tests share one, started again where a test kills it.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def process_embedder():
    embedder = ProcessEmbedder(SentenceTransformerEmbedder(batch_size=16), idle_s=60)
    yield embedder
    embedder.close()


def test_vectors_and_unit_vectors_are_those_of_the_model_in_process(process_embedder: ProcessEmbedder, embedder) -> None:
    spans = [[(0, 11), (12, len(text))] if text else [] for text in TEXTS]
    vectors, units = process_embedder.embed_with_units(TEXTS, spans)
    expected, expected_units = embedder.embed_with_units(TEXTS, spans)
    assert vectors.dtype == np.float32 and vectors.shape == (len(TEXTS), 384)
    assert np.allclose(vectors, expected, atol=1e-5)
    for got, want in zip(units, expected_units, strict=True):
        assert got.shape == want.shape and np.allclose(got, want, atol=1e-5)
    assert np.allclose(process_embedder.embed_batch(TEXTS), embedder.embed_batch(TEXTS), atol=1e-5)
    assert np.allclose(process_embedder.embed_query(TEXTS[0]), expected[0], atol=1e-5)


def test_the_child_stops_when_idle_and_starts_again_when_needed(
    process_embedder: ProcessEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(process_embedder, "idle_s", 0.5)
    first = process_embedder.embed_batch(TEXTS[:1])
    pid = process_embedder.pid
    assert pid is not None
    deadline = time.monotonic() + 30
    while (process_embedder.pid is not None or process_alive(pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert process_embedder.pid is None and not process_alive(pid), "the idle child did not stop"
    assert np.allclose(process_embedder.embed_batch(TEXTS[:1]), first, atol=1e-6)
    assert process_embedder.pid not in (None, pid)


def test_a_killed_child_is_replaced_by_the_next_call(process_embedder: ProcessEmbedder) -> None:
    process_embedder.embed_batch(TEXTS[:1])
    pid = process_embedder.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    while process_embedder.pid is not None:  # its torch threads take a moment to go
        time.sleep(0.05)
    assert process_embedder.embed_batch(TEXTS[:2]).shape == (2, 384)
    assert process_embedder.pid not in (None, pid)


def test_ctrl_c_is_left_to_the_parent(process_embedder: ProcessEmbedder) -> None:
    """Ctrl-C reaches the whole process group: the child neither dies nor prints a traceback; its parent decides."""
    process_embedder.embed_batch(TEXTS[:1])
    pid = process_embedder.pid
    assert pid is not None
    os.kill(pid, signal.SIGINT)
    time.sleep(0.5)
    assert process_embedder.embed_batch(TEXTS[:2]).shape == (2, 384)
    assert process_embedder.pid == pid


def test_a_child_that_dies_while_encoding_is_a_clear_error(process_embedder: ProcessEmbedder) -> None:
    process_embedder.embed_batch(TEXTS[:1])
    pid = process_embedder.pid
    assert pid is not None
    # Killed while it works on a batch big enough to take a while.
    killer = subprocess.Popen([sys.executable, "-c", f"import os, signal, time; time.sleep(0.5); os.kill({pid}, signal.SIGKILL)"])
    with pytest.raises(AssistantError, match="embedding model's process failed"):
        process_embedder.embed_batch([TEXTS[1] * 8] * 4000)
    killer.wait()


def test_an_ingest_through_the_index_embedder_leaves_torch_out_of_its_process(tmp_path: Path) -> None:
    """As `assistant ingest` runs: the vectors come from the child, the passages are searchable, torch stays there."""
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "roads.txt").write_text(
        "Highways Report\n\n1. The council approved £1.2m for pothole repairs on rural roads.\n", encoding="utf-8"
    )
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from assistant.library import open_index\n"
        "from assistant.settings import Settings\n"
        f"index = open_index(Settings(index_dir=Path({str(tmp_path / 'index')!r})))\n"
        f"summary = index.ingest([Path({str(tmp_path / 'reports')!r})])\n"
        "hits = index.nearest(index.embedder.embed_query('pothole repairs'), 1, __import__('assistant.types').types.Filters())\n"
        "heavy = [m for m in ('torch', 'sentence_transformers') if m in sys.modules]\n"
        "print(json.dumps({'added': summary.count('added'), 'kind': type(index.embedder.passages).__name__,\n"
        "                  'top': hits[0][0].source, 'heavy': heavy}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"added": 1, "kind": "ProcessEmbedder", "top": "roads.txt", "heavy": []}



def test_the_child_ends_mid_batch_when_its_parent_is_killed(tmp_path: Path) -> None:
    """A killed ingest leaves no encoder working on for a batch no one will store."""
    script = (
        "import sys, threading\n"
        "from assistant.index.embedding import SentenceTransformerEmbedder\n"
        "from assistant.index.encoder import ProcessEmbedder\n"
        "embedder = ProcessEmbedder(SentenceTransformerEmbedder())\n"
        "embedder.embed_batch(['warm'])\n"
        "print(embedder.pid, flush=True)\n"
        "embedder.embed_batch(['a long passage about highways maintenance budgets ' * 30] * 20000)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    time.sleep(1.0)  # well inside the big batch (minutes of work)
    assert process_alive(child)
    parent.kill()
    parent.wait()
    parent.stdout.close()
    deadline = time.monotonic() + 10
    while process_alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not process_alive(child), "the encoder worked on after its parent died"
