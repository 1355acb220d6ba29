"""`assistant eval`: retrieval and answer quality on QA files, beside two baselines run in the same process.

    questions   QA files read into questions and chains of follow-ups
    metrics     ranks, answer scores, targets and the Markdown tables
    runner      asks every question and scores it (run, run_all, run_questions)
    baselines   BM25 alone and plain llama-index, built once per run
    folds       cross-validation over whole follow-up chains
"""

from assistant.evaluate.baselines import Baselines, LlamaEmbedding
from assistant.evaluate.folds import CrossValidation, cross_validate, folds
from assistant.evaluate.metrics import (
    BASELINES,
    KINDS,
    MAX_FALSE_REFUSALS,
    TARGETS,
    Detail,
    Ranking,
    Report,
    answer_metrics,
    by_kind,
    is_hit,
)
from assistant.evaluate.questions import Question, conversations, load_questions, normalise
from assistant.evaluate.runner import run, run_all, run_questions

__all__ = [
    "BASELINES",
    "KINDS",
    "MAX_FALSE_REFUSALS",
    "TARGETS",
    "Baselines",
    "CrossValidation",
    "Detail",
    "LlamaEmbedding",
    "Question",
    "Ranking",
    "Report",
    "answer_metrics",
    "by_kind",
    "conversations",
    "cross_validate",
    "folds",
    "is_hit",
    "load_questions",
    "normalise",
    "run",
    "run_all",
    "run_questions",
]
