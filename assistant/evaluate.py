"""`assistant eval`: retrieval and answer quality on QA files, beside two baselines run in the same process."""

from __future__ import annotations

import json
import math
import random
import re
import statistics
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from llama_index.core.embeddings import BaseEmbedding
from pydantic import PrivateAttr

from assistant.answer.extractive import Engine
from assistant.errors import AssistantError
from assistant.retrieval.search import Filters
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


def normalise(text: str) -> str:
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"').replace("**", "")
    return re.sub(r"\s+", " ", text).strip().lower()


@dataclass
class Question:
    id: str
    question: str
    kind: str
    evidence: list[str]
    answer_any: list[str]
    answer_all: list[str]
    follow_up_of: str | None
    docs: list[str] = field(default_factory=list)

    @property
    def answerable(self) -> bool:
        return self.kind != "unanswerable"

    def is_gold(self, text: str, source: str = "") -> bool:
        """Whether a passage holds the evidence; when the question names its reports, only theirs count."""
        # Ofsted's judgement lines recur word for word across councils: the right words in another report are no hit.
        if source and self.docs and source not in self.docs:
            return False
        body = normalise(text)
        return any(normalise(e) in body for e in self.evidence if e.strip())


def load_questions(path: Path) -> list[Question]:
    out: list[Question] = []
    lines: dict[str, int] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            doc = row.get("doc") or []
            question = Question(
                id=str(row.get("id", number)),
                question=row["question"],
                kind=row.get("type", "fact"),
                evidence=list(row.get("evidence") or []),
                answer_any=list(row.get("answer_any") or []),
                answer_all=list(row.get("answer_all") or []),
                follow_up_of=row.get("follow_up_of"),
                docs=[doc] if isinstance(doc, str) else list(doc),
            )
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise AssistantError(f"{path}:{number}: not a QA line ({exc}); each line needs at least \"question\"") from None
        if question.id in lines:
            raise AssistantError(f"{path}:{number}: id {question.id!r} repeats line {lines[question.id]}; ids must be unique")
        lines[question.id] = number
        out.append(question)
    return out


def conversations(questions: Sequence[Question]) -> list[list[Question]]:
    """Chains of follow-ups, each in order; a question starts a chain unless it follows one."""
    chains: dict[str, list[Question]] = {}
    order: list[list[Question]] = []
    for q in questions:
        if q.follow_up_of and q.follow_up_of in chains:
            chain = chains[q.follow_up_of]
        else:
            chain = []
            order.append(chain)
        chain.append(q)
        chains[q.id] = chain
    return order


# ---------------------------------------------------------------- metrics


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
    details: list[dict[str, Any]]
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


# ---------------------------------------------------------------- running


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
    details: list[dict[str, Any]] = []
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
            details.append({"file": name} | _detail(q, answer))
    answerable = [q for q in questions if q.answerable]
    if baselines and answerable:
        for baseline in BASELINES:
            rankings[baseline] = Ranking()
            for q in answerable:
                rankings[baseline].add(baselines.search(baseline, standalone[q.id]), q)
    for detail in details:
        for ranking_name, ranking in rankings.items():
            detail["gold_rank" if ranking_name == "assistant" else f"{ranking_name}_rank"] = ranking.ranks.get(detail["id"])
    rows = {ranking_name: ranking.row() for ranking_name, ranking in rankings.items()}
    return Report(rows, _answer_metrics(answered), details, name=name, kinds=_by_kind(answered, rankings["assistant"]))


def _detail(q: Question, answer: Answer) -> dict[str, Any]:
    return {
        "id": q.id,
        "type": q.kind,
        "question": q.question,
        "standalone": answer.standalone_question,
        "kind": answer.kind,
        "refused": answer.refused,
        "confidence": answer.confidence,
        "hit": _hit(q, answer),
        "answer": answer.answer,
        "citations": [f"{c.source} {c.paragraph}" for c in answer.citations],
        "cited_gold": [q.is_gold(c.passage, c.source) for c in answer.citations],
        "latency_ms": answer.latency_ms,
    }


def _hit(q: Question, answer: Answer) -> bool:
    if not q.answerable:
        return answer.refused
    text = normalise(answer.answer)
    if answer.refused:
        return False
    if q.answer_all:
        return all(normalise(a) in text for a in q.answer_all)
    return any(normalise(a) in text for a in q.answer_any) if q.answer_any else True


def _answer_metrics(answered: list[tuple[Question, Answer]]) -> dict[str, float]:
    answerable = [(q, a) for q, a in answered if q.answerable]
    unanswerable = [(q, a) for q, a in answered if not q.answerable]
    attempted = [(q, a) for q, a in answerable if not a.refused]
    cited = [(q, c) for q, a in answerable for c in a.citations]
    refused = [(q, a) for q, a in answered if a.refused]
    latencies = sorted(a.latency_ms for _, a in answered) or [0.0]
    return {
        "answer_hit": sum(_hit(q, a) for q, a in answerable) / max(len(answerable), 1),
        "cited_gold": sum(any(q.is_gold(c.passage, c.source) for c in a.citations) for q, a in attempted)
        / max(len(attempted), 1),
        "citation_precision": sum(q.is_gold(c.passage, c.source) for q, c in cited) / max(len(cited), 1),
        "refusal_precision": sum(not q.answerable for q, _ in refused) / max(len(refused), 1),
        "refusal_recall": sum(a.refused for _, a in unanswerable) / max(len(unanswerable), 1) if unanswerable else 1.0,
        "false_refusals": sum(a.refused for _, a in answerable) / max(len(answerable), 1),
        "latency_p50": statistics.median(latencies),
        "latency_p95": latencies[min(len(latencies) - 1, int(round(0.95 * (len(latencies) - 1))))],
    }


