"""A briefing note as Markdown and HTML: report text shown literally, the format chosen from the option or file name."""

from __future__ import annotations

from pathlib import Path

import pytest
from briefing_checks import HEADINGS

from assistant.briefing.model import TABLE_HEADERS, Briefing, CommitmentRow, Point, Question, SourceEntry
from assistant.briefing.render import choose_format, to_html, to_markdown
from assistant.errors import AssistantError
from assistant.types import Citation


def _crafted() -> Briefing:
    """A note whose report text holds markup, to check that every format shows it literally."""
    hostile = "Caseloads <script>alert(1)</script> fell *sharply* | [see](http://x) & more"
    cite = Citation(n=1, source="r.txt", title="T <b>", council="Somewhere", date="2021-03", paragraph="8", quote=hostile, passage=hostile)
    point = Point(text=hostile, council="Somewhere", date="2021-03", report_date="2021-03", section="progress", refs=[1])
    return Briefing(
        topic="caseloads", councils=["Somewhere"], period=("2021-03", "2021-03"), prepared="2025-06-01",
        summary=[point], progress=[point.model_copy(update={"change": "18.5% → 5.34%"})],
        commitments=[CommitmentRow(what="Cut | caseloads <now>", when="in July", start="2021-07-01", end="2021-07-31",
                                   status="open", council="Somewhere", report_date="2021-03", refs=[1])],
        questions=[Question(ask="Why?", basis=hostile, council="Somewhere", refs=[1])],
        sources=[SourceEntry(source="r.txt", title="T <b>", council="Somewhere", date="2021-03", paragraphs=["8"], refs=[1])],
        citations=[cite],
    )


def test_html_escapes_report_text() -> None:
    page = to_html(_crafted())
    assert "<script>" not in page and "&lt;script&gt;" in page and "T &lt;b&gt;" in page
    assert page.startswith("<!DOCTYPE html>") and '<li id="ref-1" value="1">' in page
    assert "<h2>Commitments and dates</h2>" in page and "<th>By when</th>" in page
    fragment = to_html(_crafted(), standalone=False, source_link=lambda c: f"?report={c.source}&x=<")
    assert fragment.startswith('<div class="cra-brief">') and 'href="?report=r.txt&amp;x=&lt;"' in fragment


def test_markdown_escapes_report_text_and_keeps_the_table_whole() -> None:
    text = to_markdown(_crafted())
    assert "\\<script>" in text and "\\*sharply\\*" in text and "\\[see\\]" in text
    row = next(line for line in text.splitlines() if line.startswith("| Cut"))
    assert row.count(" | ") == len(TABLE_HEADERS) - 1 and "Cut \\| caseloads" in row
    assert [line[3:] for line in text.splitlines() if line.startswith("## ")] == HEADINGS


@pytest.mark.parametrize(
    ("fmt", "out", "expected"),
    [(None, None, "md"), (None, "x.docx", "docx"), ("html", None, "html"), (None, "x.HTM", "html"), ("md", "x.md", "md")],
)
def test_format_from_option_or_file_name(fmt, out, expected) -> None:
    assert choose_format(fmt, Path(out) if out else None) == expected


def test_format_and_file_name_must_agree() -> None:
    with pytest.raises(AssistantError, match="--format is md"):
        choose_format("md", Path("note.docx"))
