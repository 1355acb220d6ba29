"""The keyword index: bm25s over every passage, with the fields to filter by and the boilerplate flags.

It lives in the index folder under bm25/ and is rebuilt from all passages after each commit
(assistant/index/derived.py); hybrid retrieval (assistant/retrieval/search.py) searches it.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from assistant.errors import AssistantError, IndexNotReady
from assistant.files import replace_path
from assistant.index.vocabulary import defined_abbreviations, vocabulary
from assistant.text import Normaliser, words
from assistant.types import Filters, Passage, date_bounds

if TYPE_CHECKING:
    import bm25s

FOLDER = "bm25"
# Every passage as JSON, one a line, in the order of `ids`, and where each line starts (one more: the end).
PASSAGES_FILE = "passages.jsonl"
OFFSETS_FILE = "offsets.npy"
# Filter masks remembered per keyword index (each one float32 per passage: 4 MB at a million).
CACHED_MASKS = 16

# How bm25s splits text into words (bm25s.tokenize's default pattern), for questions read without bm25s.
TOKEN = re.compile(r"(?u)\b\w\w+\b")
# Scoring methods whose absent words add nothing: their sums can be made from the saved postings alone.
PLAIN_METHODS = ("robertson", "lucene", "atire")


@dataclass(frozen=True)
class Postings:
    """bm25s's saved score matrix (a word's column: the passages holding it and their scores), read with numpy.

    Questions are scored from these arrays alone because importing bm25s loads scipy, ~0.2 s of a
    one-shot `assistant ask`; building the index still goes through bm25s.
    """

    vocab: dict[str, int]
    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    num_docs: int
    dtype: str

    @classmethod
    def of(cls, retriever: bm25s.BM25) -> Postings | None:
        if retriever.nonoccurrence_array is not None:
            return None  # BM25L/BM25+ add a score to every passage: bm25s scores those
        index = retriever.scores
        return cls(retriever.vocab_dict, index["data"], index["indices"], index["indptr"], int(index["num_docs"]), str(retriever.dtype))

    @classmethod
    def read(cls, folder: Path) -> Postings | None:
        """The arrays bm25s saved in `folder`, memory-mapped; None when its method needs bm25s itself."""
        params = json.loads((folder / "params.index.json").read_text(encoding="utf-8"))
        if params.get("method") not in PLAIN_METHODS:
            return None
        arrays = {name: np.load(folder / f"{name}.csc.index.npy", mmap_mode="r") for name in ("data", "indices", "indptr")}
        vocab = json.loads((folder / "vocab.index.json").read_text(encoding="utf-8"))
        return cls(vocab, arrays["data"], arrays["indices"], arrays["indptr"], int(params["num_docs"]), str(params["dtype"]))

    def scores(self, words: list[str]) -> np.ndarray:
        """Adds each word's posting list straight from the arrays: the same sums bm25s makes (word by word,
        in its dtype), without its per-element np.add.at, which dominated a query at scale."""
        scores = np.zeros(self.num_docs, dtype=np.dtype(self.dtype))
        for word in words:
            token = self.vocab.get(word)
            if token is None:
                continue
            start, end = int(self.indptr[token]), int(self.indptr[token + 1])
            # A word's postings name each passage once, so fancy-index addition equals np.add.at.
            scores[self.indices[start:end]] += self.data[start:end]
        return scores


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
        *,
        postings: Postings | None = None,
        stopwords: Sequence[str] | None = None,
    ) -> None:
        self.retriever = retriever  # bm25s's index: kept when built (to save) or when its method needs it
        self.postings = postings or (Postings.of(retriever) if retriever is not None else None)
        self.stopwords = frozenset(stopwords) if stopwords is not None else None  # None: an index saved without them
        self.ids = ids
        self.meta = meta
        self.names = names
        self.df = df
        self.vocab = vocab or {}
        self.abbreviations = abbreviations or {}
        self.stemmer = Normaliser()
        self._positions: dict[str, int] | None = None
        self._masks: dict[str, np.ndarray] = {}
        self.folder: Path | None = None  # where it was loaded from: passages are read from there
        self._built: Sequence[Passage] = ()  # the passages it was built from, until saved
        self._offsets: np.ndarray | None = None

    @classmethod
    def empty(cls) -> BM25Store:
        """The keyword index of an empty library (or one searched by meaning alone): finds nothing."""
        return cls(None, [], {}, {"council": [], "source": []}, {})

    def position(self, passage_id: str) -> int | None:
        """Where a passage stands in the index's arrays (None: not in this keyword index)."""
        if self._positions is None:
            self._positions = {pid: i for i, pid in enumerate(self.ids)}
        return self._positions.get(passage_id)

    def is_boilerplate(self, passage_id: str) -> bool:
        """Text that recurs across many reports (footers, addresses, standard wording)."""
        flags = self.meta.get("boilerplate")
        i = self.position(passage_id)
        return bool(flags is not None and i is not None and i < len(flags) and flags[i])

    def boilerplate_ids(self) -> list[str]:
        """Every passage flagged as standard wording."""
        flags = self.meta.get("boilerplate")
        return [] if flags is None else [self.ids[i] for i in np.flatnonzero(flags[: len(self.ids)])]

    def passages(self, ids: Sequence[str]) -> dict[str, Passage]:
        """The passages of these ids, read from the index's own copy (ids it lacks are left out).

        Rows' text and metadata read from Chroma cost more than the nearest-neighbour search itself
        (~15 ms for 40 rows at 100k passages); here each is one read at a known offset.
        """
        found: dict[str, Passage] = {}
        if self.folder is None or not ids:
            return found
        path = self.folder / PASSAGES_FILE
        try:
            if self._offsets is None:
                self._offsets = np.load(self.folder / OFFSETS_FILE, mmap_mode="r")
            offsets = self._offsets
            with path.open("rb") as handle:
                for pid in ids:
                    i = self.position(pid)
                    if i is None or i + 1 >= len(offsets):
                        continue
                    handle.seek(int(offsets[i]))
                    passage = Passage.model_validate_json(handle.read(int(offsets[i + 1] - offsets[i])))
                    if passage.id == pid:
                        found[pid] = passage
        except (OSError, ValueError):
            return {}  # an index saved before passages were kept with it: the caller asks Chroma
        return found

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
        store = cls(retriever, [p.id for p in passages], meta, names, df, vocab, defined_abbreviations(texts))
        store._built = passages
        return store

    def save(self, folder: Path) -> None:
        """Write beside the old index, then swap folders, so a reader never sees half of one."""
        tmp = folder.with_name(folder.name + ".tmp")
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        assert self.retriever is not None, "an empty keyword index is never saved (build_bm25 removes it)"
        from bm25s.stopwords import STOPWORDS_EN  # the list `stopwords="en"` built with: questions drop the same

        self.retriever.save(str(tmp / "bm25s"))
        (tmp / "ids.json").write_text(json.dumps(
                {"ids": self.ids, "names": self.names, "df": self.df, "vocab": self.vocab, "abbreviations": self.abbreviations,
                 "stopwords": sorted(STOPWORDS_EN)}
            ), encoding="utf-8")
        np.savez(tmp / "meta.npz", **self.meta)  # type: ignore[arg-type]  # numpy's stub types **kwds as bool
        offsets = [0]
        with (tmp / PASSAGES_FILE).open("wb") as out:
            for passage in self._built:
                offsets.append(offsets[-1] + out.write(passage.model_dump_json().encode("utf-8") + b"\n"))
        np.save(tmp / OFFSETS_FILE, np.array(offsets, dtype=np.int64))
        replace_path(tmp, folder)

    @classmethod
    def load(cls, folder: Path) -> BM25Store:
        """The saved index; a missing or damaged one is an error that says how to rebuild it."""
        if not (folder / "ids.json").is_file():
            raise IndexNotReady(f"the keyword index {folder} is missing; run `assistant ingest` to rebuild it")
        try:
            postings = Postings.read(folder / "bm25s")
            retriever = None
            if postings is None:
                import bm25s

                retriever = bm25s.BM25.load(str(folder / "bm25s"), mmap=True)
            data = json.loads((folder / "ids.json").read_text(encoding="utf-8"))
            with np.load(folder / "meta.npz") as npz:
                meta = {k: npz[k] for k in npz.files}
        except (OSError, ValueError, KeyError) as exc:
            raise AssistantError(f"the keyword index {folder} is damaged ({exc}); run `assistant ingest` to rebuild it") from None
        store = cls(
            retriever, data["ids"], meta, data["names"], data["df"], data.get("vocab"), data.get("abbreviations"),
            postings=postings, stopwords=data.get("stopwords"),
        )
        store.folder = folder
        return store

    def mask(self, filters: Filters) -> np.ndarray | None:
        """Which passages the filters keep (1.0) or drop (0.0); None keeps all. The last few are remembered:
        a conversation, and a question searched several ways, repeat their filters."""
        if filters.is_empty():
            return None
        key = filters.model_dump_json()
        cached = self._masks.get(key)
        if cached is not None:
            return cached
        keep = np.ones(len(self.ids), dtype=bool)
        if filters.councils:
            councils = set(filters.councils)
            codes = [i for i, c in enumerate(self.names["council"]) if c in councils]
            keep &= np.isin(self.meta["council"], codes)
        if filters.sources:
            sources = set(filters.sources)
            codes = [i for i, s in enumerate(self.names["source"]) if s in sources]
            keep &= np.isin(self.meta["source"], codes)
        low, high = filters.bounds()
        if filters.date_from:
            keep &= self.meta["date_to"] >= low
        if filters.date_to:
            keep &= (self.meta["date_from"] <= high) & (self.meta["date_from"] > 0)
        return self._remember(key, keep.astype(np.float32))

    def rows(self, filters: Filters) -> np.ndarray:
        """Which passages Chroma's `where` clause for these filters keeps (assistant/index/chroma.py where_clause):
        as `mask`, except that an undated passage passes an upper date bound there."""
        key = "rows " + filters.model_dump_json()
        cached = self._masks.get(key)
        if cached is None:
            keep = np.ones(len(self.ids), dtype=bool)
            if filters.councils:
                councils = set(filters.councils)
                keep &= np.isin(self.meta["council"], [i for i, c in enumerate(self.names["council"]) if c in councils])
            if filters.sources:
                sources = set(filters.sources)
                keep &= np.isin(self.meta["source"], [i for i, s in enumerate(self.names["source"]) if s in sources])
            low, high = filters.bounds()
            if filters.date_from:
                keep &= self.meta["date_to"] >= low
            if filters.date_to:
                keep &= self.meta["date_from"] <= high
            cached = self._remember(key, keep)
        return cached

    def _remember(self, key: str, mask: np.ndarray) -> np.ndarray:
        if len(self._masks) >= CACHED_MASKS:
            self._masks.pop(next(iter(self._masks)))
        self._masks[key] = mask
        return mask

    def scores(self, words: list[str], mask: np.ndarray | None = None) -> np.ndarray:
        """BM25 score of every passage for the query's words (0 where the mask drops it)."""
        if self.postings is None:
            assert self.retriever is not None
            return self.retriever.get_scores(words, weight_mask=mask)
        scores = self.postings.scores(words)
        if mask is not None:
            scores *= mask
        return scores

    def words(self, query: str) -> list[str]:
        """A question's words as the index holds them: bm25s's split, its English stopwords dropped, stemmed."""
        if self.stopwords is None:  # saved before the stopwords were: ask bm25s
            import bm25s

            tokens = bm25s.tokenize([query], stopwords="en", stemmer=self.stemmer, show_progress=False, return_ids=False)
            return list(tokens[0]) if tokens else []
        return self.stemmer.stemWords([w for w in TOKEN.findall(query.lower()) if w not in self.stopwords])

    def search(self, query: str, k: int, filters: Filters | None = None) -> list[tuple[str, float]]:
        return self.search_words(self.words(query), k, filters)

    def search_words(self, words: list[str], k: int, filters: Filters | None = None) -> list[tuple[str, float]]:
        """The best `k` passages for words as `words` gives them (repeated words count again)."""
        if not self.ids or (self.postings is None and self.retriever is None):
            return []
        if not words:
            return []
        mask = self.mask(filters) if filters else None
        scores = self.scores(words, mask)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]


