"""The query benchmark's large corpus (benchmarks/query.py): many distinct reports made from the samples, indexed fast.

Each report is a sample with a different set of word swaps and its own reference number, so the
index holds as many distinct passages as asked: each distinct text is split once beforehand to count
its passages (reports_for), and the corpus has the fewest reports that hold at least that many
(100,000 asked: 3,862 reports, 100,002 passages; the earlier estimate of 26 a report gave 99,598). Building 1,000,000 passages through plain ingest
would take hours on two cores, mostly in work whose result repeats from copy to copy; so the
builder runs the real ingest (reading, Chroma rows, report files, manifest, BM25, register) but
reuses what copies share:
- a copy with the same sample and swaps as one split before takes that one's passages, with its
  own source, ids and reference number (the reference number is fixed-width, so offsets agree);
- its register extraction likewise (commitments, inspections and facts read from the same text);
- vectors are hashed bag-of-words (HashEmbedder), computed as one sparse product per batch;
- the keyword index's trigrams and the register's word weights are worked out once per distinct
  passage text, and no worker warms the register or builds derived data ahead (it would redo the
  extraction this process shares between copies).
Rows still reach Chroma as production writes them (in batches a server accepts), and every derived
file is built and mirrored by the real code; the time of each step is printed (Phases), with the
builder's peak memory. Questions are still encoded by the real model at query time.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
import resource
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "corpus" / "sample"
PER_REPORT = 26  # the samples average about 26 passages a report
SWAPS = [
    ("children", "young people"),
    ("improvement", "progress"),
    ("service", "provision"),
    ("Ofsted", "the inspectorate"),
    ("report", "paper"),
    ("staff", "colleagues"),
    ("plan", "programme"),
]
REFERENCE = re.compile(r"Reference (\d{7}): council paper copy\.")
DIM = 384


def synthetic_corpus(folder: Path, reports: int) -> Path:
    """`reports` distinct reports: sample i mod 5, a swap set from i div 5, and a fixed-width reference number."""
    folder.mkdir(parents=True, exist_ok=True)
    texts = Variants()
    for number in range(reports):
        path = folder / f"synthetic_{number:07d}.txt"
        if not path.exists():
            path.write_text(texts.report(number), encoding="utf-8")
    return folder


class Variants:
    """The text of synthetic report i: sample i mod 5 with swap set i div 5 (so it repeats every
    len(samples) * 2 ** len(SWAPS) reports but for its reference number)."""

    def __init__(self) -> None:
        self.samples = [p.read_text(encoding="utf-8") for p in sorted(SAMPLES.glob("*.txt"))]
        self.cycle = len(self.samples) << len(SWAPS)
        self._texts: dict[int, str] = {}

    def report(self, number: int) -> str:
        variant = number % self.cycle
        text = self._texts.get(variant)
        if text is None:
            text = self.samples[variant % len(self.samples)]
            for bit, (old, new) in enumerate(SWAPS):
                if variant // len(self.samples) >> bit & 1:
                    text = re.sub(rf"\b{old}\b", new, text)
            text = self._texts[variant] = text.replace("\n", "\nReference 0000000: council paper copy.\n", 1)
        return text.replace("Reference 0000000", f"Reference {number:07d}", 1)


def reports_for(passages: int, probes: Path, split: Callable[[Any], list[Any]], max_mb: float) -> int:
    """The fewest reports of synthetic_corpus that hold at least `passages` passages. Each distinct text is
    read and split once (in `probes`, under its own name) to count its passages; ingest's split takes
    them from there."""
    from assistant.index import ingest

    texts = Variants()
    probes.mkdir(parents=True, exist_ok=True)
    sizes: list[int] = []
    reports, total = 0, 0
    while total < passages:
        variant = reports % texts.cycle
        if variant == len(sizes):
            path = probes / f"synthetic_{variant:07d}.txt"
            path.write_text(texts.report(variant), encoding="utf-8")
            sizes.append(len(split(ingest.read_report(path, max_mb=max_mb))))
            if len(sizes) == texts.cycle and not sum(sizes):
                raise ValueError(f"the synthetic reports in {probes} split into no passages")
        if len(sizes) == texts.cycle and passages - total > sum(sizes):  # skip whole cycles
            cycles = (passages - total) // sum(sizes) - 1
            reports, total = reports + cycles * texts.cycle, total + cycles * sum(sizes)
        total += sizes[reports % texts.cycle]
        reports += 1
    return max(1, reports)


def _template(text: str) -> str:
    """The text with its reference number blanked, wherever it is repeated (a title read from the first lines holds it)."""
    return REFERENCE.sub("Reference 0000000: council paper copy.", text)


class HashEmbedder:
    """Bag-of-words random projection: vectors with real clustering structure, at no model cost.

    One random vector per word (seeded by the word); a text's vector is the normalised sum, taken
    for a whole batch as one sparse-matrix product.
    """

    name = "hashed-bow"

    def __init__(self, model_dir: Path) -> None:
        self.model_dir = model_dir
        self._ids: dict[str, int] = {}
        self._words: list[str] = []
        self._table = np.zeros((0, DIM), dtype=np.float32)
        self._done: dict[str, np.ndarray] = {}  # copies repeat most texts: each is summed once

    def _word_ids(self, text: str) -> list[int]:
        ids = []
        for word in text.lower().split():
            i = self._ids.get(word)
            if i is None:
                i = self._ids[word] = len(self._words)
                self._words.append(word)
            ids.append(i)
        return ids

    def _grow(self) -> None:
        have = len(self._table)
        if have == len(self._words):
            return
        rows = [
            np.random.default_rng(int.from_bytes(hashlib.blake2b(w.encode(), digest_size=8).digest(), "little"))
            .standard_normal(DIM).astype(np.float32)
            for w in self._words[have:]
        ]
        self._table = np.concatenate([self._table, np.stack(rows)])

    def _sums(self, texts: Sequence[str]) -> np.ndarray:
        from scipy.sparse import csr_matrix

        rows = [self._word_ids(t) for t in texts]
        self._grow()
        indptr = np.cumsum([0, *(len(r) for r in rows)])
        indices = np.fromiter((i for r in rows for i in r), dtype=np.int64, count=int(indptr[-1]))
        counts = csr_matrix((np.ones(len(indices), dtype=np.float32), indices, indptr), shape=(len(rows), len(self._table)))
        vectors = np.asarray(counts @ self._table, dtype=np.float32)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)

    def embed_batch(self, texts: Sequence[str], **_: object) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        new = list(dict.fromkeys(t for t in texts if t not in self._done))
        if new:
            if len(self._done) > 100_000:
                self._done.clear()
            self._done.update(zip(new, self._sums(new)))
        return np.stack([self._done[t] for t in texts])

    def embed_with_units(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]) -> tuple[np.ndarray, list[np.ndarray]]:
        pieces = [text[a:b] for text, text_spans in zip(texts, spans) for a, b in text_spans]
        flat = self.embed_batch(pieces)
        units, row = [], 0
        for text_spans in spans:
            units.append(flat[row : row + len(text_spans)])
            row += len(text_spans)
        return self.embed_batch(texts), units


def reuse_splits(split: Callable[[Any], list[Any]]) -> Callable[[Any], list[Any]]:
    """`split`, run once per distinct report text: copies differing only in their reference number share it."""
    done: dict[str, tuple[Any, list[Any]]] = {}

    def memo(report: Any) -> list[Any]:
        key = _template(report.text)
        if key not in done:
            done[key] = (report, split(report))
            return done[key][1]
        first, passages = done[key]
        old_ref, new_ref = REFERENCE.search(first.text), REFERENCE.search(report.text)
        out = []
        for p in passages:
            text = p.text.replace(old_ref.group(0), new_ref.group(0)) if old_ref and new_ref else p.text
            out.append(p.model_copy(update={
                "id": f"{report.source}#{p.ordinal}@{report.content_hash[:10]}", "source": report.source, "title": report.meta.title,
                "council": report.meta.council, "date": report.meta.date, "text": text,
            }))
        return out

    return memo


def reuse_sentence_spans() -> None:
    """Make ingest find each distinct passage's sentence units once."""
    from assistant.index import store

    original = store.unit_spans
    done: dict[str, Any] = {}

    def spans(text: str) -> Any:
        if text not in done:
            if len(done) > 500_000:
                done.clear()
            done[text] = original(text)
        return done[text]

    store.unit_spans = spans  # type: ignore[assignment]


