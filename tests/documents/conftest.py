"""Fixtures of the documents tests: the sample reports, read and split as the index splits them."""

from __future__ import annotations

import pytest
from conftest import SAMPLES

from assistant.documents.passages import TokenCounter, split_report, token_counter
from assistant.documents.read import load_manifest, read_report
from assistant.index.embedding import default_model_dir
from assistant.types import Passage, Report

SAMPLE_FILES = sorted(p.name for p in SAMPLES.glob("*.txt"))


@pytest.fixture(scope="module")
def count() -> TokenCounter:
    return token_counter(default_model_dir())


@pytest.fixture(scope="module")
def reports() -> dict[str, Report]:
    manifest = load_manifest(SAMPLES)
    return {name: read_report(SAMPLES / name, meta=manifest[name]) for name in SAMPLE_FILES}


@pytest.fixture(scope="module")
def split(reports: dict[str, Report], count: TokenCounter) -> dict[str, list[Passage]]:
    return {name: split_report(report, max_tokens=256, count_tokens=count) for name, report in reports.items()}
