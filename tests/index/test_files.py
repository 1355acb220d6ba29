"""The per-report files: written whole, read back, put back after a failed rewrite, and swept after a crash."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.errors import AssistantError
from assistant.index.files import ReportFiles
from assistant.types import IndexedReport, Passage, Report

TEXT = "1. The panel met. It agreed the plan.\n\n2. Ofsted will visit again."


def _report() -> tuple[Report, list[Passage]]:
    report = Report(source="a.txt", text=TEXT, content_hash="abc123", council="Darlington")
    passages = [
        Passage(id="a#0", source="a.txt", paragraph="1", ordinal=0, start=0, end=36, text=TEXT[:36]),
        Passage(id="a#1", source="a.txt", paragraph="2", ordinal=1, start=38, end=len(TEXT), text=TEXT[38:]),
    ]
    return report, passages


def test_a_report_is_written_and_read_back_with_its_unit_vectors(tmp_path: Path) -> None:
    files = ReportFiles(tmp_path)
    report, passages = _report()
    units = [((0, 17, False, False), (18, 36, False, False)), ((0, 26, False, False),)]
    vectors = [np.eye(384, dtype=np.float32)[:2], np.eye(384, dtype=np.float32)[2:3]]
    files.write(report, passages, units, vectors)
    entry = IndexedReport(hash="abc123", ids=["a#0", "a#1"], passages=2)
    assert files.load("a.txt", entry) == (report, passages)
    spans, array = files.unit_vectors(entry)["a#0"]
    assert spans == [(0, 17, False, False), (18, 36, False, False)]
    assert array.shape == (2, 384) and array[1, 1] == 1.0
    assert files.all_passages({"a.txt": entry}).__next__() == passages[0]


def test_a_failed_rewrite_is_put_back_and_a_new_one_removed(tmp_path: Path) -> None:
    files = ReportFiles(tmp_path)
    report, passages = _report()
    files.write(report, passages, [], [])
    saved = files.saved("abc123")
    files.write(report.model_copy(update={"council": "Durham"}), passages, [], [])
    files.put_back("abc123", saved, delete_new=False)
    assert files.load("a.txt", IndexedReport(hash="abc123"))[0].council == "Darlington"
    files.put_back("abc123", {}, delete_new=True)
    assert not files.present("abc123")
    with pytest.raises(AssistantError, match="run `assistant ingest`"):
        files.load("a.txt", IndexedReport(hash="abc123"))


def test_files_the_manifest_does_not_name_are_swept(tmp_path: Path) -> None:
    files = ReportFiles(tmp_path)
    report, passages = _report()
    files.write(report, passages, [], [])
    files.write(report.model_copy(update={"content_hash": "orphan"}), passages, [], [])
    (files.folder / ".abc123.json.tmp").write_text("half", encoding="utf-8")
    files.keep_only({"abc123"})
    assert sorted(p.name for p in files.folder.iterdir()) == ["abc123.json"]
