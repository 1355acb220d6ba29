"""The figures an evaluation reports: retrieval ranks, answer quality, their targets and their tables."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from assistant.evaluate.questions import Question, normalise
from assistant.types import Answer

TARGETS = {
    "recall@5": 0.95,
    "mrr": 0.85,
    "answer_hit": 0.90,
    "citation_precision": 0.90,
    "cited_gold": 0.85,
    "refusal_recall": 0.85,
}
MAX_FALSE_REFUSALS = 0.05
KINDS = ("fact", "number", "unanswerable", "person", "judgement", "compare", "list", "date", "commitment")
BASELINES = ("bm25", "llama-index")

# One question's line in `assistant eval --details`: JSON values under the keys `run_questions` writes.
Detail = dict[str, object]


@dataclass
class Ranking:
    """Rank of the first gold passage (None when not in the top 10), per question id."""

    ranks: dict[str, int | None] = field(default_factory=dict)

    def add(self, hits: Sequence[tuple[str, str]], question: Question) -> None:
        """Record where the gold passage sits among (source, text) hits."""
        found = (i for i, (source, text) in enumerate(hits, start=1) if question.is_gold(text, source))
        self.ranks[question.id] = next(found, None)

    def only(self, ids: Sequence[str]) -> Ranking:
        return Ranking({i: self.ranks[i] for i in ids if i in self.ranks})

    def recall(self, k: int) -> float:
        return sum(1 for r in self.ranks.values() if r is not None and r <= k) / max(len(self.ranks), 1)

    def mrr(self) -> float:
        return sum(1.0 / r for r in self.ranks.values() if r is not None and r <= 10) / max(len(self.ranks), 1)

    def row(self) -> dict[str, float]:
        return {"recall@1": self.recall(1), "recall@5": self.recall(5), "recall@10": self.recall(10), "mrr": self.mrr()}


@dataclass
class Report:
    rows: dict[str, dict[str, float]]
    answers: dict[str, float]
    details: list[Detail]
    name: str = ""
    kinds: dict[str, dict[str, float]] = field(default_factory=dict)

    def metrics(self) -> dict[str, float]:
        """The assistant's figures in one flat dict (what a tuner scores on)."""
        return self.rows["assistant"] | self.answers

    def failures(self) -> list[str]:
        ours = self.metrics()
        # A file of unanswerable questions only measures refusals: the rest have nothing to count.
        answerable = any(d["type"] != "unanswerable" for d in self.details)
        targets = TARGETS if answerable else {"refusal_recall": TARGETS["refusal_recall"]}
        problems = [f"{name} {ours[name]:.3f} < {target}" for name, target in targets.items() if ours[name] < target]
        if ours["false_refusals"] > MAX_FALSE_REFUSALS:
            problems.append(f"false_refusals {ours['false_refusals']:.3f} > {MAX_FALSE_REFUSALS}")
        for baseline in BASELINES:
            if baseline in self.rows:
                for metric in ("recall@5", "mrr"):
                    if self.rows["assistant"][metric] <= self.rows[baseline][metric] and self.rows[baseline][metric] < 1.0:
                        problems.append(f"{metric} not ahead of {baseline}")
        return problems

    def markdown(self) -> str:
        lines = [f"### {self.name} ({len(self.details)} questions)", ""] if self.name else []
        lines += ["| retrieval | recall@1 | recall@5 | recall@10 | MRR |", "|---|---|---|---|---|"]
        for name, row in self.rows.items():
            lines.append(f"| {name} | {row['recall@1']:.3f} | {row['recall@5']:.3f} | {row['recall@10']:.3f} | {row['mrr']:.3f} |")
        lines += ["", "| answers | value |", "|---|---|"]
        for name, value in self.answers.items():
            lines.append(f"| {name} | {value:.3f} |" if not name.startswith("latency") else f"| {name} | {value:.0f} ms |")
        if self.kinds:
            lines += ["", "| kind | n | recall@5 | answer_hit | refused |", "|---|---|---|---|---|"]
            for kind, row in self.kinds.items():
                recall = "–" if math.isnan(row["recall@5"]) else f"{row['recall@5']:.3f}"
                lines.append(f"| {kind} | {row['n']:.0f} | {recall} | {row['answer_hit']:.3f} | {row['refused']:.3f} |")
        return "\n".join(lines)


def is_hit(q: Question, answer: Answer) -> bool:
    """An answerable question answered with its expected words, or an unanswerable one refused."""
    if not q.answerable:
        return answer.refused
    text = normalise(answer.answer)
    if answer.refused:
        return False
    if q.answer_all:
        return all(normalise(a) in text for a in q.answer_all)
    return any(normalise(a) in text for a in q.answer_any) if q.answer_any else True


def answer_metrics(answered: list[tuple[Question, Answer]]) -> dict[str, float]:
    answerable = [(q, a) for q, a in answered if q.answerable]
    unanswerable = [(q, a) for q, a in answered if not q.answerable]
    attempted = [(q, a) for q, a in answerable if not a.refused]
    cited = [(q, c) for q, a in answerable for c in a.citations]
    refused = [(q, a) for q, a in answered if a.refused]
    latencies = sorted(a.latency_ms for _, a in answered) or [0.0]
    return {
        "answer_hit": sum(is_hit(q, a) for q, a in answerable) / max(len(answerable), 1),
        "cited_gold": sum(any(q.is_gold(c.passage, c.source) for c in a.citations) for q, a in attempted)
        / max(len(attempted), 1),
        "citation_precision": sum(q.is_gold(c.passage, c.source) for q, c in cited) / max(len(cited), 1),
        "refusal_precision": sum(not q.answerable for q, _ in refused) / max(len(refused), 1),
        "refusal_recall": sum(a.refused for _, a in unanswerable) / max(len(unanswerable), 1) if unanswerable else 1.0,
        "false_refusals": sum(a.refused for _, a in answerable) / max(len(answerable), 1),
        "latency_p50": statistics.median(latencies),
        "latency_p95": latencies[min(len(latencies) - 1, int(round(0.95 * (len(latencies) - 1))))],
    }


def by_kind(answered: list[tuple[Question, Answer]], ranking: Ranking) -> dict[str, dict[str, float]]:
    """n, recall@5 (NaN when nothing is retrievable), answer hit and refused share per question type."""
    found = {q.kind for q, _ in answered}
    out: dict[str, dict[str, float]] = {}
    for kind in [k for k in KINDS if k in found] + sorted(found - set(KINDS)):
        group = [(q, a) for q, a in answered if q.kind == kind]
        retrievable = ranking.only([q.id for q, _ in group])
        out[kind] = {
            "n": len(group),
            "recall@5": retrievable.recall(5) if retrievable.ranks else float("nan"),
            "answer_hit": sum(is_hit(q, a) for q, a in group) / len(group),
            "refused": sum(a.refused for _, a in group) / len(group),
        }
    return out