def reuse_shingles() -> None:
    """Make the keyword index's boilerplate pass cut each distinct passage into trigrams once (it cuts each twice)."""
    from assistant.index import bm25

    original = bm25.shingles
    done: dict[str, set[str]] = {}

    def shingles(text: str) -> set[str]:
        found = done.get(text)
        if found is None:
            if len(done) > 100_000:
                done.clear()
            found = done[text] = original(text)
        return found

    bm25.shingles = shingles  # type: ignore[assignment]


def reuse_content_words() -> None:
    """Make the register's follow-through weights (word document frequencies over every passage) stem each
    distinct passage once."""
    from assistant.register import status

    original = status.content_words
    done: dict[str, set[str]] = {}

    def content_words(text: str) -> set[str]:
        found = done.get(text)
        if found is None:
            if len(done) > 100_000:
                done.clear()
            found = done[text] = original(text)
        return set(found)

    status.content_words = content_words  # type: ignore[assignment]


def reuse_reading() -> None:
    """Make ingest read each distinct report text once (cleaning, metadata); copies take it with their own name."""
    from assistant.documents.read import content_hash
    from assistant.index import ingest

    original = ingest.read_report
    done: dict[str, Any] = {}

    def read(path: Path, *, max_mb: float = 50.0, meta: Any = None, data: bytes | None = None) -> Any:
        raw = data if data is not None else path.read_bytes()
        key = _template(raw.decode("utf-8", "replace"))
        first = done.get(key)
        if first is None or meta is not None:
            report = original(path, max_mb=max_mb, meta=meta, data=data)
            done.setdefault(key, report)
            return report
        old_ref, new_ref = REFERENCE.search(first.text), REFERENCE.search(raw.decode("utf-8", "replace"))
        if not (old_ref and new_ref):
            return original(path, max_mb=max_mb, meta=meta, data=data)
        own = {k: v.replace(old_ref.group(0), new_ref.group(0)) for k, v in first.model_dump().items() if isinstance(v, str)}
        return first.model_copy(update={**own, "source": path.name, "content_hash": content_hash(raw)})

    ingest.read_report = read  # type: ignore[assignment]


