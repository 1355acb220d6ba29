"""Extractive answers: the sentences of the retrieved passages that answer the question, each cited.

Written by hand: llama-index's response synthesizers all need an LLM, and the default answerer
must never write a claim the reports do not contain.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from assistant.answer.followups import Conversation
from assistant.answer.scope import read_scope, report_prior, reports_of_years, search_text
from assistant.councils import gazetteer
from assistant.documents.passages import unit_spans
from assistant.index.index import Index
from assistant.retrieval.search import Filters, Retriever
from assistant.retrieval.spelling import mend_question
from assistant.settings import Settings, load_settings
from assistant.text import stem as _stem
from assistant.text import terms
from assistant.types import Answer, Citation, Passage, SearchHit

log = logging.getLogger(__name__)
REFUSAL = "The reports do not answer this question. The closest passages are listed below."

# ---------------------------------------------------------------- question kinds

_MONEY_WORDS = r"\b(?:cost|costs|budget|salary|salaries|spend|spending|funding|funded|price|fee|fees|grant)\b"
_FREQUENCY = re.compile(r"\b(?:quarterly|monthly|weekly|daily|annually|yearly|fortnightly|every|each (?:week|month|quarter|year)|times a|per (?:week|month|year)|regular(?:ly)?)\b", re.I)

_KINDS: list[tuple[str, re.Pattern[str]]] = [
    ("when", re.compile(r"^\s*(?:and\s+)?when\b|\bwhat (?:date|day|month|year|time)\b|\bwhich (?:date|month|year)\b|\bhow soon\b|\bby when\b|\bsince when\b|\bwhen (?:was|is|were|did|does|will|are)\b|\bdates\b|\bdue\b.*\?$", re.I)),
    ("who", re.compile(r"^\s*(?:and\s+)?(?:who|whom|whose)\b|\bwhich (?:officer|officers|person|people|director|member)\b|\bname of\b|\b(?:inspector|director|chair|chief executive|leader|commissioner|manager)s?\s*\??\s*$", re.I)),
    ("number", re.compile(r"\bhow (?:many|much|long|far|often|high|low|big|large)\b|\bwhat (?:percentage|proportion|share|number|figure|rate)\b|\b(?:rate|percentage|numbers?|proportion|%)|" + _MONEY_WORDS, re.I)),
    ("judgement", re.compile(r"\b(?:grade|graded|judge|judgement|judgment|judged|rated|rating|verdict|outcome)\b", re.I)),
    ("list", re.compile(r"\bwhat (?:areas|priorities|strengths|weaknesses|actions|recommendations|improvements|measures|changes|findings|examples)\b|\bwhich (?:areas|priorities)\b|\blist\b|\bwhat are the\b|\bneeds? (?:to )?improv\w*|\bto improve\b|\bareas? (?:for|of) (?:improvement|strength)\b", re.I)),
    ("commitment", re.compile(r"\b(?:plan(?:ned|ning|s)? to|planned|planning|promis\w*|commit\w*|will|going to|intend\w*|scheduled|next|upcoming|future|due to)\b", re.I)),
]
_COMPARE = re.compile(r"\b(?:compare|comparison|versus|vs\.?|differ|each council|both)\b", re.I)

_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)"
_DATE = re.compile(
    rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)?(?:\s*(?:/|-|and|to)\s*\d{{1,2}}(?:st|nd|rd|th)?)?\s+{_MONTH}(?:\s+\d{{4}})?"
    rf"|{_MONTH}\s+\d{{4}}|{_MONTH}\b|(?:early|late|end|start|beginning|middle|first half|second half|spring|summer|autumn|winter)\s+(?:of\s+)?(?:the\s+)?(?:\d{{4}}|year)"
    rf"|\b(?:19|20)\d{{2}}\b|\d{{1,2}}/\d{{1,2}}(?:/\d{{2,4}})?|\bQ[1-4]\b)",
)
_DATE_ANY_CASE = re.compile(
    r"\b\d{1,2}(?:st|nd|rd|th)?\s+(?:january|february|march|april|may|june|july|august|september|october|november|december)\b", re.I
)
_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")
_REFERENCE = re.compile(
    r"\b(?:appendix|appendices|annex|no\.|number|para(?:graph)?|item|page|section|table|extension|tel)\s*\d+(?:\s*(?:&|and|,)\s*\d+)*|\b\d{3,}[\s/]\d{3,}\b",
    re.I,
)
_NUMBER = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|half|quarter|dozen)\b", re.I)
_MONEY = re.compile(r"£\s?\d|\d\s?(?:k|m|bn|million|billion|thousand)\b|\bpounds\b", re.I)
_GRADE = re.compile(r"\b(?:inadequate|requires? improvement(?: to be good)?|good|outstanding)\b", re.I)
_FUTURE = re.compile(
    r"\b(?:will|shall|is to|are to|to be|going to|planned|planning|plans? to|scheduled|expected|due|intend\w*|"
    r"aim\w* to|hop(?:e|ing) to|next|forthcoming|upcoming|being (?:completed|developed|launched|introduced|prepared)|from (?:April|May|June|July|September|January)\s+\d{4})\b",
    re.I,
)
_NAME = re.compile(r"\b([A-Z][a-z]+(?:-[a-z]+)?(?:[- ](?:Mc|Mac|O')?[A-Z][a-z]+){1,2})\b")
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



def inner_kind(question: str) -> str:
    """The kind of a comparison's question, asked of each council."""
    return question_kind(_COMPARE.sub("", question))


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
    semantic: float | None = None
    raw_semantic: float = 0.0

    @property
    def passage(self) -> Passage:
        return self.hit.passage

    @property
    def text(self) -> str:
        return self.hit.passage.text[self.start : self.end]




