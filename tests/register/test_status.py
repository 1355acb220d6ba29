"""Follow-through: later reports that say a commitment was done, and the status that follows."""

from __future__ import annotations

import pytest

from assistant.register.query import query_commitments
from assistant.register.store import Register, load_register

W21 = "004_db1cafc63c8d4454.txt"


@pytest.fixture()
def register(shared_index) -> Register:
    return load_register(shared_index)


@pytest.mark.slow
def test_follow_through_in_the_later_west_sussex_report(register: Register) -> None:
    rows = {c.action: c for c in query_commitments(register, councils=["West Sussex"])}
    hampshire = next(c for a, c in rows.items() if "Partner in Practice" in a and c.citation.paragraph == "2")
    assert hampshire.status == "done"
    assert hampshire.evidence[0].citation.source == W21 and hampshire.evidence[0].citation.paragraph == "2"
    director = rows["Join West Sussex"]
    assert (director.responsible, director.status) == ("Lucy Butler", "done")
    assert any("Lucy Butler" in e.citation.quote for e in director.evidence)
    adoption = next(c for c in rows.values() if "Adoption South East" in c.action)
    assert adoption.status == "overdue" and not adoption.evidence
    later = next(c for c in rows.values() if c.source == W21 and c.time.text == "in the early part of 2022")
    assert later.status == "open"
    assert {c.status for c in query_commitments(register, councils=["west sussex"], as_of="2023")} <= {"done", "in progress", "overdue"}
