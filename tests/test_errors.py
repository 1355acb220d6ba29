"""Errors meant for the user: each names what went wrong and, where the user can act, what to do."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from assistant import errors
from assistant.errors import AssistantError, EmptyReport, IndexNotReady, ReportError, ReportTooLarge, UnsupportedFormat
from assistant.library import open_index
from assistant.register.store import load_register
from assistant.settings import Settings


def test_every_error_is_an_assistant_error_with_a_documented_purpose() -> None:
    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass) if c.__module__ == errors.__name__]
    assert len(classes) == 10
    for cls in classes:
        assert issubclass(cls, AssistantError), cls
        assert cls.__doc__ or getattr(cls, "reason", "") != ReportError.reason, cls  # says what it is for
    reasons = [c.reason for c in classes if issubclass(c, ReportError)]
    assert len(reasons) == len(set(reasons))


def test_a_report_error_names_the_file_the_problem_and_the_fix() -> None:
    error = ReportTooLarge(Path("/in/coming/big.pdf"), fix="raise ASSISTANT_MAX_FILE_MB or split the file")
    assert str(error) == "big.pdf: the file is too large (raise ASSISTANT_MAX_FILE_MB or split the file)"
    assert (error.path, error.fix) == (Path("/in/coming/big.pdf"), "raise ASSISTANT_MAX_FILE_MB or split the file")
    assert str(UnsupportedFormat("notes.xlsx", "only PDF, Word and text are read")) == "notes.xlsx: only PDF, Word and text are read"
    assert str(EmptyReport("blank.txt")) == "blank.txt: the file holds no text"


def test_an_empty_library_says_to_ingest(tmp_path: Path, embedder) -> None:
    index = open_index(Settings(index_dir=tmp_path / "index"), embedder=embedder)
    with pytest.raises(IndexNotReady, match=r"is empty: run `assistant ingest corpus/` first"):
        load_register(index)
