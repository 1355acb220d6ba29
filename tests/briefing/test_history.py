"""The note's inspection history table and figures over time, from the register, each cited, in all three formats."""

from __future__ import annotations

import re

from briefing_checks import PREPARED, WORCS, check_citations, cited

from assistant.briefing.draft import build_briefing
from assistant.briefing.model import Briefing
from assistant.briefing.render import to_html, to_markdown


def test_history_table_and_series_from_the_register_eachcited(shared_engine, tmp_path) -> None:
    from docx import Document

    from assistant.briefing.render import write

    note = build_briefing(shared_engine, "workforce", councils=["West Sussex", "Worcestershire"], prepared=PREPARED)
    check_citations(note, shared_engine)
    sif = next(r for r in note.history if r.council == "Worcestershire" and r.date == "2017-01")
    assert sif.kind == "single inspection (SIF)" and sif.judgements["overall"] == "inadequate"
    assert any(cited(note, n).source == WORCS and "inadequate" in cited(note, n).quote.lower() for n in sif.refs)
    vacancy = [(v.date, v.value) for v in note.series if v.council == "West Sussex" and v.metric == "vacancy rate"]
    assert vacancy == [("2019-02", 18.5), ("2020-02", 5.34)]
    for v in note.series:
        assert f"{v.value:g}" in cited(note, v.refs[0]).quote.replace(",", "")

    text = to_markdown(note)
    row = next(line for line in text.splitlines() if line.startswith("| Worcestershire | 2017-01"))
    assert "| single inspection (SIF) | inadequate |" in row and re.search(r"\[\d+\] \|$", row)
    assert re.search(r"- \*\*West Sussex, vacancy rate:\*\* 2019-02: 18\.5% \[\d+\]; 2020-02: 5\.34% \[\d+\]", text)
    page = to_html(note)
    assert '<table class="cra-brief-history">' in page and "<td>inadequate</td>" in page and "5.34%<sup>" in page
    doc = Document(str(write(note, "docx", tmp_path / "note.docx")))
    history = next(t for t in doc.tables if t.rows[0].cells[0].text == "Council")
    assert [c.text for c in history.rows[0].cells] == ["Council", "Date", "Kind", "Overall", "Cited"]
    assert [c.text for c in history.rows[1].cells][:4] == ["Worcestershire", "2017-01", "single inspection (SIF)", "inadequate"]
    assert any("vacancy rate: 2019-02: 18.5%" in p.text for p in doc.paragraphs)


def test_history_table_says_when_the_reports_state_no_grades(workforce: Briefing) -> None:
    assert workforce.history == [] and "state no inspection grades" in to_markdown(workforce)
