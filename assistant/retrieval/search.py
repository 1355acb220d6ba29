"""Hybrid retrieval: dense (Chroma via llama-index) and BM25 rankings fused, with metadata filters."""

from __future__ import annotations

import datetime
import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field, field_validator, model_validator

from assistant.errors import AssistantError, IndexNotReady
from assistant.index.index import Index
from assistant.settings import Settings
from assistant.types import IndexedReport, Passage, SearchHit, date_bounds

RRF_K = 60
# Boilerplate (publisher footers, addresses, standard method text) stays findable, far down.
BOILERPLATE_WEIGHT = 0.2


class Filters(BaseModel):
    """Restrictions on which passages may be retrieved; empty means no restriction."""

    councils: list[str] = Field(default_factory=list, description="Council short names.")
    date_from: str = Field("", description="Earliest report date, ISO (2020, 2020-03, 2020-03-01).")
    date_to: str = Field("", description="Latest report date, ISO.")
    sources: list[str] = Field(default_factory=list, description="Report file names.")

    @field_validator("date_from", "date_to")
    @classmethod
    def _is_a_date(cls, value: str) -> str:
        """A filter date is a year, a month or a day that exists; anything else is named, never ignored."""
        value = value.strip()
        if not value:
            return value
        try:
            if not re.fullmatch(r"\d{4}(?:-\d{2}(?:-\d{2})?)?", value):
                raise ValueError(value)
            parts = [int(p) for p in value.split("-")]
            datetime.date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)
        except ValueError:
            raise ValueError(f"'{value}' is not a date: use 2020, 2020-03 or 2020-03-19") from None
        return value

    @model_validator(mode="after")
    def _in_order(self) -> Filters:
        low, high = self.date_from, self.date_to
        if low and high and low > high[: len(low)]:
            raise ValueError(f"from date {low} is after to date {high}: swap them")
        return self

    def is_empty(self) -> bool:
        return not (self.councils or self.date_from or self.date_to or self.sources)

    def describe(self) -> str:
        """The filters in words, for messages: "council Atlantis, from 2030"."""
        parts = [f"council {', '.join(self.councils)}"] if self.councils else []
        parts += [f"from {self.date_from}"] if self.date_from else []
        parts += [f"to {self.date_to}"] if self.date_to else []
        parts += [f"report {', '.join(self.sources)}"] if self.sources else []
        return "; ".join(parts)

    def selects(self, reports: Mapping[str, IndexedReport]) -> list[str]:
        """The indexed reports (manifest entries by file name) these filters let through."""
        dated = bool(self.date_from or self.date_to)
        chosen = []
        for source, entry in reports.items():
            low, high = date_bounds(entry.date)
            if dated and not low:
                continue  # an undated report is outside any date range, as BM25's mask has it
            if self.allows(entry.council, source, low, high):
                chosen.append(source)
        return chosen

    def matches_nothing(self, reports: Mapping[str, IndexedReport]) -> bool:
        """True when filters are set and no indexed report passes them (searching would find nothing)."""
        return not self.is_empty() and not self.selects(reports)

    def bounds(self) -> tuple[int, int]:
        low = date_bounds(self.date_from)[0] if self.date_from else 0
        high = date_bounds(self.date_to)[1] if self.date_to else 99999999
        return low, high

    def to_llama(self) -> Any:
        from llama_index.core.vector_stores.types import FilterOperator, MetadataFilter, MetadataFilters

        items: list[MetadataFilter] = []
        if self.councils:
            items.append(MetadataFilter(key="council", value=list(self.councils), operator=FilterOperator.IN))
        if self.sources:
            items.append(MetadataFilter(key="source", value=list(self.sources), operator=FilterOperator.IN))
        low, high = self.bounds()
        if self.date_from:
            items.append(MetadataFilter(key="date_to", value=low, operator=FilterOperator.GTE))
        if self.date_to:
            items.append(MetadataFilter(key="date_from", value=high, operator=FilterOperator.LTE))
        return MetadataFilters(filters=items) if items else None  # type: ignore[arg-type]

    def allows(self, council: str, source: str, date_from: int, date_to: int) -> bool:
        if self.councils and council not in self.councils:
            return False
        if self.sources and source not in self.sources:
            return False
        low, high = self.bounds()
        if self.date_from and date_to < low:
            return False
        return not (self.date_to and date_from > high)


