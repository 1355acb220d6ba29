"""Fixtures of the index tests: a writable corpus copy, and the CLI run in-process with the session's model."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import SAMPLES

from assistant.cli.main import cli


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    """A writable copy of the sample corpus (same file names as the ingested sample index)."""
    folder = tmp_path / "corpus"
    shutil.copytree(SAMPLES, folder)
    return folder


@pytest.fixture()
def shared_model(monkeypatch: pytest.MonkeyPatch, embedder: Any) -> None:
    """Indexes the CLI opens (in this process) use the session's (real) model instead of loading it again."""
    import assistant.index.embedding

    monkeypatch.setattr(assistant.index.embedding, "SentenceTransformerEmbedder", lambda *args, **kwargs: embedder)


@pytest.fixture()
def run_cli(shared_model: None) -> Callable[..., Any]:
    def run(*args: str, env: dict[str, str] | None = None) -> Any:
        return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)

    return run
