"""Extractive answers on the sample reports: the sentences that answer each kind of question, cited."""

from __future__ import annotations

import pytest
from answer_checks import ask, assert_cited


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
    answer = ask(shared_engine, "What did Ofsted find in Worcestershire and North Somerset?")  # "judge(d)": the register's grades
    assert answer.kind == "compare"
    lines = answer.answer.splitlines()
    assert lines[0].startswith("Worcestershire (") and "2017-10-24" in lines[0]
    assert lines[1].startswith("North Somerset (") and "2020-10-21" in lines[1]
    assert {c.council for c in answer.citations} == {"Worcestershire", "North Somerset"}
    assert_cited(answer)



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



def test_a_list_of_the_size_asked_for(shared_engine) -> None:
    answer = ask(shared_engine, "What are the four priority areas in Worcestershire's plan?")
    assert answer.kind == "list" and answer.answer.count("\n- ") == 4
    assert "Remodel the Early Help Offer" in answer.answer
    assert answer.citations[0].paragraph == "8"
