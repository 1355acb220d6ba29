"""Warm `ask` latency on the sample corpus and at 100,000 passages, and cold one-shot `assistant ask` time.

    python benchmarks/query.py                    # samples, 100k passages, cold CLI
    python benchmarks/query.py --passages 20000   # a smaller large corpus
    python benchmarks/query.py --passages 5000 --repeats 1 --json

Warm latency is Engine.answer (retrieval, sentence scoring, citations) with the model loaded,
excluding process start: medians and 95th percentiles over every question, repeated; "filtered"
asks the same questions with a council filter set (each question a council of the library in turn).
The large corpus copies the samples with word swaps (benchmarks/ingest.py) until it holds the
asked number of passages. Its passages are stored with cheap hashed bag-of-words vectors instead of
the model's, so building it takes minutes rather than an hour of encoding; questions are still
encoded by the index's own embedder (as `assistant ask` and `serve` open it), so every step of a
query runs as in production at that size. Both indexes are built in a child process, so this one
holds only what a serving process holds (the indexes and the model): its resident memory (VmRSS)
is measured after the questions. With --json the last line is
{"passages", "p50_ms", "p95_ms", "filtered_p50_ms", "rss_mb"} of the large corpus.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import resource
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
from assistant.index.embedding import default_model_dir  # noqa: E402
from assistant.library import open_index  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from assistant.types import Filters  # noqa: E402

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


def warm_latency(engine: Engine, repeats: int, councils: Sequence[str] = ()) -> tuple[float, float, int]:
    """Median and 95th percentile ms of Engine.answer; with `councils`, question i filtered to council i (cycled)."""

    def filters(number: int) -> Filters | None:
        return Filters(councils=[councils[number % len(councils)]]) if councils else None

    for number, question in enumerate(QUESTIONS[:3]):
        engine.answer(question, filters=filters(number))
    times = []
    for _ in range(repeats):
        for number, question in enumerate(QUESTIONS):
            started = time.perf_counter()
            engine.answer(question, filters=filters(number))
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), percentile(times, 0.95), len(times)


def build(folder: Path, passages: int) -> None:
    """The sample index (the index's own embedder) and the large one (hashed vectors); run in a child process."""
    from ingest import synthetic_corpus  # benchmarks/ingest.py

    small = open_index(Settings(index_dir=folder / "small"))
    if small.ingest([SAMPLES]).failed:
        raise SystemExit("query benchmark: the samples failed to ingest")
    corpus = folder / "large" / "corpus"
    per_report = 26  # the samples average about 26 passages a report
    reports = max(1, passages // per_report)
    synthetic_corpus(corpus, reports)
    index = open_index(Settings(index_dir=folder / "large" / "index"), embedder=HashEmbedder(default_model_dir()))
    started = time.perf_counter()
    summary = index.ingest([corpus])
    count = sum(entry.passages for entry in index.reports.values())
    print(f"  built {count:,} passages from {len(index.reports):,} reports in {time.perf_counter() - started:.0f} s "
          f"({summary.count('failed')} failed)", flush=True)


def rss_mb() -> float:
    """Resident memory of this process now (VmRSS), else its peak where /proc is missing."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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
    parser.add_argument("--json", action="store_true", help="end with one JSON line of the large corpus's figures")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"building the sample index and a large one (~{args.passages:,} passages) in a child process", flush=True)
        # A fresh interpreter builds both indexes: what ingest loads and leaves behind is not counted here.
        builder = multiprocessing.get_context("spawn").Process(target=build, args=(folder, args.passages))
        builder.start()
        builder.join()
        if builder.exitcode != 0:
            raise SystemExit(f"query benchmark: building the indexes failed (exit {builder.exitcode})")
        print("sample corpus (5 reports)", flush=True)
        small = open_index(Settings(index_dir=folder / "small"))
        p50, p95, n = warm_latency(Engine(small.settings, index=small), args.repeats)
        print(f"  warm ask: p50 {p50:.0f} ms, p95 {p95:.0f} ms over {n} questions")
        print(f"  cold one-shot `assistant ask`: {cold_ask(folder / 'small', 3):.1f} s wall (median of 3, includes process start and model load)")
        large = open_index(Settings(index_dir=folder / "large" / "index"), embedder=small.embedder)
        engine = Engine(large.settings, index=large)
        count = sum(entry.passages for entry in large.reports.values())
        print(f"large corpus ({count:,} passages)", flush=True)
        p50, p95, n = warm_latency(engine, args.repeats)
        verdict = "meets" if p50 <= P50_TARGET_MS and p95 <= P95_TARGET_MS else "MISSES"
        print(f"  warm ask: p50 {p50:.0f} ms, p95 {p95:.0f} ms over {n} questions "
              f"({verdict} the targets p50 <= {P50_TARGET_MS} ms, p95 <= {P95_TARGET_MS} ms)")
        filtered_p50, filtered_p95, n = warm_latency(engine, args.repeats, engine.councils())
        print(f"  warm ask with a council filter: p50 {filtered_p50:.0f} ms, p95 {filtered_p95:.0f} ms over {n} questions")
        rss = rss_mb()
        print(f"  resident memory of this process (indexes and model): {rss:.0f} MB ({type(small.embedder).__name__})", flush=True)
    if args.json:
        print(json.dumps({"passages": count, "p50_ms": round(p50, 1), "p95_ms": round(p95, 1),
                          "filtered_p50_ms": round(filtered_p50, 1), "rss_mb": round(rss, 1)}))


if __name__ == "__main__":
    main()