def units_of(hit: SearchHit) -> list[Unit]:
    return [Unit(hit, s, e, b, lead) for s, e, b, lead in unit_spans(hit.passage.text)]


# ---------------------------------------------------------------- scoring


@lru_cache(maxsize=1)
def _role_stems() -> frozenset[str]:
    return frozenset(_stem(r) for r in _ROLE_WORDS)




@dataclass
class Evidence:
    """How well the chosen unit answers; the refusal decision reads this."""

    score: float
    coverage: float
    typed: bool


_CIRCUMSTANCE = re.compile(
    r"^\s*(?:after|before|during|following|since|in|under|at)\b[^,?]{3,60},|\b(?:during|after|before|since|following|under)\b[^,?]{3,60}\??\s*$"
    rf"|\b(?:in|on|during)\s+(?:\d{{1,2}}\s+)?{_MONTH}?\s*(?:19|20)\d{{2}}\??\s*$",
    re.I,
)
_CONTINUES = re.compile(r"^(?:he|she|it|they|this|these|in addition|also|further|furthermore|the (?:minister|commissioner|report|letter))\b", re.I)
_NUMERIC_KIND = re.compile(r"\b(?:rate|percentage|proportion|share|per ?cent)\b", re.I)


class ExtractiveAnswerer:
    """Picks and cites the sentences that answer; reports how strong the evidence is."""

    # lexical coverage, sentence similarity (normalised over candidates), passage similarity, rank
    # Tuned on the dev questions (a plateau, not a peak): words matter most, then meaning.
    weights = (0.5, 0.15, 0.05, 0.05)
    typed_bonus = 0.3

    def __init__(self, settings: Settings, idf: Any = None) -> None:
        self.settings = settings
        self.idf = idf or (lambda term: 1.0)

    # -- scoring

    def _question_weights(self, question: str, councils: list[str]) -> dict[str, float]:
        """Rarer words count more; named councils (already filtered on) and circumstances count less."""
        question = _COMPARE.sub(" ", question)  # "compare" frames the question; it is not its subject
        context = {t for m in _CIRCUMSTANCE.finditer(question) for t in terms(m.group(0))}
        council_terms = {t for c in councils for t in terms(c)}
        # Years and months place the question in time; the report prior and filters act on them,
        # so they should not make a report's dateline outscore its findings.
        time_terms = {t for m in _DATE_TERMS.finditer(question) for t in terms(m.group(0))}
        weights: dict[str, float] = {}
        for term in dict.fromkeys(terms(question)):
            if term in council_terms or term in time_terms:
                continue
            weights[term] = self.idf(term) * (0.3 if term in context else 1.0)
        return weights

    def _score(self, units: list[Unit], question: str, kind: str, councils: list[str]) -> None:
        weights = self._question_weights(question, councils)
        total = sum(weights.values()) or 1.0
        role_terms = {t for t in weights if t in _role_stems()}
        semantic = [u.semantic if u.semantic is not None else (u.hit.dense_score or 0.0) for u in units]
        low, high = min(semantic), max(semantic)
        for unit, sem in zip(units, semantic):
            u_terms = set(terms(unit.text))
            context = set(terms(f"{unit.passage.section} {unit.passage.title}"))
            matched = sum(w for t, w in weights.items() if t in u_terms)
            in_context = sum(w for t, w in weights.items() if t not in u_terms and t in context)
            unit.lexical = (matched + 0.5 * in_context) / total
            unit.raw_semantic = sem
            sem_n = (sem - low) / ((high - low) or 1.0)
            rank_prior = 1.0 / (1.0 + 0.3 * (unit.hit.rank - 1))
            bonus = self.typed_bonus if self._typed(unit, kind, question, role_terms) else 0.0
            if kind == "commitment" and not _FUTURE.search(unit.text):
                bonus = 0.0
            if unit.lead_in and kind != "list":
                bonus -= 0.1
            a, b, c, d = self.weights
            unit.score = a * unit.lexical + b * sem_n + c * (unit.hit.dense_score or 0.0) + d * rank_prior + bonus

    def _typed(self, unit: Unit, kind: str, question: str, role_terms: set[str]) -> bool:
        """Does the unit hold the kind of fact the question asks for?"""
        text = unit.text
        if kind == "when":
            return bool(_DATE.search(text))
        if kind == "number":
            undated = _YEAR.sub(" ", _DATE_ANY_CASE.sub(" ", _DATE.sub(" ", text)))
            if re.search(r"\bhow much\b|" + _MONEY_WORDS, question, re.I):
                return bool(_MONEY.search(undated))
            if re.search(r"\bhow often\b", question, re.I):
                return bool(_FREQUENCY.search(text))
            if _NUMERIC_KIND.search(question):
                return bool(re.search(r"\d\s?%|per ?cent|\bout of\b|\bin every\b|\bratio\b", undated, re.I))
            undated = _REFERENCE.sub(" ", undated)
            if re.search(r"\bhow long\b", question, re.I):
                # "for 18 months", or "in post since August 2023": a duration or its start.
                return bool(
                    re.search(rf"(?:{_NUMBER.pattern})\w*\s+(?:years?|months?|weeks?|days?)", undated, re.I)
                    or re.search(rf"\bsince\s+(?:\d{{1,2}}\s+)?{_MONTH}", text)
                )
            focus = _counted(question)
            if focus:
                return _number_near(undated, focus)
            return bool(_NUMBER.search(undated))
        if kind == "who":
            return _names_role(text, role_terms, {unit.passage.council})
        if kind == "judgement":
            return bool(_GRADE.search(text))
        if kind == "commitment":
            return bool(_FUTURE.search(text))
        return True

    def _evidence(self, unit: Unit, kind: str, question: str, councils: list[str]) -> Evidence:
        role_terms = {t for t in self._question_weights(question, councils) if t in _role_stems()}
        typed = self._typed(unit, kind, question, role_terms) if kind in ("when", "number", "who", "judgement") else True
        return Evidence(0.5 * unit.lexical + 0.5 * unit.raw_semantic, unit.lexical, typed)

    # -- choosing

    def answer(
        self,
        question: str,
        hits: Sequence[SearchHit],
        *,
        kind: str,
        councils: list[str],
        query_vector: np.ndarray | None = None,
        unit_vectors: dict[str, tuple[Any, np.ndarray]] | None = None,
    ) -> tuple[str, list[Citation], Evidence]:
        units = [u for hit in hits for u in units_of(hit)]
        if not units:
            return "", [], Evidence(0.0, 0.0, False)
        if query_vector is not None and unit_vectors:
            _attach_semantic(units, query_vector, unit_vectors)
        self._score(units, question, inner_kind(question) if kind == "compare" else kind, councils)
        ranked = sorted(units, key=lambda u: -u.score)
        if kind == "compare" and len(councils) >= 2:
            return self._compare(question, ranked, councils)
        if kind == "list":
            block, coverage = self._best_list(question, units, ranked[0], councils)
            if block:
                # A list under a heading the question echoes is evidence in itself, whatever its sentences score.
                evidence = self._evidence(ranked[0], kind, question, councils)
                evidence.score = max(evidence.score, coverage)
                return self._compose(block) + (evidence,)
        best = ranked[0]
        chosen = [best]
        if kind == "when" and not _DATE.search(best.text):
            dated = [u for u in ranked[:8] if u.passage.id == best.passage.id and _DATE.search(u.text)]
            chosen += dated[:1]
        else:
            chosen += self._continuation(best, units, ranked)
        return self._compose(chosen) + (self._evidence(best, kind, question, councils),)

    def _continuation(self, best: Unit, units: list[Unit], ranked: list[Unit]) -> list[Unit]:
        """The next sentence, when it carries on the same point and scores nearly as well."""
        same = [u for u in units if u.passage.id == best.passage.id and not u.bullet]
        following = next((u for u in same if u.start > best.end and u.start - best.end < 3), None)
        if following is None:
            return []
        if following.score >= 0.85 * best.score or (_CONTINUES.match(following.text) and following.score >= 0.7 * best.score):
            return [following]
        return []

    def _best_list(self, question: str, units: list[Unit], best: Unit, councils: list[str]) -> tuple[list[Unit], float]:
        """Lead-in and items of the list that, taken whole, covers the question best."""
        weights = self._question_weights(question, councils)
        total = sum(weights.values()) or 1.0
        blocks: dict[str, list[Unit]] = {}
        for unit in units:
            blocks.setdefault(unit.passage.id, []).append(unit)
        scored: list[tuple[float, float, float, list[Unit]]] = []
        for group in blocks.values():
            items = [u for u in group if u.bullet]
            if len(items) < 2:
                continue
            lead = [u for u in group if u.lead_in][:1]
            words = set(terms(" ".join(u.text for u in lead + items) + " " + group[0].passage.section))
            if _count_asked(question) == len(items):
                words |= set(terms(_NUMBER_WORDS[len(items)] if len(items) < len(_NUMBER_WORDS) else "")) | {str(len(items))}
            coverage = sum(w for t, w in weights.items() if t in words) / total
            heading = {t for t in terms(group[0].passage.section) if not t.isdigit()}  # footnote marks aside
            echo = len(heading & set(weights)) / len(heading) if len(heading) >= 2 else 0.0
            top = max(u.score for u in group) / (best.score or 1.0)
            # A list under a heading the question echoes is usually the answer in these reports.
            scored.append((0.4 * coverage + 0.3 * echo + 0.3 * top, coverage, echo, lead + items))
        if not scored:
            return [], 0.0
        _, coverage, echo, block = max(scored, key=lambda item: item[0])
        # Enough of the question's words, or a heading it echoes ("areas to improve" under "What needs
        # to improve?") and some of its words: a long preamble ("I'm a new member of …") dilutes coverage.
        if coverage < 0.5 and not (echo >= 0.5 and coverage >= 0.3) and not (echo == 1.0 and coverage >= 0.2):
            return [], 0.0
        return block[:13], max(coverage, echo * 0.5)

    def _compose(self, chosen: list[Unit]) -> tuple[str, list[Citation]]:
        citations: list[Citation] = []
        groups: dict[str, list[Unit]] = {}
        for unit in chosen:
            groups.setdefault(unit.passage.id, []).append(unit)
        parts: list[str] = []
        for n, group in enumerate(groups.values(), start=1):
            group.sort(key=lambda u: u.start)
            passage = group[0].passage
            citations.append(Citation.from_passage(n, passage, passage.text[group[0].start : group[-1].end]))
            if sum(u.bullet for u in group) >= 2:
                lines = [f"- {u.text.rstrip(';,. ')}" if u.bullet else u.text for u in group]
                parts.append("\n".join(lines) + f" [{n}]")
            else:
                parts.append(" ".join(u.text.rstrip(";, ") for u in group) + f" [{n}]")
        joiner = "\n" if any("\n" in p for p in parts) else " "
        return joiner.join(parts), citations

    def _compare(self, question: str, ranked: list[Unit], councils: list[str]) -> tuple[str, list[Citation], Evidence]:
        inner = inner_kind(question)
        parts: list[str] = []
        citations: list[Citation] = []
        evidences: list[Evidence] = []
        for council in councils:
            mine = [u for u in ranked if u.passage.council == council]
            if not mine:
                continue
            typed = [u for u in mine if self._typed(u, inner, question, set())]
            best = typed[0] if typed and typed[0].score >= 0.8 * mine[0].score else mine[0]
            n = len(citations) + 1
            citations.append(Citation.from_passage(n, best.passage, best.text))
            parts.append(f"{council} ({_report_label(best.passage)}): {best.text} [{n}]")
            evidences.append(self._evidence(best, inner, question, councils))
        if not parts:
            return "", [], Evidence(0.0, 0.0, False)
        weakest = min(evidences, key=lambda e: e.score)
        return "\n".join(parts), citations, weakest


