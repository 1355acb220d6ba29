"""Report metadata read from the text: council from the gazetteer, the inspection's last day, kind and title."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from conftest import FIELD, FIELD_SHIPPED

from assistant.councils import gazetteer
from assistant.documents.metadata import infer_metadata
from assistant.documents.read import read_report
from assistant.errors import ReportError
from assistant.types import ReportMeta


def _truth(folder: Path) -> list[dict[str, str]]:
    rows = csv.DictReader((folder / "truth.csv").read_text(encoding="utf-8").splitlines())
    return [r for r in rows if (folder / r["file"]).is_file()]


def _iso(day: str) -> str:
    d, m, y = day.split("/")
    return f"{y}-{m}-{d}"


@pytest.mark.parametrize("row", _truth(FIELD_SHIPPED), ids=lambda r: r["file"])
def test_shipped_inspection_reports_get_council_date_and_kind(row: dict[str, str]) -> None:
    path = FIELD_SHIPPED / row["file"]
    try:
        report = read_report(path)
    except ReportError:
        assert row["overall"] == "data_unreadable"  # the saved "report not found" page
        return
    council = gazetteer().lookup(row["council"])
    assert council is not None and report.council == council.name
    assert report.date == _iso(row["inspection_end"])
    assert report.kind.startswith("ofsted_")
    assert report.published == "" or report.published <= row["published"]


@pytest.mark.slow
def test_council_and_year_right_for_the_field_reports() -> None:
    """Council and year against the checked truth for every readable report (95% is the bar)."""
    rows = [r for r in _truth(FIELD) if r["overall"] != "data_unreadable"]
    council_right = year_right = 0
    for row in rows:
        report = read_report(FIELD / row["file"])
        council = gazetteer().lookup(row["council"])
        council_right += council is not None and report.council == council.name
        year_right += report.date[:4] == _iso(row["inspection_end"])[:4]
    print(f"\n{len(rows)} reports: council {council_right / len(rows):.1%}, year {year_right / len(rows):.1%}")
    assert council_right >= 0.95 * len(rows) and year_right >= 0.95 * len(rows)


@pytest.mark.parametrize(
    ("text", "council", "date", "kind"),
    [
        (
            "Inspection of Rutland local authority children's services\nInspection dates: 3 to 14 March 2025\n"
            "Lead inspector: A Person, His Majesty's Inspector\n",
            "Rutland", "2025-03-14", "ofsted_ilacs",
        ),
        (
            "Dudley Metropolitan Borough Council\nInspection of services for children in need of help and protection, "
            "children looked after and care leavers\nInspection date: 9 May 2016 to 2 June 2016\nReport published: 1 August 2016\n",
            "Dudley", "2016-06-02", "ofsted_sif",
        ),
        (
            "Stockport Metropolitan Borough Council\nReport to: Cabinet\nDate of meeting: 12 January 2022\nSubject: Children's Services Improvement\n\n"
            "1. This report updates Cabinet on progress in Stockport since the Ofsted visit.\n",
            "Stockport", "2022-01-12", "committee_report",
        ),
        # Capitalised words that are no council ("Children", "Care", "Youth") are never taken for one.
        ("Children and Young People Committee\n\nYouth Offer and Care Leavers\n\n1. The service has grown.\n", "", "", ""),
    ],
)
def test_metadata_of_reports_never_seen(text: str, council: str, date: str, kind: str) -> None:
    meta = infer_metadata(text)
    assert (meta.council, meta.date, meta.kind) == (council, date, kind)


# ---------------------------------------------------------------- stated in the text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "North Somerset Council\n\nReport to the Executive\n\nDate of Meeting: 21 October 2020\n\n"
            "Subject of Report: Draft Improvement Plan\n\nKey Decision: No\n\n"
            "1. The Executive is asked to note the plan that was sent to Ofsted this month.\n",
            {"council": "North Somerset", "committee": "Executive", "date": "2020-10-21", "title": "Draft Improvement Plan"},
        ),
        (
            "CHILDREN AND FAMILIES OVERVIEW AND SCRUTINY PANEL 24 OCTOBER 2017\n\n"
            "UPDATE ON THE SERVICE IMPROVEMENT PLAN\n\n1. The Panel is asked to consider the update.\n",
            {"committee": "Children and Families Overview and Scrutiny Panel", "date": "2017-10-24",
             "title": "UPDATE ON THE SERVICE IMPROVEMENT PLAN", "council": ""},
        ),
        (
            "Children First Service Improvement Programme: Progress Report – March 2021\n\n"
            "Introduction\n\n1. I am providing a further update to all members of the council.\n",
            {"date": "2021-03", "title": "Children First Service Improvement Programme: Progress Report – March 2021"},
        ),
        (
            "Worcestershire County Council\n\nService Improvement Plan Update\n\n"
            "1. Worcestershire has made progress since the inspection.\n",
            {"council": "Worcestershire", "title": "Service Improvement Plan Update", "date": ""},
        ),
    ],
)
def test_infers_metadata_stated_in_the_text(text: str, expected: dict[str, str]) -> None:
    meta = infer_metadata(text).model_dump()
    assert {key: meta[key] for key in expected} == expected


def test_unknown_metadata_stays_empty() -> None:
    meta = infer_metadata(
        "The service has continued to improve over the period.\n\n"
        "Caseloads are lower and more staff are permanent than a year ago.\n"
    )
    assert meta == ReportMeta()


def test_a_council_merely_mentioned_is_not_taken_as_the_author() -> None:
    text = (
        "Progress Report\n\nIntroduction\n\n"
        "1. We are working closely with Hampshire County Council as our Partner in Practice this year.\n"
        "2. The former director left to join Cumbria County Council at the end of January.\n"
    )
    assert infer_metadata(text).council == ""
