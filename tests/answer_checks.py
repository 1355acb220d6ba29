"""Asking the sample engine and checking an answer's citations: shared by the answer tests."""

from __future__ import annotations

import re

from assistant.types import Answer, Filters


def ask(engine, question: str, **filters) -> Answer:
    """Ask one question in a new chat, with these filters."""
    return engine.conversation(Filters(**filters)).ask(question)


def assert_cited(answer: Answer) -> None:
    """Every [n] marker has a citation whose passage holds the quoted words."""
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)}
    assert markers == {c.n for c in answer.citations}
    for citation in answer.citations:
        assert citation.quote and citation.quote in citation.passage
        assert citation.source.endswith(".txt") and citation.paragraph

