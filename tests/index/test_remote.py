"""Scale-out on a real `chroma run`: the server holds all an instance needs, and instances follow each other's ingests.

The index folder's files as blobs and the writers' lease (assistant/index/remote.py), and the folder
kept in step with them (assistant/index/mirror.py), through two Index instances with their own folders.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chroma_server import chroma_run
from conftest import SAMPLES

import assistant.index.remote as remote
from assistant.answer.engine import Engine
from assistant.index.chroma import open_files_collection
from assistant.index.index import Index
from assistant.index.lock import IndexBusy
from assistant.index.mirror import FOLLOW_SECONDS, PULLING, STATE_FILE, mirrored
from assistant.index.remote import ServerError, ServerFiles, digest, pack
from assistant.library import open_index
from assistant.register.store import load_register
from assistant.settings import Settings

pytestmark = pytest.mark.slow

WEST_SUSSEX = ["000_593dbc0cfa530023.txt", "004_db1cafc63c8d4454.txt"]
DARLINGTON = "002_d7b47842bbdc0095.txt"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with chroma_run(tmp_path_factory.mktemp("chroma-server")) as url:
        yield url


@pytest.fixture()
def settings_for(server: str, tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    """Settings of an instance with its own (empty) folder, all on one collection of this test's own."""
    collection = "t" + digest(request.node.name.encode())[:16]

    def make(name: str) -> Settings:
        return Settings(index_dir=tmp_path / name, chroma_url=server, collection=collection)

    return make


