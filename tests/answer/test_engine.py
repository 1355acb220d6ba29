"""The engine on the sample reports: which report answers, refusals, filters, the register, the JSON."""

from __future__ import annotations

import pytest
from answer_checks import ask, assert_cited


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



def test_money_question_without_a_figure_is_refused(shared_engine) -> None:
    assert ask(shared_engine, "What is the salary of the Director of Children's Services in West Sussex?").refused


def test_promises_are_answered_from_the_register(shared_engine) -> None:
    answer = ask(shared_engine, "What did West Sussex commit to deliver by spring 2022?")
    assert answer.written_by == "register" and not answer.refused
    assert "not later than January 2022" in answer.answer
    assert_cited(answer)
    assert all(c.council == "West Sussex" for c in answer.citations)



def test_the_kind_is_read_as_typed_then_as_mended(shared_engine) -> None:
    from assistant.types import Filters

    # A typo hides the kind until mended against the library's words ("budjet": money asked for).
    assert shared_engine.mend("what is the budjet", expand=False) == "what is the budget"
    assert shared_engine._plan("what is the budjet for 2023?", Filters())[0] == "number"
    # A kind the words as typed show stands, whatever a mending makes of them.
    assert shared_engine._plan("what caseload were they aiming for?", Filters())[0] == "commitment"


@pytest.mark.parametrize(
    "question",
    [
        "How has West Sussex changed between 2020 and 2021?",
        "Has west sussex improved since 2020?",
        "has the social worker vacancy position in west sussex got better?",
    ],
)
def test_a_question_about_change_searches_each_report_it_compares(shared_engine, question: str) -> None:
    hits = shared_engine.retrieve(question)
    first = {hit.passage.source for hit in hits[:2]}
    assert len(first) == 2 and all(shared_engine.index.reports[s].council == "West Sussex" for s in first)
    assert [hit.rank for hit in hits] == list(range(1, len(hits) + 1))


@pytest.mark.parametrize(
    "question",
    [
        "What has West Sussex committed to do?",  # settled by the register
        "What was Worcestershire's Ofsted grade?",
        # Answered from sentences: the passage search ranks second holds the sentence that answers.
        "After the September 2017 visit, what did Worcestershire decide to do with its priority plan?",
    ],
)
def test_the_passages_an_answer_cites_lead_the_search(shared_engine, question: str) -> None:
    answer = shared_engine.answer(question)
    cited = list(dict.fromkeys(c.passage_id for c in answer.citations))
    assert not answer.refused and cited
    hits = shared_engine.retrieve(question)
    assert [hit.passage.id for hit in hits[: len(cited)]] == cited
    assert len({hit.passage.id for hit in hits}) == len(hits)
    assert [hit.rank for hit in hits] == list(range(1, len(hits) + 1))


def test_a_refused_question_keeps_the_search_order(shared_engine) -> None:
    from assistant.types import Filters

    question = "What is the annual budget of Darlington's children's services?"
    assert shared_engine.answer(question).refused
    assert [h.passage.id for h in shared_engine.retrieve(question)] == [h.passage.id for h in shared_engine._retrieve(question, Filters())]


def test_a_change_in_a_topic_the_register_holds_no_grade_for_is_told_report_by_report(shared_engine) -> None:
    answer = shared_engine.answer("has social work practice in west sussex improved?")
    assert not answer.refused and answer.kind == "fact"
    reports = [c.source for c in answer.citations]
    dates = [shared_engine.index.reports[s].date for s in reports]
    assert len(set(reports)) == 2 and dates == sorted(dates)  # oldest first, one sentence each
    assert [line.split(":")[0] for line in answer.answer.splitlines()] == [f"West Sussex, report of {d}" for d in dates]


def test_the_register_reads_a_council_as_the_gazetteer_does(shared_engine) -> None:
    answer = shared_engine.answer("when is worcs next monitoring visit")
    assert not answer.refused and answer.citations
    assert {c.council for c in answer.citations} == {"Worcestershire"}


def test_a_council_with_no_reports_is_said_to_be_missing(shared_engine) -> None:
    answer = shared_engine.answer("What grade did Ofsted give Croydon?")
    assert answer.refused and answer.kind == "not in library" and "no reports on Croydon" in answer.answer


def test_a_council_spoken_of_in_other_reports_is_answered_only_from_what_they_say_of_it(shared_engine) -> None:
    answer = shared_engine.answer("How long did Leeds take to improve?")
    assert not answer.refused and answer.citations
    assert all("Leeds" in c.passage for c in answer.citations) and "4 years" in answer.answer
    assert answer.answer.startswith("The library holds no reports on Leeds; other reports say:")
    unanswered = shared_engine.answer("What is the Ofsted grade of Leeds?")
    assert unanswered.refused and "no reports on Leeds" in unanswered.answer


def test_a_list_a_report_numbers_paragraph_by_paragraph_is_answered_whole_in_its_order(shared_engine) -> None:
    answer = shared_engine.answer("list the recommendations in the north somerset report")
    assert not answer.refused and answer.kind == "list"
    assert [c.paragraph for c in answer.citations] == ["1", "2", "3"]  # every one of them, in the report's order
    assert [line[:2] for line in answer.answer.splitlines()] == ["- "] * 3
    assert all(line.startswith("- That Executive") and line.endswith(f"[{n}]") for n, line in enumerate(answer.answer.splitlines(), 1))


@pytest.mark.slow
def test_a_list_asked_in_other_words_is_found_under_the_heading_it_means(embedder, tmp_path) -> None:
    from conftest import FIELD_SHIPPED

    from assistant.answer.engine import Engine
    from assistant.library import open_index
    from assistant.settings import Settings

    settings = Settings(index_dir=tmp_path / "index")
    index = open_index(settings, embedder=embedder)
    assert not index.ingest([FIELD_SHIPPED / "ofsted-2532287-2022-02-11.pdf"]).failed
    engine = Engine(settings, index=index)
    for question in ("any recommendations for BCP?", "what were the main weaknesses in BCP?"):
        answer = engine.answer(question)
        assert not answer.refused, question
        assert answer.citations[0].section.startswith("What needs to improve"), (question, answer.citations[0].section)
        assert "recruitment and retention of a workforce" in answer.answer
