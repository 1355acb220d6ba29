"""The note's wording shared by every format: dates and intervals as people write them."""

from __future__ import annotations

from datetime import date

import pytest


@pytest.mark.parametrize(
    ("start", "end", "label"),
    [
        ("2019-12-03", "2019-12-04", "3–4 December 2019"),
        ("2016-07-01", "2016-07-31", "July 2016"),
        ("2021-01-01", "2021-12-31", "2021"),
        ("2017-01-01", "2017-06-30", "January to June 2017"),
        ("2021-05-21", "2021-05-21", "21 May 2021"),
        ("2020-10-21", "2021-01-21", "21 October 2020 to 21 January 2021"),
    ],
)
def test_span_label(start, end, label) -> None:
    from assistant.dates import human_span

    assert human_span(date.fromisoformat(start), date.fromisoformat(end)) == label
