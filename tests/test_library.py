"""The library: an index opened for real use keeps the register in step with what is ingested and removed."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import SAMPLES

from assistant.index.index import Index
from assistant.library import build_register, open_index
from assistant.register.store import REGISTER_FILE, load_register
from assistant.settings import Settings

WORCS, DARLINGTON = "001_6c25ee4f623b7f02.txt", "002_d7b47842bbdc0095.txt"


def test_open_index_builds_and_stamps_the_register_with_each_write(tmp_path: Path, embedder) -> None:
    index = open_index(Settings(index_dir=tmp_path / "index"), embedder=embedder)
    assert not index.ingest([SAMPLES / WORCS, SAMPLES / DARLINGTON]).failed
    path = index.root / REGISTER_FILE
    assert path.is_file()
    stamps = json.loads((index.root / "derived.json").read_text(encoding="utf-8"))
    assert stamps["register"] == stamps["bm25"] == index.generation
    register = load_register(index)
    assert {c.council for c in register.commitments} == {"Worcestershire", "Darlington"}
    assert any(e.council == "Worcestershire" and e.time.start == "2018-02-01" for e in register.inspections)

    index.remove(DARLINGTON)
    stamps = json.loads((index.root / "derived.json").read_text(encoding="utf-8"))
    assert stamps["register"] == index.generation
    assert {c.council for c in load_register(index).commitments} == {"Worcestershire"}


def test_build_register_writes_the_register_of_the_passages_given(shared_index: Index, tmp_path: Path) -> None:
    passages = [p for p in shared_index.all_passages() if p.source == WORCS]
    build_register(tmp_path, passages)
    register = json.loads((tmp_path / REGISTER_FILE).read_text(encoding="utf-8"))
    assert register["commitments"] and {c["source"] for c in register["commitments"]} == {WORCS}
