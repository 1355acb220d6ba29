"""Extractive answers: the sentences of the retrieved passages that answer the question, each cited.

Written by hand: llama-index's response synthesizers all need an LLM, and the default answerer
must never write a claim the reports do not contain.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Mapping, Sequence

import numpy as np

from assistant.answer.kinds import COMPARE, DATE, FUTURE, MONTH, heading_terms, holds_kind, inner_kind, role_stems
from assistant.answer.units import Evidence, Unit, UnitVectors, attach_semantic, is_heading, units_of
from assistant.retrieval.spelling import GLOSSARY
from assistant.settings import Settings
from assistant.text import STOPWORDS, compile_table, terms
from assistant.types import Citation, Passage, SearchHit

# ---------------------------------------------------------------- the answerer

# Parts of a question that set it in circumstance or time rather than name its subject.
_ASIDES = compile_table({
    "circumstance": r"^\s*(?:after|before|during|following|since|in|under|at)\b[^,?]{3,60},|\b(?:during|after|before|since|following|under)\b[^,?]{3,60}\??\s*$"
    rf"|\b(?:in|on|during)\s+(?:\d{{1,2}}\s+)?{MONTH}?\s*(?:19|20)\d{{2}}\??\s*$",
    "date_terms": rf"\b(?:(?:{MONTH}\w*|spring|summer|autumn|winter)\.?\s+)?(?:19|20)\d{{2}}(?:[/–-]\d{{2,4}})?\b"
    # Which report, not what in it: "the latest", "now", "its ILACS".
    r"|\b(?:latest|most recent|recent|current|currently|now|nowadays|these days|this time|ilacs|sif)\b",
})
# Who a follow-up points back at ("what did she say"), and question words typed without their apostrophe
# ("whos the dcs"): never the words an answer must hold.
# Words a speaker adds for emphasis ("who actually runs …"): rare in reports, so they would weigh most of all.
# The sector's two words for one state: a child "looked after" by the council is a child "in care". A sentence
# saying either holds the other's words ("how many children in care?": "575 children are being looked after").
_SAME_MEANING = [(("looked after", "looked-after", "in care"), frozenset(terms("looked after in care")))]
_FILLERS = frozenset(terms("actually really basically exactly just please kindly literally honestly"))
_PRONOUNS = frozenset(terms("he she him her his hers they them their theirs it its whos whats hows wheres whens thats"))
# Verbs that ask what a report says ("what did Ofsted think of…", "how did inspectors describe…"): the
# question's frame, not words its answer must hold.
_FRAMING = frozenset(terms("say said says think thought thinks describe described describes comment commented mention mentioned tell told find found"))
# Who says it, in a question framed so ("what did Ofsted say about kinship care?"): the reports' author, not their subject.
_SPEAKERS = frozenset(terms("ofsted inspectors inspector"))
_FRAMED = re.compile(r"\b(?:say|said|says|think|thought|describe[sd]?|comment(?:s|ed)?|mention(?:s|ed)?|tell|told|find|found|make\s+of)\b", re.I)
_CONTINUES = re.compile(r"^(?:he|she|it|they|this|these|in addition|also|further|furthermore|the (?:minister|commissioner|report|letter))\b", re.I)
# A sentence scoring this share of the best one's says the question's point nearly as well.
NEARLY = 0.85
_NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]


def _terms_of(aside: str, question: str) -> set[str]:
    """The terms of the question's parts that `_ASIDES[aside]` finds."""
    return {t for m in _ASIDES[aside].finditer(question) for t in terms(m.group(0))}