def reuse_register_extraction() -> None:
    """Make the register read each distinct report text once; copies take its extraction with their own names."""
    from assistant.register import store

    original = store._extract
    done: dict[str, tuple[str, str, str]] = {}

    def extract(report: list[Any], cache: Path | None, used: set[str]) -> Any:
        first = report[0]
        joined = _template("\n".join(p.text for p in report))
        key = _template(f"{first.council}|{first.date}|{first.title}|{joined}")
        ref = REFERENCE.search(joined) and REFERENCE.search("\n".join(p.text for p in report))
        own = ("@" + first.id.rpartition("@")[2], first.source, ref.group(0) if ref else "")
        if key not in done:
            extracted = original(report, None, used)
            done[key] = (*own, extracted.model_dump_json())
            return extracted
        old_id, old_source, old_ref, data = done[key]
        for old, new in ((old_id, own[0]), (old_source, own[1]), (old_ref, own[2])):
            if old and new:
                data = data.replace(old, new)
        return store._Extracted.model_validate_json(data)

    store._extract = extract  # type: ignore[assignment]


class Phases:
    """Wall time spent in named steps of the build (methods wrapped in place), to see what grows with size."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def timed(self, function: Callable[..., Any], label: str) -> Callable[..., Any]:
        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - started

        return timed

    def wrap(self, owner: Any, attribute: str, label: str) -> None:
        setattr(owner, attribute, self.timed(getattr(owner, attribute), label))

    def report(self) -> str:
        return ", ".join(f"{label} {seconds:.0f} s" for label, seconds in sorted(self.seconds.items(), key=lambda kv: -kv[1]))


def time_phases(index: Any) -> Phases:
    """Wrap the build's steps: vectors, Chroma writes, report files, manifest, derived data (each kind), mirror."""
    from assistant.index import store
    from assistant.index.chroma import Rows
    from assistant.index.files import ReportFiles
    from assistant.index.manifest import Manifest
    from assistant.index.mirror import Mirror
    from assistant.index.remote import ServerFiles

    phases = Phases()
    phases.wrap(store, "embed_passages", "vectors")
    for name in ("add", "upsert", "delete"):
        phases.wrap(Rows, name, f"chroma {name}")
    phases.wrap(ReportFiles, "write", "report files")
    phases.wrap(Manifest, "save", "manifest saves")
    phases.wrap(store.Store, "rebuild_derived", "derived data with reading every passage back")
    phases.wrap(Mirror, "publish", "mirror publish")
    phases.wrap(ServerFiles, "put", "mirror uploads")
    phases.wrap(Mirror, "_local", "mirror hashing")
    derived = index._derived
    derived.builders = tuple(dataclasses.replace(b, build=phases.timed(b.build, f"derived {b.name}")) for b in derived.builders)
    return phases


