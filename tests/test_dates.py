"""The date vocabulary: month names, ISO dates from their parts, dates in words, report dates as intervals."""

from __future__ import annotations

import re
from datetime import date

import pytest

from assistant.dates import (
    FULL_MONTHS,
    MONTHS,
    Anchor,
    add_months,
    human_date,
    human_month,
    human_span,
    iso_date,
    month_end,
    month_number,
)


@pytest.mark.parametrize(
    ("name", "number"),
    [("January", 1), ("Jan", 1), ("march", 3), ("MAY", 5), ("Sept", 9), ("Sep", 9), ("Dec.", 12), ("Smarch", None), ("", None)],
)
def test_month_number(name: str, number: int | None) -> None:
    assert month_number(name) == number


def test_the_month_table_holds_each_month_and_its_abbreviations() -> None:
    assert sorted(set(MONTHS.values())) == list(range(1, 13))
    assert len(MONTHS) == 24  # twelve names, eleven abbreviations ("May" has none), and "Sept" beside "Sep"


def test_full_months_matches_names_not_abbreviations() -> None:
    pattern = re.compile(rf"\b(?:{FULL_MONTHS})\b")
    assert pattern.findall("4 to 15 December 2023, Sept 2016, May 2020") == ["December", "May"]


@pytest.mark.parametrize(
    ("day", "month", "year", "iso"),
    [
        ("19", "March", "2021", "2021-03-19"),
        ("7", "september", "2016", "2016-09-07"),
        ("07", "DECEMBER", "2023", "2023-12-07"),
        (None, "October", "2017", "2017-10"),
        ("29", "February", "2020", "2020-02-29"),
        # Not a real date: nothing, rather than a date that filters to the wrong reports.
        ("29", "February", "2021", ""),
        ("31", "April", "2021", ""),
        ("0", "April", "2021", ""),
        ("1", "Smarch", "2021", ""),
    ],
)
def test_iso_date(day: str | None, month: str, year: str, iso: str) -> None:
    assert iso_date(day, month, year) == iso


@pytest.mark.parametrize(
    ("iso", "shown"),
    [
        ("2021-03-19", "19 March 2021"),
        ("2021-03-05", "5 March 2021"),
        ("2020-02", "February 2020"),
        ("2016", "2016"),
        ("", "undated"),
        # What is not an ISO date at day, month or year precision is shown as it is.
        ("soon", "soon"),
        ("2021-13", "2021-13"),
        ("2021-02-31", "2021-02-31"),
        ("2021-03-19-1", "2021-03-19-1"),
    ],
)
def test_human_date(iso: str, shown: str) -> None:
    assert human_date(iso) == shown


@pytest.mark.parametrize(
    ("iso", "shown"),
    [("2021-03-19", "March 2021"), ("2020-02", "February 2020"), ("2016", "2016"), ("", "undated"), ("soon", "soon")],
)
def test_human_month(iso: str, shown: str) -> None:
    assert human_month(iso) == shown


@pytest.mark.parametrize(
    ("start", "end", "label"),
    [
        ("2019-12-03", "2019-12-04", "3–4 December 2019"),
        ("2016-07-01", "2016-07-31", "July 2016"),
        ("2021-01-01", "2021-12-31", "2021"),
        ("2017-01-01", "2017-06-30", "January to June 2017"),
        ("2021-05-21", "2021-05-21", "21 May 2021"),
        ("2020-10-21", "2021-01-21", "21 October 2020 to 21 January 2021"),
        ("2020-11-01", "2021-02-28", "November 2020 to February 2021"),
        ("2020-01-01", "2021-12-31", "January 2020 to December 2021"),
        ("2021-02-01", "2021-02-28", "February 2021"),
    ],
)
def test_human_span(start: str, end: str, label: str) -> None:
    assert human_span(date.fromisoformat(start), date.fromisoformat(end)) == label


def test_month_end_knows_leap_years() -> None:
    assert month_end(2020, 2) == date(2020, 2, 29)
    assert month_end(2021, 2) == date(2021, 2, 28)


@pytest.mark.parametrize(
    ("iso", "expected"),
    [
        ("2020-10-21", (date(2020, 10, 21), date(2020, 10, 21), "day")),
        ("2021-03", (date(2021, 3, 1), date(2021, 3, 31), "month")),
        ("2016", (date(2016, 1, 1), date(2016, 12, 31), "year")),
    ],
)
def test_anchor(iso: str, expected: tuple[date, date, str]) -> None:
    anchor = Anchor.parse(iso)
    assert anchor is not None
    assert (anchor.start, anchor.end, anchor.granularity) == expected


@pytest.mark.parametrize("iso", ["", "2021-13", "spring", "2021-02-30"])
def test_anchor_rejects_bad_dates(iso: str) -> None:
    assert Anchor.parse(iso) is None


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(date(2021, 1, 31), 1) == date(2021, 2, 28)
    assert add_months(date(2021, 11, 15), 3) == date(2022, 2, 15)
