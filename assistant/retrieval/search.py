"""Hybrid retrieval: dense (Chroma) and BM25 (assistant/index/bm25.py) rankings fused, with filters."""

from __future__ import annotations

import re

import numpy as np

from assistant.index.index import Index
from assistant.retrieval.dense import matrix_of, nearest
from assistant.retrieval.spelling import standing_for
from assistant.settings import Settings
from assistant.text import terms, words
from assistant.types import Filters, Passage, SearchHit

__all__ = ["Filters", "Retriever", "collapse_duplicates"]

RRF_K = 60
# Boilerplate (publisher footers, addresses, standard method text) stays findable, far down.
BOILERPLATE_WEIGHT = 0.2
# A question asking for a count or a share is answered by a passage that states one: such passages are
# lifted a little (the expected answer's type, as in classic question answering), never promoted outright.
QUANTITY_WEIGHT = 1.15
_ASKS_QUANTITY = re.compile(
    r"\bhow\s+(?:many|much)\b|\bnumber\s+of\b|\bpercent(?:age)?\b|\bproportion\b|\bratio\b|%|\bwhat\s+share\b", re.I
)
_NUMBER_WORDS = (
    "two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|"
    "hundreds?|thousands?|half|third|quarter|dozens?"
)
# A figure that is not a year, a day of a date or a paragraph label: "48 adoptions", "80%", "1,251", "four directors".
_QUANTITY = re.compile(
    rf"(?<![\w.,])(?!(?:19|20)\d\d\b)\d[\d,]*(?:\.\d+)?(?:\s*(?:%|per\s*cent))?(?!\s*(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*)(?![\w.]*\d)"
    rf"|\b(?:{_NUMBER_WORDS})\b",
    re.I,
)


# A question asking for a grade ("what grade did leaders get", "care leavers judgement") is answered by a
# line that states one: a judgement table's row, or a short "…: good" / "… are inadequate". The grade words
# are the inspectorates' four-point scale (Ofsted's and the CQC's), read from how reports state a grade.
GRADE_WEIGHT = 1.25
_ASKS_GRADE = re.compile(r"\b(?:grade[sd]?|grading|judge?ments?|judged|rated|ratings?)\b", re.I)
_STATES_GRADE = re.compile(
    r"(?:[:\t]\s*|\b(?:is|are|was|were|be|remains?|as)\s+)(?:judged\s+(?:to\s+be\s+)?)?"
    r"(?:outstanding|good|requires\s+improvement|inadequate|adequate)\b",
    re.I,
)
GRADE_STATEMENT_WORDS = 30  # longer passages use "good" as a word, not as a grade


def asks_grade(query: str) -> bool:
    """Whether a question asks for a graded judgement."""
    return bool(_ASKS_GRADE.search(query))


def states_grade(passage: Passage) -> bool:
    """Whether a passage states a grade: a table row, or a short line giving one."""
    short = passage.paragraph.startswith("table") or len(passage.text.split()) <= GRADE_STATEMENT_WORDS
    return short and _STATES_GRADE.search(passage.text) is not None


# A question that echoes a heading ("what needs improving?" under "What needs to improve?") asks for what
# the report put under it: those passages are lifted a little, as a passage stating a grade is.
HEADING_WEIGHT = 1.2


def echoes_heading(asked: set[str], passage: Passage) -> bool:
    """Whether the question holds every word of the passage's own heading (of two words or more)."""
    heading = {t for t in terms(passage.section.rsplit(" › ", 1)[-1]) if not t.isdigit()}
    return len(heading) >= 2 and heading <= asked


# Words of the question that stand side by side in a passage too ("strong practice", "children's social care")
# are a phrase it uses, not two words it happens to hold: each pair shared (up to three) lifts the passage a
# little, as term proximity does in classic ranking. Pairs are of content words, stopwords skipped.
PHRASE_WEIGHT = 0.1
PHRASES_COUNTED = 3