def chunk_row_writes(rows: int) -> None:
    """Make the index add rows to Chroma `rows` at a time: a batch larger than a server takes is refused whole."""
    from assistant.index.chroma import Rows

    original = Rows.add

    def add(self: Rows, nodes: Sequence[Any]) -> None:
        for start in range(0, len(nodes), rows):
            original(self, nodes[start : start + rows])

    Rows.add = add  # type: ignore[method-assign]


def build_large(index_dir: Path, corpus: Path, passages: int, chroma_url: str | None = None) -> None:
    """Index ~`passages` passages of synthetic reports into `index_dir` (Chroma on `chroma_url` when given)."""
    from assistant.index import ingest
    from assistant.index.embedding import default_model_dir
    from assistant.library import open_index
    from assistant.settings import Settings

    # Few commits: each rewrites the whole manifest (58 MB at a million passages). Rows are still sent in
    # requests within a server's largest batch (5,461 on `chroma run` 1.5).
    ingest.EMBED_BATCH = 25_000
    chunk_row_writes(5000)
    reuse_reading()
    reuse_sentence_spans()
    reuse_register_extraction()
    reuse_shingles()
    reuse_content_words()
    index = open_index(Settings(index_dir=index_dir, chroma_url=chroma_url), embedder=HashEmbedder(default_model_dir()))
    index.split = reuse_splits(index.split)  # type: ignore[method-assign]
    started = time.perf_counter()
    reports = reports_for(passages, corpus.parent / "probes", index.split, index.settings.max_file_mb)
    synthetic_corpus(corpus, reports)
    print(f"  wrote {reports:,} reports in {time.perf_counter() - started:.0f} s", flush=True)
    # The register is extracted, and the keyword index's trigrams worked out, once per distinct text in this
    # process (above); a worker warming the register's cache as files are split, or building the derived data
    # ahead of the last commit, would redo all of that for nothing. The ingest's own rebuild does it here.
    from assistant.index.ahead import Ahead

    Ahead.warm = lambda *args, **kwargs: None  # type: ignore[method-assign]
    Ahead.stage = lambda *args, **kwargs: None  # type: ignore[method-assign]
    phases = time_phases(index)
    last = [time.perf_counter()]

    def progress(number: int, total: int, name: str) -> None:
        if time.perf_counter() - last[0] > 60:
            last[0] = time.perf_counter()
            print(f"  {number:,}/{total:,} reports read ({time.perf_counter() - started:.0f} s)", flush=True)

    summary = index.ingest([corpus], progress=progress)
    count = sum(entry.passages for entry in index.reports.values())
    print(f"  built {count:,} passages from {len(index.reports):,} reports in {time.perf_counter() - started:.0f} s "
          f"({summary.count('failed')} failed)", flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  build steps: {phases.report()}; peak memory of the builder {peak:.0f} MB", flush=True)
