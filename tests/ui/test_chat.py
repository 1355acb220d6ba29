"""The Ask tab without a browser: each session keeps its own conversation and filters; bad filters are explained."""

from __future__ import annotations

import pytest

from ui.chat import ChatView


def test_sessions_keep_their_own_history_and_filters(shared_engine) -> None:
    h = ChatView(shared_engine)
    _, chat_a, a, _ = h.ask("How many agency social workers does West Sussex have?", None, [], "", "", [])
    _, chat_b, b, _ = h.ask("What did Ofsted find at the latest monitoring visit?", None, ["Worcestershire"], "", "", [])
    _, chat_b, b, email_b = h.ask("And what was the vacancy gap?", b, ["Worcestershire"], "", "", [])
    _, chat_a, a, email_a = h.ask("And what was the vacancy gap?", a, [], "", "", [])
    assert a is not b and len(chat_a) == len(chat_b) == 4
    assert "agency social workers" not in " ".join(m["content"] for m in chat_b)
    assert a.answers[-1].standalone_question == "What was the vacancy gap in West Sussex?"
    assert "West Sussex" not in b.answers[-1].standalone_question
    assert all(c.council == "Worcestershire" for c in b.answers[-1].citations)
    assert "5.34%" in email_a and "5.34%" not in email_b


def test_bad_date_filter_is_explained(shared_engine) -> None:
    import gradio as gr

    h = ChatView(shared_engine)
    with pytest.raises(gr.Error, match="From date '2020/03' is not a date: use 2020, 2020-03 or 2020-03-19"):
        h.ask("Any question?", None, [], "2020/03", "", [])
    assert "after To date" in h.scope([], "2021", "2020", [])


@pytest.mark.parametrize(("councils", "date_from"), [(["Atlantis"], ""), ([], "2030")])
def test_filters_that_match_no_report_say_so_in_the_chat(shared_engine, councils: list[str], date_from: str) -> None:
    _, messages, _, _ = ChatView(shared_engine).ask("How many agency social workers are there?", None, councils, date_from, "", [])
    assert "No reports match these filters" in messages[-1]["content"]
