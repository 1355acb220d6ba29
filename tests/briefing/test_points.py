"""Pieces of the briefing's reading of report text: cleaning a sentence, the figures it reports."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("raw", "read"),
    [
        ("Transfer of Care Leavers Service from Early Help; and", "Transfer of Care Leavers Service from Early Help"),
        ("reported to the Director", "reported to the Director"),
        ("**Signs of Safety** has been adopted,\n so that staff know;", "Signs of Safety has been adopted, so that staff know"),
    ],
)
def test_clean_keeps_the_words(raw, read) -> None:
    from assistant.briefing.points import clean

    assert clean(raw) == read


@pytest.mark.parametrize(
    ("text", "figures"),
    [
        ("The uncovered vacancy gap is currently 5.34%, having been 18.5% in February 2019;", ["5.34%", "18.5%"]),
        ("so far, four out of the eight social work teams have achieved", ["four out of"]),
        ("See letter of 5 August 2016 at Appendix 2.", []),
        ("The next monitoring visit (No. 3) is likely during February 2018", []),
    ],
)
def test_figures_leave_out_dates_and_references(text, figures) -> None:
    from assistant.briefing.points import figures_in
    from assistant.dates import Anchor

    assert figures_in(text, Anchor.parse("2017-10-24")) == figures
