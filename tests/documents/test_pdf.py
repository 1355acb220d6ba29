"""PDF pages to text: tables read back into rows, running headers and footers dropped, pages joined."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from report_files import _pdf, text_pdf

from assistant.documents import pdf, read
from assistant.documents.pdf import (
    Line,
    _join_pages,
    page_lines,
    pdf_text,
    strip_running_lines,
    tables_into,
    with_paragraph_breaks,
)
from assistant.documents.pdf_layout import Run, layout_text, page_runs
from assistant.documents.read import read_report

FIELD = Path(__file__).parents[1] / "data" / "field"

# pypdf's layout mode keeps a table's columns apart; plain extraction interleaves its wrapped cells.
LAYOUT = """Ofsted judgements

Judgement                                  Grade
The experiences and progress of care       Good
leavers
Overall effectiveness                      Requires improvement to be good

The service has improved since then."""
PLAIN = """Ofsted judgements
Judgement
Grade
The experiences and progress of care
leavers
Good
Overall effectiveness
Requires improvement to be good
The service has improved since then."""


def test_a_table_becomes_rows_of_tab_separated_cells() -> None:
    assert tables_into(PLAIN, LAYOUT) == (
        "Ofsted judgements\n\n\n"
        "Judgement\tGrade\n"
        "The experiences and progress of care leavers\tGood\n"
        "Overall effectiveness\tRequires improvement to be good\n\n\n"
        "The service has improved since then."
    )


def test_prose_without_a_table_is_left_alone() -> None:
    prose = "The service has improved.\nLeaders know their service well."
    assert tables_into(prose, prose) == prose


# Justified prose: layout mode leaves wide gaps where words were spaced out or a link sat.
JUSTIFIED = """Since the last inspection of Harrow in February 2020, when services for children were
judged to be good, improvements have been made                to some areas of practice.
However, since 2020, significant leadership churn,           including four directors of
children's services (DCS) and two chief executives. The current permanent DCS
has been in post since August 2023."""
SYMBOL_BULLETS = """Of the children looked after:
\uf02d      48 (or 19.5%) live outside the local authority area
\uf02d      17 live in residential children's homes"""


@pytest.mark.parametrize("layout", [JUSTIFIED, SYMBOL_BULLETS])
def test_justified_prose_and_symbol_font_bullets_are_no_table(layout: str) -> None:
    plain = " ".join(layout.split())
    assert tables_into(plain, layout) == plain


def _page(number: int, lines: list[str]) -> str:
    return "\n".join(["Children's Services Update", *lines, f"Page {number} of 4"])


def test_running_headers_and_footers_are_dropped_after_the_title_page() -> None:
    title = _page(1, [f"Line {c} of the title page" for c in "abcdef"])
    body = {n: [f"{n}{c} unique words here {c * n}" for c in "abcdef"] for n in (2, 3, 4)}
    pages = [title] + [_page(n, lines) for n, lines in body.items()]
    assert strip_running_lines(pages) == [title] + ["\n".join(lines) for lines in body.values()]


def test_two_pages_are_too_few_to_tell_a_running_line() -> None:
    pages = [_page(1, ["one"]), _page(2, ["two"])]
    assert strip_running_lines(pages) == pages


@pytest.mark.parametrize(
    ("before", "after", "joined"),
    [
        # A sentence cut by the page break is one again, past a page number standing alone.
        ("a new 'front door' called\n12", "Family Connect opened.", "a new 'front door' called Family Connect opened."),
        ("The plan was agreed.", "Next steps", "The plan was agreed.\n\nNext steps"),
        ("Questions to ask", "What next?", "Questions to ask\n\nWhat next?"),
        ("", "First page", "First page"),
    ],
)
def test_pages_join(before: str, after: str, joined: str) -> None:
    assert _join_pages(before, after) == joined


def _pdfium_text(data: bytes) -> str:
    document = pdfium.PdfDocument(data)
    try:
        return with_paragraph_breaks(page_lines(document[0]))
    finally:
        document.close()


def test_an_empty_line_between_paragraphs_comes_back_as_a_blank_line() -> None:
    # pdfium drops the empty line itself; the two-line step in the baselines brings it back.
    lines = ["The service has improved", "since the last inspection", "and leaders know", "it well.", "", "Caseloads have fallen."]
    assert _pdfium_text(text_pdf(lines)) == "\n".join(lines)