def _attach_semantic(units: list[Unit], query_vector: np.ndarray, unit_vectors: dict[str, tuple[Any, np.ndarray]]) -> None:
    """Sentence similarity from the unit vectors stored at ingest."""
    for unit in units:
        stored = unit_vectors.get(unit.passage.id)
        if stored is None:
            continue
        for (start, end, _, _), vector in zip(*stored):
            if start == unit.start and end == unit.end:
                unit.semantic = float(np.dot(vector, query_vector))
                break


_DATE_TERMS = re.compile(
    rf"\b(?:(?:{_MONTH}\w*|spring|summer|autumn|winter)\.?\s+)?(?:19|20)\d{{2}}(?:[/–-]\d{{2,4}})?\b"
    # Which report, not what in it: "the latest", "now", "its ILACS".
    r"|\b(?:latest|most recent|recent|current|currently|now|nowadays|these days|this time|ilacs|sif)\b",
    re.I,
)
_YES_NO = re.compile(r"^\s*(?:and\s+)?(?:has|have|had|did|does|do|is|are|was|were|will|can)\b", re.I)
_PROMISE_WORDS = re.compile(r"\b(?:promis\w*|commit\w*|pledg\w*)\b", re.I)
# Words of a question the register answers: grades, the judged areas, time, change, promises.
_REGISTER_WORDS = (
    "grade graded grades rating ratings rated rate judgement judgements judgment judged judge ofsted ilacs sif "
    "inspection inspections inspected overall effectiveness outstanding good requires require improvement inadequate "
    "change changed changes improve improved better worse since compare comparison versus latest current now recent "
    "year years time over history trend get got kept keep still which councils council authorities list all "
    "care leavers leaver children help protection need leaders leadership impact adoption performance lscb local "
    "safeguarding board looked after permanence experiences progress social work practice families "
    "promise promised promises commitment commitments committed pledge next visit monitoring focused planned due "
    "scheduled deliver delivered done overdue status between both"
)


