"""Rendering without a browser: answers, citation cards, refusals, the library and the reader, every report text escaped."""

from __future__ import annotations

import pytest

from assistant.dates import human_date
from assistant.types import Answer, Citation, IndexedReport, Passage, Report, SearchHit
from ui import render

EVIL = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'


def _passage(text: str, paragraph: str = "8", **fields: object) -> Passage:
    values: dict[str, object] = {
        "id": f"r.txt#{paragraph}",
        "source": "r.txt",
        "title": "Progress Report",
        "council": "West Sussex",
        "date": "2021-03-19",
        "paragraph": paragraph,
        "ordinal": 0,
        "start": 0,
        "end": len(text),
        "text": text,
    }
    values.update(fields)
    return Passage(**values)  # type: ignore[arg-type]


def _answer(**fields: object) -> Answer:
    passage = _passage("Staffing is stable. Around 75 agency social workers are in post. More later.")
    quote = "Around 75 agency social workers are in post."
    values: dict[str, object] = {
        "question": "How many agency social workers?",
        "standalone_question": "How many agency social workers?",
        "answer": f"{quote} [1]",
        "refused": False,
        "citations": [Citation.from_passage(1, passage, quote)],
    }
    values.update(fields)
    return Answer(**values)  # type: ignore[arg-type]


def test_answer_keeps_markers_and_cites_in_a_card() -> None:
    html = render.answer_html(_answer())
    assert '<span class="cra-ref">[1]</span>' in html
    assert "cra-answered" in html and "cra-refused" not in html
    assert "West Sussex · Progress Report · 19 March 2021 · para 8" in html
    assert '<mark class="cra-quote">Around 75 agency social workers are in post.</mark>' in html
    assert "\n" not in html  # one HTML block: the chat's Markdown never reads report text


def test_card_shows_neighbouring_paragraphs_and_links_to_the_report() -> None:
    before = _passage("The paragraph before.", "7", id="r.txt#7")
    after = _passage("The paragraph after.", "9", id="r.txt#9")
    answer = _answer()
    card = render.citation_card(answer.citations[0], render.Context(before, after))
    assert card.index("para 7") < card.index("cra-quote") < card.index("para 9")
    assert "The paragraph before." in card and "The paragraph after." in card
    assert 'href="?report=r.txt&amp;passage=r.txt%238&amp;q=20-64"' in card
    assert 'target="_blank"' in card


def test_llm_worded_answers_say_so() -> None:
    assert "Worded by the language model" in render.answer_html(_answer(written_by="llm"))
    assert "Worded by the language model" not in render.answer_html(_answer())


def test_refusal_looks_different_and_lists_closest_passages() -> None:
    hit = SearchHit(passage=_passage("Something nearby.", "3"), score=0.1)
    html = render.answer_html(
        _answer(answer="The reports do not answer this question.", refused=True, citations=[], closest=[hit])
    )
    assert "cra-refused" in html and "Not found in the reports" in html
    assert "Closest passages" in html and "cra-closest" in html and "Something nearby." in html
    assert "cra-quote" not in html


@pytest.mark.parametrize(
    "where",
    ["text", "title", "council", "source", "section", "question", "paragraph"],
)
def test_untrusted_text_is_escaped_everywhere(where: str) -> None:
    text = f"Agency staff {EVIL} are in post." if where == "text" else "Agency staff are in post."
    fields: dict[str, object] = {"text": text, "end": len(text)}
    if where in ("title", "council", "source", "section", "paragraph"):
        fields[where] = EVIL
    passage = _passage(**fields)  # type: ignore[arg-type]
    citation = Citation.from_passage(1, passage, text)
    question = EVIL if where == "question" else "q"
    answer = _answer(question=question, standalone_question=question + " ?", answer=f"{text} [1]", citations=[citation])
    report = Report(source=passage.source, text=text, content_hash="x", title=passage.title, council=passage.council)
    outputs = [
        render.answer_html(answer),
        render.question_html(question),
        render.library_html({passage.source: IndexedReport(hash="0", title=passage.title, council=passage.council, passages=1)}),
        render.report_html(report, [passage], target=passage.id, span=(0, 5)),
        render.outcomes_html([render.FileOutcome(passage.source, "failed", message=f"{passage.source}: {EVIL}")]),
        render.filters_html({"councils": [passage.council], "sources": [passage.source]}, {passage.source: passage.title}),
    ]
    for html in outputs:
        assert "<script" not in html and "<img" not in html, html
    assert any("&lt;script&gt;" in html for html in outputs)


def test_answer_body_turns_bullets_into_a_list() -> None:
    body = render.answer_body("Progress:\n- first [1]\n- second *not bold* [2]")
    assert body == (
        '<p>Progress:</p><ul><li>first <span class="cra-ref">[1]</span></li>'
        '<li>second *not bold* <span class="cra-ref">[2]</span></li></ul>'
    )


@pytest.mark.parametrize(
    ("date", "shown"),
    [("2021-03-19", "19 March 2021"), ("2020-02", "February 2020"), ("2016", "2016"), ("", "undated"), ("soon", "soon")],
)
def test_format_date(date: str, shown: str) -> None:
    assert human_date(date) == shown


def test_email_text_has_answer_then_numbered_references() -> None:
    text = render.email_text(_answer())
    assert text.splitlines() == [
        "How many agency social workers?",
        "",
        "Around 75 agency social workers are in post. [1]",
        "",
        "References",
        '[1] West Sussex, "Progress Report", 19 March 2021, para 8 (r.txt)',
        '    "Around 75 agency social workers are in post."',
    ]


def test_filters_are_described_in_words() -> None:
    assert render.filters_text({}) == ""
    assert render.filters_text(
        {"councils": ["West Sussex", "Darlington"], "date_from": "2020", "date_to": "2021-03", "sources": ["a.txt"]},
        {"a.txt": "Progress Report"},
    ) == "West Sussex, Darlington · from 2020 · to 2021-03 · Progress Report"
    assert "all reports" in render.filters_html({})


def test_report_reader_marks_the_target_paragraph_and_quote() -> None:
    first, second = "First paragraph.", "Second paragraph holds the quote here."
    text = f"Workforce\n\n- 1**\n{first}\n\n- 2**\n{second}"
    p1 = _passage(first, "1", id="a", ordinal=0, start=text.index(first), end=text.index(first) + len(first))
    p2 = _passage(second, "2", id="b", ordinal=1, start=text.index(second), end=len(text))
    html = render.report_html(Report(source="r.txt", text=text, content_hash="x", title="T"), [p1, p2], target="b", span=(27, 32))
    assert '<div class="cra-gap">Workforce</div>' in html
    assert 'id="cra-p-1"' in html and 'class="cra-para cra-cited cra-target"' in html
    assert '<mark class="cra-quote">quote</mark>' in html
    assert html.count("cra-target") == 1
    assert "- 1" not in html and html.count("cra-gap") == 1  # bare paragraph numbers are not repeated
