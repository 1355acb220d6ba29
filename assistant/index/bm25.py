"""The keyword index: bm25s over every passage, with the fields to filter by and the boilerplate flags.

It lives in the index folder under bm25/ and is rebuilt from all passages after each commit
(assistant/index/derived.py); hybrid retrieval (assistant/retrieval/search.py) searches it.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from assistant.errors import AssistantError, IndexNotReady
from assistant.index.vocabulary import defined_abbreviations, vocabulary
from assistant.text import Normaliser, words
from assistant.types import Filters, Passage, date_bounds

if TYPE_CHECKING:
    import bm25s

FOLDER = "bm25"

def bm25_text(passage: Passage) -> str:
    """Text BM25 sees: council and section name the topic a paragraph does not repeat."""
    return f"{passage.council} {passage.section} {passage.text}"


class BM25Store:
    """A bm25s index plus the per-passage fields needed to filter without touching Chroma."""

    def __init__(
        self,
        retriever: bm25s.BM25 | None,
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
        self.stemmer = Normaliser()
        self._positions: dict[str, int] | None = None

    @classmethod
    def empty(cls) -> BM25Store:
        """The keyword index of an empty library (or one searched by meaning alone): finds nothing."""
        return cls(None, [], {}, {"council": [], "source": []}, {})

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

        stemmer = Normaliser()
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
        texts = [p.text for p in passages]
        # Words seen once are as often typos or PDF breaks as words: they are no correction's target.
        vocab = {word: n for word, n in vocabulary(texts).items() if n >= 2}
        names = {"council": councils, "source": sources}
        return cls(retriever, [p.id for p in passages], meta, names, df, vocab, defined_abbreviations(texts))

    def save(self, folder: Path) -> None:
        """Write beside the old index, then swap folders, so a reader never sees half of one."""
        tmp = folder.with_name(folder.name + ".tmp")
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        assert self.retriever is not None, "an empty keyword index is never saved (build_bm25 removes it)"
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

        if not self.ids or self.retriever is None:
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
    grams_of = [set() if _structural(p) else shingles(p.text) for p in passages]
    holders: dict[str, set[str]] = {}
    figures: dict[str, set[str]] = {}
    for passage, grams in zip(passages, grams_of):
        for gram in grams:
            holders.setdefault(gram, set()).add(passage.source)
        for figure in re.findall(r"\d[\d.,]*%?", passage.text):
            figures.setdefault(figure, set()).add(passage.source)
    flags = np.zeros(len(passages), dtype=bool)
    if len(reports) < needed:
        return flags
    for i, grams in enumerate(grams_of):
        if len(grams) >= 8:  # a heading or a one-line fact is too short to call furniture
            common = sum(1 for gram in grams if len(holders[gram]) >= needed)
            # A figure of this report's own (not a phone number or a year every report prints) is a fact.
            own = any(len(figures[f]) < needed for f in re.findall(r"\d[\d.,]*%?", passages[i].text))
            flags[i] = common >= share * len(grams) and not own
    return flags


def shingles(text: str) -> set[str]:
    """Word trigrams of a text: what "nearly the same wording" is measured in."""
    found = words(text)
    return {" ".join(found[i : i + 3]) for i in range(max(len(found) - 2, 1))}


def build_bm25(root: Path, passages: Sequence[Passage]) -> None:
    """Rebuild `root`/bm25 from every passage of the library."""
    if passages:
        BM25Store.build(passages).save(root / FOLDER)
    else:
        # bm25s cannot index nothing; an empty index has no keyword index, and readers know it.
        shutil.rmtree(root / FOLDER, ignore_errors=True)