def shared_pairs(asked: set[tuple[str, str]], passage: Passage) -> int:
    """How many of the question's word pairs (adjacent content words) the passage holds side by side."""
    return len(asked & _pairs(passage)) if asked else 0


def asks_quantity(query: str) -> bool:
    """Whether a question asks for a count, amount or share."""
    return bool(_ASKS_QUANTITY.search(query))


def states_quantity(text: str) -> bool:
    """Whether a passage states a count, amount or share (years and dates do not count)."""
    return _QUANTITY.search(text) is not None


# ---------------------------------------------------------------- hybrid


class Retriever:
    """Dense + BM25 retrieval fused by weighted reciprocal rank; near-duplicates collapsed."""

    def __init__(self, index: Index, settings: Settings | None = None) -> None:
        self.index = index
        self.settings = settings or index.settings

    def search(self, query: str, *, k: int | None = None, filters: Filters | None = None) -> list[SearchHit]:
        self.index.require_ready()
        k = k or self.settings.top_k
        filters = filters or Filters()
        candidates = max(self.settings.candidates, k)
        vector = self.index.embedder.embed_query(query)
        hits: dict[str, SearchHit] = {}
        dense_rank: dict[str, int] = {}
        for rank, (passage, cosine) in enumerate(nearest(self.index, vector, candidates, filters), start=1):
            hits[passage.id] = SearchHit(passage=passage, score=cosine, dense_score=cosine)
            dense_rank[passage.id] = rank
        keyword = self.index.bm25
        bm25 = keyword.search_words(standing_for(keyword.words(query), keyword.abbreviations, keyword.words), candidates, filters)
        bm25_rank = {pid: rank for rank, (pid, _) in enumerate(bm25, start=1)}
        missing = [pid for pid, _ in bm25 if pid not in hits]
        matrix = matrix_of(self.index)
        if missing and matrix is not None and matrix.dim == len(vector):
            # Vectors from the index's matrix (vectors.py), text and metadata from the keyword index's copy.
            positions = [keyword.position(pid) for pid in missing]
            known = [(pid, row) for pid, row in zip(missing, positions, strict=True) if row is not None]
            passages = keyword.passages([pid for pid, _ in known])
            cosines = matrix.cosines([row for _, row in known], vector)
            for (pid, _), cosine in zip(known, cosines, strict=True):
                if pid in passages:
                    hits[pid] = SearchHit(passage=passages[pid], score=0.0, dense_score=float(cosine))
        elif missing:
            # Vectors from Chroma; text and metadata from the keyword index's copy (read from Chroma, they cost more).
            rows = self.index.collection.get(ids=missing, include=["embeddings"])
            embeddings = rows["embeddings"] if rows["embeddings"] is not None else []
            passages = self.index.bm25.passages(rows["ids"])
            if len(passages) < len(rows["ids"]):
                passages.update(self.index.get_passages([pid for pid in rows["ids"] if pid not in passages]))
            for pid, emb in zip(rows["ids"], embeddings):
                if pid in passages:
                    cosine = float(np.dot(np.asarray(emb, dtype=np.float32), vector))
                    hits[pid] = SearchHit(passage=passages[pid], score=0.0, dense_score=cosine)
        for pid, score in bm25:
            if pid in hits:
                hits[pid].bm25_score = score
        _fuse(list(hits.values()), dense_rank, bm25_rank, self.settings, candidates)
        quantity, grade = asks_quantity(query), asks_grade(query)
        asked_list = terms(query)
        asked_terms, asked_pairs = set(asked_list), set(zip(asked_list, asked_list[1:]))
        for pid, hit in hits.items():
            if self.index.bm25.is_boilerplate(pid):
                hit.score *= BOILERPLATE_WEIGHT
                continue
            # The expected answer's type: a passage that states what is asked is lifted, never promoted outright.
            if quantity and states_quantity(hit.passage.text):
                hit.score *= QUANTITY_WEIGHT
            if grade and states_grade(hit.passage):
                hit.score *= GRADE_WEIGHT
            if echoes_heading(asked_terms, hit.passage):
                hit.score *= HEADING_WEIGHT
        ranked = sorted(hits.values(), key=lambda h: -h.score)
        _lift_phrases(ranked, asked_pairs, k)
        ranked.sort(key=lambda h: -h.score)
        ranked = collapse_duplicates(ranked, limit=k)
        for rank, hit in enumerate(ranked, start=1):
            hit.rank = rank
        return ranked