class ExtractiveAnswerer:
    """Picks and cites the sentences that answer; reports how strong the evidence is."""

    # lexical coverage, sentence similarity (normalised over candidates), passage similarity, rank
    # Tuned on the dev questions (a plateau, not a peak): words matter most, then meaning.
    weights = (0.5, 0.15, 0.05, 0.05)
    typed_bonus = 0.3
    # A paragraph's first sentence says what it is about (the topic sentence reports are written with): for an
    # open question ("is the MASH working?") it is the likelier answer than a detail further on. Held out: tune.py.
    lead_bonus = 0.08

    def __init__(
        self, settings: Settings, idf: Callable[[str], float] | None = None, abbreviations: Mapping[str, str] | None = None
    ) -> None:
        self.settings = settings
        self.idf = idf or (lambda term: 1.0)
        # Short forms, lower-cased, to their long forms: the sector's (GLOSSARY) and those the reports define
        # ("the access and response team (ART)"), as the search reads them.
        self.abbreviations = {**(abbreviations or {}), **GLOSSARY}

    def _unit_terms(self, text: str, concepts: Mapping[str, frozenset[str]] | None = None) -> set[str]:
        """The unit's terms, with the long forms of the abbreviations it uses: "caseloads in the ART"
        speaks of the access and response team, as a question typing it out does. `concepts`: the
        abbreviations a question types, each held by a unit that writes all of its long form's words."""
        found = set(terms(text))
        for short in re.findall(r"\b([A-Z]{2,6})s?\b", text):  # "IROs": the plural of IRO
            long = self.abbreviations.get(short.lower())
            if long:
                found |= set(terms(long))
        lower = text.lower()
        for phrases, held in _SAME_MEANING:
            if any(phrase in lower for phrase in phrases):
                found |= held
        found |= {short for short, long in (concepts or {}).items() if long <= found}
        return found

    # -- scoring

    def question_weights(self, question: str, councils: list[str]) -> dict[str, float]:
        """Rarer words count more; named councils (already filtered on) and circumstances count less."""
        question = COMPARE.sub(" ", question)  # "compare" frames the question; it is not its subject
        context = _terms_of("circumstance", question)
        council_terms = {t for c in councils for t in terms(c)}
        # Years and months place the question in time; the report prior and filters act on them,
        # so they should not make a report's dateline outscore its findings.
        time_terms = _terms_of("date_terms", question)
        weights: dict[str, float] = {}
        for term in dict.fromkeys(terms(question)):
            if term in council_terms or term in time_terms or term in _PRONOUNS or term in _FRAMING or term in _FILLERS:
                continue
            weights[term] = self.idf(term) * (0.3 if term in context else 1.0)
        if _FRAMED.search(question) and set(weights) - _SPEAKERS:  # "what did Ofsted find?" alone asks for its findings
            weights = {t: w for t, w in weights.items() if t not in _SPEAKERS}
        return weights

    def concepts(self, question: str) -> dict[str, frozenset[str]]:
        """The abbreviations a question types, as terms, to the terms of their long forms: "DCS" is found
        in a sentence that says "DCS" or "Director of Children's Services", and names a role."""
        out: dict[str, frozenset[str]] = {}
        for short, long in self._typed_abbreviations(question).items():
            for term in terms(short):
                out[term] = frozenset(terms(long))
        return out

    def _share(self, long: frozenset[str], held: set[str]) -> float:
        """How much of a long form the terms hold, rarer words counting more."""
        total = sum(self.idf(t) for t in long) or 1.0
        return sum(self.idf(t) for t in long & held) / total

    def _role_terms(self, question: str, weights: Mapping[str, float]) -> set[str]:
        """The roles a "who" question names, typed out or abbreviated ("the DCS": a director)."""
        named = set(weights) | {t for long in self.concepts(question).values() for t in long}
        return {t for t in named if t in role_stems()}

    def _typed_abbreviations(self, question: str) -> dict[str, str]:
        """Abbreviations the question types, to their long forms: in capitals ("LA", "RI", a report's "ART"), or
        the sector's of three letters or more in any case ("dcs"); a report's short form typed in lower case may be a word ("art")."""
        found: dict[str, str] = {}
        for word in re.findall(r"\b[A-Za-z]{2,6}\b", question):
            lower = word.lower()
            long = self.abbreviations.get(lower)
            if long and (word.isupper() or (len(lower) > 2 and lower in GLOSSARY and lower not in STOPWORDS)):
                found[lower] = long
        return found

    def _score(
        self, units: list[Unit], question: str, kind: str, councils: list[str], letterheads: Mapping[str, frozenset[str]]
    ) -> None:
        weights = self.question_weights(question, councils)
        total = sum(weights.values()) or 1.0
        role_terms = self._role_terms(question, weights)
        concepts = self.concepts(question)
        semantic = [u.semantic if u.semantic is not None else (u.hit.dense_score or 0.0) for u in units]
        low, high = min(semantic), max(semantic)
        firsts: dict[str, int] = {}
        for unit in units:
            firsts[unit.passage.id] = min(firsts.get(unit.passage.id, unit.start), unit.start)
        for unit, sem in zip(units, semantic):
            u_terms = self._unit_terms(unit.text, concepts)
            context = set(terms(f"{unit.passage.section} {unit.passage.title}"))
            # "Ofsted" in "when was the latest Ofsted inspection?" names the report, as its letterhead does: it
            # helps choose among the sentences, but is no evidence that the report answers (the refusal reads `lexical`).
            letterhead = letterheads.get(unit.passage.source, frozenset()) - context
            matched = sum(w for t, w in weights.items() if t in u_terms)
            # Part of an abbreviation's long form ("Director" of "Director of Children's Services"): part credit.
            matched += sum(w * self._share(concepts[t], u_terms) for t, w in weights.items() if t in concepts and t not in u_terms)
            in_context = sum(w for t, w in weights.items() if t not in u_terms and t in context)
            in_letterhead = sum(w for t, w in weights.items() if t not in u_terms and t in letterhead)
            unit.lexical = (matched + 0.5 * in_context) / total
            unit.raw_semantic = sem
            sem_n = (sem - low) / ((high - low) or 1.0)
            rank_prior = 1.0 / (1.0 + 0.3 * (unit.hit.rank - 1))
            bonus = self.typed_bonus if self._typed(unit, kind, question, role_terms) else 0.0
            if kind == "commitment" and not FUTURE.search(unit.text):
                bonus = 0.0
            if (unit.lead_in and kind != "list") or (kind not in ("judgement", "list") and is_heading(unit)):
                # A lead-in, or a heading ("The experiences and progress of care leavers: good"), names what follows.
                bonus -= 0.1
            if kind == "fact" and unit.start == firsts[unit.passage.id] and not is_heading(unit):
                bonus += self.lead_bonus
            a, b, c, d = self.weights
            unit.score = a * (unit.lexical + 0.5 * in_letterhead / total) + b * sem_n + c * (unit.hit.dense_score or 0.0) + d * rank_prior + bonus

    def _typed(self, unit: Unit, kind: str, question: str, role_terms: set[str]) -> bool:
        """Does the unit hold the kind of fact the question asks for?"""
        return holds_kind(unit.text, kind, question, role_terms, {unit.passage.council})

    def _evidence(self, unit: Unit, kind: str, question: str, councils: list[str]) -> Evidence:
        role_terms = self._role_terms(question, self.question_weights(question, councils))
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
        unit_vectors: UnitVectors | None = None,
        letterheads: Mapping[str, frozenset[str]] | None = None,
        reports: Sequence[str] = (),
        standard: Container[str] = frozenset(),
        report_weights: Mapping[str, float] | None = None,
    ) -> tuple[str, list[Citation], Evidence]:
        """The answer, its citations and how strong its evidence is. `letterheads`: per report, the terms of its
        standard wording (publisher, footer), which like its title describe every passage of it. `reports`:
        the reports, oldest first, of one council's history that a question about change compares. `standard`:
        sentences of the library's standard wording (lower-cased, spaces collapsed), which never answer.
        `report_weights`: per report, how near it is to the time the question points at ("now": the latest), which
        scales its sentences' scores; the refusal still reads how well the chosen sentence answers."""
        # A unit of fewer than two words that mean anything ("(Recommendation)", a lone "1.") answers nothing.
        units = [u for hit in hits for u in units_of(hit) if " ".join(u.text.lower().split()) not in standard and len(terms(u.text)) >= 2]
        if not units:
            return "", [], Evidence(0.0, 0.0, False)
        if query_vector is not None and unit_vectors:
            attach_semantic(units, query_vector, unit_vectors)
        self._score(units, question, inner_kind(question) if kind == "compare" else kind, councils, letterheads or {})
        if report_weights and kind != "compare" and len(reports) < 2:
            # "Is the MASH working now?": the 2015 report's plans for a MASH do not answer it, the 2024 one's findings do.
            for unit in units:
                unit.score *= report_weights.get(unit.passage.source, 1.0)
        ranked = sorted(units, key=lambda u: -u.score)
        if kind == "compare" and len(councils) >= 2:
            return self._compare(question, ranked, councils)
        if len(reports) >= 2:
            over_time = self._over_time(question, ranked, reports, kind, councils)
            if over_time is not None:
                return over_time
        if kind == "list":
            weighted = report_weights if report_weights and len(reports) < 2 else {}
            block, coverage = self._best_list(question, units, ranked[0], councils, letterheads or {}, weighted)
            if block:
                # A list under a heading the question echoes is evidence in itself, whatever its sentences score.
                evidence = self._evidence(ranked[0], kind, question, councils)
                evidence.score = max(evidence.score, coverage)
                return self._compose(block, list_block=True) + (evidence,)
        best = ranked[0]
        chosen = [best]
        if kind == "when" and not DATE.search(best.text):
            dated = [u for u in ranked[:8] if u.passage.id == best.passage.id and DATE.search(u.text)]
            chosen += dated[:1]
        else:
            # "There are also strengths.": a sentence saying nothing the question did not is a lead-in to the next.
            lead_in = len(set(terms(best.text)) - set(terms(question))) < 2
            chosen += self._continuation(best, units, ranked, lead_in=lead_in)
            if kind == "fact":
                chosen += self._corroboration(best, ranked, question, councils)
        return self._compose(chosen) + (self._evidence(best, kind, question, councils),)

    def _continuation(self, best: Unit, units: list[Unit], ranked: list[Unit], *, lead_in: bool = False) -> list[Unit]:
        """The next sentence, when it carries on the same point and scores nearly as well (or the best leads into it)."""
        same = [u for u in units if u.passage.id == best.passage.id and not u.bullet]
        following = next((u for u in same if u.start > best.end and u.start - best.end < 3), None)
        if following is None:
            return []
        if lead_in or following.score >= NEARLY * best.score or (_CONTINUES.match(following.text) and following.score >= 0.7 * best.score):
            return [following]
        return []

    def _corroboration(self, best: Unit, ranked: list[Unit], question: str, councils: list[str]) -> list[Unit]:
        """A second finding of the same report, from another paragraph, that answers nearly as well and speaks of
        what the first does (its rarest word of the question): "is the MASH working?" is answered by what the report says of it in its summary and in
        its detail, not by one line; a weak first answer does not bring in a line on another topic."""
        same_report = (u for u in ranked[1:] if u.passage.source == best.passage.source and u.passage.id != best.passage.id)
        other = next((u for u in same_report if not is_heading(u)), None)
        if other is None or other.score < NEARLY * best.score:
            return []
        weights = self.question_weights(question, councils)
        matched = [t for t in weights if t in self._unit_terms(best.text)]
        # Speaking of the same thing: it holds the rarest of the question's words that the first answer holds.
        return [other] if not matched or max(matched, key=weights.__getitem__) in self._unit_terms(other.text) else []

    def _best_list(
        self,
        question: str,
        units: list[Unit],
        best: Unit,
        councils: list[str],
        letterheads: Mapping[str, frozenset[str]],
        report_weights: Mapping[str, float] | None = None,
    ) -> tuple[list[Unit], float]:
        """Lead-in and items of the list that, taken whole, covers the question best. The words of a report's
        standard wording ("Ofsted", "report") describe every list in it, as its heading does. A list of a report
        far from the time asked about ("the recommendations for Croydon 2024") counts less, as its sentences do."""
        weights = self.question_weights(question, councils)
        total = sum(weights.values()) or 1.0
        asked = heading_terms(set(weights))
        blocks: dict[str, list[Unit]] = {}
        for unit in units:
            blocks.setdefault(unit.passage.id, []).append(unit)
        scored: list[tuple[float, float, float, list[Unit]]] = []
        for group in blocks.values():
            items = [u for u in group if u.bullet]
            heading = {t for t in terms(group[0].passage.section) if not t.isdigit()}  # footnote marks aside
            echo = len(heading & asked) / len(heading) if len(heading) >= 2 else 0.0
            # One item under a heading the question echoes is still the list asked for.
            if len(items) < (1 if echo >= 0.5 else 2):
                continue
            lead = [u for u in group if u.lead_in][:1]
            words = self._unit_terms(" ".join(u.text for u in lead + items) + " " + group[0].passage.section, self.concepts(question))
            words |= letterheads.get(group[0].passage.source, frozenset())
            if _count_asked(question) == len(items):
                words |= set(terms(_NUMBER_WORDS[len(items)] if len(items) < len(_NUMBER_WORDS) else "")) | {str(len(items))}
            coverage = sum(w for t, w in weights.items() if t in words) / total
            top = max(u.score for u in group) / (best.score or 1.0)
            # A list under a heading the question echoes is usually the answer in these reports.
            scored.append((0.4 * coverage + 0.3 * echo + 0.3 * top, coverage, echo, lead + items))
        scored += self._numbered_lists(weights, total, units, best)
        if not scored:
            return [], 0.0
        if report_weights:
            scored = [(s * report_weights.get(b[0].passage.source, 1.0), c, e, b) for s, c, e, b in scored]
        _, coverage, echo, block = max(scored, key=lambda item: item[0])
        # Enough of the question's words, or a heading it echoes ("areas to improve" under "What needs
        # to improve?") and some of its words. A heading echoed whole names what is asked for: the
        # question's other words (a preamble, "in the 2025 Ofsted report") cannot be expected in its items.
        if coverage < 0.5 and not (echo >= 0.5 and coverage >= 0.3) and echo < 1.0:
            return [], 0.0
        return block[:13], max(coverage, echo * 0.5)

    def _numbered_lists(
        self, weights: Mapping[str, float], total: float, units: list[Unit], best: Unit
    ) -> list[tuple[float, float, float, list[Unit]]]:
        """Lists a report prints as numbered paragraphs under one heading ("Recommendations" 1, 2, 3 …),
        named whole by the question: each paragraph's first sentence an item, in the report's order."""
        firsts: dict[str, Unit] = {}
        for unit in units:
            if unit.passage.paragraph.lstrip("¶").isdigit():
                firsts.setdefault(unit.passage.id, unit)
        runs: dict[tuple[str, str], list[Unit]] = {}
        for unit in firsts.values():
            runs.setdefault((unit.passage.source, unit.passage.section), []).append(unit)
        scored = []
        for (_, section), items in runs.items():
            heading = {t for t in terms(section.rsplit(" › ", 1)[-1]) if not t.isdigit()}
            if len(items) < 2 or not heading or not heading <= set(weights):
                continue
            items.sort(key=lambda u: u.passage.ordinal)
            words = self._unit_terms(" ".join(u.text for u in items) + " " + section)
            coverage = sum(w for t, w in weights.items() if t in words) / total
            top = max(u.score for u in items) / (best.score or 1.0)
            scored.append((0.4 * coverage + 0.3 + 0.3 * top, coverage, 1.0, items[:13]))
        return scored

    def _compose(self, chosen: list[Unit], *, list_block: bool = False) -> tuple[str, list[Citation]]:
        citations: list[Citation] = []
        groups: dict[str, list[Unit]] = {}
        for unit in chosen:
            groups.setdefault(unit.passage.id, []).append(unit)
        # Items that are numbered paragraphs of their own (one cited sentence each): one line each.
        numbered_list = len(groups) >= 2 and all(not u.bullet and u.passage.paragraph.lstrip("¶").isdigit() for u in chosen) and len(chosen) == len(groups) and list_block
        parts: list[str] = []
        for n, group in enumerate(groups.values(), start=1):
            group.sort(key=lambda u: u.start)
            passage = group[0].passage
            citations.append(Citation.from_passage(n, passage, passage.text[group[0].start : group[-1].end]))
            if numbered_list:
                parts.append(f"- {' '.join(u.text.rstrip(';, ') for u in group)} [{n}]")
            elif sum(u.bullet for u in group) >= 2:
                lines = [f"- {u.text.rstrip(';,. ')}" if u.bullet else u.text for u in group]
                parts.append("\n".join(lines) + f" [{n}]")
            else:
                parts.append(" ".join(u.text.rstrip(";, ") for u in group) + f" [{n}]")
        joiner = "\n" if numbered_list or any("\n" in p for p in parts) else " "
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


    def _over_time(
        self, question: str, ranked: list[Unit], reports: Sequence[str], kind: str, councils: list[str]
    ) -> tuple[str, list[Citation], Evidence] | None:
        """A council's change between reports: what each report says, oldest first. A report whose best
        sentence would be refused as an answer says nothing on the matter and is left out; with one
        report left, the question is answered as any other (None)."""
        inner = inner_kind(question) if kind == "compare" else kind
        best: dict[str, Unit] = {}
        for source in reports:
            mine = [u for u in ranked if u.passage.source == source]
            if mine:
                typed = [u for u in mine if self._typed(u, inner, question, set())]
                best[source] = typed[0] if typed and typed[0].score >= 0.8 * mine[0].score else mine[0]
        # Each report must answer on its own, as a whole answer must not to be refused.
        threshold = self.settings.refusal_threshold
        kept = [best[s] for s in reports if s in best and self._evidence(best[s], inner, question, councils).score >= threshold]
        if len(kept) < 2:
            return None
        parts: list[str] = []
        citations: list[Citation] = []
        for n, unit in enumerate(kept, start=1):
            citations.append(Citation.from_passage(n, unit.passage, unit.text))
            dated = unit.passage.date or unit.passage.source
            parts.append(f"{unit.passage.council or unit.passage.title}, report of {dated}: {unit.text} [{n}]")
        strongest = max(kept, key=lambda u: u.score)
        return "\n".join(parts), citations, self._evidence(strongest, inner, question, councils)


def _count_asked(question: str) -> int | None:
    """'What are the four priority areas?' asks for a list of four."""
    match = re.search(r"\b(?:the|its|their|our)\s+(\d{1,2}|" + "|".join(_NUMBER_WORDS[2:]) + r")\b", question, re.I)
    if not match:
        return None
    word = match.group(1).lower()
    return int(word) if word.isdigit() else _NUMBER_WORDS.index(word)


def _report_label(passage: Passage) -> str:
    title = passage.title if len(passage.title) <= 60 else passage.title[:57].rstrip() + "…"
    return f"{title}, {passage.date}" if passage.date else title
