"""Uploads stored under safe names and ingested together, bad ones not kept; removal from the index."""

from __future__ import annotations

from pathlib import Path

import pytest

from ui.library import add_uploads, remove_report, safe_name


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\Windows\\win.ini", "win.ini"),
        ("<img src=x onerror=alert(1)>.txt", "img_src_x_onerror_alert_1.txt"),
        (".hidden.md", "hidden.md"),
        ("Report 2021 (final).PDF", "Report_2021_final.pdf"),
        ("...", "report"),
        ("", "report"),
        ("Ofsted – lettre d’été.docx", "Ofsted_lettre_dete.docx"),
    ],
)
def test_safe_name(sent: str, kept: str) -> None:
    assert safe_name(sent) == kept


REPORT = (
    "Exampleshire County Council\n\nFostering Recruitment Progress Report\n\n"
    "1. The Fostering Recruitment Hub approved 14 new foster carers between April and June 2022.\n\n"
    "2. A second recruitment campaign will start in September 2022.\n"
)


def test_uploads_are_stored_safely_and_bad_ones_not_kept(sample_index, tmp_path: Path) -> None:
    good = tmp_path / "in" / "good.txt"
    bad = tmp_path / "in" / "broken.pdf"
    clash = tmp_path / "in" / "000_593dbc0cfa530023.txt"
    good.parent.mkdir()
    good.write_text(REPORT, encoding="utf-8")
    bad.write_bytes(b"%PDF-1.4 this is not really a pdf")
    clash.write_text(REPORT.replace("14 new", "15 new"), encoding="utf-8")
    program = tmp_path / "in" / "notes.exe"
    program.write_bytes(b"MZ\x90\x00")
    outcomes = add_uploads(
        sample_index,
        [(good, "../Fostering Report.txt"), (bad, "broken.pdf"), (clash, clash.name), (program, "notes.exe")],
    )
    uploads = Path(sample_index.settings.corpus_dir) / "uploads"
    assert [o.status for o in outcomes] == ["added", "failed", "added", "failed"]
    assert outcomes[0].name == "../Fostering Report.txt (kept as Fostering_Report.txt)"
    assert outcomes[1].message.startswith("broken.pdf: ")
    assert outcomes[2].name.endswith("(kept as 000_593dbc0cfa530023-2.txt)")  # the sample of that name is untouched
    assert outcomes[3].message == "notes.exe: unsupported file type '.exe' (convert it to one of .txt, .md, .pdf, .docx, .html, .htm)"
    assert sorted(p.name for p in uploads.iterdir() if p.is_file()) == ["000_593dbc0cfa530023-2.txt", "Fostering_Report.txt"]
    assert not list((uploads / ".incoming").iterdir())
    assert {"Fostering_Report.txt", "000_593dbc0cfa530023-2.txt", "000_593dbc0cfa530023.txt"} <= set(sample_index.reports)

    removed = remove_report(sample_index, "Fostering_Report.txt")
    assert removed.status == "removed" and "uploaded file was deleted" in removed.message
    assert not (uploads / "Fostering_Report.txt").exists() and "Fostering_Report.txt" not in sample_index.reports
    kept = remove_report(sample_index, "001_6c25ee4f623b7f02.txt")
    assert "was kept" in kept.message
    assert remove_report(sample_index, "nope.txt").status == "failed"
