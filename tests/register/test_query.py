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


