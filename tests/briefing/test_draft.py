"""Drafting briefing notes over the sample reports: relevant points, each cited to its paragraph, on several topics."""

from __future__ import annotations

import re

import pytest
from briefing_checks import (
    DARLINGTON,
    NORTH_SOMERSET,
    PREPARED,
    WORCS,
    WS_2020,
    WS_2021,
    all_points,
    check_citations,
    cited,
    where,
)

from assistant.briefing.draft import build_briefing
from assistant.briefing.model import Briefing
from assistant.briefing.render import to_markdown
from assistant.errors import AssistantError


def test_workforce_points_are_about_the_workforce_and_cited_to_their_paragraph(workforce: Briefing, shared_engine) -> None:
    check_citations(workforce, shared_engine)
    assert 3 <= len(workforce.summary) <= 6
    assert {c.council for c in workforce.citations} == {"West Sussex"}
    point, cite = where(workforce, "uncovered vacancy gap is currently 5.34%")
    assert (cite.source, cite.paragraph) == (WS_2020, "8")
    assert point.change == "18.5% (February 2019) → 5.34% (February 2020)"
    _, cite = where(workforce, "75 FTE Agency Social Workers")
    assert (cite.source, cite.paragraph) == (WS_2020, "8")
    _, cite = where(workforce, "four out of the eight social work teams")
    assert cite.paragraph == "8"
    point, cite = where(workforce, "workforce is now more stable")
    assert (cite.source, cite.paragraph) == (WS_2020, "4")
    assert point.label.startswith("Monitoring visit, 3–4 December 2019")
    text = to_markdown(workforce)
    for off_topic in ("Youth Cabinet", "Free Your Mind", "Adoption South East", "privately fostered", "Lucy Butler"):
        assert off_topic not in text


def test_workforce_commitments_and_questions(workforce: Briefing) -> None:
    offer = [r for r in workforce.commitments if "Social Work Offer" in r.what]
    assert len(offer) == 1
    row = offer[0]
    assert (row.start, row.end, row.when, row.status) == ("2021-07-01", "2021-07-31", "in July", "open")
    cite = cited(workforce, row.refs[0])
    assert (cite.source, cite.paragraph) == (WS_2021, "9") and "Social Work Offer" in cite.quote
    assert not any(r.what.startswith(("Adoption", "Life Story", "A 'Free Your Mind'")) for r in workforce.commitments)
    chase = [q for q in workforce.questions if q.refs == row.refs]
    assert chase and "July 2021" in chase[0].basis
    assert len(workforce.questions) >= 2 and all(q.refs for q in workforce.questions)


def test_workforce_heading_and_sources(workforce: Briefing) -> None:
    assert workforce.councils == ["West Sussex"]
    assert workforce.period == ("2020-02", "2021-03-19")
    assert workforce.prepared == "2025-06-01"
    assert [s.source for s in workforce.sources] == [WS_2020, WS_2021]
    assert {"4", "8"} <= set(workforce.sources[0].paragraphs)
    assert "9" in workforce.sources[1].paragraphs


# ------------------------------------------------------------------ other topics, other councils


def test_front_door_across_councils(shared_engine) -> None:
    note = build_briefing(shared_engine, "front door", prepared=PREPARED)
    check_citations(note, shared_engine)
    assert {s.source for s in note.sources} == {WORCS, NORTH_SOMERSET}
    point, cite = where(note, "found weaknesses at the front door")
    assert cite.source == NORTH_SOMERSET and point.label.startswith("Focused visit, March 2019")
    _, cite = where(note, "quality of initial decision-making by the front door team remains too variable")
    assert cite.source == NORTH_SOMERSET
    # The Family Front Door is also 'the FFD' in Worcestershire's report.
    _, cite = where(note, "quality of the work of the FFD")
    assert (cite.source, cite.paragraph) == (WORCS, "12")
    for point in note.summary + note.findings + note.progress:
        assert re.search(r"front door|FFD", point.text, re.I), point.text
    asked = " ".join(q.basis for q in note.questions)
    assert "front door" in asked.lower()


def test_care_leavers_findings_commitment_and_question(shared_engine) -> None:
    note = build_briefing(shared_engine, "care leavers", prepared=PREPARED)
    check_citations(note, shared_engine)
    assert WORCS not in {s.source for s in note.sources}  # it names care leavers only in a report's title
    assert DARLINGTON not in {s.source for s in note.sources}  # only in its background papers
    _, cite = where(note, "children in care and care leavers - Good")
    assert cite.source == NORTH_SOMERSET
    _, cite = where(note, "Drop in for care leavers who are working")
    assert cite.source == NORTH_SOMERSET
    judged = {(p.council, p.text) for p in note.judgements}
    assert ("North Somerset", "Requires improvement to be good") in judged
    transfer = [r for r in note.commitments if r.what.startswith("Transfer of Care Leavers Service")]
    assert len(transfer) == 1 and transfer[0].status == "overdue" and transfer[0].end == "2020-12-31"
    assert cited(note, transfer[0].refs[0]).paragraph == "10"
    assert any(q.refs == transfer[0].refs and "later reports do not mention it" in q.basis for q in note.questions)


def test_monitoring_visits_by_council_and_date(shared_engine) -> None:
    note = build_briefing(shared_engine, "Ofsted monitoring visits", prepared=PREPARED)
    check_citations(note, shared_engine)
    point, cite = where(note, "The workforce is not yet stable")
    assert (cite.source, cite.paragraph, point.council) == (DARLINGTON, "12", "Darlington")
    assert point.label == "Monitoring visit, 10–11 July 2016"
    point, _ = where(note, "staff morale has improved")
    assert point.label == "Monitoring visit, 3–4 December 2019"
    when = {(r.council, r.start) for r in note.commitments}
    assert ("Worcestershire", "2018-02-01") in when  # the next visit, likely February 2018
    assert ("West Sussex", "2021-05-21") in when  # quarterly visits resume at the end of May 2021
    for points in (note.judgements, note.findings, note.progress):
        assert [p.council for p in points] == sorted(p.council for p in points)
    worcs = [p.date for p in note.findings if p.council == "Worcestershire"]
    assert worcs == sorted(worcs)
    judged = {(p.council, p.text) for p in note.judgements}
    assert ("Worcestershire", "Inadequate") in judged
    assert cited(note, next(p for p in note.judgements if p.council == "Worcestershire").refs[0]).paragraph == "4"


def test_period_limits_the_reports(shared_engine) -> None:
    note = build_briefing(shared_engine, "workforce", councils=["west sussex"], date_from="2021", prepared=PREPARED)
    assert {s.source for s in note.sources} == {WS_2021}
    assert note.period[0] == "2021"
    assert not any("5.34%" in p.text for p in all_points(note))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"topic": "  "}, "topic is empty"),
        ({"topic": "workforce", "councils": ["Atlantis"]}, "'Atlantis' is not among the indexed councils"),
        ({"topic": "workforce", "date_from": "2020-13"}, "--from '2020-13'"),
        ({"topic": "workforce", "date_from": "2021", "date_to": "2020"}, "is after"),
        ({"topic": "workforce", "councils": ["Darlington"], "date_from": "2030"}, "no indexed report matches"),
        ({"topic": "zebra crossings"}, "say nothing on 'zebra crossings'"),
    ],
)
def test_bad_requests_say_what_is_wrong(shared_engine, kwargs, message) -> None:
    with pytest.raises(AssistantError, match=re.escape(message)):
        build_briefing(shared_engine, **kwargs)
