"""benchmarks/tune.py: refusals re-decided from one run match the eval's figures, and the fit never sees its fold."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from assistant import evaluate

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def tune() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tune", ROOT / "benchmarks" / "tune.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["tune"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_figures_redecide_refusals_at_the_threshold(tune: ModuleType) -> None:
    outcome = tune.Outcome
    outcomes = [
        outcome(True, False, 0.6, True, True, 1, 2),  # strong: answered at any threshold here
        # Weak: refused from 0.40, when its citations no longer lead the search (the gold passage 3rd, then 4th).
        outcome(True, False, 0.38, True, False, 3, 4),
        outcome(True, False, None, True, True, None, None),  # register answer: never reads the threshold
        outcome(False, False, 0.35, False, False, None, None),  # unanswerable, weak evidence
        outcome(False, True, None, True, False, None, None),  # unanswerable, refused whatever the threshold
    ]
    low = tune.figures(outcomes, 0.30)
    assert low["answer_hit"] == 1.0 and low["false_refusals"] == 0.0 and low["refusal_recall"] == 0.5
    assert low["cited_gold"] == pytest.approx(2 / 3)
    high = tune.figures(outcomes, 0.40)
    assert high["answer_hit"] == pytest.approx(2 / 3) and high["false_refusals"] == pytest.approx(1 / 3)
    assert high["refusal_recall"] == 1.0 and high["cited_gold"] == 1.0
    assert high["recall@5"] == low["recall@5"] == pytest.approx(2 / 3)
    assert low["mrr"] == pytest.approx((1 + 1 / 3) / 3)
    assert high["mrr"] == pytest.approx((1 + 1 / 4) / 3)


def test_fit_prefers_the_defaults_on_a_tie_and_uses_only_training_questions(tune: ModuleType) -> None:
    questions = [evaluate.Question(f"q{i}", "?", "fact", [], [], [], None) for i in range(4)]
    same = {q.id: tune.Outcome(True, False, 0.9, True, True, 1, 1) for q in questions}
    low, high = (0.3, 0.1, 0.0), (0.5, 0.1, 0.0)
    fit = tune.fitter({low: same, high: same}, (low, 0.40))
    assert fit(questions) == (low, 0.40)
    # q3 is answered only at dense 0.5: a fit on the others has no reason to move.
    better = dict(same) | {"q3": tune.Outcome(True, False, 0.9, True, True, 1, 1)}
    worse = dict(same) | {"q3": tune.Outcome(True, True, None, False, False, None, None)}
    fit = tune.fitter({low: worse, high: better}, (low, 0.40))
    assert fit(questions) == (high, 0.40)
    assert fit(questions[:3]) == (low, 0.40)


def test_among_equal_answers_the_fit_takes_the_search_that_ranks_the_evidence_higher(tune: ModuleType) -> None:
    questions = [evaluate.Question(f"q{i}", "?", "fact", [], [], [], None) for i in range(3)]
    plain = {q.id: tune.Outcome(True, False, 0.9, True, True, 1, 1) for q in questions}
    lifted = dict(plain) | {"q2": tune.Outcome(True, False, 0.9, True, True, 1, 1)}
    plain = dict(plain) | {"q2": tune.Outcome(True, False, 0.9, True, True, 7, 7)}  # same answer, evidence 7th
    without, phrase = (0.4, 0.0, 0.0), (0.4, 0.2, 0.0)
    assert tune.fitter({without: plain, phrase: lifted}, (without, 0.40))(questions) == (phrase, 0.40)
