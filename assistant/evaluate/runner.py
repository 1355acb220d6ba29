"""Running an evaluation: ask every question of a QA file, rank the passages, score both."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from assistant.answer.engine import Engine
from assistant.evaluate.baselines import Baselines
from assistant.evaluate.metrics import BASELINES, Detail, Ranking, Report, answer_metrics, by_kind, is_hit
from assistant.evaluate.questions import Question, conversations, load_questions
from assistant.types import Answer, Filters


def run(
    path: Path,
    engine: Engine,
    *,
    baselines: Baselines | bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Evaluate one QA file; `baselines` is True (build them here), False, or ones already built."""
    if baselines is True:
        with Baselines(engine) as built:
            return run(path, engine, baselines=built, progress=progress)
    return run_questions(load_questions(path), engine, name=path.name, baselines=baselines or None, progress=progress)


def run_all(
    paths: Sequence[Path], engine: Engine, *, baselines: bool = True, log: Callable[[str], None] | None = None
) -> list[Report]:
    """Evaluate several QA files, building the baselines once for all of them."""
    questions = [load_questions(path) for path in paths]  # every file checked before the slow part
    if not baselines or not any(q.answerable for qs in questions for q in qs):
        return [run_questions(qs, engine, name=p.name) for p, qs in zip(paths, questions)]
    if log:
        log("building the baselines (plain llama-index re-embeds every report)")
    with Baselines(engine) as built:
        return [run_questions(qs, engine, name=p.name, baselines=built) for p, qs in zip(paths, questions)]


def run_questions(
    questions: Sequence[Question],
    engine: Engine,
    *,
    name: str = "",
    baselines: Baselines | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Ask every question (follow-ups in their chains), rank passages, and score both."""
    rankings = {"assistant": Ranking()}
    standalone: dict[str, str] = {}
    details: list[tuple[Question, Detail]] = []
    answered: list[tuple[Question, Answer]] = []
    for chain in conversations(questions):
        chat = engine.conversation()
        for q in chain:
            answer = chat.ask(q.question)
            answered.append((q, answer))
            standalone[q.id] = answer.standalone_question
            if progress:
                progress(len(answered), len(questions))
            if q.answerable:
                hits = engine.retrieve(answer.standalone_question, Filters(), k=10)
                rankings["assistant"].add([(h.passage.source, h.passage.text) for h in hits], q)
            details.append((q, {"file": name} | _detail(q, answer)))
    answerable = [q for q in questions if q.answerable]
    if baselines and answerable:
        for baseline in BASELINES:
            rankings[baseline] = Ranking()
            for q in answerable:
                rankings[baseline].add(baselines.search(baseline, standalone[q.id]), q)
    for q, detail in details:
        for ranking_name, ranking in rankings.items():
            detail["gold_rank" if ranking_name == "assistant" else f"{ranking_name}_rank"] = ranking.ranks.get(q.id)
    rows = {ranking_name: ranking.row() for ranking_name, ranking in rankings.items()}
    return Report(
        rows, answer_metrics(answered), [detail for _, detail in details], name=name, kinds=by_kind(answered, rankings["assistant"])
    )


def _detail(q: Question, answer: Answer) -> Detail:
    return {
        "id": q.id,
        "type": q.kind,
        "question": q.question,
        "standalone": answer.standalone_question,
        "kind": answer.kind,
        "refused": answer.refused,
        "confidence": answer.confidence,
        "hit": is_hit(q, answer),
        "answer": answer.answer,
        "citations": [f"{c.source} {c.paragraph}" for c in answer.citations],
        "cited_gold": [q.is_gold(c.passage, c.source) for c in answer.citations],
        "latency_ms": answer.latency_ms,
    }
