"""Crash safety: ingest and remove killed with a real SIGKILL at each stage, then repaired by the next command.

The crashing command runs in a subprocess with ASSISTANT_CRASH_AT naming a stage (assistant/index/lock.py's
crash_point); the next command runs in this process through the CLI, with the session's model.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from assistant.cli.main import cli
from assistant.index.bm25 import BM25Store
from assistant.index.derived import AHEAD_FOLDER
from assistant.index.index import Index
from assistant.index.lock import WriterLock
from assistant.library import open_index
from assistant.retrieval.search import Retriever
from assistant.settings import Settings

pytestmark = pytest.mark.slow

REPORTS = {
    "alpha.txt": "Fostering Service Review\n\n1. The fostering service recruited fourteen new foster families.\n\n"
    "2. Placement stability improved: three or more moves fell to six per cent.\n",
    "beta.txt": "Front Door Update\n\n1. The multi-agency safeguarding hub answered contacts within one working day.\n\n"
    "2. Repeat referrals fell to eighteen per cent by March.\n",
}
CHANGED_ALPHA = REPORTS["alpha.txt"] + "\n3. A zebrafinch mentoring pilot began for new carers in spring.\n"
GAMMA = "Care Leavers Offer\n\n1. Every care leaver now has a personal adviser until the age of twenty-five.\n"


def _write(folder: Path, reports: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in reports.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _subprocess(args: list[str], index_dir: Path, crash_at: str = "", before: str = "") -> subprocess.CompletedProcess[str]:
    """`assistant ARGS` in a process of its own, after the Python statements `before`."""
    env = {**os.environ, "ASSISTANT_INDEX_DIR": str(index_dir), "ASSISTANT_CRASH_AT": crash_at}
    command = ["-m", "assistant", *args] if not before else ["-c", f"{before}from assistant.cli.main import cli; cli({args!r})"]
    return subprocess.run([sys.executable, *command], capture_output=True, text=True, env=env, timeout=300)


def check_invariant(index_dir: Path, embedder: Any) -> Index:
    """Manifest, Chroma, BM25, register and stored report files hold the same passages; nothing is half done."""
    index = open_index(Settings(index_dir=index_dir), embedder=embedder)
    ids = {i for entry in index.reports.values() for i in entry.ids}
    assert set(index.collection.get(include=[])["ids"]) == ids
    bm25 = index_dir / "bm25"
    assert (set(BM25Store.load(bm25).ids) if bm25.exists() else set()) == ids
    assert {p.id for p in index.all_passages()} == ids
    hashes = {entry.hash for entry in index.reports.values()}
    assert {p.name.split(".")[0] for p in (index_dir / "reports").iterdir()} <= hashes
    derived = json.loads((index_dir / "derived.json").read_text(encoding="utf-8"))
    assert derived.pop("versions").keys() == {"bm25", "register"}
    assert derived == {"bm25": index.generation, "register": index.generation}
    assert (index_dir / "commitments.json").is_file()
    assert not (index_dir / ".dirty").exists()
    return index


# stage, what was in the index before, what the crashing command does, the next command
CASES = [
    ("read", "two reports", "ingest", "search"),
    ("embedded", "two reports", "ingest", "ingest"),
    ("chroma", "nothing", "ingest", "ingest"),  # the first ingest, killed before its commit
    ("manifest", "nothing", "ingest", "search"),  # committed, but BM25 never built
    ("bm25", "two reports", "ingest", "search"),
    ("register", "two reports", "ingest", "ingest"),
    # Derived data built ahead in a worker, killed while it is moved into place.
    ("bm25", "two reports", "ingest ahead", "search"),
    ("register", "two reports", "ingest ahead", "ingest"),
    ("remove", "two reports", "remove", "search"),
    ("removed-rows", "two reports", "remove", "ingest"),
]


@pytest.mark.parametrize(("stage", "before", "action", "after"), CASES, ids=[f"{case[0]}-{case[2]}" for case in CASES])
def test_a_crash_at_each_stage_is_repaired_by_the_next_command(
    tmp_path: Path, embedder: Any, shared_model: None, stage: str, before: str, action: str, after: str
) -> None:
    index_dir = tmp_path / "index"
    if before == "two reports":
        open_index(Settings(index_dir=index_dir), embedder=embedder).ingest([_write(tmp_path / "first", REPORTS)])
    held = set(open_index(Settings(index_dir=index_dir)).reports)
    corpus = _write(tmp_path / "corpus", {**REPORTS, "alpha.txt": CHANGED_ALPHA, "gamma.txt": GAMMA})

    args = ["ingest", "-q", str(corpus)] if action.startswith("ingest") else ["remove", "alpha.txt"]
    # A batch a file: every file after the first is split while one before it is encoded, and built ahead.
    ahead = "import assistant.index.ingest as batches; batches.EMBED_BATCH = 1; " if action == "ingest ahead" else ""
    crashed = _subprocess(args, index_dir, crash_at=stage, before=ahead)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    committed = set(open_index(Settings(index_dir=index_dir)).reports)
    if stage not in ("read", "embedded"):
        assert (index_dir / ".dirty").exists()  # the kill really left a write half done

    env = {"ASSISTANT_INDEX_DIR": str(index_dir)}
    if after == "search":
        result = CliRunner().invoke(cli, ["search", "--json", "foster families recruited", "-k", "3"], env=env)
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout), "search found nothing"
    else:
        result = CliRunner().invoke(cli, ["ingest", "-q", str(corpus)], env=env)
        assert result.exit_code == 0, result.output
    index = check_invariant(index_dir, embedder)
    # Nothing ingested before the crash is lost (a removal that committed is the one thing that goes).
    gone = {"alpha.txt"} if action == "remove" else set()
    assert (held | committed) - gone <= set(index.reports)

    if action.startswith("ingest"):
        assert not (index_dir / AHEAD_FOLDER).exists()  # what was built ahead is gone, taken or not
        index.ingest([corpus])
        index = check_invariant(index_dir, embedder)
        assert sorted(index.reports) == ["alpha.txt", "beta.txt", "gamma.txt"]
        hits = Retriever(index).search("zebrafinch mentoring pilot", k=1)
        assert hits[0].passage.source == "alpha.txt"
    elif after == "search":
        assert sorted(index.reports) == ["beta.txt"]
    else:  # the next ingest was of the whole corpus: alpha.txt is back, as asked
        assert sorted(index.reports) == ["alpha.txt", "beta.txt", "gamma.txt"]


def test_a_running_reader_sees_another_process_ingest_and_keeps_it(tmp_path: Path, embedder: Any) -> None:
    index_dir = tmp_path / "index"
    server = open_index(Settings(index_dir=index_dir), embedder=embedder)  # like `assistant serve`
    server.ingest([_write(tmp_path / "first", REPORTS)])
    assert Retriever(server).search("personal adviser for care leavers", k=1)[0].passage.source != "gamma.txt"

    # The command-line ingest starts while the server is writing: it waits for the lock, then goes ahead.
    lock = WriterLock(index_dir)
    lock.acquire()
    env = {**os.environ, "ASSISTANT_INDEX_DIR": str(index_dir)}
    cli_ingest = subprocess.Popen(
        [sys.executable, "-m", "assistant", "ingest", "-q", str(_write(tmp_path / "cli", {"gamma.txt": GAMMA}))],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        time.sleep(20)  # long enough to load the model and reach the lock
        assert cli_ingest.poll() is None
        assert "gamma.txt" not in open_index(Settings(index_dir=index_dir)).reports
    finally:
        lock.release()
    stdout, stderr = cli_ingest.communicate(timeout=300)
    assert cli_ingest.returncode == 0, stderr
    assert f"waiting for pid {os.getpid()}" in stderr and str(index_dir / ".lock") in stderr
    assert "1 added" in stdout

    hits = Retriever(server).search("personal adviser for care leavers", k=1)
    assert hits[0].passage.source == "gamma.txt"
    server.ingest([_write(tmp_path / "upload", {"delta.txt": GAMMA.replace("Care Leavers", "Adoption")})])
    index = check_invariant(index_dir, embedder)
    assert sorted(index.reports) == ["alpha.txt", "beta.txt", "delta.txt", "gamma.txt"]