@lru_cache(maxsize=1)
def _register_terms() -> frozenset[str]:
    return frozenset(terms(_REGISTER_WORDS))


_NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]


def _count_asked(question: str) -> int | None:
    """'What are the four priority areas?' asks for a list of four."""
    match = re.search(r"\b(?:the|its|their|our)\s+(\d{1,2}|" + "|".join(_NUMBER_WORDS[2:]) + r")\b", question, re.I)
    if not match:
        return None
    word = match.group(1).lower()
    return int(word) if word.isdigit() else _NUMBER_WORDS.index(word)


def _counted(question: str) -> set[str]:
    """Stems of what a 'how many' question counts ('how many agency social workers' → agency, social, worker)."""
    match = re.search(r"\bhow many (?:of (?:the|our|their) )?((?:[\w'-]+\s+){0,3}?[\w'-]+?)\s+(?:are|is|does|did|do|have|has|were|was|will|can|in|at|on|for)\b", question, re.I)
    return set(terms(match.group(1))) if match else set()


def _number_near(text: str, focus: set[str]) -> bool:
    """A number stands within a few words before a word of what is counted."""
    tokens = re.findall(r"[\w%'’.-]+", text)
    stems = [terms(t)[0] if terms(t) else "" for t in tokens]
    numeric = (i for i, t in enumerate(tokens) if _NUMBER.fullmatch(t) or re.fullmatch(r"\d[\d,.]*%?", t))
    return any(any(stem in focus for stem in stems[i + 1 : i + 6]) for i in numeric)


