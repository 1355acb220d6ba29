"""Answers read from the register: promises, next visits, grades over time, compared and by grade, a metric's values."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from inspection_reports import ILACS_SHORT, ILACS_STANDARD, SIF, read

from assistant.answer.from_register import answer_from_facts, answer_from_records, answer_from_register
from assistant.register.facts import Fact, extract_facts
from assistant.register.ofsted import InspectionRecord

WORCS, W21 = "001_6c25ee4f623b7f02.txt", "004_db1cafc63c8d4454.txt"


@pytest.fixture()
def records() -> list[InspectionRecord]:
    sif = read(SIF, "tameside-2016.pdf")
    ilacs = read(ILACS_STANDARD, "tameside-2024.pdf")
    short = read(ILACS_SHORT, "kc-2025.pdf", council="Kensington and Chelsea")
    return [sif, ilacs, short]


def test_answer_how_grades_changed(records: list[InspectionRecord]) -> None:
    answer = answer_from_records("How has Tameside's rating changed?", records)
    assert answer is not None and answer.written_by == "register"
    lines = answer.answer.splitlines()
    assert len(lines) == 3 and "2016-09-26" in lines[0] and "2023-12-04" in lines[1]  # and the change, line 3
    assert "overall effectiveness inadequate [1]" in lines[0]
    assert len(re.findall(r"\[\d+\]", answer.answer)) >= 12  # every stated grade cited
    for c in answer.citations:
        assert f"[{c.n}]" in answer.answer


def test_better_than_last_time_is_a_change_not_the_latest_grades(records: list[InspectionRecord]) -> None:
    answer = answer_from_records("was Tameside's inspection better than last time?", records)
    assert answer is not None and "2016-09-26" in answer.answer and "→" in answer.answer


def test_answer_which_councils_by_grade(records: list[InspectionRecord]) -> None:
    answer = answer_from_records("Which councils were outstanding overall in 2024?", records)
    assert answer is not None and answer.answer.startswith("- Kensington and Chelsea: 2024-11-11 to 2024-11-15")
    inadequate = answer_from_records("Which councils have an inadequate care leavers grade?", records)
    assert inadequate is None  # Tameside's latest care leavers grade is 'requires improvement'
    care = answer_from_records("Which councils have an inadequate children in care grade?", records)
    assert care is not None and "Tameside: 2023-12-04" in care.answer and "2016" not in care.answer


@pytest.mark.parametrize(
    "question",
    ["is tameside inadequate?", "Did Tameside go from inadequate to requires improvement?", "was tameside good for care leavers",
     "did tameside get RI?", "RI areas for tameside"],
)
def test_a_grade_word_alone_asks_for_the_grades_of_a_council_or_judged_area(records: list[InspectionRecord], question: str) -> None:
    answer = answer_from_records(question, records)
    assert answer is not None and answer.kind == "inspections" and "Tameside" in answer.answer


def test_answer_compare(records: list[InspectionRecord]) -> None:
    answer = answer_from_records("Compare Tameside and Kensington and Chelsea", records)
    assert answer is not None
    assert [line.split(":")[0] for line in answer.answer.splitlines()] == ["- Tameside", "- Tameside", "- Kensington and Chelsea"]


@pytest.mark.parametrize(
    "question",
    [
        "What did Ofsted say about care leavers in Tameside?",
        "Compare Tameside and Kensington and Chelsea on caseloads",
        "What was Tameside's overall grade in 2019?",
        "How many agency social workers does Tameside have?",
        "Which councils were outstanding overall in 2016?",
        "is tameside's early help any good",  # a topic no judgement grades: the reports answer
        "how good is the MASH in Tameside now?",
        "whats tamesides improvement plan about",  # names a plan: no question of how Tameside came out
        "what did the Tameside improvement board decide?",
    ],
)
def test_questions_the_register_cannot_settle_fall_through(records: list[InspectionRecord], question: str) -> None:
    assert answer_from_records(question, records) is None


@pytest.fixture(scope="module")
def sample_facts() -> list[Fact]:
    from assistant.documents.passages import split_report
    from assistant.documents.read import load_manifest, read_report

    folder = Path(__file__).resolve().parent.parent.parent / "corpus" / "sample"
    meta = load_manifest(folder)
    out: list[Fact] = []
    for path in sorted(folder.glob("*.txt")):
        out += extract_facts(split_report(read_report(path, meta=meta.get(path.name))))
    return out


def test_facts_answer_only_what_asks_for_values(sample_facts: list[Fact]) -> None:
    assert answer_from_facts("What is being done about the vacancy rate in West Sussex?", sample_facts) is None
    assert answer_from_facts("caseloads in Coventry over time", sample_facts) is None  # no values: ordinary answers take over


@pytest.mark.slow
def test_answer_what_was_promised(shared_engine) -> None:
    answer = answer_from_register("What was promised for 2021?", shared_engine.index)
    assert answer is not None and not answer.refused
    assert "in July" in answer.answer and "[1]" in answer.answer
    for citation in answer.citations:
        assert citation.quote in citation.passage
        assert f"[{citation.n}]" in answer.answer


@pytest.mark.slow
def test_answer_next_monitoring_visit(shared_engine) -> None:
    answer = answer_from_register("When is the next monitoring visit in Worcestershire?", shared_engine.index)
    assert answer is not None
    assert [(c.source, c.paragraph) for c in answer.citations] == [(WORCS, "16")]
    assert "February 2018" in answer.answer


@pytest.mark.slow
def test_answer_what_is_due_by_a_date(shared_engine) -> None:
    answer = answer_from_register("What did West Sussex commit to deliver by spring 2022?", shared_engine.index)
    assert answer is not None and answer.citations
    assert W21 in {c.source for c in answer.citations} and "overdue" not in answer.answer
    assert "early part of 2022" in answer.answer and "Adoption South East" not in answer.answer


@pytest.mark.slow
@pytest.mark.parametrize("question", ["How does West Sussex recruit agency social workers?", "Who is the Chief Executive?"])
def test_other_questions_are_left_to_the_answerer(shared_engine, question: str) -> None:
    assert answer_from_register(question, shared_engine.index) is None


@pytest.mark.slow
def test_chat_answers_the_vacancy_series(shared_engine) -> None:
    answer = shared_engine.answer("how has the vacancy rate changed in West Sussex")
    assert answer.written_by == "register" and answer.kind == "facts" and not answer.refused
    assert answer.answer.index("18.5%") < answer.answer.index("5.34%")
    assert all(c.source == "000_593dbc0cfa530023.txt" and c.paragraph == "8" for c in answer.citations)
    assert answer.citations and "18.5%" in answer.citations[0].quote


def test_one_judgement_asked_cites_every_passage_that_states_it(records: list[InspectionRecord]) -> None:
    heading = "\nThe experiences and progress of care leavers: requires improvement to be good\n"
    tameside = read(ILACS_STANDARD + heading, "tameside-2024.pdf")
    answer = answer_from_records("Tameside care leavers judgement 2023", [tameside])
    assert answer is not None and "care leavers requires improvement to be good [1] [2]" in answer.answer
    # The heading stating this grade alone is cited first, then the judgement table of every grade.
    assert [c.quote for c in answer.citations][0] == heading.strip()
    assert "impact of leaders" in answer.citations[1].passage.lower()


def test_an_inspection_that_made_no_such_judgement_is_said_so(records: list[InspectionRecord]) -> None:
    # A framework without an overall grade: the inspection is held, the judgement was never made.
    table = ILACS_STANDARD.replace("Overall effectiveness Inadequate\n", "")
    tameside = read(table, "tameside-2024.pdf")
    answer = answer_from_records("Tameside December 2023 - overall effectiveness grade?", [tameside])
    assert answer is not None and answer.refused and answer.kind == "not judged"
    assert "no 'overall effectiveness' judgement" in answer.answer and "impact of leaders inadequate [1]" in answer.answer
    # A year with no inspection held is not settled here (the answerer says what it can).
    assert answer_from_records("Tameside 2019 - overall effectiveness grade?", [tameside]) is None


def test_a_report_is_named_by_the_year_it_was_published_too(records: list[InspectionRecord]) -> None:
    # The SIF inspection ended in October 2016 and was published in December 2016; one of 2015 published in 2016:
    late = read(SIF.replace("26 September 2016 to 20 October 2016", "2 November 2015 to 26 November 2015"), "tameside-2016.pdf")
    answer = answer_from_records("How have Tameside's care leaver grades changed since 2016?", [late, records[1]])
    assert answer is not None and "2015-11-02" in answer.answer and "2023-12-04" in answer.answer


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("who led the Tameside inspection in December 2023?", "lead inspector Andy Waugh [1]"),
        ("tameside sif 2016 lead inspector", "lead inspector Paula Thomson-Jones [1]"),
        ("who inspected tameside's looked after children services in 2016", "lead inspector Paula Thomson-Jones [1]"),  # "after" places nothing
        ("Tameside - who was the lead inspector at the latest inspection?", "lead inspector Andy Waugh [1]"),
        ("the dates of the Tameside inspection whose report was published in 2016?", "Inspection date: 26 September 2016 to 20 October 2016 [1]"),
        ("When was Tameside last inspected?", "Inspection dates: 4 to 15 December 2023 [1]"),
    ],
)
def test_who_led_an_inspection_and_when_as_its_first_page_says(records: list[InspectionRecord], question: str, expected: str) -> None:
    from assistant.answer.from_register import answer_inspection_fact

    answer = answer_inspection_fact(question, records)
    assert answer is not None and expected in answer.answer and len(answer.citations) == 1
    assert answer.citations[0].quote in answer.citations[0].passage


@pytest.mark.parametrize(
    "question",
    [
        "who was the deputy lead inspector for Tameside in 2016?",  # the first page's other inspectors: the passages say
        "who led the Tameside inspection in 2019?",  # no report of that year held
        "When was the Tameside inspection report published?",
        "Who leads children's services in Tameside?",
        "Who will lead the new front door service in Tameside?",
        "When was Tameside's previous inspection before December 2023?",  # placed by another: the passages tell
    ],
)
def test_inspection_facts_the_records_do_not_settle_fall_through(records: list[InspectionRecord], question: str) -> None:
    from assistant.answer.from_register import answer_inspection_fact

    assert answer_inspection_fact(question, records) is None


def test_an_inspection_whose_report_names_no_lead_is_said_to_name_none(records: list[InspectionRecord]) -> None:
    from assistant.answer.from_register import answer_inspection_fact

    def unnamed(record: InspectionRecord) -> InspectionRecord:
        kept = [c for c in record.citations if "lead_inspector" not in c.facts]
        return record.model_copy(update={"lead_inspector": "", "citations": kept})

    held = [unnamed(r) if r.inspection_end.startswith("2023") else r for r in records]
    answer = answer_inspection_fact("who led the Tameside inspection in December 2023?", held)
    assert answer is not None and answer.refused and "2023-12-04" in answer.answer and "names no lead inspector" in answer.answer
    assert "Paula Thomson-Jones" not in answer.answer and len(answer.citations) == 1
    # No time named: said of the latest inspection, then the latest whose report names its lead.
    latest = answer_inspection_fact("Tameside lead inspector", held)
    assert latest is not None and not latest.refused
    assert latest.answer.index("names no lead inspector") < latest.answer.index("lead inspector Paula Thomson-Jones")
    # A report that speaks of a lead inspector anywhere is never said to name none: the passages answer.
    assert answer_inspection_fact("who led the Tameside inspection in December 2023?", held, names_lead=lambda source: True) is None


def test_the_grade_before_an_inspection_is_the_latest_earlier_one(records: list[InspectionRecord]) -> None:
    answer = answer_from_records("Before the December 2023 inspection, what grade did Tameside have?", records)
    assert answer is not None and "2016-09-26" in answer.answer and "2023-12-04" not in answer.answer
    # "since its first inspection in 2016": from that year on.
    since = answer_from_records("Has Tameside improved since its first inspection in 2016?", records)
    assert since is not None and "2016-09-26" in since.answer and "2023-12-04" in since.answer


def test_a_change_is_said_judgement_by_judgement(records: list[InspectionRecord]) -> None:
    answer = answer_from_records("How has Tameside's rating changed?", records)
    assert answer is not None
    last = answer.answer.splitlines()[-1]
    assert last.startswith("- Tameside, 2016 to 2023: overall effectiveness unchanged (inadequate → inadequate)")
    assert "children in care declined (requires improvement to be good → inadequate)" in last
    # A later framework without an overall grade still shows the change in the grades it made.
    later = read(ILACS_STANDARD.replace("Overall effectiveness Inadequate\n", "").replace("2023", "2025"), "tameside-2025.pdf")
    since = answer_from_records("Has Tameside improved since its first inspection in 2016?", [records[0], later])
    assert since is not None and "2025-12-04" in since.answer and "care leavers unchanged" in since.answer


def test_a_council_the_records_hold_nothing_on_leaves_the_comparison_to_the_passages(records: list[InspectionRecord]) -> None:
    assert answer_from_records("What grades did Tameside and Darlington get?", records) is None
    assert answer_from_records("What grades did Tameside get?", records) is not None


def test_a_comparison_with_one_side_ungraded_is_left_to_the_passages(records: list[InspectionRecord]) -> None:
    ungraded = InspectionRecord(council="Darlington", kind="monitoring_visit", inspection_start="2019-03-01", inspection_end="2019-03-02")
    assert answer_from_records("Compare Tameside and Darlington grades", [*records, ungraded]) is None


@pytest.mark.parametrize(
    "question", ["Tameside - compare the last two Ofsted reports", "did tameside go up or down between its two inspections?"]
)
def test_one_councils_inspections_set_side_by_side_are_its_change_of_grades(records: list[InspectionRecord], question: str) -> None:
    answer = answer_from_records(question, records)
    assert answer is not None
    assert answer.answer.splitlines()[-1].startswith("- Tameside, 2016 to 2023: overall effectiveness unchanged")


@pytest.mark.parametrize(
    "question",
    ["Is Tameside still inadequate?", "How did Tameside do in its latest Ofsted?", "how did tameside get on at the last inspection"],
)
def test_how_a_council_stands_is_its_latest_inspection(records: list[InspectionRecord], question: str) -> None:
    answer = answer_from_records(question, records)
    assert answer is not None and "2023-12-04" in answer.answer and "2016" not in answer.answer


def test_how_a_piece_of_work_did_is_no_question_of_grades(records: list[InspectionRecord]) -> None:
    assert answer_from_records("How did the assessments in Tameside do?", records) is None


@pytest.mark.parametrize(
    "question",
    [
        "Tell me about Tameside", "how is tameside doing?", "Tameside overview", "Can you give me an overview of Tameside?",
        "tameside ofsted 2023 - overview", "tameside", "2023 Tameside?", "how did tameside do", "how has Tameside fared?",
    ],
)
def test_a_bare_question_about_a_council_gets_its_grades(records: list[InspectionRecord], question: str) -> None:
    answer = answer_from_records(question, records)
    assert answer is not None and "2023-12-04" in answer.answer and "overall effectiveness inadequate" in answer.answer


def test_a_council_asked_about_one_topic_is_no_overview(records: list[InspectionRecord]) -> None:
    assert answer_from_records("How is Tameside doing with recruitment?", records) is None
