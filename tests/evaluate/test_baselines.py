"""The baselines `assistant eval` measures against, built for real over the sample index."""

from __future__ import annotations

import os

import pytest

from assistant import evaluate

QUESTION = "How many agency social workers does West Sussex have in post?"
AGENCY_WORDS = "around 75 fte agency social workers are in post"
WEST_SUSSEX_2020 = "000_593dbc0cfa530023.txt"


def flat(text: str) -> str:
    return " ".join(text.lower().split())


@pytest.mark.slow
def test_both_baselines_find_the_right_report_and_clean_up(shared_engine) -> None:
    with evaluate.Baselines(shared_engine) as baselines:
        folder = baselines._folder.name
        bm25 = baselines.search("bm25", QUESTION)
        assert len(bm25) == 10 and any(AGENCY_WORDS in flat(text) for _, text in bm25[:5])
        llama = baselines.search("llama-index", QUESTION)
        assert 0 < len(llama) <= 10 and llama[0][0] == WEST_SUSSEX_2020
        # llama-index's default splitter: chunks far longer than our paragraph passages.
        assert max(len(text) for _, text in llama) > max(len(text) for _, text in bm25)
    assert not os.path.exists(folder)  # the llama-index store went with the run
