"""The engine: a question in, a cited answer out.

It reads the question's scope (councils, years), answers from the register what the register holds
(grades, promises, inspections), and otherwise retrieves passages and answers from them: extractively
by default, LLM-written when one is configured. A chat (`Engine.conversation`) rewrites follow-ups first.
"""

from __future__ import annotations

import logging
import math
import re
import time

from assistant.answer.extractive import ExtractiveAnswerer, UnitVectors
from assistant.answer.followups import Conversation
from assistant.answer.from_register import answer_from_register
from assistant.answer.kinds import heading_terms, inner_kind, question_kind, register_can_answer, without_given_grade
from assistant.answer.llm import LLMAnswerer
from assistant.answer.scope import ReportTimes, read_scope, report_prior, report_times, reports_of_years, search_text
from assistant.councils import gazetteer
from assistant.documents.passages import unit_spans
from assistant.errors import AssistantError, LLMError
from assistant.index.index import Index
from assistant.library import open_index
from assistant.retrieval.search import Retriever
from assistant.retrieval.spelling import mend_question
from assistant.settings import Settings, load_settings
from assistant.text import StandardWording, terms
from assistant.types import Answer, Citation, Filters, Passage, SearchHit

log = logging.getLogger(__name__)
REFUSAL = "The reports do not answer this question. The closest passages are listed below."
# Words asking how a council changed between reports ("improved since", "better or worse", "compare").
_OVER_TIME = re.compile(r"\b(?:improv(?:ed|ing)|chang(?:ed|es)|better|worse|deteriorat\w*|declin\w*|compar\w*|since|between)\b", re.I)
MAX_COMPARED = 3
LIST_ITEMS = 13  # the most items a list answer quotes
SPOKEN_OF_PASSAGES = 50  # passages read for a council the library holds no report on


