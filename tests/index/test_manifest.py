"""The manifest: saved whole a generation on, read back, refused when damaged or built otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SAMPLES

from assistant.errors import IndexMismatch
from assistant.index.index import Index
from assistant.index.manifest import Manifest
from assistant.library import open_index
from assistant.settings import Settings
from assistant.types import IndexedReport


def test_an_index_built_with_another_splitter_is_refused(sample_index: Index) -> None:
    settings = sample_index.settings.model_copy(update={"max_passage_tokens": 128})
    with pytest.raises(IndexMismatch, match="splitter"):
        open_index(settings).ingest([SAMPLES])


def test_a_save_is_one_generation_on_and_keeps_keys_it_does_not_know(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text(json.dumps({"generation": 4, "reports": {}, "note": "kept"}), encoding="utf-8")
    manifest = Manifest(tmp_path, Settings(index_dir=tmp_path))
    manifest.check_provenance()  # an empty index takes this model and splitter
    manifest.set_report("a.txt", IndexedReport(hash="abc", ids=["a#0"], passages=1, council="Darlington"))
    manifest.save()
    saved = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert (saved["generation"], saved["note"], saved["model"]) == (5, "kept", "all-MiniLM-L6-v2")
    assert saved["reports"]["a.txt"]["council"] == "Darlington"
    assert not manifest.changed_on_disk()
    again = Manifest(tmp_path, Settings(index_dir=tmp_path))
    assert again.reports == manifest.reports and again.generation == 5


def test_a_damaged_manifest_says_how_to_start_again(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(IndexMismatch, match="delete the folder"):
        Manifest(tmp_path, Settings(index_dir=tmp_path))
