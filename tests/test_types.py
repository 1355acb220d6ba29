"""Domain types: filter dates are checked and in order, filters pick reports, and manifest rows survive JSON."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from assistant.types import Filters, IndexedReport, date_bounds

REPORTS = {
    "a.txt": IndexedReport(hash="a", council="Darlington", date="2016-05"),
    "b.txt": IndexedReport(hash="b", council="Croydon", date="2021-03-19"),
    "c.txt": IndexedReport(hash="c", council="Croydon", date=""),
}


@pytest.mark.parametrize(("date", "bounds"), [("2020", (20200101, 20201231)), ("2020-03", (20200301, 20200331)),
                                              ("2020-03-19", (20200319, 20200319)), ("", (0, 0)), ("soon", (0, 0))])
def test_date_bounds(date: str, bounds: tuple[int, int]) -> None:
    assert date_bounds(date) == bounds


@pytest.mark.parametrize("bad", ["2020/03", "2021-13", "2021-02-30", "March"])
def test_a_filter_date_that_is_no_date_is_named(bad: str) -> None:
    with pytest.raises(ValidationError, match=f"'{bad}' is not a date: use 2020, 2020-03 or 2020-03-19"):
        Filters(date_from=bad)


def test_filter_dates_out_of_order_say_to_swap_them() -> None:
    with pytest.raises(ValidationError, match="from date 2022 is after to date 2021-06: swap them"):
        Filters(date_from="2022", date_to="2021-06")
    assert Filters(date_from=" 2021 ", date_to="2021-06").date_from == "2021"  # a year holds its months


def test_filters_pick_reports_by_council_date_and_file() -> None:
    assert Filters().is_empty() and Filters().selects(REPORTS) == ["a.txt", "b.txt", "c.txt"]
    assert Filters(councils=["Croydon"]).selects(REPORTS) == ["b.txt", "c.txt"]
    assert Filters(date_from="2016-05-31", date_to="2020").selects(REPORTS) == ["a.txt"]  # undated reports drop out
    assert Filters(sources=["c.txt"]).selects(REPORTS) == ["c.txt"]
    atlantis = Filters(councils=["Atlantis"], date_from="2030")
    assert atlantis.matches_nothing(REPORTS) and not Filters().matches_nothing(REPORTS)
    assert atlantis.describe() == "council Atlantis; from 2030"


def test_an_indexed_report_round_trips_through_json() -> None:
    row = IndexedReport(hash="f" * 64, ids=["x#0", "x#1"], passages=2, council="Tameside", date="2024-01",
                        kind="ofsted_ilacs", overrides={"council": "Tameside", "pages": 3}, ingested_at="2026-12-01T10:00:00")
    again = IndexedReport.model_validate_json(row.model_dump_json())
    assert again == row and again.overrides == {"council": "Tameside", "pages": 3}
    with pytest.raises(ValidationError, match="hash"):
        IndexedReport.model_validate({"council": "Tameside"})