def _lift_phrases(ranked: list[SearchHit], asked: set[tuple[str, str]], k: int) -> None:
    """Lift the passages that hold the question's word pairs. Reading a passage's words costs ~0.3 ms, so only
    those that the largest lift could carry past the 2k-th best are read (the rest stay below it anyway)."""
    if not asked or not PHRASE_WEIGHT or not ranked:
        return
    floor = ranked[min(len(ranked), 2 * k) - 1].score / (1 + PHRASE_WEIGHT * PHRASES_COUNTED)
    for hit in ranked:
        if hit.score < floor:
            break
        hit.score *= 1 + PHRASE_WEIGHT * min(PHRASES_COUNTED, shared_pairs(asked, hit.passage))


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


def collapse_duplicates(hits: list[SearchHit], threshold: float = 0.8, limit: int | None = None) -> list[SearchHit]:
    """Keep the better-ranked of two passages that say nearly the same thing (the first `limit` kept, if given).

    Overlap is measured against the longer of the two: a line that a longer passage contains ("… children in
    care: outstanding" within the judgement table) says less than it, not the same, and both stay."""
    kept: list[tuple[SearchHit, frozenset[tuple[str, ...]]]] = []
    for hit in hits:
        if limit is not None and len(kept) >= limit:
            break  # the rest would be cut anyway: their word trigrams are not worth reading
        grams = _trigrams(hit.passage)
        duplicate = False
        for _, other in kept:
            overlap = len(grams & other) / max(1, len(grams), len(other))
            if overlap >= threshold:
                duplicate = True
                break
        if not duplicate:
            kept.append((hit, grams))
    return [hit for hit, _ in kept]


# Word trigrams of passages lately compared, by id: a question's searches (and a conversation's) meet the same
# passages, and reading them was a fifth of a warm question at 100,000 passages.
CACHED_TRIGRAMS = 4096
_trigram_cache: dict[str, tuple[str, frozenset[tuple[str, ...]]]] = {}


_pair_cache: dict[str, tuple[str, frozenset[tuple[str, str]]]] = {}


def _pairs(passage: Passage) -> frozenset[tuple[str, str]]:
    """A passage's adjacent content-word pairs, remembered as its trigrams are."""
    cached = _pair_cache.get(passage.id)
    if cached is not None and cached[0] == passage.text:
        return cached[1]
    found = terms(passage.text)
    pairs = frozenset(zip(found, found[1:]))
    if len(_pair_cache) >= CACHED_TRIGRAMS:
        _pair_cache.pop(next(iter(_pair_cache)))
    _pair_cache[passage.id] = (passage.text, pairs)
    return pairs


def _trigrams(passage: Passage) -> frozenset[tuple[str, ...]]:
    """A passage's word trigrams (bm25.shingles as tuples: the same sets, cheaper to make), remembered."""
    cached = _trigram_cache.get(passage.id)
    if cached is not None and cached[0] == passage.text:
        return cached[1]
    found = words(passage.text)
    grams = frozenset(zip(found, found[1:], found[2:])) if len(found) >= 3 else frozenset({tuple(found)})
    if len(_trigram_cache) >= CACHED_TRIGRAMS:
        _trigram_cache.pop(next(iter(_trigram_cache)))
    _trigram_cache[passage.id] = (passage.text, grams)
    return grams