def test_a_title_in_a_larger_font_stays_one_paragraph() -> None:
    title = [Line("Inspection of Anyshire local authority", 780.0, 26.0), Line("children's services", 748.0, 26.0)]
    body = [Line(f"Body line {n}", 700.0 - 14 * n, 11.0) for n in range(4)]
    gap = [Line("After an empty line", 700.0 - 14 * 5, 11.0)]
    assert with_paragraph_breaks(title + body + gap).split("\n") == [
        "Inspection of Anyshire local authority",
        "children's services",
        "",
        *(f"Body line {n}" for n in range(4)),
        "",
        "After an empty line",
    ]


def test_a_page_without_geometry_keeps_its_lines() -> None:
    assert with_paragraph_breaks([Line("One", None, None), Line("Two", None, None)]) == "One\nTwo"


def test_a_line_end_hyphen_and_a_paragraph_number_set_off_by_a_tab_read_as_pypdf_gives_them() -> None:
    # pdfium marks a word broken at a line end with U+FFFE and glues a number to a word a tab stop set off.
    content = b"BT /F1 11 Tf 14 TL 50 800 Td (26.) Tj 16 0 Td (All multi-) Tj -16 -14 Td (agency work) Tj ET"
    assert _pdfium_text(_pdf(content)) == "26. All multi-agency work"


def _placed(texts: list[tuple[int, int, str]]) -> bytes:
    """A one-page PDF with each text drawn at its own (x, y), as word processors draw table cells."""
    return _pdf(b"\n".join(b"BT /F1 11 Tf %d %d Td (%s) Tj ET" % (x, y, text.encode()) for x, y, text in texts))


def _refuse(number: int) -> str:
    raise AssertionError(f"pypdf's layout mode was asked for page {number}")


