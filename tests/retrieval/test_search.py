"""Hybrid retrieval: fusion, filters, near-duplicate collapse."""

from __future__ import annotations

from assistant.retrieval.search import (
    Retriever,
    asks_grade,
    asks_quantity,
    collapse_duplicates,
    echoes_heading,
    shared_pairs,
    states_grade,
    states_quantity,
)
from assistant.text import terms
from assistant.types import Filters, Passage, SearchHit


def passage(pid: str, text: str, council: str = "Darlington", date: str = "2016") -> Passage:
    return Passage(id=pid, source=f"{pid}.txt", council=council, date=date, paragraph="1", ordinal=0, start=0, end=len(text), text=text)


def test_hybrid_finds_a_figure_by_its_words(shared_engine) -> None:
    hits = Retriever(shared_engine.index).search("agency social workers in post to cover establishment vacancies", k=3)
    assert hits[0].passage.source == "000_593dbc0cfa530023.txt" and hits[0].passage.paragraph == "8"
    assert [h.rank for h in hits] == [1, 2, 3]
    assert hits[0].bm25_score and hits[0].dense_score is not None


def test_hybrid_finds_a_paraphrase_by_meaning(shared_engine) -> None:
    hits = Retriever(shared_engine.index).search("youngsters representing their peers at council meetings", k=5)
    assert any(h.passage.source == "004_db1cafc63c8d4454.txt" and h.passage.paragraph == "10" for h in hits)


def test_filters_apply_to_both_retrievers(shared_engine) -> None:
    retriever = Retriever(shared_engine.index)
    hits = retriever.search("monitoring visit", k=10, filters=Filters(councils=["Worcestershire"]))
    assert hits and {h.passage.council for h in hits} == {"Worcestershire"}
    hits = retriever.search("monitoring visit", k=10, filters=Filters(date_from="2020-06", date_to="2021-12"))
    assert hits and {h.passage.source for h in hits} <= {"003_820a53567a27642e.txt", "004_db1cafc63c8d4454.txt"}
    hits = retriever.search("monitoring visit", k=10, filters=Filters(sources=["002_d7b47842bbdc0095.txt"]))
    assert hits and {h.passage.source for h in hits} == {"002_d7b47842bbdc0095.txt"}


def test_near_duplicates_collapse_to_the_better_ranked() -> None:
    text = "A mid-term Improvement Plan progress review by the DfE took place on 17 May 2016."
    hits = [
        SearchHit(passage=passage("a", text), score=0.9),
        SearchHit(passage=passage("b", "(b) " + text), score=0.8),
        SearchHit(passage=passage("c", "Ofsted will visit again in October."), score=0.7),
    ]
    assert [h.passage.id for h in collapse_duplicates(hits)] == ["a", "c"]


def test_a_line_inside_a_longer_passage_is_not_its_duplicate() -> None:
    table = (
        "Judgement\tGrade\nThe impact of leaders on social work practice with children and families\tGood\n"
        "The experiences and progress of children in care\tOutstanding\nOverall effectiveness\tGood"
    )
    line = "The experiences and progress of children in care: outstanding"
    for first, second in ((table, line), (line, table)):
        hits = [SearchHit(passage=passage("a", first), score=0.9), SearchHit(passage=passage("b", second), score=0.8)]
        assert [h.passage.id for h in collapse_duplicates(hits)] == ["a", "b"]


def test_a_question_for_a_quantity_lifts_passages_that_state_one() -> None:
    assert asks_quantity("how many adoptions in the year before?")
    assert asks_quantity("croydon permanent workforce % (2024 ilacs)")
    assert not asks_quantity("Who is the director of children's services?")
    assert states_quantity("In the year before the inspection there have been 48 adoptions.")
    assert states_quantity("significant leadership churn, including four directors of children's services")
    assert states_quantity("Leaders have increased the permanent workforce to 80%")
    # Years and dates are when, not how many.
    assert not states_quantity("The trust has delivered services since 1 November 2020.")
    assert not states_quantity("Since the inspection in 2020, the quality of support has deteriorated.")


def test_a_question_for_a_grade_lifts_lines_that_state_one() -> None:
    assert asks_grade("west northants 2026 ofsted - what grade did leaders get")
    assert asks_grade("barnet children in care judgement 2024")
    assert not asks_grade("Who is the lead inspector?")
    assert states_grade(passage("a", "The experiences and progress of children in care: outstanding"))
    assert states_grade(passage("b", "Children’s services in Barnet are inadequate"))
    assert states_grade(passage("c", "The overall judgement is requires improvement"))
    table = passage("t", "Judgement\tGrade\nOverall effectiveness\tGood").model_copy(update={"paragraph": "table 1"})
    assert states_grade(table)
    # A finding that uses "good" as a word is no grade; nor is a long paragraph that happens to hold one.
    assert not states_grade(passage("d", "Social workers have a good understanding of children's needs."))
    long = "Leaders know their services well and practice is good. " * 6
    assert not states_grade(passage("e", long))


def test_a_question_echoing_a_heading_asks_for_what_sits_under_it() -> None:
    under = Passage(
        id="a",
        source="r.pdf",
        paragraph="¶5",
        ordinal=5,
        start=0,
        end=10,
        text="• The quality of plans.",
        section="Inspection of Bury › What needs to improve?",
    )
    assert echoes_heading(set(terms("and what did she say needs improving")), under)
    assert not echoes_heading(set(terms("what did she say about plans")), under)
    one_word = under.model_copy(update={"section": "Summary"})
    assert not echoes_heading(set(terms("give me the summary")), one_word)  # too short a heading to tell a topic


def test_words_side_by_side_in_question_and_passage_are_a_phrase() -> None:
    asked = terms("Swindon - were there any areas of strong practice despite the grade?")
    pairs = set(zip(asked, asked[1:]))
    assert shared_pairs(pairs, passage("a", "There are pockets of strong practice, notably with disabled children.")) == 1
    # The same words apart, or in the other order, are no phrase.
    assert shared_pairs(pairs, passage("b", "Practice with partners is not yet strong enough.")) == 0
    # Stopwords between them do not part them; stems join word forms ("runs" / "running").
    care = terms("who runs the social care of children")
    care_pairs = set(zip(care, care[1:]))
    assert shared_pairs(care_pairs, passage("c", "The trust is running social care for children in the area.")) == 3
    assert shared_pairs(set(), passage("d", "strong practice")) == 0
