"""Extractive answers: the sentences of the retrieved passages that answer the question, each cited.

Written by hand: llama-index's response synthesizers all need an LLM, and the default answerer
must never write a claim the reports do not contain.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from assistant.conversation import Conversation, mentioned_councils
from assistant.index import Index
from assistant.retrieve import Filters, Retriever
from assistant.settings import Settings, load_settings
from assistant.types import Answer, Citation, Passage, SearchHit

# ---------------------------------------------------------------- question kinds

_KINDS: list[tuple[str, re.Pattern[str]]] = [
    ("when", re.compile(r"^\s*(?:and\s+)?when\b|\bwhat (?:date|day|month|year|time)\b|\bwhich (?:date|month|year)\b|\bhow soon\b|\bby when\b|\bdue\b.*\?$", re.I)),
    ("who", re.compile(r"^\s*(?:and\s+)?(?:who|whom|whose)\b|\bwhich (?:officer|officers|person|people|director|member)\b|\bname of\b", re.I)),
    ("number", re.compile(r"\bhow (?:many|much|long|far|often)\b|\bwhat (?:percentage|proportion|share|number|figure|rate)\b|\b(?:rate|percentage|cost|budget|number of)\b", re.I)),
    ("judgement", re.compile(r"\b(?:grade|graded|judgement|judgment|judged|rated|rating|verdict|outcome)\b", re.I)),
    ("list", re.compile(r"\bwhat (?:areas|priorities|strengths|weaknesses|actions|recommendations|improvements|measures|changes|findings|examples)\b|\bwhich (?:areas|priorities)\b|\blist\b|\bwhat are the\b", re.I)),
    ("commitment", re.compile(r"\b(?:plan(?:ned|ning|s)? to|planned|planning|promis\w*|commit\w*|will|going to|intend\w*|scheduled|next|upcoming|future|due to)\b", re.I)),
]
_COMPARE = re.compile(r"\b(?:compare|comparison|versus|vs\.?|differ|each council|both)\b", re.I)

_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)"
_DATE = re.compile(
    rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)?(?:\s*(?:/|-|and|to)\s*\d{{1,2}}(?:st|nd|rd|th)?)?\s+{_MONTH}(?:\s+\d{{4}})?"
    rf"|{_MONTH}\s+\d{{4}}|{_MONTH}\b|(?:early|late|end|start|beginning|middle|first half|second half|spring|summer|autumn|winter)\s+(?:of\s+)?(?:the\s+)?(?:\d{{4}}|year)"
    rf"|(?:in|during|by|from|until|since|toward|towards)\s+(?:the\s+)?(?:end of\s+)?\d{{4}}|\d{{1,2}}/\d{{1,2}}(?:/\d{{2,4}})?|\bQ[1-4]\b)",
)
_NUMBER = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|half|quarter|dozen)\b", re.I)
_MONEY = re.compile(r"£\s?\d|\d\s?(?:k|m|bn|million|billion|thousand)\b|\bpounds\b", re.I)
_GRADE = re.compile(r"\b(?:inadequate|requires? improvement(?: to be good)?|good|outstanding)\b", re.I)
_FUTURE = re.compile(
    r"\b(?:will|shall|is to|are to|to be|going to|planned|planning|plans? to|scheduled|expected|due|intend\w*|"
    r"aim\w* to|next|forthcoming|upcoming|being (?:completed|developed|launched|introduced|prepared)|from (?:April|May|June|July|September|January)\s+\d{4})\b",
    re.I,
)
_NAME = re.compile(r"\b([A-Z][a-z]+(?:[- ][A-Z][a-z]+){1,2})\b")
_ROLE_WORDS = {
    "chief", "executive", "director", "leader", "member", "members", "cabinet", "officer", "officers",
    "commissioner", "adviser", "advisor", "manager", "chair", "chairman", "head", "lead", "inspector",
    "minister", "councillor", "mayor", "secretary", "board",
}
_NOT_NAMES = {
    "County", "Council", "Children", "Services", "Ofsted", "Department", "Education", "Cabinet", "Member",
    "Director", "Executive", "Chief", "Board", "Panel", "Committee", "Improvement", "Plan", "Youth",
    "Social", "Work", "Offer", "Family", "Front", "Door", "Care", "Trust", "Programme", "Report",
    "Scrutiny", "Officers", "Officer", "Overview", "Commissioner", "Adviser", "Leader", "Business",
    "Manager", "Lead", "Senior", "Assistant", "Safeguarding", "Partner", "Practice", "Monitoring",
    "Visit", "Review", "The", "Our", "His", "Her", "Mr", "Mrs", "Ms", "Councillor", "Local", "Authority",
}

_STOP = {
    "a", "an", "the", "of", "to", "in", "on", "for", "and", "or", "is", "are", "was", "were", "be",
    "been", "did", "do", "does", "what", "when", "who", "whom", "whose", "which", "how", "why", "where",
    "it", "its", "this", "that", "these", "those", "with", "by", "at", "from", "as", "about", "has",
    "have", "had", "any", "there", "their", "they", "them", "s", "many", "much", "pls", "please",
    "quick", "tell", "me", "i", "we", "our", "us", "you", "your", "can", "could", "would", "should",
    "will", "going", "get", "got", "into", "after", "before", "under", "over", "than", "then", "so",
    "also", "do", "doing", "done", "say", "said", "says", "report", "reports", "council", "county",
}


def question_kind(question: str, councils_named: int = 0) -> str:
    if councils_named >= 2 or _COMPARE.search(question):
        return "compare"
    for kind, pattern in _KINDS:
        if pattern.search(question):
            return kind
    return "fact"


# ---------------------------------------------------------------- evidence units


@dataclass
class Unit:
    """A sentence or list item of a passage, with its span in the passage text."""

    hit: SearchHit
    start: int
    end: int
    bullet: bool
    lead_in: bool
    score: float = 0.0
    lexical: float = 0.0

    @property
    def passage(self) -> Passage:
        return self.hit.passage

    @property
    def text(self) -> str:
        return self.hit.passage.text[self.start : self.end]


_BULLET = re.compile(r"^\s*(?:[-•*–]\s+)?(?:\(?(?:[a-z]|[ivx]{1,4})\)\s+)?")
_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")


@lru_cache(maxsize=1)
def _segmenter() -> Any:
    import pysbd

    return pysbd.Segmenter(language="en", clean=False, char_span=True)


@lru_cache(maxsize=20000)
def _unit_spans(text: str) -> tuple[tuple[int, int, bool, bool], ...]:
    """(start, end, is_bullet, is_lead_in) for each sentence or list item of a passage."""
    spans: list[tuple[int, int, bool, bool]] = []
    offset = 0
    for line in text.split("\n"):
        line_start = offset
        offset += len(line) + 1
        if not line.strip():
            continue
        marker = _BULLET.match(line)
        is_bullet = bool(marker and marker.end() > 0 and re.match(r"^\s*(?:[-•*–]|\(?[a-z]{1,4}\))\s", line))
        body_start = line_start + (marker.end() if is_bullet and marker else len(line) - len(line.lstrip()))
        body = text[body_start : line_start + len(line)].rstrip()
        if not body:
            continue
        if is_bullet and len(body) < 400:
            spans.append((body_start, body_start + len(body), True, False))
            continue
        for sentence in _segmenter().segment(body):
            s = sentence.sent.strip()
            if not s:
                continue
            start = body_start + sentence.start + (len(sentence.sent) - len(sentence.sent.lstrip()))
            spans.append((start, start + len(s), is_bullet, False))
    if spans:
        last_lead = None
        for i, (start, end, bullet, _) in enumerate(spans):
            if not bullet and text[start:end].rstrip().endswith(":") and i + 1 < len(spans) and spans[i + 1][2]:
                last_lead = i
        if last_lead is not None:
            s, e, b, _ = spans[last_lead]
            spans[last_lead] = (s, e, b, True)
    return tuple(spans)


def units_of(hit: SearchHit) -> list[Unit]:
    return [Unit(hit, s, e, b, lead) for s, e, b, lead in _unit_spans(hit.passage.text)]


# ---------------------------------------------------------------- scoring


def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def terms(text: str) -> list[str]:
    return [_stem(w) for w in _WORD.findall(text.lower().replace("’", "'")) if w not in _STOP]


@dataclass
class Evidence:
    """How well the best unit answers: the refusal decision reads this."""

    score: float
    coverage: float
    typed: bool


class ExtractiveAnswerer:
    """Picks and cites the sentences that answer; refuses when the evidence is weak."""

    def __init__(self, settings: Settings, idf: Any = None) -> None:
        self.settings = settings
        self.idf = idf or (lambda term: 1.0)

    # -- scoring

    def _score(self, units: list[Unit], question: str, kind: str) -> None:
        q_terms = list(dict.fromkeys(terms(question)))
        weights = {t: self.idf(t) for t in q_terms}
        total = sum(weights.values()) or 1.0
        role_terms = {t for t in q_terms if t in {_stem(r) for r in _ROLE_WORDS}}
        for unit in units:
            u_terms = set(terms(unit.text))
            context = set(terms(f"{unit.passage.section} {unit.passage.council} {unit.passage.title}"))
            matched = sum(w for t, w in weights.items() if t in u_terms)
            in_context = sum(w for t, w in weights.items() if t not in u_terms and t in context)
            unit.lexical = (matched + 0.5 * in_context) / total
            dense = unit.hit.dense_score or 0.0
            rank_prior = 1.0 / (1.0 + 0.3 * (unit.hit.rank - 1))
            bonus = 0.15 if self._typed(unit, kind, question, role_terms) else 0.0
            if kind == "commitment" and _FUTURE.search(unit.text):
                bonus += 0.1
            if unit.lead_in and kind != "list":
                bonus -= 0.1
            unit.score = 0.55 * unit.lexical + 0.3 * dense + 0.15 * rank_prior + bonus

    def _typed(self, unit: Unit, kind: str, question: str, role_terms: set[str]) -> bool:
        """Does the unit hold the kind of fact the question asks for?"""
        text = unit.text
        if kind == "when":
            return bool(_DATE.search(text))
        if kind == "number":
            if re.search(r"\b(?:cost|budget|spend|price|funding)\b", question, re.I) and re.search(r"\bhow much\b|\bcost\b", question, re.I):
                return bool(_MONEY.search(text))
            return bool(_NUMBER.search(text))
        if kind == "who":
            return _names_role(text, role_terms)
        if kind == "judgement":
            return bool(_GRADE.search(text))
        if kind == "commitment":
            return bool(_FUTURE.search(text))
        return True

    # -- composing

    def answer(self, question: str, hits: Sequence[SearchHit], *, kind: str, councils: list[str]) -> tuple[str, list[Citation], Evidence]:
        units = [u for hit in hits for u in units_of(hit)]
        if not units:
            return "", [], Evidence(0.0, 0.0, False)
        self._score(units, question, kind)
        ranked = sorted(units, key=lambda u: -u.score)
        if kind == "compare" and len(councils) >= 2:
            return self._compare(question, ranked, councils)
        best = ranked[0]
        typed_kind = kind if kind != "compare" else question_kind(question)
        role_terms = {t for t in terms(question) if t in {_stem(r) for r in _ROLE_WORDS}}
        evidence = Evidence(best.score, best.lexical, self._typed(best, typed_kind, question, role_terms))
        chosen = [best]
        if kind == "list":
            chosen = self._list_block(best, units)
        elif kind == "when" and not _DATE.search(best.text):
            dated = [u for u in ranked[:8] if u.passage.id == best.passage.id and _DATE.search(u.text)]
            if dated:
                chosen.append(dated[0])
        else:
            second = ranked[1] if len(ranked) > 1 else None
            if (
                second is not None
                and second.passage.id == best.passage.id
                and second.score >= 0.9 * best.score
                and abs(second.start - best.end) < 3
            ):
                chosen.append(second)
        return self._compose(chosen) + (evidence,)

    def _list_block(self, best: Unit, units: list[Unit]) -> list[Unit]:
        same = [u for u in units if u.passage.id == best.passage.id]
        items = [u for u in same if u.bullet]
        if not items or (not best.bullet and not best.lead_in and best.lexical > 0.6):
            return [best]
        lead = [u for u in same if u.lead_in]
        return (lead[:1] + items)[:12]

    def _compose(self, chosen: list[Unit]) -> tuple[str, list[Citation]]:
        citations: list[Citation] = []
        numbers: dict[str, int] = {}
        groups: dict[str, list[Unit]] = {}
        for unit in sorted(chosen, key=lambda u: (chosen.index(u) if not u.bullet else 999, u.start)):
            groups.setdefault(unit.passage.id, []).append(unit)
        parts: list[str] = []
        for pid, group in groups.items():
            group.sort(key=lambda u: u.start)
            passage = group[0].passage
            n = numbers.setdefault(pid, len(numbers) + 1)
            quote = passage.text[group[0].start : group[-1].end]
            citations.append(Citation.from_passage(n, passage, quote))
            if any(u.bullet for u in group):
                lines = [u.text if not u.bullet else f"- {u.text.rstrip(';,. ')}" for u in group]
                head = lines[0] if not group[0].bullet else ""
                items = lines[1:] if head else lines
                parts.append((head + "\n" if head else "") + "\n".join(items) + f" [{n}]")
            else:
                parts.append(" ".join(u.text for u in group) + f" [{n}]")
        return "\n".join(parts) if any("\n" in p for p in parts) else " ".join(parts), citations

    def _compare(self, question: str, ranked: list[Unit], councils: list[str]) -> tuple[str, list[Citation], Evidence]:
        inner = question_kind(re.sub(_COMPARE, "", question))
        role_terms: set[str] = set()
        parts: list[str] = []
        citations: list[Citation] = []
        scores: list[float] = []
        for council in councils:
            mine = [u for u in ranked if u.passage.council == council]
            if not mine:
                continue
            typed = [u for u in mine if self._typed(u, inner, question, role_terms)]
            best = (typed or mine)[0]
            n = len(citations) + 1
            citations.append(Citation.from_passage(n, best.passage, best.text))
            label = f"{council} ({_report_label(best.passage)})"
            parts.append(f"{label}: {best.text} [{n}]")
            scores.append(best.score)
        if not parts:
            return "", [], Evidence(0.0, 0.0, False)
        best_score = min(scores) if len(scores) == len(councils) else 0.0
        return "\n".join(parts), citations, Evidence(best_score, 1.0, True)


def _report_label(passage: Passage) -> str:
    title = passage.title if len(passage.title) <= 60 else passage.title[:57].rstrip() + "…"
    return f"{title}, {passage.date}" if passage.date else title


def _names_role(text: str, role_terms: set[str]) -> bool:
    """A person's name stands in the sentence, next to the role asked about (if any)."""
    names = [m for m in _NAME.finditer(text) if not (set(m.group(1).replace("-", " ").split()) & _NOT_NAMES)]
    if not names:
        return False
    if not role_terms:
        return True
    words = [(m.start(), m.end(), _stem(m.group(0).lower())) for m in re.finditer(r"[A-Za-z]+", text)]
    role_positions = [i for i, (_, _, w) in enumerate(words) if w in role_terms]
    if not role_positions:
        return False
    for name in names:
        name_index = next((i for i, (s, _, _) in enumerate(words) if s >= name.start()), None)
        if name_index is None:
            continue
        for pos in role_positions:
            low, high = sorted((pos, name_index))
            between = {w for _, _, w in words[low + 1 : high]}
            other_roles = {_stem(r) for r in _ROLE_WORDS} - role_terms
            if high - low <= 6 and not (between & other_roles):
                return True
    return False


