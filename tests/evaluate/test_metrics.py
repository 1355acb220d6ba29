"""The figures of an evaluation: ranks of the gold passage, answer hits, refusals and the per-kind table."""

from __future__ import annotations

import math

from assistant import evaluate
from assistant.types import Answer, Citation

NUMBER = evaluate.Question("n", "How many?", "number", ["75 FTE agency social workers"], ["75"], [], None, docs=["a.txt"])
BOTH = evaluate.Question("b", "Which two?", "list", ["the two"], [], ["Croydon", "Darlington"], None)
NONE = evaluate.Question("u", "Who is the Mayor?", "unanswerable", [], [], [], None)


def answer(text: str, *, refused: bool = False, cited: tuple[str, str] | None = None, latency: float = 10.0) -> Answer:
    citations = []
    if cited:
        source, passage = cited
        citations = [Citation(n=1, source=source, council="", date="", title="", section="", paragraph="1",
                              quote=passage, passage=passage, passage_id=f"{source}#1")]
    return Answer(question="?", standalone_question="?", answer=text, refused=refused, citations=citations, latency_ms=latency)


def test_a_hit_needs_the_words_asked_for_and_a_refusal_only_where_nothing_answers() -> None:
    assert evaluate.is_hit(NUMBER, answer("Around **75** FTE [1]"))
    assert not evaluate.is_hit(NUMBER, answer("Around 75 FTE", refused=True))
    assert not evaluate.is_hit(NUMBER, answer("About seventy"))
    assert evaluate.is_hit(BOTH, answer("croydon and Darlington")) and not evaluate.is_hit(BOTH, answer("Croydon only"))
    assert evaluate.is_hit(NONE, answer("", refused=True)) and not evaluate.is_hit(NONE, answer("The Mayor is Ann."))


def test_ranks_give_recall_and_mrr_counting_gold_only_in_the_questions_report() -> None:
    ranking = evaluate.Ranking()
    gold = "There are 75 FTE agency social workers."
    ranking.add([("b.txt", gold), ("a.txt", "other"), ("a.txt", gold)], NUMBER)  # b.txt is not the question's report
    ranking.add([("x.txt", "nothing")], BOTH)
    assert ranking.ranks == {"n": 3, "b": None}
    assert ranking.row() == {"recall@1": 0.0, "recall@5": 0.5, "recall@10": 0.5, "mrr": (1 / 3) / 2}
    assert ranking.only(["b"]).ranks == {"b": None}


def test_answer_metrics_and_the_kind_table() -> None:
    answered = [
        (NUMBER, answer("75 [1]", cited=("a.txt", "the 75 FTE agency social workers in post"), latency=30.0)),
        (BOTH, answer("", refused=True, latency=10.0)),
        (NONE, answer("", refused=True, latency=20.0)),
    ]
    figures = evaluate.answer_metrics(answered)
    assert figures["answer_hit"] == 0.5 and figures["false_refusals"] == 0.5
    assert figures["cited_gold"] == 1.0 and figures["citation_precision"] == 1.0
    assert figures["refusal_recall"] == 1.0 and figures["refusal_precision"] == 0.5
    assert (figures["latency_p50"], figures["latency_p95"]) == (20.0, 30.0)
    ranking = evaluate.Ranking({"n": 1})
    kinds = evaluate.by_kind(answered, ranking)
    assert list(kinds) == ["number", "unanswerable", "list"]  # in the order of KINDS
    assert kinds["number"] == {"n": 1, "recall@5": 1.0, "answer_hit": 1.0, "refused": 0.0}
    assert math.isnan(kinds["list"]["recall@5"]) and kinds["list"]["refused"] == 1.0
