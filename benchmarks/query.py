"""Warm `ask` latency on the sample corpus and at 100,000 passages, and cold one-shot `assistant ask` time.

    python benchmarks/query.py                    # samples, 100k passages, cold CLI
    python benchmarks/query.py --passages 20000   # a smaller large corpus

Warm latency is Engine.answer (retrieval, sentence scoring, citations) with the model loaded,
excluding process start: medians and 95th percentiles over every question, repeated.
The large corpus copies the samples with word swaps (benchmarks/ingest.py) until it holds the
asked number of passages. Its passages are stored with cheap hashed bag-of-words vectors instead of
the model's, so building it takes minutes rather than an hour of encoding; questions are still
encoded by the real model, so every step of a query runs as in production at that size.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np  # noqa: E402

from assistant.answer.engine import Engine  # noqa: E402
from assistant.index.embedding import SentenceTransformerEmbedder  # noqa: E402
from assistant.index.index import Index  # noqa: E402
from assistant.library import open_index  # noqa: E402
from assistant.settings import Settings  # noqa: E402

SAMPLES = ROOT / "corpus" / "sample"
P50_TARGET_MS, P95_TARGET_MS = 150, 300
QUESTIONS = [
    "How many agency social workers does West Sussex have in post?",
    "When is the next Ofsted monitoring visit in Worcestershire?",
    "Who is the Chief Executive of West Sussex County Council?",
    "What did Ofsted say needs to improve in North Somerset?",
    "When will the Social Work Offer be rolled out?",
    "What was Worcestershire's overall Ofsted judgement?",
    "What are the key highlights of Darlington's improvement journey?",
    "When did the first Ofsted monitoring visit to West Sussex take place?",
    "Who has been appointed as Improvement Adviser for North Somerset?",
    "What is the annual budget of Darlington's children's services?",
    "What did Ofsted judge in Worcestershire and North Somerset?",
    "How long did Leeds take to go from inadequate to outstanding?",
]


class HashEmbedder:
    """Bag-of-words random projection: vectors with real clustering structure, at no model cost."""

    name = "hashed-bow"

    def __init__(self, model_dir: Path) -> None:
        self.model_dir = model_dir
        self._words: dict[str, np.ndarray] = {}

    def _word(self, word: str) -> np.ndarray:
        vector = self._words.get(word)
        if vector is None:
            seed = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
            vector = np.random.default_rng(seed).standard_normal(384).astype(np.float32)
            self._words[word] = vector
        return vector

    def _embed(self, text: str) -> np.ndarray:
        vector = sum((self._word(w) for w in text.lower().split()), np.zeros(384, dtype=np.float32))
        return vector / max(float(np.linalg.norm(vector)), 1e-12)

    def embed_batch(self, texts: Sequence[str], **_: object) -> np.ndarray:
        return np.stack([self._embed(t) for t in texts]) if texts else np.zeros((0, 384), dtype=np.float32)

    def embed_with_units(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]) -> tuple[np.ndarray, list[np.ndarray]]:
        vectors = self.embed_batch(texts)
        units = [
            np.stack([self._embed(text[a:b]) for a, b in text_spans]) if text_spans else np.zeros((0, 384), dtype=np.float32)
            for text, text_spans in zip(texts, spans)
        ]
        return vectors, units


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def warm_latency(engine: Engine, repeats: int) -> tuple[float, float, int]:
    for question in QUESTIONS[:3]:
        engine.answer(question)
    times = []
    for _ in range(repeats):
        for question in QUESTIONS:
            started = time.perf_counter()
            engine.answer(question)
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), percentile(times, 0.95), len(times)


def build_large(folder: Path, passages: int, model: SentenceTransformerEmbedder) -> Index:
    from ingest import synthetic_corpus  # benchmarks/ingest.py

    corpus = folder / "corpus"
    per_report = 26  # the samples average about 26 passages a report
    reports = max(1, passages // per_report)
    synthetic_corpus(corpus, reports)
    index = open_index(Settings(index_dir=folder / "index"), embedder=HashEmbedder(model.model_dir))
    started = time.perf_counter()
    summary = index.ingest([corpus])
    count = sum(entry.passages for entry in index.reports.values())
    print(f"  built {count:,} passages from {len(index.reports):,} reports in {time.perf_counter() - started:.0f} s "
          f"({summary.count('failed')} failed)", flush=True)
    return open_index(Settings(index_dir=folder / "index"), embedder=model)


def cold_ask(index_dir: Path, repeats: int) -> float:
    binary = Path(sys.executable).parent / "assistant"
    command = [str(binary)] if binary.exists() else [sys.executable, "-m", "assistant"]
    env = dict(os.environ, ASSISTANT_INDEX_DIR=str(index_dir))
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(command + ["ask", QUESTIONS[0]], env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=100_000, help="size of the large corpus")
    parser.add_argument("--repeats", type=int, default=5, help="passes over the questions")
    args = parser.parse_args()
    model = SentenceTransformerEmbedder()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print("sample corpus (5 reports)", flush=True)
        small = open_index(Settings(index_dir=folder / "small"), embedder=model)
        small.ingest([SAMPLES])
        p50, p95, n = warm_latency(Engine(small.settings, index=small), args.repeats)
        print(f"  warm ask: p50 {p50:.0f} ms, p95 {p95:.0f} ms over {n} questions")
        print(f"  cold one-shot `assistant ask`: {cold_ask(folder / 'small', 3):.1f} s wall (median of 3, includes process start and model load)")
        print(f"large corpus (~{args.passages:,} passages)", flush=True)
        large = build_large(folder / "large", args.passages, model)
        p50, p95, n = warm_latency(Engine(large.settings, index=large), args.repeats)
        verdict = "meets" if p50 <= P50_TARGET_MS and p95 <= P95_TARGET_MS else "MISSES"
        print(f"  warm ask: p50 {p50:.0f} ms, p95 {p95:.0f} ms over {n} questions "
              f"({verdict} the targets p50 <= {P50_TARGET_MS} ms, p95 <= {P95_TARGET_MS} ms)")


if __name__ == "__main__":
    main()
