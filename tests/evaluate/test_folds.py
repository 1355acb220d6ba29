"""Cross-validation: folds keep follow-up chains together, are deterministic, and never score on what was fitted."""

from __future__ import annotations

import pytest

from assistant import evaluate


def chained_questions() -> list[evaluate.Question]:
    """23 questions in 14 conversations: every third one follows the one before, some chains of three."""
    out: list[evaluate.Question] = []
    for i in range(23):
        follows = out[-1].id if i % 3 and i % 5 else None
        kind = ("fact", "number", "unanswerable", "date")[i % 4]
        out.append(evaluate.Question(f"q{i}", f"question {i}?", kind, [], [], [], follows))
    return out


def test_folds_keep_chains_together_and_cover_each_question_once() -> None:
    questions = chained_questions()
    parts = evaluate.folds(questions, k=4, seed=3)
    assert len(parts) == 4 and all(parts)
    ids = [q.id for part in parts for q in part]
    assert sorted(ids) == sorted(q.id for q in questions) and len(ids) == len(set(ids))
    fold_of = {q.id: n for n, part in enumerate(parts) for q in part}
    for chain in evaluate.conversations(questions):
        assert len({fold_of[q.id] for q in chain}) == 1, [q.id for q in chain]
    for part in parts:  # original order kept, so follow-ups replay after what they follow
        assert [q.id for q in part] == [q.id for q in questions if q in part]
    assert max(map(len, parts)) - min(map(len, parts)) <= 3


def test_folds_are_deterministic_and_check_k() -> None:
    questions = chained_questions()
    ids = lambda parts: [[q.id for q in part] for part in parts]  # noqa: E731
    assert ids(evaluate.folds(questions, k=5, seed=0)) == ids(evaluate.folds(list(questions), k=5, seed=0))
    assert ids(evaluate.folds(questions, k=5, seed=0)) != ids(evaluate.folds(questions, k=5, seed=1))
    for k in (1, 15):
        with pytest.raises(ValueError, match="folds need"):
            evaluate.folds(questions, k=k)


def test_cross_validate_scores_each_fold_with_params_fitted_on_the_others() -> None:
    questions = chained_questions()

    def fit(train: list[evaluate.Question]) -> set[str]:
        return {q.id for q in train}

    def score(test: list[evaluate.Question], seen: set[str]) -> dict[str, float]:
        return {"leaked": float(any(q.id in seen for q in test)), "n": float(len(test))}

    result = evaluate.cross_validate(questions, fit, score, k=5)
    assert len(result.per_fold) == 5 and sum(result.sizes) == len(questions)
    assert all(len(params) + size == len(questions) for params, size in zip(result.params, result.sizes))
    assert result.mean == {"leaked": 0.0, "n": len(questions) / 5}