def _report_label(passage: Passage) -> str:
    title = passage.title if len(passage.title) <= 60 else passage.title[:57].rstrip() + "…"
    return f"{title}, {passage.date}" if passage.date else title


def _names_role(text: str, role_terms: set[str], own: Collection[str] = ()) -> bool:
    """A person's name stands in the sentence, next to the role asked about (if any)."""
    # The council a report is about is no person ("Inspection of Derby City …"); another council may be the answer.
    places = [(m.start, m.end) for m in gazetteer().find(text, case_sensitive=True) if m.council.name in own]
    names = [
        m for m in _NAME.finditer(text)
        if len(set(m.group(1).replace("-", " ").split()) - _NOT_NAMES) >= 1 and m.group(1).split()[0] not in _NOT_NAMES
        and not any(start < m.end() and m.start() < end for start, end in places)  # "Derby City" is no person
    ]
    if not names:
        return False
    if not role_terms:
        return True
    words = [(m.start(), m.end(), terms(m.group(0))[0] if terms(m.group(0)) else "") for m in re.finditer(r"[A-Za-z]+", text)]
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
            other_roles = _role_stems() - role_terms
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
        self._llm: Any = None

    def _idf(self, term: str) -> float:
        df = self.index.bm25.doc_freq(term)
        n = max(len(self.index.bm25.ids), 1)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def councils(self) -> list[str]:
        return self.index.councils

    def conversation(self, filters: Filters | None = None) -> Conversation:
        return Conversation(self, filters=filters or Filters())

    def _plan(self, standalone: str, filters: Filters) -> tuple[str, list[str], Filters]:
        """Kind of question, councils it names, and the filters retrieval applies."""
        named = read_scope(standalone, self.councils()).councils
        kind = question_kind(standalone, len(named))
        if named and not filters.councils:
            filters = filters.model_copy(update={"councils": named})
        return kind, named, filters

    def _prior(self, standalone: str, filters: Filters) -> dict[str, float]:
        scope = read_scope(standalone, self.councils())
        return report_prior(scope, self.index.reports, filters.councils)

    def _search(self, standalone: str, k: int, filters: Filters, asked: str) -> list[SearchHit]:
        """Search, weighing reports by the time the question (`asked`) points at ("the 2019 one", "latest")."""
        prior = self._prior(asked, filters)
        if not prior or len(set(prior.values())) < 2:
            return self.retriever.search(standalone, k=k, filters=filters)
        preferred = [source for source, weight in prior.items() if weight >= 1.0]
        pool = {h.passage.id: h for h in self.retriever.search(standalone, k=k * 2, filters=filters)}
        narrowed = filters.model_copy(update={"sources": sorted(set(preferred) & set(filters.sources or preferred))})
        for hit in self.retriever.search(standalone, k=k, filters=narrowed):
            pool.setdefault(hit.passage.id, hit)
        ranked = sorted(pool.values(), key=lambda h: -h.score * prior.get(h.passage.source, 1.0))[:k]
        for rank, hit in enumerate(ranked, start=1):
            hit.rank = rank
        return ranked

    def mend(self, question: str, *, expand: bool = True) -> str:
        """The question as searched: typos mended against the library's words; with `expand`,
        abbreviations and their long forms added (for retrieval, not for weighing words)."""
        bm25 = self.index.bm25
        return mend_question(question, bm25.vocab, bm25.abbreviations, expand=expand)

    def retrieve(self, standalone: str, filters: Filters | None = None, *, k: int | None = None) -> list[SearchHit]:
        """The passages an answer is drawn from (a question naming councils searches only those)."""
        kind, named, search_filters = self._plan(standalone, filters or Filters())
        # A "when" question looks for a date: its years are what it seeks, not only where.
        searched = search_text(standalone, self.councils(), keep_years=kind == "when")
        asked, standalone = standalone, self.mend(searched)
        if kind == "judgement":
            # A grade is asked for: the passages that state one (a judgement table, "…: good") are wanted.
            standalone += " (grade: outstanding, good, requires improvement, inadequate)"
        given_k = k is not None
        k = k or max(self.settings.top_k, 8)
        if kind == "compare" and len(named) >= 2:
            per = max(k // len(named), 6)
            per_council = [
                self._search(standalone, per, search_filters.model_copy(update={"councils": [c]}), asked) for c in named
            ]
            # Interleave so each council's best passages come first.
            merged = [hit for group in zip(*per_council) for hit in group]
            merged += [hit for group in per_council for hit in group if hit not in merged]
            return merged if k >= per * len(named) or not given_k else merged[:k]
        return self._search(standalone, k, search_filters, asked)

    def answer(self, question: str, *, standalone: str | None = None, filters: Filters | None = None) -> Answer:
        started = time.perf_counter()
        standalone = standalone or question
        filters = filters or Filters()
        planned = self._plan(standalone, filters)[2]
        if filters.matches_nothing(self.index.reports) or planned.matches_nothing(self.index.reports):
            # Searching would find nothing (and fusion needs something): say why, not "not in the reports".
            unmatched = filters if filters.matches_nothing(self.index.reports) else planned
            return Answer(
                question=question,
                standalone_question=standalone,
                answer=f"No reports match these filters ({unmatched.describe()}). Widen or clear them and ask again.",
                refused=True,
                kind="no match",
                filters=unmatched.model_dump(exclude_defaults=True),
                latency_ms=round((time.perf_counter() - started) * 1000, 1),
            )
        scope = read_scope(standalone, self.councils())
        if scope.missing and not scope.councils and not filters.councils and not self._spoken_of(scope.missing):
            return self._not_in_library(question, standalone, scope.missing, started)
        registered = self._from_register(question, standalone, filters)
        if registered is not None:
            return registered
        councils = filters.councils or scope.councils
        if councils and scope.report_years and not scope.change and not filters.sources:
            # "its 2021 Ofsted inspection": that report or none, never another year's.
            sources = reports_of_years(scope.report_years, self.index.reports, councils)
            if sources:
                filters = filters.model_copy(update={"sources": sources})
            elif not self._mentions_year(scope.report_years, councils):
                # Not held, and no report of the council speaks of that year (as a council paper
                # speaks of "the Ofsted report of September 2015"): say so rather than answer from another.
                return self._no_report_of_year(question, standalone, councils, scope.report_years, started)
        kind, named, search_filters = self._plan(standalone, filters)
        searched = self.mend(standalone, expand=False)
        hits = self.retrieve(standalone, filters)
        # Standard wording (footers, addresses) stays findable in search but never answers.
        evidence_hits = [h for h in hits if not self.index.bm25.is_boilerplate(h.passage.id)]
        unit_vectors: dict[str, Any] = {}
        for source in dict.fromkeys(hit.passage.source for hit in evidence_hits):
            unit_vectors.update(self.index.unit_vectors(source))
        # Councils are filters, in whatever form typed ("Tameside MBC", "south glos"): not words to match.
        weighed = search_text(searched, self.councils(), keep_years=True)
        text, citations, evidence = self.answerer.answer(
            weighed,
            evidence_hits,
            kind=kind,
            councils=named,
            query_vector=self.index.embedder.embed_query(searched),
            unit_vectors=unit_vectors,
        )
        refused = (not citations) or evidence.score < self.settings.refusal_threshold or not evidence.typed
        written_by = "extractive"
        if not refused and self.settings.llm_url:
            written = self._llm_answer(standalone, hits)
            if written == "refuse":
                refused = True
            elif isinstance(written, tuple):
                text, citations = written
                written_by = "llm"
        if refused:
            text = REFUSAL
            citations = []
        return Answer(
            question=question,
            standalone_question=standalone,
            answer=text,
            refused=refused,
            citations=citations,
            closest=hits[:3] if refused else [],
            kind=kind,
            confidence=round(evidence.score, 3),
            written_by=written_by,
            filters=search_filters.model_dump(exclude_defaults=True),
            latency_ms=round((time.perf_counter() - started) * 1000, 1),
        )


    def _register_question(self, question: str) -> bool:
        """Whether the register can settle it: a question of grades or promises, not of findings.

        "Who led that inspection?" and "were there areas of strong practice despite the inadequate
        grade?" name grades but ask about something the register does not hold; a yes/no question
        about one thing ("has Bury committed money to …?") wants that thing, not a list of promises.
        """
        from assistant.register.facts import asks_for_metric

        if asks_for_metric(question, self.councils()):
            return True  # "how has the vacancy rate changed": a metric's series, held by the register
        kind = question_kind(question)
        if kind in ("who", "number", "list") or (kind == "when" and not re.search(r"\b(?:next|upcoming)\b", question, re.I)):
            return False
        if _YES_NO.match(question) and _PROMISE_WORDS.search(question):
            return False
        # What is left once councils (as typed), years and the register's own words are set aside.
        for mention in reversed(gazetteer().find(question, known=self.councils())):
            question = question[: mention.start] + " " + question[mention.end :]
        leftover = [t for t in terms(_YEAR.sub(" ", self.mend(question))) if t not in _register_terms()]
        return len(leftover) <= 2

    def _spoken_of(self, councils: list[str]) -> bool:
        """Whether any report speaks of these councils (a peer, a former director's council)."""
        return any(self.index.bm25.search(council, 1) for council in councils)

    def _mentions_year(self, years: list[int], councils: list[str]) -> bool:
        scoped = Filters(councils=councils)
        return any(self.index.bm25.search(str(year), 1, scoped) for year in years)

    def _no_report_of_year(
        self, question: str, standalone: str, councils: list[str], years: list[int], started: float
    ) -> Answer:
        """The question names a report of a year the library does not hold for that council."""
        held = sorted(
            {str(e.date)[:4] for e in self.index.reports.values() if e.council in councils} - {""}
        )
        asked = " or ".join(str(y) for y in years)
        text = f"The library holds no {asked} report on {' or '.join(councils)}."
        if held:
            text += f" Its reports on {' and '.join(councils)} are from {', '.join(held)}."
        return Answer(
            question=question,
            standalone_question=standalone,
            answer=text,
            refused=True,
            kind="not in library",
            filters={"councils": councils, "years": years},
            latency_ms=round((time.perf_counter() - started) * 1000, 1),
        )

    def _not_in_library(self, question: str, standalone: str, missing: list[str], started: float) -> Answer:
        """A council with no reports: say so, rather than search nothing or another council."""
        held = self.councils()
        names = " and ".join(missing)
        text = f"The library holds no reports on {names}."
        if held:
            text += f" It has reports on {', '.join(held[:12])}{'…' if len(held) > 12 else ''}."
        return Answer(
            question=question,
            standalone_question=standalone,
            answer=text,
            refused=True,
            kind="not in library",
            filters={"councils": missing},
            latency_ms=round((time.perf_counter() - started) * 1000, 1),
        )

    def _from_register(self, question: str, standalone: str, filters: Filters) -> Answer | None:
        """Promises, deadlines and inspections are answered from the register built at ingest."""
        from assistant.register.store import answer_from_register

        if filters.sources or filters.date_from or filters.date_to:
            return None  # the register answers whole councils; narrower filters go to the passages
        if not self._register_question(standalone):
            return None
        answer = answer_from_register(standalone, self, filters.councils)
        if answer is None:
            return None
        return answer.model_copy(update={"question": question, "standalone_question": standalone})

    def _llm_answer(self, question: str, hits: list[SearchHit]) -> tuple[str, list[Citation]] | str:
        """The LLM's checked answer; "refuse" when it finds none; "keep" (the extractive one) on failure."""
        from assistant.answer.llm import LLMAnswerer
        from assistant.errors import LLMError

        try:
            if self._llm is None:
                self._llm = LLMAnswerer(self.settings)
            written = self._llm.answer(question, hits[:6])
        except LLMError as exc:
            log.warning("falling back to the extractive answer: %s", exc)
            return "keep"
        return "refuse" if written is None else written


def ask(question: str, *, settings: Settings | None = None, index: Index | None = None, filters: Filters | None = None) -> Answer:
    """Answer one question on its own."""
    return Engine(settings, index=index).answer(question, filters=filters)
