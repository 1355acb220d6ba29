"""Question kinds, whether a sentence holds the fact a question asks for, and which questions the register settles."""

from __future__ import annotations

import pytest

from assistant.answer.kinds import asks_inspection_fact, defined_subject, holds_kind, question_kind, register_can_answer
from assistant.text import stem, terms

COUNCILS = ["Darlington", "North Somerset", "West Sussex", "Worcestershire"]


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
        ("and what's their name?", "who"),
        ("What is the new director's name?", "who"),
        ("What caseload level were they aiming for?", "commitment"),
        ("what is the front door called now", "who"),
        ("whos the dcs north somerset", "who"),
        ("whens the next inspection of swindon", "when"),
        ("surrey 2025 weaknesses", "list"),  # what a report lists under "What needs to improve"  # not a promise: "when's", typed without its apostrophe
        # A grade stated as given is context: what is asked is something else.
        ("were there any areas of strong practice despite the inadequate grade?", "fact"),
        ("what did they still need to improve after the outstanding judgement?", "list"),
        ("was the grade inadequate?", "judgement"),
        ("which councils were rated outstanding", "judgement"),  # "rated" is no rate
        ("what is the rate of re-referrals?", "number"),
    ],
)
def test_question_kinds(question: str, kind: str) -> None:
    assert question_kind(question, 2 if "Compare" in question else 0) == kind



@pytest.mark.parametrize(
    ("sentence", "kind", "question", "holds"),
    [
        ("The visit took place on 3 to 4 December 2019.", "when", "When was the visit?", True),
        ("The visit went well.", "when", "When was the visit?", False),
        ("The budget is £4.2m for 2021.", "number", "What is the budget?", True),
        ("The budget was agreed in 2021.", "number", "What is the budget?", False),
        ("Around 75 FTE agency social workers are in post.", "number", "How many agency social workers are in post?", True),
        ("Agency social workers are in post since 2019.", "number", "How many agency social workers are in post?", False),
        ("Ofsted judged the council inadequate.", "judgement", "What was the grade?", True),
        # A date bound in the question: an earlier date the sentence recalls does not answer it.
        ("The last inspection was in 2019 and a focused visit in June 2022.", "when", "When is the first visit after December 2023?", False),
        ("A monitoring visit took place in March 2024.", "when", "When is the first visit after December 2023?", True),
        ("Shadow inspectors: Jan Edwards, Senior HMI.", "when", "When is the first visit after December 2023?", False),
        ("A focused visit took place in June 2022.", "when", "When was the last visit before the 2023 inspection?", True),
        ("A monitoring visit took place in March 2024.", "when", "When was the last visit before the 2023 inspection?", False),
        # "How many?" alone: what is counted is named earlier in the question.
        ("Most social workers have five or more years of experience.", "number", "Did they hire more social workers? How many?", False),
        ("The council invested in an additional 22 social workers.", "number", "Did they hire more social workers? How many?", True),
        # A target or an aim is a commitment.
        ("The council expects to reduce caseloads to a maximum of 18 children.", "commitment", "What caseload were they aiming for?", True),
        ("Caseloads remain variable across the service.", "commitment", "What caseload were they aiming for?", False),
        # A name asked for: a term the report defines with its abbreviation is one.
        ("Early help workers sit in the integrated front door (IFD).", "who", "what is the front door called now", True),
        ("Challenges at the front door are acknowledged.", "who", "what is the front door called now", False),
        ("The team had eight of Her Majesty’s Inspectors (HMI).", "who", "what's their name?", False),
        ("Investment has been approved to increase the number of homes.", "commitment", "Has the council committed money?", True),
    ],
)
def test_a_sentence_holds_the_kind_of_fact_asked_for(sentence: str, kind: str, question: str, holds: bool) -> None:
    assert holds_kind(sentence, kind, question, set()) is holds


def test_a_who_question_wants_a_name_beside_the_role_it_names() -> None:
    inspector = {stem("inspector")}
    assert holds_kind("The visit was led by Dominic Stephens, Her Majesty's Inspector.", "who", "Who was the inspector?", inspector)
    assert not holds_kind("The Director of Children's Services, Lucy Butler, joins in May.", "who", "Who was the inspector?", inspector)


@pytest.mark.parametrize(
    ("question", "settled"),
    [
        ("What was Worcestershire's Ofsted grade?", True),
        ("What did West Sussex commit to deliver by spring 2022?", True),
        ("How has the vacancy rate changed in Darlington?", True),
        ("Who led the inspection?", True),  # its report's first page names the lead inspector
        ("Who was the deputy lead inspector?", False),
        ("Who leads children's services?", False),
        ("Has Bury committed money to youth services?", False),
        ("Why did the Minister suspend the Trust process?", False),
        ("When did Worcestershire get its inadequate rating?", True),  # the register dates each grade
        ("When was Darlington's improvement plan agreed?", False),
    ],
)
def test_the_register_settles_grades_promises_and_metrics(question: str, settled: bool) -> None:
    assert register_can_answer(question, COUNCILS, lambda text: text) is settled