def _by_kind(answered: list[tuple[Question, Answer]], ranking: Ranking) -> dict[str, dict[str, float]]:
    """n, recall@5 (NaN when nothing is retrievable), answer hit and refused share per question type."""
    found = {q.kind for q, _ in answered}
    out: dict[str, dict[str, float]] = {}
    for kind in [k for k in KINDS if k in found] + sorted(found - set(KINDS)):
        group = [(q, a) for q, a in answered if q.kind == kind]
        retrievable = ranking.only([q.id for q, _ in group])
        out[kind] = {
            "n": len(group),
            "recall@5": retrievable.recall(5) if retrievable.ranks else float("nan"),
            "answer_hit": sum(_hit(q, a) for q, a in group) / len(group),
            "refused": sum(a.refused for _, a in group) / len(group),
        }
    return out


# ---------------------------------------------------------------- cross-validation


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
class CrossValidation:
    """Held-out scores: each fold scored with the parameters fitted on the other folds."""

    per_fold: list[dict[str, float]]
    params: list[Any]
    sizes: list[int]

    @property
    def mean(self) -> dict[str, float]:
        """Each metric averaged over the folds that report it."""
        names = dict.fromkeys(name for scores in self.per_fold for name in scores)
        return {name: statistics.fmean(s[name] for s in self.per_fold if name in s) for name in names}


def cross_validate(
    questions: Sequence[Question],
    fit: Callable[[list[Question]], Any],
    score: Callable[[list[Question], Any], dict[str, float]],
    *,
    k: int = 5,
    seed: int = 0,
) -> CrossValidation:
    """Fit on k-1 folds, score on the one left out, for each fold in turn."""
    parts = folds(questions, k=k, seed=seed)
    result = CrossValidation([], [], [])
    for held_out in parts:
        kept = {id(q) for q in held_out}
        params = fit([q for q in questions if id(q) not in kept])
        result.per_fold.append(score(held_out, params))
        result.params.append(params)
        result.sizes.append(len(held_out))
    return result


# ---------------------------------------------------------------- baselines


class Baselines:
    """BM25 alone and plain llama-index over the engine's reports, built once and reused across question files."""

    def __init__(self, engine: Engine) -> None:
        self._folder = tempfile.TemporaryDirectory()
        try:
            self._bm25 = _Bm25(engine)
            self._llama = _llama_retriever(engine, self._folder.name)
        except BaseException:
            self._folder.cleanup()
            raise

    def search(self, name: str, query: str) -> list[tuple[str, str]]:
        """Top 10 (source, text) from the named baseline."""
        if name == "bm25":
            return self._bm25.search(query)
        return [(n.node.metadata.get("source", ""), n.node.get_content()) for n in self._llama.retrieve(query)]

    def close(self) -> None:
        self._folder.cleanup()

    def __enter__(self) -> Baselines:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.close()


class _Bm25:
    """BM25 alone: bm25s with its own tokenizer and Porter stemmer over the same passages' text."""

    def __init__(self, engine: Engine) -> None:
        import bm25s
        import Stemmer

        self._bm25s = bm25s
        self.passages = [(p.source, p.text) for p in engine.index.all_passages()]
        self.stemmer = Stemmer.Stemmer("english")
        self.retriever = bm25s.BM25()
        corpus = bm25s.tokenize([text for _, text in self.passages], stopwords="en", stemmer=self.stemmer, show_progress=False)
        self.retriever.index(corpus, show_progress=False)

    def search(self, query: str) -> list[tuple[str, str]]:
        tokens = self._bm25s.tokenize([query], stopwords="en", stemmer=self.stemmer, show_progress=False)
        found, _ = self.retriever.retrieve(tokens, k=min(10, len(self.passages)), show_progress=False)
        return [self.passages[i] for i in found[0]]


def _llama_retriever(engine: Engine, folder: str) -> Any:
    """Plain llama-index: default SentenceSplitter, VectorStoreIndex over Chroma, same model."""
    import chromadb
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.vector_stores.chroma import ChromaVectorStore

    documents = []
    for source in sorted(engine.index.reports):
        report, _ = engine.index.load_report(source)
        documents.append(Document(text=report.text, metadata={"source": source}))
    collection = chromadb.PersistentClient(path=folder).get_or_create_collection("baseline", embedding_function=None)
    storage = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection))
    index = VectorStoreIndex.from_documents(
        documents, storage_context=storage, embed_model=LlamaEmbedding(engine.index.embedder), transformations=[SentenceSplitter()]
    )
    return index.as_retriever(similarity_top_k=10)


class LlamaEmbedding(BaseEmbedding):
    """Our embedder as a llama-index BaseEmbedding, so the baseline uses the very same model."""

    _embedder: Any = PrivateAttr()

    def __init__(self, embedder: Any) -> None:
        super().__init__(model_name=getattr(embedder, "name", "embedder"))
        self._embedder = embedder

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._embedder.embed_batch([query])[0].tolist()  # type: ignore[no-any-return]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._embedder.embed_batch([text])[0].tolist()  # type: ignore[no-any-return]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._embedder.embed_batch(texts).tolist()  # type: ignore[no-any-return]
