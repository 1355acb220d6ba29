"""A briefing note as a Word document, written by `assistant brief --out`: styles, a real table, superscript references."""

from __future__ import annotations

import re

import pytest
from briefing_checks import HEADINGS
from click.testing import CliRunner

from assistant.briefing.model import TABLE_HEADERS
from assistant.cli.main import cli


@pytest.fixture()
def run(sample_index_dir, monkeypatch):
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(sample_index_dir))

    def invoke(*args: str):
        return CliRunner().invoke(cli, list(args), obj={})

    return invoke


def test_cli_writes_a_word_document_like_a_council_paper(run, tmp_path) -> None:
    from docx import Document

    out = tmp_path / "workforce.docx"
    result = run("brief", "workforce", "--council", "West Sussex", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(out)
    doc = Document(str(out))
    styles = [(p.style.name, p.text) for p in doc.paragraphs]
    assert styles[0] == ("Title", "Briefing note: Workforce")
    assert [t for s, t in styles if s == "Heading 1"] == HEADINGS
    assert ("Heading 2", "References") in styles
    table = doc.tables[0]
    assert [c.text for c in table.rows[0].cells] == list(TABLE_HEADERS)
    offer = next(r for r in table.rows[1:] if "Social Work Offer" in r.cells[0].text)
    assert "July 2021" in offer.cells[2].text and offer.cells[3].text.startswith("open")
    markers = [r.text for p in doc.paragraphs for r in p.runs if r.font.superscript]
    markers += [r.text for t in doc.tables for row in t.rows for c in row.cells for p in c.paragraphs for r in p.runs if r.font.superscript]
    numbers = {int(m.strip("[]")) for m in markers}
    references = [t for s, t in styles[styles.index(("Heading 2", "References")) + 1 :]]
    assert len(references) == len(numbers) == max(numbers)
    vacancy = next(t for t in references if "uncovered vacancy gap" in t)
    assert re.match(r"\[\d+\] West Sussex, .+, February 2020, para 8: “The uncovered vacancy gap is currently 5\.34%", vacancy)
    summary = styles[styles.index(("Heading 1", "Summary")) + 1][1]
    assert summary.startswith("1.\tWest Sussex, February 2020")
