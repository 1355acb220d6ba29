"""Commitments: read from single statements, lists under headings, and the sample reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.register.commitments import Commitment, extract_commitments
from assistant.register.store import Register, load_register
from assistant.types import Passage

EXPECTED = Path(__file__).parent.parent / "data" / "commitments_expected.json"
W20, WORCS, DARL, NSOM, W21 = (
    "000_593dbc0cfa530023.txt",
    "001_6c25ee4f623b7f02.txt",
    "002_d7b47842bbdc0095.txt",
    "003_820a53567a27642e.txt",
    "004_db1cafc63c8d4454.txt",
)


def passage(text: str, *, date: str = "2021-03-19", section: str = "", paragraph: str = "4", council: str = "Testshire") -> Passage:
    return Passage(
        id=f"t.txt#{paragraph}", source="t.txt", council=council, date=date, section=section,
        paragraph=paragraph, ordinal=0, start=0, end=len(text), text=text,
    )


@pytest.mark.parametrize(
    ("text", "action", "responsible", "kind", "start", "end"),
    [
        ("The Commissioner will formally review our progress in July.", "Review our progress", "The Commissioner", "review", "2021-07-01", "2021-07-31"),
        ("In July a new simplified staffing structure will be rolled out.", "A new simplified staffing structure to be rolled out", "", "staffing", "2021-07-01", "2021-07-31"),
        ("The next Ofsted monitoring visit is likely to take place during February 2022.", "The next Ofsted monitoring visit", "Ofsted", "inspection/visit", "2022-02-01", "2022-02-28"),
        ("A refreshed Improvement Plan will undergo scrutiny and re-adoption during May.", "A refreshed Improvement Plan to undergo scrutiny and re-adoption", "", "plan/strategy", "2021-05-01", "2021-05-31"),
        ("The new Director is Jane Smith; she will join the council in early May.", "Join the council", "Jane Smith", "staffing", "2021-05-01", "2021-05-10"),
        ("The Cabinet will take a decision on the Trust not later than January 2022.", "Take a decision on the Trust", "The Cabinet", "decision", "2021-03-19", "2022-01-31"),
    ],
)
def test_one_commitment(text: str, action: str, responsible: str, kind: str, start: str, end: str) -> None:
    (found,) = extract_commitments([passage(text)])
    assert (found.action, found.responsible, found.kind, found.time.start, found.time.end) == (action, responsible, kind, start, end)
    assert found.citation.quote in found.citation.passage
    assert found.citation.paragraph == "4"


@pytest.mark.parametrize(
    "text",
    [
        "The first Ofsted monitoring visit took place on 3 to 4 December 2020.",
        "John Readman left the County Council at the end of January to become Director elsewhere.",
        "The plan was adopted in August 2020 and approved by the Board on 24 August 2020.",
        "It is the re-inspection which will formally assess progress against the 2019 inspection.",
        "Arrangements are being made, which will take some months to be realised in full.",
        "Reliance on agency staff will reduce in the longer term.",
        "The Ofsted Focused Visit in October gave encouraging messages.",
        "The purpose of this report is to update Cabinet further to the inspection in June 2020.",
    ],
)
def test_past_events_and_dateless_aims_are_not_commitments(text: str) -> None:
    assert extract_commitments([passage(text)]) == []


def test_list_items_take_their_date_from_the_heading() -> None:
    text = (
        "The following are examples of the measures now being planned for the coming year:\n"
        "- **Adoption**: membership of a regional adoption agency from April 2021, to improve outcomes;\n"
        "- Creation of a specific Family and Friends Team; and\n"
        "- Transfer of the Care Leavers Service to the Children Looked After Service."
    )
    found = extract_commitments([passage(text, date="2021-02", section="Further improvement planned for 2021")])
    assert [(c.action, c.time.start, c.time.end, c.time.source) for c in found] == [
        ("Adoption: membership of a regional adoption agency", "2021-04-01", "2021-04-30", ""),
        ("Creation of a specific Family and Friends Team", "2021-01-01", "2021-12-31", "heading"),
        ("Transfer of the Care Leavers Service to the Children Looked After Service", "2021-01-01", "2021-12-31", "heading"),
    ]
    assert all(c.citation.quote in text for c in found)


def test_a_repeated_commitment_is_one_entry_citing_each_place() -> None:
    first = passage("The next DfE review is scheduled toward the end of 2016.", date="2016", paragraph="3")
    second = passage("With regard to DfE and Red Quadrant there will be a second review toward the end of 2016.", date="2016", paragraph="16")
    (found,) = extract_commitments([first, second])
    assert found.citation.paragraph == "3"
    assert [c.paragraph for c in found.also] == ["16"]


@pytest.fixture()
def register(shared_index) -> Register:
    return load_register(shared_index)


def _matches(item: Commitment, expected: dict) -> bool:
    citations = [item.citation, *item.also]
    return item.source == expected["source"] and any(
        c.paragraph in expected["paragraphs"] and expected["match"].lower() in c.quote.lower() for c in citations
    )


def measure(commitments: list[Commitment], expected: list[dict]) -> dict:
    """Precision, recall and interval accuracy of the register against the hand-made list."""
    required = [e for e in expected if e["required"]]
    found_required = {i for i, e in enumerate(required) if any(_matches(c, e) for c in commitments)}
    optional_only = [c for c in commitments if not any(_matches(c, e) for e in required) and any(_matches(c, e) for e in expected if not e["required"])]
    true_positive = [c for c in commitments if any(_matches(c, e) for e in required)]
    judged = len(commitments) - len(optional_only)
    right_interval = [
        e for i, e in enumerate(required) if i in found_required
        and any(_matches(c, e) and (c.time.start, c.time.end) == (e["start"], e["end"]) for c in commitments)
    ]
    return {
        "extracted": len(commitments),
        "required": len(required),
        "precision": len(true_positive) / judged if judged else 0.0,
        "recall": len(found_required) / len(required),
        "interval_accuracy": len(right_interval) / max(len(found_required), 1),
        "missed": [e["match"] for i, e in enumerate(required) if i not in found_required],
        "unexpected": [f"{c.source} para {c.citation.paragraph}: {c.citation.quote[:80]}" for c in commitments if not any(_matches(c, e) for e in expected)],
    }


@pytest.mark.slow
def test_register_against_the_hand_made_list(register: Register) -> None:
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))["commitments"]
    scores = measure(register.commitments, expected)
    print(
        f"\ncommitments: {scores['extracted']} extracted, {scores['required']} expected; precision {scores['precision']:.2f}, "
        f"recall {scores['recall']:.2f}, interval accuracy {scores['interval_accuracy']:.2f}; missed {scores['missed']}; unexpected {scores['unexpected']}"
    )
    assert scores["recall"] >= 0.9, scores["missed"]
    assert scores["precision"] >= 0.9, scores["unexpected"]
    assert scores["interval_accuracy"] >= 0.95


@pytest.mark.slow
@pytest.mark.parametrize(
    ("source", "paragraph", "words", "start", "end", "kind"),
    [
        (W20, "5", "second week of May", "2020-05-08", "2020-05-14", "inspection/visit"),
        (W20, "6", "early May", "2020-05-01", "2020-05-10", "staffing"),
        (W20, "10", "Adoption South East", "2020-04-01", "2020-04-30", "service change"),
        (W20, "4", "re-inspection in 2021", "2021-01-01", "2021-12-31", "inspection/visit"),
        (WORCS, "16", "February 2018", "2018-02-01", "2018-02-28", "inspection/visit"),
        (WORCS, "15", "October 2017 to March 2018", "2017-10-01", "2018-03-31", "plan/strategy"),
        (DARL, "3", "toward the end of 2016", "2016-09-01", "2016-12-31", "review"),
        (DARL, "13", "first half of 2017", "2017-01-01", "2017-06-30", "inspection/visit"),
        (DARL, "15", "towards summer 2017", "2017-06-01", "2017-08-31", "inspection/visit"),
        (NSOM, "¶19", "LGA Peer Review", "2020-10-21", "2021-01-21", "review"),
        (W21, "8", "early part of 2022", "2022-01-01", "2022-04-30", "service change"),
        (W21, "9", "in July a new simplified staffing structure", "2021-07-01", "2021-07-31", "staffing"),
        (W21, "3", "not later than January 2022", "2021-03-19", "2022-01-31", "decision"),
    ],
)
def test_sample_commitment(register: Register, source: str, paragraph: str, words: str, start: str, end: str, kind: str) -> None:
    hits = [c for c in register.commitments if c.source == source and c.citation.paragraph == paragraph and words in c.citation.quote]
    assert hits, [c.citation.quote for c in register.commitments if c.source == source]
    assert (start, end, kind) in [(c.time.start, c.time.end, c.kind) for c in hits]
    assert all(c.citation.quote in c.citation.passage for c in hits)
