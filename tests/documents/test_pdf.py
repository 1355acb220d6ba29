"""PDF pages to text: tables read back into rows, running headers and footers dropped, pages joined."""

from __future__ import annotations

import pytest

from assistant.documents.pdf import _join_pages, strip_running_lines, tables_into

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
