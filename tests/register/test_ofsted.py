"""Inspection records: read from Ofsted reports of every framework, merged with other reports' mentions."""

from __future__ import annotations

import csv

import pytest
from conftest import FIELD as FIELD_CORPUS
from inspection_reports import ACT, ILACS_SHORT, ILACS_STANDARD, PRE_2013, SIF, passages, read

from assistant.register.inspections import extract_inspections
from assistant.register.ofsted import NOT_JUDGED, InspectionRecord, read_inspection


def _cited(record: InspectionRecord) -> None:
    """Every citation quotes its passage verbatim (or the heading the passage sits under)."""
    for c in record.citations:
        assert c.quote in c.passage or c.quote in c.section, (c.facts, c.quote)


def test_ilacs_standard() -> None:
    record = read(ILACS_STANDARD)
    assert (record.council, record.kind, record.framework) == ("Tameside", "ilacs_standard", "ILACS")
    assert (record.inspection_start, record.inspection_end, record.published) == ("2023-12-04", "2023-12-15", "")
    assert record.lead_inspector == "Andy Waugh"
    assert record.judgements == {
        "overall": "inadequate", "leaders": "inadequate", "help_and_protection": "inadequate", "in_care": "inadequate",
        "care_leavers": "requires improvement", "adoption": NOT_JUDGED, "lscb": NOT_JUDGED,
    }
    overall = record.citation_for("overall")
    assert overall is not None and overall.quote == "Overall effectiveness Inadequate"
    _cited(record)


def test_ilacs_short_with_one_judgement_for_care_and_care_leavers() -> None:
    record = read(ILACS_SHORT, council="Care")
    assert (record.council, record.kind) == ("Kensington and Chelsea", "ilacs_short")
    assert record.lead_inspector == "Nick Bennison"
    assert record.judgements["overall"] == "outstanding"
    assert (record.judgements["in_care"], record.judgements["care_leavers"]) == ("good", NOT_JUDGED)
    _cited(record)


def test_single_inspection_framework() -> None:
    record = read(SIF)
    assert (record.kind, record.framework, record.published) == ("sif", "SIF", "2016-12-09")
    assert (record.inspection_start, record.inspection_end) == ("2016-09-26", "2016-10-20")
    assert record.lead_inspector == "Paula Thomson-Jones"
    assert record.judgements == {
        "overall": "inadequate", "leaders": "inadequate", "help_and_protection": "inadequate",
        "in_care": "requires improvement", "care_leavers": "requires improvement", "adoption": "good",
        "lscb": "requires improvement",
    }
    overall = record.citation_for("overall")
    assert overall is not None and overall.quote == "Children’s services in Tameside are inadequate"
    _cited(record)
    # The summary's list of grades is passages' text, so each grade's citation shows the line that states it.
    adoption = record.citations_for("adoption")
    assert adoption and all(c.quote in c.passage for c in adoption), [(c.quote, c.passage) for c in adoption]


def test_pre_2013_inspection() -> None:
    record = read(PRE_2013, council="Medway")
    assert (record.council, record.kind, record.framework) == ("Medway", "lac", "pre-2013")
    assert (record.inspection_start, record.inspection_end, record.published) == ("2013-07-15", "2013-07-19", "2013-08-23")
    assert record.lead_inspector == "Sarah Urding"
    assert record.judgements["overall"] == record.judgements["leaders"] == record.judgements["in_care"] == "inadequate"
    assert record.judgements["help_and_protection"] == record.judgements["care_leavers"] == NOT_JUDGED
    _cited(record)


def test_an_act_of_parliament_is_no_inspection() -> None:
    paper = passages(ACT, "cabinet.txt", date="2017-03-01")
    assert read_inspection(paper) is None
    assert not [e for e in extract_inspections(paper) if e.time.start.startswith(("2006", "1989"))]


def test_a_council_paper_quoting_a_report_title_is_no_report() -> None:
    text = "Cabinet, 1 March 2017\n\n1. Ofsted published its report 'Inspection of services for children in need of help and protection' in January 2017."
    assert read_inspection(passages(text, "cabinet.txt")) is None


FIELD = [FIELD_CORPUS]  # the whole field corpus when present, else the reports shipped in tests/data/field
FIELDS = ("overall", "leaders", "help_and_protection", "in_care", "care_leavers")


def _truth_value(value: str) -> str:
    value = value.strip().lower()
    return NOT_JUDGED if value in ("not_judged", "inspection_pre_dates_judgement", "not_reported_post_reform") else value


def _iso(day: str) -> str:
    d, m, y = day.split("/")
    return f"{y}-{m}-{d}"


@pytest.mark.slow
def test_field_corpus_accuracy() -> None:
    from assistant.documents.passages import split_report
    from assistant.documents.read import read_report

    folder = next((f for f in FIELD if (f / "truth.csv").is_file()), None)
    assert folder is not None, "tests/data/field/ ships Ofsted reports and their truth.csv with the project"
    rows = [r for r in csv.DictReader((folder / "truth.csv").read_text(encoding="utf-8").splitlines()) if r["overall"] != "data_unreadable"]
    rows = [r for r in rows if (folder / r["file"]).is_file()]
    hits = dict.fromkeys(("lead_inspector", "inspection_end", *FIELDS), 0)
    for row in rows:
        record = read_inspection(split_report(read_report(folder / row["file"])))
        if record is None:
            continue
        hits["lead_inspector"] += record.lead_inspector == row["lead_inspector"]
        hits["inspection_end"] += record.inspection_end == _iso(row["inspection_end"])
        for name in FIELDS:
            hits[name] += record.judgements.get(name) == _truth_value(row[name])
    share = {name: count / len(rows) for name, count in hits.items()}
    print(f"\n{len(rows)} inspection reports: " + ", ".join(f"{k} {v:.1%}" for k, v in share.items()))
    assert share["overall"] >= 0.95 and share["lead_inspector"] >= 0.95 and share["inspection_end"] >= 0.95
    assert min(share[name] for name in FIELDS[1:]) >= 0.90


def test_a_grade_is_cited_in_the_table_and_where_its_section_states_it() -> None:
    body = (
        "\nThe experiences and progress of care leavers: requires improvement to be good\n\n"
        "Care leavers are not always helped to find homes.\n\n"
        "The experiences and progress of care leavers: good practice is rare\n"
    )
    record = read(ILACS_STANDARD + body)
    quotes = [c.quote for c in record.citations_for("care_leavers")]
    # The table row is quoted from its line's start ("The …"), the section heading as printed; the later
    # line stating another grade ("good practice") is no statement of this judgement.
    assert quotes == [
        "The experiences and progress of care leavers Requires improvement to be good",
        "The experiences and progress of care leavers: requires improvement to be good",
    ]
    assert record.judgements["care_leavers"] == "requires improvement"
    _cited(record)


def test_the_single_inspection_frameworks_prose_states_a_grade_too() -> None:
    body = "\nThe graded judgement about the experience and progress of care leavers is that it requires improvement\n"
    record = read(SIF + body)
    quotes = [c.quote for c in record.citations_for("care_leavers")]
    assert quotes[0] == "2.2 Experiences and progress of care leavers Requires improvement"
    assert quotes[1].startswith("The graded judgement about the experience and progress of care leavers")
    _cited(record)
