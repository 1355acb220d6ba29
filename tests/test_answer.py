"""Extractive answers on the sample reports: each kind of question, citations, refusal, filters."""

from __future__ import annotations

import re

import pytest

from assistant.answer.extractive import question_kind
from assistant.types import Filters


def ask(engine, question: str, **filters):
    return engine.conversation(Filters(**filters)).ask(question)


def assert_cited(answer) -> None:
    """Every [n] marker has a citation whose passage holds the quoted words."""
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)}
    assert markers == {c.n for c in answer.citations}
    for citation in answer.citations:
        assert citation.quote and citation.quote in citation.passage
        assert citation.source.endswith(".txt") and citation.paragraph


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("When will Lucy Butler join West Sussex?", "when"),
        ("Who led the monitoring visit?", "who"),
        ("How many recommendations did Ofsted make?", "number"),
        ("What was the overall Ofsted judgement?", "judgement"),
        ("What are the key highlights of the improvement journey?", "list"),
        ("What is planned for the care leavers service?", "commitment"),
        ("Compare Darlington and Worcestershire on workforce", "compare"),
        ("Why did the Minister suspend the Trust process?", "fact"),
    ],
)
def test_question_kinds(question: str, kind: str) -> None:
    assert question_kind(question, 2 if "Compare" in question else 0) == kind


def test_when_question_says_the_date(shared_engine) -> None:
    answer = ask(shared_engine, "When did the first Ofsted monitoring visit to West Sussex take place?")
    assert not answer.refused and answer.kind == "when"
    assert "3 to 4 December 2019" in answer.answer
    assert answer.citations[0].source == "000_593dbc0cfa530023.txt"
    assert answer.citations[0].paragraph == "4"
    assert_cited(answer)


def test_who_question_names_the_person_and_role(shared_engine) -> None:
    answer = ask(shared_engine, "Who led the Ofsted monitoring visit to Worcestershire in September 2017?")
    assert not answer.refused
    assert "Dominic Stephens" in answer.answer
    assert answer.citations[0].paragraph == "9"
    assert_cited(answer)


def test_number_question_quotes_the_figure(shared_engine) -> None:
    answer = ask(shared_engine, "What share of eligible West Sussex staff took up the Recruitment and Retention offer?")
    assert "93%" in answer.answer
    assert answer.citations[0].paragraph == "8"
    answer = ask(shared_engine, "How many recommendations did the Ofsted report of September 2015 make for Darlington?")
    assert "18 recommendations" in answer.answer


def test_commitment_question_finds_the_future_statement(shared_engine) -> None:
    answer = ask(shared_engine, "When will the Commissioner formally review West Sussex's progress?")
    assert "in July" in answer.answer
    assert answer.citations[0].source == "004_db1cafc63c8d4454.txt"


def test_list_question_keeps_the_items_together(shared_engine) -> None:
    answer = ask(shared_engine, "What did Ofsted say needs to improve in North Somerset?")
    assert answer.kind == "list"
    assert answer.answer.count("\n- ") >= 4
    assert "Formalised matching of children with their long-term carers" in answer.answer
    assert len(answer.citations) == 1 and answer.citations[0].section == "What needs to improve"
    assert_cited(answer)


def test_judgement_question_gives_the_grade(shared_engine) -> None:
    answer = ask(shared_engine, "What was Worcestershire's overall Ofsted judgement?")
    assert "inadequate" in answer.answer.lower()
    assert answer.citations[0].paragraph == "4"


def test_comparison_is_grouped_by_council_with_report_and_date(shared_engine) -> None:
    answer = ask(shared_engine, "What did Ofsted judge in Worcestershire and North Somerset?")
    assert answer.kind == "compare"
    lines = answer.answer.splitlines()
    assert lines[0].startswith("Worcestershire (") and "2017-10-24" in lines[0]
    assert lines[1].startswith("North Somerset (") and "2020-10-21" in lines[1]
    assert {c.council for c in answer.citations} == {"Worcestershire", "North Somerset"}
    assert_cited(answer)


def test_two_west_sussex_reports_are_told_apart(shared_engine) -> None:
    answer = ask(shared_engine, "When is the next Ofsted monitoring visit in West Sussex?")
    cited = answer.citations[0]
    assert cited.council == "West Sussex" and cited.date in {"2020-02", "2021-03-19"}
    assert cited.title


@pytest.mark.parametrize(
    "question",
    [
        "What is the annual budget of Darlington's children's services?",
        "Who is the Mayor of North Somerset?",
        "How many children are in care in Worcestershire?",
    ],
)
def test_refuses_when_the_reports_do_not_say(shared_engine, question: str) -> None:
    answer = ask(shared_engine, question)
    assert answer.refused
    assert answer.citations == []
    assert "do not answer" in answer.answer
    assert answer.closest, "a refusal shows the closest passages"


def test_council_filter_restricts_citations(shared_engine) -> None:
    answer = ask(shared_engine, "When is the next monitoring visit?", councils=["Darlington"])
    assert answer.citations and all(c.council == "Darlington" for c in answer.citations)
    assert answer.filters["councils"] == ["Darlington"]


def test_date_filter_excludes_older_reports(shared_engine) -> None:
    answer = ask(shared_engine, "When is the next monitoring visit?", date_from="2020")
    assert answer.citations
    assert all(c.date >= "2020" for c in answer.citations)


def test_answer_json_has_the_documented_fields(shared_engine) -> None:
    data = ask(shared_engine, "Who is the Chief Executive of West Sussex County Council?").model_dump(mode="json")
    for key in ("question", "standalone_question", "answer", "refused", "citations", "latency_ms"):
        assert key in data
    citation = data["citations"][0]
    assert set(citation) >= {"n", "source", "title", "council", "date", "paragraph", "section", "quote", "passage"}
    assert "Becky Shaw" in citation["quote"]


@pytest.mark.parametrize(
    ("question", "expected", "paragraph"),
    [
        ("Who is North Somerset's Partner in Practice?", "North Tyneside Council", "¶16"),
        ("When will the Family Safeguarding model be fully functional?", "early part of 2022", "8"),
        ("How often does Ofsted carry out monitoring visits in West Sussex?", "quarterly", "4"),
        ("Who is the interim Director of Children's Services in West Sussex?", "Ann Marie Dodds", "6"),
        ("How many actions did Darlington's improvement plan contain?", "over 150 actions", "17"),
        ("What practice framework has West Sussex adopted?", "Signs of Safety", "9"),
    ],
)
def test_more_questions_in_other_words(shared_engine, question: str, expected: str, paragraph: str) -> None:
    answer = ask(shared_engine, question)
    assert not answer.refused and expected in answer.answer
    assert answer.citations[0].paragraph == paragraph
    assert_cited(answer)


def test_money_question_without_a_figure_is_refused(shared_engine) -> None:
    assert ask(shared_engine, "What is the salary of the Director of Children's Services in West Sussex?").refused


def test_promises_are_answered_from_the_register(shared_engine) -> None:
    answer = ask(shared_engine, "What did West Sussex commit to deliver by spring 2022?")
    assert answer.written_by == "register" and not answer.refused
    assert "not later than January 2022" in answer.answer
    assert_cited(answer)
    assert all(c.council == "West Sussex" for c in answer.citations)


def test_a_list_of_the_size_asked_for(shared_engine) -> None:
    answer = ask(shared_engine, "What are the four priority areas in Worcestershire's plan?")
    assert answer.kind == "list" and answer.answer.count("\n- ") == 4
    assert "Remodel the Early Help Offer" in answer.answer
    assert answer.citations[0].paragraph == "8"
