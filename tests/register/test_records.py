"""Inspection records joined across reports, and the event list: one record or event per inspection, every citation once."""

from __future__ import annotations

from inspection_reports import ILACS_STANDARD, MENTION, SIF, passages, read

from assistant.register.inspections import extract_inspections, merge_events
from assistant.register.records import merge_records


def test_mentions_merge_into_one_record() -> None:
    report = read(ILACS_STANDARD, "ofsted.pdf")
    paper = passages(MENTION, "cabinet.txt", date="2024-03-01")
    records, events = merge_records([report], [*extract_inspections(passages(ILACS_STANDARD, "ofsted.pdf")), *extract_inspections(paper)])
    assert len(records) == 1
    assert records[0].sources == ["ofsted.pdf", "cabinet.txt"]
    assert {c.source for c in records[0].citations} == {"ofsted.pdf", "cabinet.txt"}
    assert records[0].judgements["overall"] == "inadequate"
    assert not any(e.citation.source == "ofsted.pdf" and e.time.start == "2023-12-04" for e in events)


def test_a_date_an_inspection_report_recalls_takes_no_grade_from_another_passage() -> None:
    text = SIF + (
        "\nAt the time of the inspection, the local authority had suspended the audit cycle since August 2016.\n\n"
        "The experiences and progress of children looked after and achieving permanence Requires improvement\n"
        "Summary When children in Tameside are looked after, most of them live close to home.\n"
    )
    records, _ = merge_records([read(text, "ofsted.pdf")], extract_inspections(passages(text, "ofsted.pdf")))
    # One record: the report's own inspection. "since August 2016" is no inspection graded 'requires improvement'.
    assert [(r.inspection_end, r.judgements.get("overall")) for r in records] == [("2016-10-20", "inadequate")]


def test_many_mentions_of_one_inspection_are_one_record_and_one_event() -> None:
    """Hundreds of papers (a large library) mention one inspection: each source and citation is kept once."""
    report = read(ILACS_STANDARD, "ofsted.pdf")
    own = extract_inspections(passages(ILACS_STANDARD, "ofsted.pdf"))
    papers = [e for n in range(300) for e in extract_inspections(passages(MENTION, f"cabinet-{n % 150}.txt", date="2024-03-01"))]
    records, events = merge_records([report], [*own, *papers])
    assert len(records) == 1
    assert records[0].sources == ["ofsted.pdf", *(f"cabinet-{n}.txt" for n in range(150))]
    keys = [(c.passage_id, c.quote) for c in records[0].citations]
    assert len(keys) == len(set(keys)) == len(report.citations) + 150
    merged = [e for e in merge_events(events) if e.time.start.startswith("2023-12")]
    assert len(merged) == 1
    cited = [(c.passage_id, c.quote) for c in [merged[0].citation, *merged[0].also]]
    assert len(cited) == len(set(cited)) == 150