class Engine:
    """Retrieval plus answering, shared by the CLI, the chat and the UI."""

    def __init__(self, settings: Settings | None = None, *, index: Index | None = None) -> None:
        self.settings = settings or load_settings()
        self.index = index or open_index(self.settings)
        self.retriever = Retriever(self.index, self.settings)
        self.answerer = ExtractiveAnswerer(self.settings, idf=self._idf, abbreviations=self.index.bm25.abbreviations)
        self._llm: LLMAnswerer | None = None
        self._letterheads: dict[tuple[int, str], frozenset[str]] = {}
        self._speaking: dict[tuple[int, str], set[str]] = {}
        self._standard: tuple[int, StandardWording] = (-1, StandardWording(()))
        self._times: tuple[int, ReportTimes] = (-1, ReportTimes())

    def _idf(self, term: str) -> float:
        df = self.index.bm25.doc_freq(term)
        n = max(len(self.index.bm25.ids), 1)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def councils(self) -> list[str]:
        """The councils the library holds reports on."""
        return self.index.councils

    def conversation(self, filters: Filters | None = None) -> Conversation:
        """A new chat with this engine, its filters set to `filters` until changed."""
        return Conversation(self, filters=filters or Filters())

    def _plan(self, standalone: str, filters: Filters) -> tuple[str, list[str], Filters]:
        """Kind of question, councils it names, and the filters retrieval applies."""
        named = read_scope(standalone, self.councils()).councils
        # The kind as typed; failing that, as mended ("budjet" asks for money as "budget" does). Typed words win:
        # a mending may turn a word the library lacks into another ("aiming" into "timing").
        kind = question_kind(standalone, len(named))
        if kind == "fact":
            kind = question_kind(self.mend(standalone, expand=False), len(named))
        if named and not filters.councils:
            filters = filters.model_copy(update={"councils": named})
        return kind, named, filters

    def _prior(self, standalone: str, filters: Filters) -> dict[str, float]:
        scope = read_scope(standalone, self.councils())
        return report_prior(scope, self.index.reports, filters.councils, self._report_times())

    def _report_times(self) -> ReportTimes:
        """The reports' times, read once per state of the library: at a million passages (38,000 reports)
        reading them for each weighing took ~190 ms of a 300 ms question."""
        generation = self.index.generation
        if self._times[0] != generation:
            self._times = (generation, report_times(self.index.reports))
        return self._times[1]

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
        """The passages an answer is drawn from (a question naming councils searches only those), led by those
        the answer cites: its sentence-level choice reranks the search's passage-level one."""
        hits = self._retrieve(standalone, filters, k=k)
        led = self._answer_evidence(standalone, filters or Filters())
        if not led:
            return hits
        kept = {hit.passage.id for hit in led}
        merged = led + [hit for hit in hits if hit.passage.id not in kept]
        merged = merged[: max(k or 0, len(hits))]
        for rank, hit in enumerate(merged, start=1):
            hit.rank = rank
        return merged

    def _answer_evidence(self, standalone: str, filters: Filters) -> list[SearchHit]:
        """The passages the answer cites, in its order (none when it refuses)."""
        answer = self.answer(standalone, filters=filters, write=False)  # the sentences chosen, without an LLM's call
        if answer.refused:
            return []
        ids = list(dict.fromkeys(c.passage_id for c in answer.citations if c.passage_id))
        passages = self.index.bm25.passages(ids)
        return [SearchHit(passage=passages[i], score=1.0) for i in ids if i in passages]

    def _retrieve(self, standalone: str, filters: Filters | None = None, *, k: int | None = None) -> list[SearchHit]:
        kind, named, search_filters = self._plan(standalone, filters or Filters())
        # A "when" question looks for a date: its years are what it seeks, not only where.
        searched = search_text(without_given_grade(standalone), self.councils(), keep_years=kind == "when")
        asked, standalone = standalone, self.mend(searched)
        if kind == "judgement" or (kind == "compare" and inner_kind(asked) == "judgement"):
            # A grade is asked for: the passages that state one (a judgement table, "…: good") are wanted.
            standalone += " (grade: outstanding, good, requires improvement, inadequate)"
        given_k = k is not None
        k = k or max(self.settings.top_k, 8)
        if kind == "compare" and len(named) >= 2:
            sides = [search_filters.model_copy(update={"councils": [c]}) for c in named]
        else:
            sides = [search_filters.model_copy(update={"sources": [s]}) for s in self._compared_reports(asked, kind, search_filters)]
        if len(sides) < 2:
            return self._search(standalone, k, search_filters, asked)
        # A comparison needs evidence from each side (each council, or each report of one council's
        # history): the sides' best passages are interleaved so every side is in the first few.
        per = max(k // len(sides), 6)
        per_side = [self._search(standalone, per, side, asked) for side in sides]
        merged = [hit for group in zip(*per_side) for hit in group]
        merged += [hit for group in per_side for hit in group if hit not in merged]
        merged = merged if k >= per * len(sides) or not given_k else merged[:k]
        for rank, hit in enumerate(merged, start=1):
            hit.rank = rank
        return merged

    def _compared_reports(self, asked: str, kind: str, filters: Filters) -> list[str]:
        """The reports a question about one council's change over time compares: the years it names
        ("between 2014 and 2023", "since 2016"), else the council's latest two; none for other questions."""
        if len(filters.councils) != 1 or filters.sources or kind == "when":
            return []  # "since when?" asks for a date, not for a change
        if not (kind == "compare" or _OVER_TIME.search(asked)):
            return []
        scope = read_scope(asked, self.councils())
        council = filters.councils[0]
        held = sorted((e.date, s) for s, e in self.index.reports.items() if e.council == council)
        if scope.years:
            prior = report_prior(scope, self.index.reports, filters.councils, self._report_times())
            return [s for _, s in held if prior.get(s, 0.0) >= 1.0][-MAX_COMPARED:]
        return [s for _, s in held][-2:]

    def answer(
        self, question: str, *, standalone: str | None = None, filters: Filters | None = None, write: bool = True
    ) -> Answer:
        """Answer `question`, searched as `standalone` (a chat's rewrite of a follow-up) within `filters`;
        with `write` False, extractively even where an LLM is configured."""
        started = time.perf_counter()
        standalone = standalone or question
        filters = filters or Filters()
        planned = self._plan(standalone, filters)[2]
        if filters.matches_nothing(self.index.reports) or planned.matches_nothing(self.index.reports):
            # Searching would find nothing (and fusion needs something): say why, not "not in the reports".
            unmatched = filters if filters.matches_nothing(self.index.reports) else planned
            text = f"No reports match these filters ({unmatched.describe()}). Widen or clear them and ask again."
            return _declined(question, standalone, text, "no match", unmatched.model_dump(exclude_defaults=True), started)
        scope = read_scope(standalone, self.councils())
        elsewhere: list[str] = []  # a council with no reports, answered from what others say of it
        if scope.missing and not scope.councils and not filters.councils:
            # A council with no reports of its own may be spoken of in others' (a peer, a director's last post):
            # those reports are searched, and only what they say of it answers.
            speaking = self._reports_speaking_of(scope.missing)
            if not speaking:
                return self._not_in_library(question, standalone, scope.missing, started)
            filters = filters.model_copy(update={"sources": sorted(set(speaking) & set(filters.sources or speaking))})
            elsewhere = scope.missing
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
        hits = self._retrieve(standalone, filters)
        # Standard wording (footers, addresses) stays findable in search but never answers.
        evidence_hits = [h for h in hits if not self.index.bm25.is_boilerplate(h.passage.id)]
        if elsewhere:
            # Only what other reports say of the council answers.
            evidence_hits = [h for h in evidence_hits if _speaks_of(h.passage.text, elsewhere)]
            if not evidence_hits:
                return self._not_in_library(question, standalone, elsewhere, started)
        if kind == "list":
            evidence_hits += self._section_siblings(evidence_hits, searched)
        unit_vectors: UnitVectors = {}
        letterheads: dict[str, frozenset[str]] = {}
        for source in dict.fromkeys(hit.passage.source for hit in evidence_hits):
            unit_vectors.update(self.index.unit_vectors(source))
            letterheads[source] = self._letterhead(source)
        # Councils are filters, in whatever form typed ("Tameside MBC", "south glos"): not words to match.
        weighed = search_text(searched, self.councils(), keep_years=True)
        text, citations, evidence = self.answerer.answer(
            weighed,
            evidence_hits,
            standard=self._standard_sentences(),
            kind=kind,
            councils=named,
            query_vector=self.index.embedder.embed_query(searched),
            unit_vectors=unit_vectors,
            letterheads=letterheads,
            reports=self._compared_reports(standalone, kind, search_filters),
            report_weights=self._prior(standalone, filters),
        )
        refused = (not citations) or evidence.score < self.settings.refusal_threshold or not evidence.typed
        written_by = "extractive"
        if not refused and write and self.settings.llm_url:
            written = self._llm_answer(standalone, hits)
            if written == "refuse":
                refused = True
            elif isinstance(written, tuple):
                text, citations = written
                written_by = "llm"
        if elsewhere and not refused:
            # Said first, so an answer from a neighbour's report is not read as the council's own.
            text = f"The library holds no reports on {' or '.join(elsewhere)}; other reports say:\n\n{text}"
        if refused:
            text = REFUSAL
            if elsewhere:
                text = f"The library holds no reports on {' or '.join(elsewhere)}, and what other reports say of it does not answer this. The closest passages are listed below."
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

    def _section_siblings(self, hits: list[SearchHit], question: str) -> list[SearchHit]:
        """For a list question naming a heading ("list the recommendations"), the numbered paragraphs under
        that heading the search left out: a report numbers each item of such a list as its own paragraph."""
        asked = set(terms(question))
        for hit in hits[:3]:
            passage = hit.passage
            heading = {t for t in terms(passage.section.rsplit(" › ", 1)[-1]) if not t.isdigit()}
            if not heading or not heading <= asked or not passage.paragraph.lstrip("¶").isdigit():
                continue
            try:
                siblings = self.index.load_report(passage.source)[1]
            except AssistantError:
                return []
            shown = {h.passage.id for h in hits}
            listed = [p.section == passage.section and p.paragraph.lstrip("¶").isdigit() for p in siblings]
            at = next((i for i, p in enumerate(siblings) if p.id == passage.id), None)
            if at is None:
                return []
            start = at
            while start > 0 and listed[start - 1]:
                start -= 1  # the run of numbered paragraphs the hit is one of
            run: list[Passage] = []
            for p, numbered in zip(siblings[start:], listed[start:]):
                if not numbered or len(run) == LIST_ITEMS:
                    break
                run.append(p)
            return [hit.model_copy(update={"passage": p}) for p in run if p.id not in shown]
        return self._listed_under(hits, heading_terms(asked))

    def _listed_under(self, hits: list[SearchHit], asked: set[str]) -> list[SearchHit]:
        """The passages under a heading the question means ("any recommendations?": "What needs to improve?")
        in the report the search ranked first, when the search found none of them."""
        if not hits:
            return []
        heading_of = lambda p: {t for t in terms(p.section.rsplit(" › ", 1)[-1]) if not t.isdigit()}  # noqa: E731
        if any(len(heading_of(h.passage)) >= 2 and heading_of(h.passage) <= asked for h in hits):
            return []
        try:
            passages = self.index.load_report(hits[0].passage.source)[1]
        except AssistantError:
            return []
        shown = {h.passage.id for h in hits}
        section = next((p.section for p in passages if len(heading_of(p)) >= 2 and heading_of(p) <= asked), None)
        under = [p for p in passages if section is not None and p.section == section][:LIST_ITEMS]
        return [hits[0].model_copy(update={"passage": p, "rank": len(hits) + 1}) for p in under if p.id not in shown]

    def _standard_sentences(self) -> StandardWording:
        """Sentences of the library's standard wording: a finding paragraph that ran on into a report's back
        page (the publisher's blurb, its address) still never answers with them."""
        generation = self.index.generation
        if self._standard[0] != generation:
            bm25 = self.index.bm25
            found = {
                _normal(text[start:end])
                for passage in bm25.passages(bm25.boilerplate_ids()).values()
                for text in [passage.text]
                for start, end, _, _ in unit_spans(text)
            }
            self._standard = (generation, StandardWording(found))
        return self._standard[1]

    def _letterhead(self, source: str) -> frozenset[str]:
        """Terms of a report's standard wording (what recurs across reports: its publisher, "inspection", the
        footer), which describe the report rather than any finding in it."""
        key = (self.index.generation, source)
        if key not in self._letterheads:
            passages = self.index.load_report(source)[1] if source in self.index.reports else []
            standard = " ".join(p.text for p in passages if self.index.bm25.is_boilerplate(p.id))
            self._letterheads[key] = frozenset(terms(standard))
        return self._letterheads[key]

    def _reports_speaking_of(self, councils: list[str]) -> list[str]:
        """The reports with a passage naming one of these councils (a peer, a former director's council)."""
        found: set[str] = set()
        for council in councils:
            key = (self.index.generation, council)
            if key not in self._speaking:  # asked again and again in a chat: read once per library state
                ids = [pid for pid, _ in self.index.bm25.search(council, SPOKEN_OF_PASSAGES)]
                self._speaking[key] = {p.source for p in self.index.bm25.passages(ids).values() if _speaks_of(p.text, [council])}
            found |= self._speaking[key]
        return sorted(found)

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
        return _declined(question, standalone, text, "not in library", {"councils": councils, "years": years}, started)

    def _not_in_library(self, question: str, standalone: str, missing: list[str], started: float) -> Answer:
        """A council with no reports: say so, rather than search nothing or another council."""
        held = self.councils()
        names = " and ".join(missing)
        text = f"The library holds no reports on {names}."
        if held:
            text += f" It has reports on {', '.join(held[:12])}{'…' if len(held) > 12 else ''}."
        return _declined(question, standalone, text, "not in library", {"councils": missing}, started)

    def _from_register(self, question: str, standalone: str, filters: Filters) -> Answer | None:
        """Promises, deadlines and inspections are answered from the register built at ingest."""
        if filters.sources or filters.date_from or filters.date_to:
            return None  # the register answers whole councils; narrower filters go to the passages
        if not register_can_answer(standalone, self.councils(), self.mend):
            return None
        # Typos mended ("adopton performance"), so the judged area is recognised as the passages would be.
        # Councils as the gazetteer reads them ("worcs", "BCP"), when the chat's filter names none.
        councils = filters.councils or read_scope(standalone, self.councils()).councils
        answer = answer_from_register(self.mend(standalone, expand=False), self.index, councils)
        if answer is None:
            return None
        return answer.model_copy(update={"question": question, "standalone_question": standalone})

    def _llm_answer(self, question: str, hits: list[SearchHit]) -> tuple[str, list[Citation]] | str:
        """The LLM's checked answer; "refuse" when it finds none; "keep" (the extractive one) on failure."""
        try:
            if self._llm is None:
                self._llm = LLMAnswerer(self.settings)
            written = self._llm.answer(question, hits[:6])
        except LLMError as exc:
            log.warning("falling back to the extractive answer: %s", exc)
            return "keep"
        return "refuse" if written is None else written


def _normal(text: str) -> str:
    return " ".join(text.lower().split())


def _speaks_of(text: str, councils: list[str]) -> bool:
    """Whether a passage names one of the councils, as a report writes a council's name."""
    return any(m.council.name in councils for m in gazetteer().find(text, case_sensitive=True))


def _declined(question: str, standalone: str, text: str, kind: str, filters: dict[str, object], started: float) -> Answer:
    """Why the library cannot answer (no report matches, or none is held): a refusal citing nothing."""
    latency_ms = round((time.perf_counter() - started) * 1000, 1)
    return Answer(question=question, standalone_question=standalone, answer=text, refused=True, kind=kind, filters=filters, latency_ms=latency_ms)


def ask(question: str, *, settings: Settings | None = None, index: Index | None = None, filters: Filters | None = None) -> Answer:
    """Answer one question on its own."""
    return Engine(settings, index=index).answer(question, filters=filters)