# ---------------------------------------------------------------- BM25

_TOKEN = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")


def _stemmer() -> Any:
    from assistant.text import Normaliser

    return Normaliser()


def bm25_text(passage: Passage) -> str:
    """Text BM25 sees: council and section name the topic a paragraph does not repeat."""
    return f"{passage.council} {passage.section} {passage.text}"


class BM25Store:
    """A bm25s index plus the per-passage fields needed to filter without touching Chroma."""

    def __init__(
        self,
        retriever: Any,
        ids: list[str],
        meta: dict[str, np.ndarray],
        names: dict[str, list[str]],
        df: dict[str, int],
        vocab: dict[str, int] | None = None,
        abbreviations: dict[str, str] | None = None,
    ) -> None:
        self.retriever = retriever
        self.ids = ids
        self.meta = meta
        self.names = names
        self.df = df
        self.vocab = vocab or {}
        self.abbreviations = abbreviations or {}
        self.stemmer = _stemmer()
        self._positions: dict[str, int] | None = None

    def is_boilerplate(self, passage_id: str) -> bool:
        """Text that recurs across many reports (footers, addresses, standard wording)."""
        if self._positions is None:
            self._positions = {pid: i for i, pid in enumerate(self.ids)}
        flags = self.meta.get("boilerplate")
        i = self._positions.get(passage_id)
        return bool(flags is not None and i is not None and i < len(flags) and flags[i])

    def doc_freq(self, term: str) -> int:
        """Passages containing a (stemmed) term."""
        return self.df.get(term, 0)

    @classmethod
    def build(cls, passages: Sequence[Passage]) -> BM25Store:
        import bm25s

        stemmer = _stemmer()
        corpus = [bm25_text(p) for p in passages] or [""]
        tokens = bm25s.tokenize(corpus, stopwords="en", stemmer=stemmer, show_progress=False)
        retriever = bm25s.BM25()
        retriever.index(tokens, show_progress=False)
        vocab = {i: word for word, i in tokens.vocab.items()}
        df: dict[str, int] = {}
        for doc in tokens.ids:
            for i in set(doc):
                df[vocab[i]] = df.get(vocab[i], 0) + 1
        councils = sorted({p.council for p in passages})
        sources = sorted({p.source for p in passages})
        council_code = {c: i for i, c in enumerate(councils)}
        source_code = {s: i for i, s in enumerate(sources)}
        bounds = [date_bounds(p.date) for p in passages]
        meta: dict[str, np.ndarray] = {
            "boilerplate": boilerplate(passages),
            "council": np.array([council_code[p.council] for p in passages], dtype=np.int32),
            "source": np.array([source_code[p.source] for p in passages], dtype=np.int32),
            "date_from": np.array([b[0] for b in bounds], dtype=np.int64),
            "date_to": np.array([b[1] for b in bounds], dtype=np.int64),
        }
        from assistant.retrieval.spelling import defined_abbreviations, vocabulary

        texts = [p.text for p in passages]
        # Words seen once are as often typos or PDF breaks as words: they are no correction's target.
        vocab = {word: n for word, n in vocabulary(texts).items() if n >= 2}
        names = {"council": councils, "source": sources}
        return cls(retriever, [p.id for p in passages], meta, names, df, vocab, defined_abbreviations(texts))

    def save(self, folder: Path) -> None:
        """Write beside the old index, then swap folders, so a reader never sees half of one."""
        import shutil

        tmp = folder.with_name(folder.name + ".tmp")
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        self.retriever.save(str(tmp / "bm25s"))
        (tmp / "ids.json").write_text(json.dumps(
                {"ids": self.ids, "names": self.names, "df": self.df, "vocab": self.vocab, "abbreviations": self.abbreviations}
            ), encoding="utf-8")
        np.savez(tmp / "meta.npz", **self.meta)  # type: ignore[arg-type]  # numpy's stub types **kwds as bool
        if folder.exists():
            old = folder.with_name(folder.name + ".old")
            shutil.rmtree(old, ignore_errors=True)
            folder.rename(old)
            tmp.rename(folder)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(folder)

    @classmethod
    def load(cls, folder: Path) -> BM25Store:
        """The saved index; a missing or damaged one is an error that says how to rebuild it."""
        import bm25s

        if not (folder / "ids.json").is_file():
            raise IndexNotReady(f"the keyword index {folder} is missing; run `assistant ingest` to rebuild it")
        try:
            retriever = bm25s.BM25.load(str(folder / "bm25s"), mmap=True)
            data = json.loads((folder / "ids.json").read_text(encoding="utf-8"))
            with np.load(folder / "meta.npz") as npz:
                meta = {k: npz[k] for k in npz.files}
        except (OSError, ValueError, KeyError) as exc:
            raise AssistantError(f"the keyword index {folder} is damaged ({exc}); run `assistant ingest` to rebuild it") from None
        return cls(
            retriever, data["ids"], meta, data["names"], data["df"], data.get("vocab"), data.get("abbreviations")
        )

    def mask(self, filters: Filters) -> np.ndarray | None:
        if filters.is_empty():
            return None
        keep = np.ones(len(self.ids), dtype=bool)
        if filters.councils:
            codes = [i for i, c in enumerate(self.names["council"]) if c in filters.councils]
            keep &= np.isin(self.meta["council"], codes)
        if filters.sources:
            codes = [i for i, s in enumerate(self.names["source"]) if s in filters.sources]
            keep &= np.isin(self.meta["source"], codes)
        low, high = filters.bounds()
        if filters.date_from:
            keep &= self.meta["date_to"] >= low
        if filters.date_to:
            keep &= (self.meta["date_from"] <= high) & (self.meta["date_from"] > 0)
        return keep.astype(np.float32)

    def search(self, query: str, k: int, filters: Filters | None = None) -> list[tuple[str, float]]:
        import bm25s

        if not self.ids:
            return []
        tokens = bm25s.tokenize([query], stopwords="en", stemmer=self.stemmer, show_progress=False, return_ids=False)
        words = tokens[0] if tokens else []
        if not words:
            return []
        mask = self.mask(filters) if filters else None
        scores = self.retriever.get_scores(words, weight_mask=mask)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]


