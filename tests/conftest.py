"""Shared fixtures: every test gets its own index folder; the sample corpus is ingested once."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "corpus" / "sample"
# Ofsted reports with checked truth: the whole field corpus beside a workspace checkout, else the
# few shipped with the tests (so a fresh clone still runs every check on real reports).
FIELD_SHARED = ROOT.parent / "shared" / "corpus" / "field"
FIELD_SHIPPED = ROOT / "tests" / "data" / "field"
FIELD = FIELD_SHARED if (FIELD_SHARED / "truth.csv").is_file() else FIELD_SHIPPED


@pytest.fixture(autouse=True)
def isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point all state at a temporary folder; no test touches the real index."""
    for name in list(os.environ):
        if name.startswith("ASSISTANT_"):
            monkeypatch.delenv(name)
    state = tmp_path / "state"
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(state / "index"))
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(state / "corpus"))
    monkeypatch.chdir(tmp_path)
    return state


@pytest.fixture(scope="session")
def embedder():
    """The real model, loaded once per test session."""
    from assistant.index.embedding import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


@pytest.fixture(scope="session")
def sample_index_dir(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    """The five sample reports, ingested once; tests copy it before writing."""
    from assistant.library import open_index
    from assistant.settings import Settings

    folder = tmp_path_factory.mktemp("sample-index") / "index"
    index = open_index(Settings(index_dir=folder), embedder=embedder)
    summary = index.ingest([SAMPLES])
    assert not summary.failed, [r.message for r in summary.results]
    return folder


@pytest.fixture()
def sample_index(sample_index_dir: Path, tmp_path: Path, embedder):
    """A private, writable copy of the sample index."""
    from assistant.library import open_index
    from assistant.settings import Settings

    folder = tmp_path / "sample-index"
    shutil.copytree(sample_index_dir, folder)
    return open_index(Settings(index_dir=folder), embedder=embedder)


@pytest.fixture(scope="session")
def shared_index(sample_index_dir: Path, embedder):
    """The sample index itself, for tests that only read it (one per session: nothing is copied)."""
    from assistant.library import open_index
    from assistant.settings import Settings

    return open_index(Settings(index_dir=sample_index_dir), embedder=embedder)


@pytest.fixture(scope="session")
def shared_engine(shared_index):
    """An engine over the sample index for tests that only read (one per session, fast)."""
    from assistant.answer.engine import Engine

    return Engine(shared_index.settings, index=shared_index)


@pytest.fixture()
def engine(sample_index):
    from assistant.answer.engine import Engine

    return Engine(sample_index.settings, index=sample_index)
