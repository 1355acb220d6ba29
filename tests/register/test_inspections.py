"""Inspection events: the inspections, visits and reviews the reports mention, held or planned."""

from __future__ import annotations

import pytest

from assistant.register.query import query_inspections
from assistant.register.store import Register, load_register


@pytest.fixture()
def register(shared_index) -> Register:
    return load_register(shared_index)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("council", "kind", "start", "planned", "judgement", "paragraph"),
    [
        ("Worcestershire", "single inspection", "2017-01-24", False, "Inadequate", "3"),
        ("Worcestershire", "monitoring visit", "2017-05-23", False, "", "6"),
        ("Worcestershire", "monitoring visit", "2017-09-12", False, "", "2"),
        ("Worcestershire", "monitoring visit", "2018-02-01", True, "", "16"),
        ("Darlington", "single inspection", "2015-06-01", False, "Inadequate", "¶3"),
        ("Darlington", "DfE review", "2016-05-17", False, "", "3"),
        ("Darlington", "monitoring visit", "2016-07-10", False, "", "3"),
        ("Darlington", "monitoring visit", "2016-10-12", True, "", "13"),
        ("Darlington", "re-inspection", "2017-06-01", True, "", "15"),
        ("North Somerset", "ILACS", "2020-03-02", False, "Requires improvement to be good", "¶28"),
        ("North Somerset", "full inspection", "2017-06-01", False, "Requires improvement to be good", "¶8"),
        ("North Somerset", "focused visit", "2019-03-01", False, "", "¶4"),
        ("North Somerset", "SEND inspection", "2019-05-01", False, "", "¶8"),
        ("West Sussex", "full inspection", "2019-05-01", False, "", "1"),
        ("West Sussex", "monitoring visit", "2019-12-03", False, "", "4"),
        ("West Sussex", "commissioner review", "2019-12-17", False, "", "2"),
        ("West Sussex", "monitoring visit", "2020-05-08", True, "", "5"),
        ("West Sussex", "focused visit", "2020-10-01", False, "", "4"),
        ("West Sussex", "re-inspection", "2021-01-01", True, "", "4"),
        ("West Sussex", "monitoring visit", "2021-05-21", True, "", "4"),
        ("West Sussex", "commissioner review", "2021-07-01", True, "", "3"),
    ],
)
def test_inspection_history(register: Register, council: str, kind: str, start: str, planned: bool, judgement: str, paragraph: str) -> None:
    events = [e for e in query_inspections(register, councils=[council]) if e.kind == kind and e.time.start == start]
    assert len(events) == 1, [(e.kind, e.time.start) for e in query_inspections(register, councils=[council])]
    event = events[0]
    assert (event.planned, event.judgement, event.citation.paragraph) == (planned, judgement, paragraph)
    assert event.citation.quote in event.citation.passage


@pytest.mark.slow
def test_inspection_focus(register: Register) -> None:
    focus = {(e.council, e.time.start): e.focus for e in register.inspections}
    assert focus[("Worcestershire", "2017-05-23")] == "the Family Front Door service"
    assert focus[("Worcestershire", "2018-02-01")] == "to be decided"
    assert focus[("West Sussex", "2020-05-08")] == "services to Children Looked After"


NAMED = [
    "The ILACS and the Inspection of Local Authority Children's Services; the SEND area inspection; a peer review.",
    "The re-inspection, the post-monitoring single inspection, a focused visit and the second and third visits.",
    "Monitoring visits, the single inspection, the Inspection of services for children in need of help.",
    "The DfE carried out a review; a review by the Department for Education; the Commissioner's report.",
    "The report of the Commissioner, a full service inspection, the Ofsted report, Ofsted judgement, Ofsted inspected.",
]


@pytest.mark.parametrize("text", NAMED)
def test_every_event_name_holds_what_the_quick_check_looks_for(text: str) -> None:
    # _mentions skips a sentence holding none of _MAY_MENTION's words: every name of an event must hold one.
    from assistant.register.inspections import _MAY_MENTION, EVENT_KINDS, _mentions

    names = [m.group() for _kind, pattern in EVENT_KINDS for m in pattern.finditer(text)]
    assert names
    assert [n for n in names if not _MAY_MENTION.search(n)] == []
    assert _mentions(text)


def test_a_sentence_naming_no_event_has_no_mentions() -> None:
    from assistant.register.inspections import _mentions

    assert _mentions("Caseloads fell to 18 per worker in March 2019.") == []
    assert [kind for _s, _e, kind in _mentions("The focused visit in March 2019 found progress.")] == ["focused visit"]