def _structural(passage: Passage) -> bool:
    """A table, or a heading that states a finding ("… care leavers: good"): recurring wording, own facts."""
    heading = " ".join(passage.section.rsplit(" › ", 1)[-1].split())
    return passage.paragraph.startswith("table") or heading == " ".join(passage.text.split()).rstrip(":")


def boilerplate(passages: Sequence[Passage], share: float = 0.8) -> np.ndarray:
    """Flag passages most of whose wording recurs in many other reports.

    Read from the library itself, not from a list of phrases: publisher footers, contact blocks
    and standard method text repeat nearly word for word across reports of one publisher, while a
    finding does not. Tables are never flagged: a judgement table's wording recurs, its grades do not.
    """
    reports = {p.source for p in passages}
    # Recurring in a tenth of the library (and at least three reports) is what standard text does.
    needed = max(3, len(reports) // 10)
    flags = np.zeros(len(passages), dtype=bool)
    if len(reports) < needed:
        return flags
    # How many reports hold each trigram and figure, counted a report at a time (passages grouped by
    # report) so no set of reports per trigram, and no trigrams per passage, is kept: at a million
    # passages those took more memory than the machine has. Figures stay in: a templated sentence
    # with this report's own numbers is a fact, not furniture.
    order = sorted(range(len(passages)), key=lambda i: passages[i].source)
    holders: dict[str, int] = {}
    figures: dict[str, int] = {}
    last: dict[str, str] = {}
    for i in order:
        passage = passages[i]
        source = passage.source
        for gram in set() if _structural(passage) else shingles(passage.text):
            if last.get(gram) != source:
                last[gram] = source
                holders[gram] = holders.get(gram, 0) + 1
        for figure in set(_figures(passage.text)):
            key = "\0" + figure  # figures and trigrams share `last`: a figure is never a trigram
            if last.get(key) != source:
                last[key] = source
                figures[figure] = figures.get(figure, 0) + 1
    del last
    dated = max(needed, len(reports) // 4)
    for i, passage in enumerate(passages):
        grams = set() if _structural(passage) else shingles(passage.text)
        if len(grams) >= 8:  # a heading or a one-line fact is too short to call furniture
            common = sum(1 for gram in grams if holders[gram] >= needed)
            # A figure of this report's own (not a phone number or a year every report prints) is a fact.
            # Dates cluster (inspections come in rounds), so a month shared by a tenth of the library is
            # still a coincidence; a date printed by a template is in far more.
            own = any(figures[f] < (dated if f[0].isalpha() else needed) for f in _figures(passage.text))
            flags[i] = common >= share * len(grams) and not own
    return flags


_MONTH_YEAR = re.compile(r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(?:19|20)\d\d\b", re.I)


def _figures(text: str) -> list[str]:
    """Numbers and dates a passage states, bare years aside: "© Crown copyright 2026" is shared by a year's
    reports, while "in post since May 2015" is this report's fact."""
    numbers = [f for f in re.findall(r"\d[\d.,]*%?", text) if not re.fullmatch(r"(?:19|20)\d\d", f)]
    return numbers + [" ".join(d.lower().split()) for d in _MONTH_YEAR.findall(text)]


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


def stage_bm25(root: Path, passages: Sequence[Passage], folder: Path) -> None:
    """Build the keyword index of `passages` into `folder`/bm25, to be moved into `root` (nothing for no passages)."""
    if passages:
        BM25Store.build(passages).save(folder / FOLDER)