def corpus(folder: Path, names: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in [*names, "manifest.toml"]:
        shutil.copy(SAMPLES / name, folder / name)
    return folder


def cited(answer: Any) -> list[tuple[str, str, str]]:
    return [(c.source, c.paragraph, c.quote) for c in answer.citations]


def test_a_second_instance_with_an_empty_folder_answers_alike_and_follows_ingests(
    settings_for: Any, tmp_path: Path, embedder: Any
) -> None:
    a = open_index(settings_for("a"), embedder=embedder)
    reports = corpus(tmp_path / "corpus", WEST_SUSSEX)
    assert a.ingest([reports]).count("added") == 2
    b = open_index(settings_for("b"), embedder=embedder)
    engine_a, engine_b = Engine(a.settings, index=a), Engine(b.settings, index=b)
    for question, written_by in [
        ("Who is the Chief Executive of West Sussex County Council?", "extractive"),
        ("What did West Sussex commit to deliver by spring 2022?", "register"),
    ]:
        mine, theirs = engine_a.answer(question), engine_b.answer(question)
        assert theirs.written_by == written_by and not theirs.refused
        assert theirs.answer == mine.answer
        assert cited(theirs) == cited(mine) and cited(theirs)
    assert not (b.root / "chroma").exists()
    # Everything but the locks and the mirror's own note came from the server, byte for byte.
    assert {p: f.read_bytes() for p, f in mirrored(b.root)} == {p: f.read_bytes() for p, f in mirrored(a.root)}

    question = "When was the Ofsted monitoring visit in Darlington?"
    assert DARLINGTON not in {c.source for c in engine_b.answer(question).citations}
    shutil.copy(SAMPLES / DARLINGTON, reports / DARLINGTON)
    assert a.ingest([reports]).count("added") == 1
    time.sleep(FOLLOW_SECONDS)
    answer = engine_b.answer(question)  # the same engine and index: no restart
    assert answer.citations and answer.citations[0].source == DARLINGTON
    assert cited(answer) == cited(engine_a.answer(question))
    assert DARLINGTON in b.reports and b.generation == a.generation
    assert set(b.reports[DARLINGTON].ids) & {pid for pid, _ in b.bm25.search("Leeds inadequate to outstanding", 5)}
    assert DARLINGTON in load_register(b).reports

    assert a.remove(DARLINGTON).status == "removed"
    time.sleep(FOLLOW_SECONDS)
    assert DARLINGTON not in b.reports and DARLINGTON not in load_register(b).reports
    assert not set(a.collection.get(include=[])["ids"]) - {i for entry in b.reports.values() for i in entry.ids}


def test_following_costs_one_small_read_every_few_seconds(settings_for: Any, tmp_path: Path, embedder: Any) -> None:
    a = open_index(settings_for("a"), embedder=embedder)
    a.ingest([corpus(tmp_path / "corpus", WEST_SUSSEX[:1])])
    b = open_index(settings_for("b"), embedder=embedder)
    assert b.reports  # the first look pulls
    reads: list[float] = []
    server = b._mirror.server  # type: ignore[union-attr]
    real_head = server.head
    server.head = lambda: reads.append(time.monotonic()) or real_head()  # type: ignore[method-assign]
    pulls: list[object] = []
    real_pull = b._mirror.pull  # type: ignore[union-attr]
    b._mirror.pull = lambda head=None: pulls.append(head) or real_pull(head)  # type: ignore[union-attr, method-assign]
    started = time.monotonic()
    while time.monotonic() - started < 2.5 * FOLLOW_SECONDS:
        assert b.reports and b.bm25.ids
        time.sleep(0.05)
    assert 1 <= len(reads) <= 3, reads
    assert pulls == []  # nothing new was published: nothing is downloaded


def test_blobs_round_trip_in_parts_and_are_checked(server: str, settings_for: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(remote, "PART_BYTES", 1000)
    files = ServerFiles(open_files_collection(settings_for("x")))
    data = os.urandom(5000)  # random bytes do not compress: six parts
    parts = pack(data)
    assert len(parts) == 6
    empty = b""
    files.put({digest(data): parts, digest(empty): pack(empty)})
    assert files.present([digest(data), digest(empty), digest(b"never")]) == {digest(data), digest(empty)}
    got = dict(files.get({digest(data): (5000, 6), digest(empty): (0, 1)}))
    assert got == {digest(data): data, digest(empty): empty}
    files.collection.delete(ids=[remote.part_id(digest(data), 3)])
    with pytest.raises(ServerError, match="incomplete|missing"):
        dict(files.get({digest(data): (5000, 6)}))


def test_one_writer_holds_the_lease_and_a_dead_one_is_taken_over(settings_for: Any) -> None:
    files = ServerFiles(open_files_collection(settings_for("x")))
    first = files.lease(timeout=1, lease_seconds=2)
    assert not first.after_crash
    with pytest.raises(IndexBusy, match="being written by pid"):
        files.lease(timeout=0.5, lease_seconds=2)  # alive: its heartbeat moves every half second
    first.release(clean=True)
    second = files.lease(timeout=1, lease_seconds=2)
    assert second.epoch == first.epoch + 1 and not second.after_crash
    second._stop.set()  # dies holding it: the heartbeat stops
    started = time.monotonic()
    third = files.lease(timeout=10, lease_seconds=1)
    assert third.after_crash and time.monotonic() - started >= 1
    with pytest.raises(IndexBusy, match="took over"):
        second.check()
    third.release(clean=False)
    fourth = files.lease(timeout=1, lease_seconds=2)
    assert fourth.after_crash  # released unclean: the next writer repairs
    fourth.release(clean=True)


def test_racing_writers_get_one_lease_each_in_turn(settings_for: Any) -> None:
    files = ServerFiles(open_files_collection(settings_for("x")))
    held: list[int] = []
    overlaps: list[int] = []
    inside = threading.Lock()

    def write() -> None:
        lease = files.lease(timeout=60, lease_seconds=5)
        if not inside.acquire(blocking=False):
            overlaps.append(lease.epoch)
        held.append(lease.epoch)
        time.sleep(0.2)
        inside.release()
        lease.release(clean=True)

    threads = [threading.Thread(target=write) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == [] and sorted(held) == list(range(1, 5))


def test_two_instances_ingesting_at_once_both_land(settings_for: Any, tmp_path: Path, embedder: Any) -> None:
    a = open_index(settings_for("a"), embedder=embedder)
    b = open_index(settings_for("b"), embedder=embedder)
    jobs = [(a, corpus(tmp_path / "ca", WEST_SUSSEX)), (b, corpus(tmp_path / "cb", [DARLINGTON]))]
    errors: list[BaseException] = []

    def ingest(index: Index, folder: Path) -> None:
        try:
            index.ingest([folder])
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=ingest, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    c = open_index(settings_for("c"), embedder=embedder)
    assert set(c.reports) == {*WEST_SUSSEX, DARLINGTON}
    ids = {i for entry in c.reports.values() for i in entry.ids}
    assert set(c.collection.get(include=[])["ids"]) == ids
    assert set(c.bm25.ids) == ids and {p.id for p in c.all_passages()} == ids


def _crashing(settings: Settings, code: str, crash_at: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ASSISTANT_INDEX_DIR": str(settings.index_dir),
        "ASSISTANT_CHROMA_URL": str(settings.chroma_url),
        "ASSISTANT_COLLECTION": settings.collection,
        "ASSISTANT_CRASH_AT": crash_at,
    }
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)


def test_an_interrupted_pull_leaves_the_old_commit_and_is_redone(settings_for: Any, tmp_path: Path, embedder: Any) -> None:
    a = open_index(settings_for("a"), embedder=embedder)
    reports = corpus(tmp_path / "corpus", WEST_SUSSEX[:1])
    a.ingest([reports])
    b_settings = settings_for("b")
    assert open_index(b_settings, embedder=embedder).reports
    before = (b_settings.index_dir / "manifest.json").read_bytes()
    shutil.copy(SAMPLES / DARLINGTON, reports / DARLINGTON)
    a.ingest([reports])
    died = _crashing(b_settings, "from assistant.library import open_index; open_index().reports", "pulled-files")
    assert died.returncode == -9, died.stderr
    # Killed while moving files into place: the commit readers follow is still the old one.
    assert (b_settings.index_dir / "manifest.json").read_bytes() == before
    assert (b_settings.index_dir / PULLING).exists()
    b = open_index(b_settings, embedder=embedder)
    assert set(b.reports) == set(a.reports)
    assert not (b_settings.index_dir / PULLING).exists() and (b_settings.index_dir / STATE_FILE).exists()
    assert {p: f.read_bytes() for p, f in mirrored(b.root)} == {p: f.read_bytes() for p, f in mirrored(a.root)}


def test_a_writer_killed_mid_ingest_is_repaired_by_the_next(
    settings_for: Any, tmp_path: Path, embedder: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    a_settings = settings_for("a")
    first = open_index(a_settings, embedder=embedder)
    first.ingest([corpus(tmp_path / "c1", WEST_SUSSEX[:1])])
    more = corpus(tmp_path / "c2", [DARLINGTON])
    died = _crashing(a_settings, f"from assistant.library import open_index; open_index().ingest([__import__('pathlib').Path({str(more)!r})])", "chroma")
    assert died.returncode == -9, died.stderr
    # Its rows are on the server, its commit is not: readers still see one report.
    b = open_index(settings_for("b"), embedder=embedder)
    assert list(b.reports) == WEST_SUSSEX[:1]
    # Its own folder is repaired from the server's commit, not from itself (that could drop others' rows).
    assert (a_settings.index_dir / ".dirty").exists()
    again = open_index(a_settings, embedder=embedder)
    again.require_ready()
    assert not (a_settings.index_dir / ".dirty").exists() and list(again.reports) == WEST_SUSSEX[:1]
    assert {p.name for p in (a_settings.index_dir / "reports").iterdir()} == {
        p.name for p in (b.root / "reports").iterdir()
    }
    monkeypatch.setattr(remote, "LEASE_SECONDS", 1.0)  # the dead writer's lease lapses in a second
    b.ingest([corpus(tmp_path / "c3", WEST_SUSSEX)])
    c = open_index(settings_for("c"), embedder=embedder)
    assert set(c.reports) == set(WEST_SUSSEX)
    ids = {i for entry in c.reports.values() for i in entry.ids}
    assert set(c.collection.get(include=[])["ids"]) == ids  # the dead writer's rows are gone


def test_a_publish_streams_its_files_in_requests_and_another_instance_gets_them_whole(
    settings_for: Any, tmp_path: Path, embedder: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small parts and requests: every report's files span several parts and requests, as gigabytes do at scale.
    monkeypatch.setattr(remote, "PART_BYTES", 4000)
    monkeypatch.setattr(remote, "REQUEST_BYTES", 20_000)
    events: list[str] = []
    real_pack, real_put = remote.pack, ServerFiles.put
    monkeypatch.setattr(remote, "pack", lambda data: events.append("pack") or real_pack(data))

    def put(self: ServerFiles, blobs: dict[str, list[str]]) -> None:
        events.append("put")
        # Handed over a request's worth at a time: without its last file, a batch is under the request size.
        sizes = [sum(len(part) for part in parts) for parts in blobs.values()]
        assert sum(sizes[:-1]) < remote.REQUEST_BYTES
        real_put(self, blobs)

    monkeypatch.setattr(ServerFiles, "put", put)
    a = open_index(settings_for("a"), embedder=embedder)
    a.ingest([corpus(tmp_path / "corpus", WEST_SUSSEX)])
    # Uploads began before the last file was packed: the folder is never held packed whole in memory.
    assert events.count("put") > 3 and events.index("put") < len(events) - 1 - events[::-1].index("pack")
    b = open_index(settings_for("b"), embedder=embedder)
    assert set(b.reports) == set(WEST_SUSSEX)
    assert {p: f.read_bytes() for p, f in mirrored(b.root)} == {p: f.read_bytes() for p, f in mirrored(a.root)}