# ---------------------------------------------------------------- engine


class Engine:
    """Retrieval plus answering, shared by the CLI, the chat and the UI."""

    def __init__(self, settings: Settings | None = None, *, index: Index | None = None) -> None:
        self.settings = settings or load_settings()
        self.index = index or Index(self.settings)
        self.retriever = Retriever(self.index, self.settings)
        self.answerer = ExtractiveAnswerer(self.settings, idf=self._idf)

    def _idf(self, term: str) -> float:
        df = self.index.bm25.doc_freq(term)
        n = max(len(self.index.bm25.ids), 1)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def councils(self) -> list[str]:
        return sorted({e.get("council", "") for e in self.index.reports.values()} - {""})

    def conversation(self, filters: Filters | None = None) -> Conversation:
        return Conversation(self, filters=filters or Filters())

    def _plan(self, standalone: str, filters: Filters) -> tuple[str, list[str], Filters]:
        """Kind of question, councils it names, and the filters retrieval applies."""
        named = mentioned_councils(standalone, self.councils())
        kind = question_kind(standalone, len(named))
        if named and not filters.councils:
            filters = filters.model_copy(update={"councils": named})
        return kind, named, filters

    def retrieve(self, standalone: str, filters: Filters | None = None, *, k: int | None = None) -> list[SearchHit]:
        """The passages an answer is drawn from (a question naming councils searches only those)."""
        kind, named, search_filters = self._plan(standalone, filters or Filters())
        k = k or max(self.settings.top_k, 8)
        if kind == "compare" and len(named) >= 2:
            per_council = [
                self.retriever.search(standalone, k=max(k // len(named), 4), filters=search_filters.model_copy(update={"councils": [c]}))
                for c in named
            ]
            # Interleave so each council's best passages come first.
            merged = [hit for group in zip(*per_council) for hit in group]
            merged += [hit for group in per_council for hit in group if hit not in merged]
            return merged[:k]
        return self.retriever.search(standalone, k=k, filters=search_filters)

    def answer(self, question: str, *, standalone: str | None = None, filters: Filters | None = None) -> Answer:
        started = time.perf_counter()
        standalone = standalone or question
        filters = filters or Filters()
        kind, named, search_filters = self._plan(standalone, filters)
        hits = self.retrieve(standalone, filters)
        text, citations, evidence = self.answerer.answer(standalone, hits, kind=kind, councils=named)
        refused = (not citations) or evidence.score < self.settings.refusal_threshold or not evidence.typed
        if refused:
            text = "The reports do not answer this question. The closest passages are listed below."
            citations = []
        return Answer(
            question=question,
            standalone_question=standalone,
            answer=text,
            refused=refused,
            citations=citations,
            closest=hits[:3] if refused else [],
            kind=kind,
            filters=search_filters.model_dump(exclude_defaults=True),
            latency_ms=round((time.perf_counter() - started) * 1000, 1),
        )


def ask(question: str, *, settings: Settings | None = None, index: Index | None = None, filters: Filters | None = None) -> Answer:
    """Answer one question on its own."""
    return Engine(settings, index=index).answer(question, filters=filters)
