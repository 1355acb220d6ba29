"""Follow-up questions rewritten to stand alone; filters persist; conversations are separate."""

from __future__ import annotations

import pytest

from assistant.answer.followups import is_follow_up, rewrite
from assistant.types import Filters

COUNCILS = ["Darlington", "North Somerset", "West Sussex", "Worcestershire"]


@pytest.mark.parametrize(
    ("previous", "question", "expected"),
    [
        (
            "When is the next Ofsted monitoring visit in Worcestershire?",
            "what about West Sussex?",
            "When is the next Ofsted monitoring visit in West Sussex?",
        ),
        (
            "What did Ofsted find at the last monitoring visit in Darlington?",
            "and when is the next one?",
            "When is the next monitoring visit in Darlington?",
        ),
        (
            "Who chairs the Children First Improvement Board in West Sussex?",
            "who leads it?",
            "Who leads the Children First Improvement Board in West Sussex?",
        ),
        (
            "How high were social worker caseloads in Darlington's referral and assessment teams in 2014?",
            "and the IROs?",
            "How high were social worker caseloads in the IROs in 2014 in Darlington?",
        ),
        (
            "How many agency social workers does West Sussex have?",
            "and how many teams meet their caseload targets?",
            "How many teams meet their caseload targets in West Sussex?",
        ),
        (
            "How many care leavers did Darlington place in bed and breakfast in 2014?",
            "and how many were still there during the inspection?",
            "How many care leavers were still there during the inspection in Darlington (2014)?",
        ),
        (
            "How many social workers does West Sussex have?",
            "how many of them are agency staff?",
            "How many of the social workers are agency staff in West Sussex?",
        ),
        (
            # "the current one" is one of the things counted.
            "How many DCSs has Darlington had since 2020?",
            "and how long has the current one been in post",
            "How long has the current DCS been in post in Darlington (2020)?",
        ),
        (
            # Another time: the same question, of that year.
            "Who led the inspection in Darlington (2015)?",
            "and in 2017?",
            "Who led the inspection in Darlington (2017)?",
        ),
        ("What grade did Worcestershire get?", "what about 2019?", "What grade did Worcestershire get in 2019?"),
        (
            # Another topic: the same question of it, in whole words, not "…: what about …".
            "What did Ofsted say about the front door in Darlington?",
            "what about care leavers?",
            "What did Ofsted say about care leavers in Darlington?",
        ),
        ("What grade did Worcestershire get in 2019?", "what about care leavers?", "What grade did Worcestershire get in 2019, for care leavers?"),
        ("what did ofsted say about darlington's front door", "what about care leavers?", "what did ofsted say about care leavers in Darlington?"),
        # What was asked, of another group; another judged area in place of the one asked about.
        ("what were the main problems in Darlington?", "and what about care leavers", "what were the main problems for care leavers in Darlington?"),
        ("What is the care leavers judgement in Darlington?", "what about children in care?", "What is the children in care judgement in Darlington?"),
        ("What grade did Darlington get for care leavers?", "what about adoption?", "What grade did Darlington get for adoption?"),
        # Another council typed in lower case, as members type them.
        ("how are care leavers doing in darlington", "and in west sussex?", "how are care leavers doing in west sussex"),
        ("how are care leavers doing in darlington", "worcestershire", "how are care leavers doing in worcestershire"),
        # "it" after "the name of X" is X, not its name.
        ("whats the name of darlington's improvement board", "when was it set up", "When was darlington's improvement board set up"),
        # A bare question word asks the last question again, with it.
        ("Who runs children's social care for Darlington?", "since when?", "Who runs children's social care for Darlington, and since when?"),
        ("Was Darlington rated inadequate in 2019?", "why?", "Was Darlington rated inadequate in 2019, and why?"),
    ],
)
def test_rewrite_follow_ups(previous: str, question: str, expected: str) -> None:
    assert rewrite(question, previous, COUNCILS) == expected


def test_it_after_an_answer_about_an_inspection_is_that_inspection() -> None:
    previous = "how did darlington do in 2015"
    assert rewrite("who led it", previous, COUNCILS, subject="the inspection") == "Who led the inspection in Darlington (2015)?"
    # Without it, the council and time carry over, never the whole last question in brackets.
    assert rewrite("who led it", previous, COUNCILS) == "Who led it in Darlington (2015)?"


def test_a_question_that_stands_alone_is_left_as_it_is() -> None:
    question = "Who is the Chief Executive of West Sussex County Council?"
    assert not is_follow_up(question)
    assert rewrite(question, "When is the next visit in Darlington?", COUNCILS) == question


def test_follow_up_answered_from_the_conversation(shared_engine) -> None:
    chat = shared_engine.conversation()
    first = chat.ask("When is the next Ofsted monitoring visit in Worcestershire?")
    assert "February 2018" in first.answer
    second = chat.ask("what about West Sussex?")
    assert second.standalone_question == "When is the next Ofsted monitoring visit in West Sussex?"
    assert "May" in second.answer and second.written_by == "register"
    assert second.citations[0].council == "West Sussex"


def test_filters_persist_until_changed(shared_engine) -> None:
    chat = shared_engine.conversation(Filters(councils=["Darlington"]))
    chat.ask("When is the next DfE review?")
    answer = chat.ask("Who is the responsible director?")
    assert answer.filters["councils"] == ["Darlington"]
    answer = chat.ask("When is the next monitoring visit?", filters=Filters(councils=["Worcestershire"]))
    assert all(c.council == "Worcestershire" for c in answer.citations)


def test_conversations_do_not_share_history(shared_engine) -> None:
    one = shared_engine.conversation()
    two = shared_engine.conversation()
    one.ask("When is the next Ofsted monitoring visit in Worcestershire?")
    answer = two.ask("what about West Sussex?")
    assert answer.standalone_question == "what about West Sussex?"
    assert len(one.turns) == 1 and len(two.turns) == 1


def test_a_whole_question_the_chats_council_cannot_answer_is_asked_of_the_library(engine, tmp_path) -> None:
    (tmp_path / "fostering.txt").write_text(
        "Rutland County Council\n\nFostering Recruitment Progress Report\n\nCabinet, 14 July 2022\n\n"
        "1. The Fostering Recruitment Hub opened in April 2022 to speed up assessments of new carers.\n\n"
        "2. Between April and June 2022 the Fostering Recruitment Hub approved 14 new foster carers.\n",
        encoding="utf-8",
    )
    assert not engine.index.ingest([tmp_path / "fostering.txt"]).failed
    chat = engine.conversation()
    chat.ask("How many agency social workers does West Sussex have?")
    question = "How many new foster carers did the Fostering Recruitment Hub approve?"
    answer = chat.ask(question)
    assert not answer.refused and "14 new foster carers" in answer.answer
    assert answer.standalone_question == question and answer.citations[0].source == "fostering.txt"
    # Answerable within the chat's council, a whole question keeps it.
    other = engine.conversation()
    other.ask("When did Ofsted inspect West Sussex children's services?")
    kept = other.ask("How many agency social workers are there?")
    assert "West Sussex" in kept.standalone_question and not kept.refused
