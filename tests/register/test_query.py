"""Queries over the register: by council, dates and status."""

from __future__ import annotations

import pytest

from assistant.register.query import query_commitments
from assistant.register.store import Register, load_register


@pytest.fixture()
def register(shared_index) -> Register:
    return load_register(shared_index)


@pytest.mark.slow
def test_query_filters(register: Register) -> None:
    in_2021 = query_commitments(register, date_from="2021", date_to="2021")
    assert in_2021 and all(c.time.start <= "2021-12-31" and c.time.end >= "2021-01-01" for c in in_2021)
    worcs = query_commitments(register, councils=["Worcestershire"], as_of="2018-06")
    assert {c.status for c in worcs} == {"overdue"}
    assert query_commitments(register, statuses=["done"]) and all(c.status == "done" for c in query_commitments(register, statuses=["done"]))




def test_statuses_as_of_a_date_follow_the_councils_reports(tmp_path) -> None:
    """A commitment is overdue once its date passes; 'later reports' are those of its council after its own report."""
    from datetime import date

    from inspection_reports import passages

    from assistant.register.query import select_commitments, statuses, with_status
    from assistant.register.store import write_register

    early = "Cabinet, 1 March 2019\n\n1. The council will open a new family hub in June 2019."
    other = "Cabinet, 1 May 2020\n\n1. The council will appoint a new director in May 2021."
    register = write_register(tmp_path, [
        *passages(early, "early.txt", council="Bury", date="2019-03-01"),
        *passages(other, "later.txt", council="Bury", date="2020-05-01"),
        *passages(early, "elsewhere.txt", council="Wigan", date="2019-03-01"),
    ])
    by_source = {c.source: status for c, status, _ in select_commitments(register)}
    # Bury's 2020 report says nothing of the hub; Wigan has no later report, and its latest is when the hub was still to come.
    assert by_source == {"early.txt": "overdue", "later.txt": "open", "elsewhere.txt": "open"}
    assert statuses(register, date(2019, 4, 1))[0][0] == "open"  # as of before either deadline
    assert [(c.status, c.source) for c in with_status(register)] == [(s, c.source) for c, s, _ in select_commitments(register)]
    assert [c for c, *_ in select_commitments(register, councils=["wigan"])] == [c for c in register.commitments if c.council == "Wigan"]
    assert len(register.statuses) == 1  # worked out once per date, the last date asked