def _laid_out(data: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[list[int], str]:
    """The pages pdf_text sets as fixed-width text to read tables from, and the text it gives; pypdf's
    layout mode (the fallback where pdfium gives no geometry) is never asked."""
    laid_out: list[int] = []
    real = pdf._layout

    def layout(number: int, runs: list[Run] | None, fallback: Callable[[int], str]) -> str | None:
        text = real(number, runs, fallback)
        if text is not None:
            laid_out.append(number)
        return text

    monkeypatch.setattr(pdf, "_layout", layout)
    document = pdfium.PdfDocument(data)
    try:
        text = pdf_text(document, _refuse)
    finally:
        document.close()
    return laid_out, text


BULLETS = ["Key points", "Caseloads have fallen.", "Twelve social workers joined.", "Leaders know the service."]


def test_a_page_of_short_lines_and_bullets_is_not_read_for_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    # Short lines, a bullet set off from its item by a tab stop, a list number likewise: no table.
    texts = [(50, 800, BULLETS[0])]
    for n, line in enumerate(BULLETS[1:]):
        texts += [(50, 780 - 16 * n, "-"), (68, 780 - 16 * n, line)]
    texts += [(50, 700, "1."), (72, 700, "The plan was agreed."), (50, 684, "2."), (72, 684, "Visits are timely.")]
    laid_out, text = _laid_out(_placed(texts), monkeypatch)
    assert laid_out == []
    assert "Key points\n- Caseloads have fallen.\n" in text


def test_a_page_that_sets_cells_side_by_side_is_read_for_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [("Measure", "Value"), ("Agency social workers", "75 FTE"), ("Caseload", "18")]
    texts = [(50, 800 - 16 * n, left) for n, (left, _) in enumerate(rows)]
    texts += [(300, 800 - 16 * n, right) for n, (_, right) in enumerate(rows)]
    laid_out, text = _laid_out(_placed(texts), monkeypatch)
    assert laid_out == [0]
    assert "Measure\tValue\nAgency social workers\t75 FTE\nCaseload\t18" in text


def test_in_a_field_report_only_the_pages_with_tables_are_read_for_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    # Page 1 holds the judgement table, page 4 the contents; pages 5 and 6 (bulleted facts about the
    # area) and the last two (the inspection team, contact details) have runs of short lines, no cells.
    laid_out, text = _laid_out((FIELD / "ofsted-80569-2016-12-09.pdf").read_bytes(), monkeypatch)
    assert laid_out == [0, 3]
    assert "\n3. Leadership, management and governance\tInadequate\n" in text


def test_a_table_whose_short_lines_meet_only_once_the_running_header_is_dropped_is_still_found(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # On its own page the long running header parts the heading from the table's rows; the short lines
    # run on only in the text without it, so the page's cells are measured after the header is gone.
    import io

    from pypdf import PdfReader, PdfWriter

    header = "Children's Services Improvement Report to the Cabinet, 2024"
    writer = PdfWriter()
    for topic in ("Caseloads", "Vacancies", "Agency staff", "Sickness"):
        texts = [(50, 800, f"Summary: {topic}"), (50, 784, header), (50, 768, f"{topic} by team"), (300, 768, "Count")]
        texts += [(50, 752, f"{topic} in the north"), (300, 752, "12")]
        writer.add_page(PdfReader(io.BytesIO(_placed(texts))).pages[0])
    buffer = io.BytesIO()
    writer.write(buffer)
    laid_out, text = _laid_out(buffer.getvalue(), monkeypatch)
    assert laid_out == [1, 2, 3]
    assert "\nSickness by team\tCount\nSickness in the north\t12\n" in text


def _run(text: str, left: float, baseline: float, size: float = 11.0) -> Run:
    return Run(baseline, left, left + 0.5 * size * len(text), size, text)


def test_pdfium_runs_are_set_as_a_layout_whose_table_reads_as_rows() -> None:
    # The grade is centred beside a wrapped cell, half a line below its first line: it joins that row.
    runs = [
        _run("Ofsted judgements", 50, 730),
        _run("Judgement", 50, 700),
        _run("Grade", 300, 700),
        _run("The experiences and progress of care", 50, 680),
        _run("Good", 300, 674),
        _run("leavers", 50, 668),
        _run("Overall effectiveness", 50, 650),
        _run("Requires improvement to be good", 300, 650),
        _run("The service has improved since then.", 50, 610),
    ]
    assert tables_into(PLAIN, layout_text(runs)) == tables_into(PLAIN, LAYOUT)


def test_a_footnote_number_in_a_small_font_does_not_cut_its_line_into_cells() -> None:
    # Word gaps of about 0.55 em of the 10-point text are over 0.6 em of the 6-point footnote number.
    content = b"BT /F1 6 Tf 50 703 Td (10) Tj ET BT /F1 10 Tf 2 Tw 57 700 Td (Source: DfE Children in need) Tj ET"
    document = pdfium.PdfDocument(_pdf(content))
    try:
        textpage = document[0].get_textpage()
        runs = page_runs(textpage, textpage.get_text_range())
    finally:
        document.close()
    assert [run.text for run in runs or []] == ["10Source: DfE Children in need"]


def test_a_field_reports_judgement_table_is_read_without_pypdf(monkeypatch: pytest.MonkeyPatch) -> None:
    # pypdf's layout mode took two thirds of reading's CPU; pdfium's geometry lays the page out instead.
    monkeypatch.setattr(read, "_pypdf_layout", lambda data: _refuse)
    text = read_report(FIELD / "ofsted-2532287-2022-02-11.pdf").text
    assert (
        "\n\nJudgement\tGrade\n"
        "The impact of leaders on social work practice with children and families\tInadequate\n"
        "The experiences and progress of children who need help and protection\tInadequate\n"
        "The experiences and progress of children in care and care leavers\tRequires improvement to be good\n"
        "Overall effectiveness\tInadequate\n\n"
    ) in text


def test_where_pdfium_gives_no_geometry_pypdfs_layout_mode_reads_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [("Measure", "Value"), ("Agency social workers", "75 FTE"), ("Caseload", "18")]
    texts = [(50, 800 - 16 * n, left) for n, (left, _) in enumerate(rows)]
    texts += [(300, 800 - 16 * n, right) for n, (_, right) in enumerate(rows)]
    data = _placed(texts)
    asked: list[int] = []
    pypdf_layout = read._pypdf_layout(data)

    def layout(number: int) -> str:
        asked.append(number)
        return pypdf_layout(number)

    monkeypatch.setattr(pdf, "page_runs", lambda textpage, text: None)
    document = pdfium.PdfDocument(data)
    try:
        text = pdf_text(document, layout)
    finally:
        document.close()
    assert asked == [0]
    assert "Measure\tValue\nAgency social workers\t75 FTE\nCaseload\t18" in text
