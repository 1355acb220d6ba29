"""A question's scope: the councils it names (in any form typed), the years it points at, and the reports they pick."""

from __future__ import annotations

from assistant.answer.scope import Scope, read_scope, report_prior, report_times, reports_of_years, search_text
from assistant.types import IndexedReport

LIBRARY = ["West Sussex", "Worcestershire", "Darlington", "Tameside"]
REPORTS = {
    "ws-2020.txt": IndexedReport(hash="1", council="West Sussex", date="2020-02-06"),
    "ws-2021.txt": IndexedReport(hash="2", council="West Sussex", date="2021-03-19"),
    "darl.txt": IndexedReport(hash="3", council="Darlington", date="2016-05-17", published="2016-06"),
}


def test_councils_are_found_in_the_order_named_and_those_without_reports_are_missing() -> None:
    scope = read_scope("Compare worcestershire with West Sussex and Croydon", LIBRARY)
    assert scope.councils == ["Worcestershire", "West Sussex"]
    assert scope.missing == ["Croydon"]
    assert read_scope("How many social workers are there?", LIBRARY) == Scope()


def test_years_that_name_a_report_are_told_from_years_that_bound_a_period() -> None:
    scope = read_scope("What did the 2021 Ofsted inspection of Tameside find?", LIBRARY)
    assert (scope.councils, scope.years, scope.report_years, scope.change) == (["Tameside"], [2021], [2021], False)
    since = read_scope("How has Darlington improved since the 2016 inspection?", LIBRARY)
    assert since.years == [2016] and since.report_years == [] and since.change
    assert read_scope("What does the latest report say?", LIBRARY).latest
    # However far the year sits from the words that name a report.
    far = read_scope("what did inspectors find at the tameside multi agency safeguarding hub in dec 2023", LIBRARY)
    assert far.report_years == [2023]
    assert search_text("what did inspectors find at the tameside multi agency safeguarding hub in dec 2023", LIBRARY) == (
        "what did inspectors find at the multi agency safeguarding hub in"
    )


def test_the_searched_text_drops_named_councils_and_report_years() -> None:
    question = "What did the November 2021 inspection of West Sussex say about caseloads?"
    assert search_text(question, LIBRARY) == "What did the inspection of say about caseloads?"
    assert "2021" in search_text(question, LIBRARY, keep_years=True)
    assert search_text("West Sussex 2021", LIBRARY) == "West Sussex 2021"  # nothing left: the question as asked
    # One word is a topic: searched alone within the council, the council's name no longer finds its title page.
    assert search_text("west sussex caseloads", LIBRARY) == "caseloads"


def test_reports_of_years_and_the_prior_they_give() -> None:
    assert reports_of_years([2016], REPORTS, []) == ["darl.txt"]
    assert reports_of_years([2020, 2021], REPORTS, ["West Sussex"]) == ["ws-2020.txt", "ws-2021.txt"]
    assert report_prior(Scope(years=[2021]), REPORTS, []) == {"ws-2020.txt": 0.5, "ws-2021.txt": 1.0, "darl.txt": 0.5}
    latest = report_prior(Scope(latest=True), REPORTS, ["West Sussex"])
    assert latest == {"ws-2020.txt": 0.6, "ws-2021.txt": 1.0}
    # Naming no time asks how things stand: each council's latest report first, its older ones close behind.
    assert report_prior(Scope(), REPORTS, []) == {"ws-2020.txt": 0.8, "ws-2021.txt": 1.0, "darl.txt": 1.0}
    # A question about change needs the older reports as much as the latest.
    assert report_prior(Scope(change=True), REPORTS, []) == {}
    # "Since 2020" spans that year's report and every later one.
    since = read_scope("How have West Sussex's services changed since its first Ofsted inspection in 2020?", LIBRARY)
    assert since.since == 2020
    assert report_prior(since, REPORTS, []) == {"ws-2020.txt": 1.0, "ws-2021.txt": 1.0, "darl.txt": 0.5}
    # The reports' times read once give the same weights.
    times = report_times(REPORTS)
    for scope in (Scope(years=[2021]), Scope(latest=True), Scope(), since):
        assert report_prior(scope, REPORTS, [], times) == report_prior(scope, REPORTS, [])
    assert report_prior(Scope(latest=True), REPORTS, ["West Sussex"], times) == latest


def test_a_report_heading_is_no_question_about_change() -> None:
    for question in (
        "Any areas for improvement in Tameside?",
        "What does Darlington need to improve?",
        "What was the experiences and progress of care leavers grade in Tameside?",
    ):
        assert not read_scope(question, LIBRARY).change, question
    for question in (
        "Has Tameside improved since 2016?",
        "Is Darlington progressing?",
        "How has the grade changed?",
        "Which did better, Tameside or Darlington?",
    ):
        assert read_scope(question, LIBRARY).change, question