@pytest.mark.parametrize(
    ("question", "subject"),
    [
        ("What is Family Connect in Warwickshire?", "Family Connect"),
        ("what's the MASH?", "MASH"),
        ("What is the position on vacancies in West Sussex?", None),
        ("What is it?", None),
    ],
)
def test_a_thing_asked_to_be_defined(question: str, subject: str | None) -> None:
    assert defined_subject(question) == subject


def test_the_sentence_that_says_what_a_thing_is_holds_the_fact() -> None:
    question = "What is Family Connect in Warwickshire?"
    assert holds_kind("Leaders created a new ‘front door’ called Family Connect in 2024.", "fact", question, set())
    assert holds_kind("Family Connect is the council’s front door for all referrals.", "fact", question, set())
    assert not holds_kind("Initial triage within Family Connect is mostly appropriate.", "fact", question, set())
    assert holds_kind("Initial triage is mostly appropriate.", "fact", "What did inspectors find about triage?", set())


def test_an_abbreviation_counted_in_the_plural_is_counted_in_its_long_form() -> None:
    question = "How many DCSs have they had since 2020?"
    assert holds_kind("It had four directors of children’s services (DCS) and two chief executives.", "number", question, set())
    assert not holds_kind("The DCS has led the service since 2020.", "number", question, set())


@pytest.mark.parametrize(
    ("question", "settled"),
    [
        ("Has Darlington improved since 2016?", True),
        ("How have Tameside's care leavers grades changed?", True),
        ("Has private fostering in Darlington improved?", False),  # no grade for it: the passages say
        ("Is placement stability in Tameside better than it was?", False),
    ],
)
def test_a_change_the_register_settles_is_a_change_of_grades(question: str, settled: bool) -> None:
    assert register_can_answer(question, ["Darlington", "Tameside"], lambda q: q) is settled


def test_a_sentence_opening_with_a_capital_names_no_one_by_that_alone() -> None:
    question = "who inspected Medway's services in 2013"
    assert not holds_kind("Since Ofsted’s inspection of child protection arrangements in January 2013, work has focused on safety.", "who", question, set())
    assert holds_kind("Reporting inspector Sarah Urding HMI", "who", question, set())
    assert holds_kind("Mr Coughlan was unsparing in his findings.", "who", question, set())


def test_who_inspected_asks_for_the_lead_inspector() -> None:
    assert asks_inspection_fact("who inspected wigan in 2025") == "lead"
    assert asks_inspection_fact("who carried out the 2016 tameside inspection") == "lead"


@pytest.mark.parametrize(
    ("question", "settled"),
    [
        ("wigan - compare the last two ofsted reports", True),
        ("did wigan go up or down between its two inspections", True),
        ("compare the last two reports on caseloads in wigan", False),  # a topic: the passages compare
    ],
)
def test_a_councils_own_reports_compared_are_its_grades_unless_a_topic_is_named(question: str, settled: bool) -> None:
    assert register_can_answer(question, ["Wigan"], lambda q: q) is settled


def test_a_question_ending_on_date_asks_when_and_up_to_date_does_not() -> None:
    assert question_kind("north somerset ofsted date") == "when"
    assert question_kind("Wigan inspection date?") == "when"
    assert question_kind("are the care plans kept up to date in Wigan") != "when"


def test_the_next_event_is_a_date_looked_forward_to_not_the_one_reported() -> None:
    question = "when is the next inspection of sunderland"
    assert not holds_kind("Inspection dates: 27 to 31 January 2025", "when", question, set())
    assert holds_kind("The next monitoring visit is scheduled for February 2026.", "when", question, set())
    assert holds_kind("Inspection dates: 27 to 31 January 2025", "when", "when was the inspection of sunderland", set())
    # A grade's full name is not a plan: "to be good" looks ahead to nothing.
    graded = "At the last inspection in 2017, children's services required improvement to be good."
    assert not holds_kind(graded, "when", "when will north somerset be reinspected", set())


def test_who_runs_a_service_is_answered_by_an_organisation_and_a_role_by_a_person() -> None:
    question = "who delivers children's services for Sunderland now?"
    delegated = "Statutory functions have been delegated to Together for Children (TfC)."
    assert holds_kind(delegated, "who", question, set())
    assert holds_kind("Services are delivered by Northamptonshire Children’s Trust.", "who", question, set())
    assert not holds_kind("Services are delivered well by the council.", "who", question, set())
    assert not holds_kind(delegated, "who", "who is the director?", {"director"})


def test_the_heading_a_list_question_means() -> None:
    from assistant.answer.kinds import heading_terms

    improve = set(terms("needs improve"))
    assert improve <= heading_terms(set(terms("any recommendations")))
    assert improve <= heading_terms(set(terms("the main problems")))
    assert improve <= heading_terms(set(terms("areas for improvement")))
    assert not improve & heading_terms(set(terms("the main strengths")))