def _structural(passage: Passage) -> bool:
    """A table, or a heading that states a finding ("… care leavers: good"): recurring wording, own facts."""
    return passage.paragraph.startswith("table") or passage.section.rsplit(" › ", 1)[-1] == passage.text.strip().rstrip(":")


def boilerplate(passages: Sequence[Passage], share: float = 0.8) -> np.ndarray:
    """Flag passages most of whose wording recurs in many other reports.

    Read from the library itself, not from a list of phrases: publisher footers, contact blocks
    and standard method text repeat nearly word for word across reports of one publisher, while a
    finding does not. Tables are never flagged: a judgement table's wording recurs, its grades do not.
    """
    reports = {p.source for p in passages}
    # Recurring in a tenth of the library (and at least three reports) is what standard text does.
    needed = max(3, len(reports) // 10)
    # Figures stay in: a templated sentence with this report's own numbers is a fact, not furniture.
    shingles = [set() if _structural(p) else _shingles(p.text) for p in passages]
    holders: dict[str, set[str]] = {}
    figures: dict[str, set[str]] = {}
    for passage, grams in zip(passages, shingles):
        for gram in grams:
            holders.setdefault(gram, set()).add(passage.source)
        for figure in re.findall(r"\d[\d.,]*%?", passage.text):
            figures.setdefault(figure, set()).add(passage.source)
    flags = np.zeros(len(passages), dtype=bool)
    if len(reports) < needed:
        return flags
    for i, grams in enumerate(shingles):
        if len(grams) >= 8:  # a heading or a one-line fact is too short to call furniture
            common = sum(1 for gram in grams if len(holders[gram]) >= needed)
            # A figure of this report's own (not a phone number or a year every report prints) is a fact.
            own = any(len(figures[f]) < needed for f in re.findall(r"\d[\d.,]*%?", passages[i].text))
            flags[i] = common >= share * len(grams) and not own
    return flags


# ---------------------------------------------------------------- hybrid


def _cosine_from_chroma(similarity: float) -> float:
    """llama-index reports exp(-distance); Chroma's cosine distance is 1 - cos."""
    return 1.0 + math.log(max(similarity, 1e-12))


class Retriever:
    """Dense + BM25 retrieval fused by weighted reciprocal rank; near-duplicates collapsed."""

    def __init__(self, index: Index, settings: Settings | None = None) -> None:
        self.index = index
        self.settings = settings or index.settings

    def search(self, query: str, *, k: int | None = None, filters: Filters | None = None) -> list[SearchHit]:
        from llama_index.core.vector_stores.types import VectorStoreQuery

        self.index.require_ready()
        k = k or self.settings.top_k
        filters = filters or Filters()
        candidates = max(self.settings.candidates, k)
        vector = self.index.embedder.embed_query(query)
        result = self.index.vector_store.query(
            VectorStoreQuery(
                query_embedding=vector.tolist(), similarity_top_k=candidates, filters=filters.to_llama()
            )
        )
        hits: dict[str, SearchHit] = {}
        dense_rank: dict[str, int] = {}
        for rank, (node, similarity) in enumerate(zip(result.nodes, result.similarities or []), start=1):
            hit = SearchHit.from_node(node, score=_cosine_from_chroma(similarity))
            hits[hit.passage.id] = hit
            dense_rank[hit.passage.id] = rank
        bm25 = self.index.bm25.search(query, candidates, filters)
        bm25_rank = {pid: rank for rank, (pid, _) in enumerate(bm25, start=1)}
        missing = [pid for pid, _ in bm25 if pid not in hits]
        if missing:
            rows = self.index.collection.get(ids=missing, include=["documents", "metadatas", "embeddings"])
            for pid, text, meta, emb in zip(rows["ids"], rows["documents"], rows["metadatas"], rows["embeddings"]):
                cosine = float(np.dot(np.asarray(emb, dtype=np.float32), vector))
                hits[pid] = SearchHit(passage=Passage.from_metadata(pid, text, meta), score=0.0, dense_score=cosine)
        for pid, score in bm25:
            if pid in hits:
                hits[pid].bm25_score = score
        _fuse(list(hits.values()), dense_rank, bm25_rank, self.settings, candidates)
        for pid, hit in hits.items():
            if self.index.bm25.is_boilerplate(pid):
                hit.score *= BOILERPLATE_WEIGHT
        ranked = sorted(hits.values(), key=lambda h: -h.score)
        ranked = collapse_duplicates(ranked)[:k]
        for rank, hit in enumerate(ranked, start=1):
            hit.rank = rank
        return ranked


def _fuse(hits: list[SearchHit], dense_rank: dict[str, int], bm25_rank: dict[str, int], settings: Settings, depth: int) -> None:
    """Weighted sum of min-max normalised scores, or weighted reciprocal-rank fusion."""
    if settings.fusion == "rrf":
        for hit in hits:
            pid = hit.passage.id
            hit.score = settings.dense_weight / (RRF_K + dense_rank.get(pid, depth * 2)) + (
                settings.bm25_weight / (RRF_K + bm25_rank.get(pid, depth * 2))
            )
        return
    dense = [h.dense_score or 0.0 for h in hits]
    low, high = min(dense), max(dense)
    top_bm25 = max((h.bm25_score or 0.0) for h in hits) or 1.0
    for hit in hits:
        d = ((hit.dense_score or 0.0) - low) / ((high - low) or 1.0)
        b = (hit.bm25_score or 0.0) / top_bm25
        hit.score = settings.dense_weight * d + settings.bm25_weight * b


def _shingles(text: str) -> set[str]:
    words = _TOKEN.findall(text.lower())
    return {" ".join(words[i : i + 3]) for i in range(max(len(words) - 2, 1))}


def collapse_duplicates(hits: list[SearchHit], threshold: float = 0.8) -> list[SearchHit]:
    """Keep the better-ranked of two passages that say nearly the same thing."""
    kept: list[tuple[SearchHit, set[str]]] = []
    for hit in hits:
        shingles = _shingles(hit.passage.text)
        duplicate = False
        for _, other in kept:
            overlap = len(shingles & other) / max(1, min(len(shingles), len(other)))
            if overlap >= threshold:
                duplicate = True
                break
        if not duplicate:
            kept.append((hit, shingles))
    return [hit for hit, _ in kept]
