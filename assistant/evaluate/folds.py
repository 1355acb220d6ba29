"""Cross-validation over question files: folds of whole follow-up chains, each scored with parameters fitted on the rest."""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from assistant.evaluate.questions import Question, conversations

Params = TypeVar("Params")


def folds(questions: Sequence[Question], k: int = 5, seed: int = 0) -> list[list[Question]]:
    """k disjoint folds of whole follow-up chains, even in size and spread over question types; same seed, same folds."""
    chains = conversations(questions)
    if not 2 <= k <= len(chains):
        raise ValueError(f"k={k} folds need 2 <= k <= {len(chains)} (the number of conversations)")
    random.Random(seed).shuffle(chains)
    chains.sort(key=lambda chain: chain[0].kind)  # stable: shuffled within a type, each type dealt across folds
    buckets: list[list[Question]] = [[] for _ in range(k)]
    for chain in chains:
        min(buckets, key=len).extend(chain)
    position = {id(q): i for i, q in enumerate(questions)}
    return [sorted(bucket, key=lambda q: position[id(q)]) for bucket in buckets]


@dataclass
class CrossValidation(Generic[Params]):
    """Held-out scores: each fold scored with the parameters fitted on the other folds."""

    per_fold: list[dict[str, float]]
    params: list[Params]
    sizes: list[int]

    @property
    def mean(self) -> dict[str, float]:
        """Each metric averaged over the folds that report it."""
        names = dict.fromkeys(name for scores in self.per_fold for name in scores)
        return {name: statistics.fmean(s[name] for s in self.per_fold if name in s) for name in names}


def cross_validate(
    questions: Sequence[Question],
    fit: Callable[[list[Question]], Params],
    score: Callable[[list[Question], Params], dict[str, float]],
    *,
    k: int = 5,
    seed: int = 0,
) -> CrossValidation[Params]:
    """Fit on k-1 folds, score on the one left out, for each fold in turn."""
    parts = folds(questions, k=k, seed=seed)
    result: CrossValidation[Params] = CrossValidation([], [], [])
    for held_out in parts:
        kept = {id(q) for q in held_out}
        params = fit([q for q in questions if id(q) not in kept])
        result.per_fold.append(score(held_out, params))
        result.params.append(params)
        result.sizes.append(len(held_out))
    return result
