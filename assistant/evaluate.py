"""`assistant eval`: retrieval and answer quality on a QA file, beside two baselines run in the same process."""

from __future__ import annotations

import json
import re
import statistics
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llama_index.core.embeddings import BaseEmbedding
from pydantic import PrivateAttr

from assistant.answer import Engine
from assistant.errors import AssistantError
from assistant.retrieve import Filters
from assistant.types import Answer

TARGETS = {
    "recall@5": 0.95,
    "mrr": 0.85,
    "answer_hit": 0.90,
    "citation_precision": 0.90,
    "refusal_recall": 0.80,
}
MAX_FALSE_REFUSALS = 0.05


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

    @property
    def answerable(self) -> bool:
        return self.kind != "unanswerable"

    def is_gold(self, text: str) -> bool:
        body = normalise(text)
        return any(normalise(e) in body for e in self.evidence if e.strip())


def load_questions(path: Path) -> list[Question]:
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            out.append(
                Question(
                    id=str(row.get("id", number)),
                    question=row["question"],
                    kind=row.get("type", "fact"),
                    evidence=list(row.get("evidence") or []),
                    answer_any=list(row.get("answer_any") or []),
                    answer_all=list(row.get("answer_all") or []),
                    follow_up_of=row.get("follow_up_of"),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise AssistantError(f"{path}:{number}: not a QA line ({exc}); each line needs at least \"question\"") from None
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


@dataclass
class Ranking:
    ranks: list[int | None] = field(default_factory=list)

    def add(self, texts: Sequence[str], question: Question) -> None:
        self.ranks.append(next((i for i, t in enumerate(texts, start=1) if question.is_gold(t)), None))

    def recall(self, k: int) -> float:
        return sum(1 for r in self.ranks if r is not None and r <= k) / max(len(self.ranks), 1)

    def mrr(self) -> float:
        return sum(1.0 / r for r in self.ranks if r is not None and r <= 10) / max(len(self.ranks), 1)

    def row(self) -> dict[str, float]:
        return {"recall@1": self.recall(1), "recall@5": self.recall(5), "recall@10": self.recall(10), "mrr": self.mrr()}


@dataclass
class Report:
    rows: dict[str, dict[str, float]]
    answers: dict[str, float]
    details: list[dict[str, Any]]

    def failures(self) -> list[str]:
        ours = self.rows["assistant"] | self.answers
        problems = [f"{name} {ours[name]:.3f} < {target}" for name, target in TARGETS.items() if ours[name] < target]
        if ours["false_refusals"] > MAX_FALSE_REFUSALS:
            problems.append(f"false_refusals {ours['false_refusals']:.3f} > {MAX_FALSE_REFUSALS}")
        for baseline in ("bm25", "llama-index"):
            if baseline in self.rows:
                for metric in ("recall@5", "mrr"):
                    if self.rows["assistant"][metric] <= self.rows[baseline][metric] and self.rows[baseline][metric] < 1.0:
                        problems.append(f"{metric} not ahead of {baseline}")
        return problems

    def markdown(self) -> str:
        lines = ["| retrieval | recall@1 | recall@5 | recall@10 | MRR |", "|---|---|---|---|---|"]
        for name, row in self.rows.items():
            lines.append(f"| {name} | {row['recall@1']:.3f} | {row['recall@5']:.3f} | {row['recall@10']:.3f} | {row['mrr']:.3f} |")
        lines += ["", "| answers | value |", "|---|---|"]
        for name, value in self.answers.items():
            lines.append(f"| {name} | {value:.3f} |" if not name.startswith("latency") else f"| {name} | {value:.0f} ms |")
        return "\n".join(lines)


def run(path: Path, engine: Engine, *, baselines: bool = True, progress: Callable[[int, int], None] | None = None) -> Report:
    questions = load_questions(path)
    ours = Ranking()
    hits_by_question: dict[str, str] = {}
    details: list[dict[str, Any]] = []
    answered: list[tuple[Question, Answer]] = []
    done = 0
    for chain in conversations(questions):
        chat = engine.conversation()
        for q in chain:
            answer = chat.ask(q.question)
            answered.append((q, answer))
            hits_by_question[q.id] = answer.standalone_question
            done += 1
            if progress:
                progress(done, len(questions))
            if q.answerable:
                hits = engine.retrieve(answer.standalone_question, Filters(), k=10)
                ours.add([h.passage.text for h in hits], q)
            details.append(_detail(q, answer))
    rows = {"assistant": ours.row()}
    answerable = [q for q in questions if q.answerable]
    if baselines and answerable:
        rows["bm25"] = _bm25_baseline(engine, answerable, hits_by_question).row()
        rows["llama-index"] = _llama_baseline(engine, answerable, hits_by_question).row()
    return Report(rows, _answer_metrics(answered), details)


def _detail(q: Question, answer: Answer) -> dict[str, Any]:
    return {
        "id": q.id,
        "question": q.question,
        "standalone": answer.standalone_question,
        "kind": answer.kind,
        "refused": answer.refused,
        "confidence": answer.confidence,
        "hit": _hit(q, answer),
        "answer": answer.answer,
        "citations": [f"{c.source} {c.paragraph}" for c in answer.citations],
        "cited_gold": [q.is_gold(c.passage) for c in answer.citations],
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
    cited = [(q, c) for q, a in answerable for c in a.citations]
    refused = [(q, a) for q, a in answered if a.refused]
    latencies = sorted(a.latency_ms for _, a in answered) or [0.0]
    return {
        "answer_hit": sum(_hit(q, a) for q, a in answerable) / max(len(answerable), 1),
        "citation_precision": sum(q.is_gold(c.passage) for q, c in cited) / max(len(cited), 1),
        "refusal_precision": sum(not q.answerable for q, _ in refused) / max(len(refused), 1),
        "refusal_recall": sum(a.refused for _, a in unanswerable) / max(len(unanswerable), 1) if unanswerable else 1.0,
        "false_refusals": sum(a.refused for _, a in answerable) / max(len(answerable), 1),
        "latency_p50": statistics.median(latencies),
        "latency_p95": latencies[min(len(latencies) - 1, int(round(0.95 * (len(latencies) - 1))))],
    }


def _bm25_baseline(engine: Engine, questions: list[Question], standalone: dict[str, str]) -> Ranking:
    """BM25 alone: bm25s with its own tokenizer and Porter stemmer over the same passages' text."""
    import bm25s
    import Stemmer

    passages = list(engine.index.all_passages())
    stemmer = Stemmer.Stemmer("english")
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize([p.text for p in passages], stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False)
    ranking = Ranking()
    for q in questions:
        tokens = bm25s.tokenize([standalone[q.id]], stopwords="en", stemmer=stemmer, show_progress=False)
        found, _ = retriever.retrieve(tokens, k=min(10, len(passages)), show_progress=False)
        ranking.add([passages[i].text for i in found[0]], q)
    return ranking


def _llama_baseline(engine: Engine, questions: list[Question], standalone: dict[str, str]) -> Ranking:
    """Plain llama-index: default SentenceSplitter, VectorStoreIndex over Chroma, same model."""
    import chromadb
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.vector_stores.chroma import ChromaVectorStore

    embed_model = LlamaEmbedding(engine.index.embedder)
    documents = []
    for source in sorted(engine.index.reports):
        report, _ = engine.index.load_report(source)
        documents.append(Document(text=report.text, metadata={"source": source}))
    with tempfile.TemporaryDirectory() as folder:
        client = chromadb.PersistentClient(path=folder)
        collection = client.get_or_create_collection("baseline", embedding_function=None)
        storage = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection))
        index = VectorStoreIndex.from_documents(
            documents, storage_context=storage, embed_model=embed_model, transformations=[SentenceSplitter()]
        )
        retriever = index.as_retriever(similarity_top_k=10)
        ranking = Ranking()
        for q in questions:
            nodes = retriever.retrieve(standalone[q.id])
            ranking.add([n.node.get_content() for n in nodes], q)
    return ranking


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
