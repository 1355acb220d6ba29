"""Briefing notes: a cited note on one topic, drafted extractively from the reports and the register.

Written by hand: llama-index's summarisers all need an LLM, and a briefing must only say what the
reports say. Every point is a sentence (or list items) of a report, cited to its paragraph; each
sentence is used once in the note. Relevance is judged per sentence, from the topic's words in the
sentence, its heading, its lead-in or its paragraph, so a paragraph on five things gives one point.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from assistant.answer.engine import Engine
from assistant.answer.followups import mentioned_councils
from assistant.answer.units import Unit, units_of
from assistant.briefing.history import history_rows, series_values
from assistant.briefing.model import Briefing, Citer, CommitmentRow, Point, Question, SourceEntry
from assistant.briefing.points import (
    BOILERPLATE,
    JUDGED,
    NOT_CONTENT,
    PARTIAL,
    RELEVANT,
    Candidate,
    Topic,
    change_of,
    classify,
    clean,
    event_cited,
    event_for,
    event_label,
    finding_label,
    group_items,
    is_future,
    join_items,
    open_report,
    pick_summary,
    quoting_passages,
    reading_order,
    score_units,
    short,
    weight,
)
from assistant.dates import Anchor, human_month, human_span
from assistant.errors import AssistantError
from assistant.register.commitments import Commitment
from assistant.register.inspections import InspectionEvent
from assistant.register.query import parse_date_option, with_status
from assistant.register.store import load_register
from assistant.text import terms
from assistant.types import Citation, Filters, IndexedReport, Passage, SearchHit, date_bounds

PER_COUNCIL = 20  # passages retrieved per council
GROUP_ITEMS = 6  # list items shown in one finding
LIMITS = {"summary": 6, "findings": 14, "commitments": 14, "progress": 12, "questions": 8}


# ------------------------------------------------------------------ building


def build_briefing(
    engine: Engine,
    topic: str,
    *,
    councils: Sequence[str] = (),
    date_from: str = "",
    date_to: str = "",
    prepared: date | None = None,
) -> Briefing:
    """Draft a briefing note on `topic` from the indexed reports and the commitments register."""
    topic = " ".join((topic or "").split())
    if not terms(topic):
        raise AssistantError("the topic is empty: give a subject such as \"workforce\" or \"care leavers\"")
    engine.index.require_ready()
    chosen = _councils(engine, topic, councils)
    low = parse_date_option(date_from, "--from")
    high = parse_date_option(date_to, "--to", end=True)
    if low and high and low > high:
        raise AssistantError(f"--from {date_from} is after --to {date_to}")
    filters = Filters(councils=chosen, date_from=date_from.strip(), date_to=date_to.strip())
    scoped = {
        source: entry for source, entry in engine.index.reports.items()
        if filters.allows(entry.council, source, *date_bounds(entry.date))
    }
    if not scoped:
        raise AssistantError(f"no indexed report matches {_scope_text(chosen, date_from, date_to)}; `assistant docs` lists the reports")
    note = Briefing(topic=topic, councils=sorted(chosen), date_from=date_from, date_to=date_to, prepared=(prepared or date.today()).isoformat())
    draft = _Draft(engine, note, filters, scoped)
    draft.commitments_on_topic()
    draft.summary()
    draft.findings()
    draft.commitment_rows()
    draft.progress()
    draft.questions(prepared or date.today())
    # Without chosen councils, the history of those the note already speaks of, not of every council in the library.
    shown, cite = chosen or sorted({c.council for c in draft.citer.citations}), draft.citer.cite_register
    note.history = history_rows(draft.register.records, draft.register.inspections, shown, scoped, cite)
    note.series = series_values(draft.register.facts, shown, scoped, cite)
    note.citations = draft.citer.citations
    if not note.citations:
        raise AssistantError(f"the reports ({_scope_text(chosen, date_from, date_to)}) say nothing on {topic!r}; try a broader topic or fewer filters")
    note.sources = _sources(note.citations, scoped)
    dates = sorted(s.date for s in note.sources if s.date)
    note.period = (date_from or dates[0] if dates else date_from, date_to or dates[-1] if dates else date_to)
    return note


def _councils(engine: Engine, topic: str, councils: Sequence[str]) -> list[str]:
    """Councils asked for (by any capitalisation), else those the topic names; empty means all."""
    known = engine.councils()
    chosen: list[str] = []
    for name in councils:
        match = next((k for k in known if k.lower() == name.strip().lower()), None)
        if match is None:
            raise AssistantError(f"--council {name!r} is not among the indexed councils: {', '.join(known) or 'none'}")
        chosen.append(match)
    return chosen or mentioned_councils(topic, known)


class _Draft:
    """The note as it is drafted: candidate sentences, what has been used, and the citations so far."""

    def __init__(self, engine: Engine, note: Briefing, filters: Filters, scoped: dict[str, IndexedReport]) -> None:
        self.note = note
        self.citer = Citer()
        self.used: set[tuple[str, int, int]] = set()  # each sentence appears once in the note
        self.placed: list[tuple[list[Candidate], Point]] = []  # what each point was drawn from, for the questions
        self.on_topic: list[tuple[Commitment, Candidate]] = []
        self.chosen: list[Candidate] = []
        # Passages: the topic's best per council, plus those the register cites.
        hits: dict[str, SearchHit] = {}
        for council in filters.councils or sorted({e.council for e in scoped.values()}):
            for hit in engine.retrieve(note.topic, filters.model_copy(update={"councils": [council]}), k=PER_COUNCIL):
                hits.setdefault(hit.passage.id, hit)
        self.register = register = load_register(engine.index)
        self.promises = [c for c in with_status(register) if c.source in scoped]
        self.events = [e for e in register.inspections if e.citation.source in scoped]
        sources = {h.passage.source for h in hits.values()} | {c.source for c in self.promises} | {e.citation.source for e in self.events}
        self.reports = {s: open_report(engine.index.load_report(s)[1], scoped[s].date) for s in sources}
        for promise in self.promises:
            passage = self.reports[promise.source].by_id.get(promise.citation.passage_id)
            if passage is not None and passage.id not in hits:
                hits[passage.id] = SearchHit(passage=passage, score=0.0, rank=PER_COUNCIL + 1)
        passages = [p for r in self.reports.values() for p in r.passages]
        subject = Topic(note.topic, engine.answerer.question_weights(note.topic, filters.councils), passages)
        units = [u for h in hits.values() for u in units_of(h)]
        self.candidates = score_units(engine.index, subject, units, self.reports)
        self.relevant = [c for c in self.candidates if self._admissible(c)]
        siblings: dict[str, list[Unit]] = defaultdict(list)
        for u in units:
            siblings[u.passage.id].append(u)
        quoting = set().union(*(quoting_passages(r) for r in self.reports.values()))
        for c in self.relevant:
            classify(c, siblings[c.unit.passage.id], self.reports[c.unit.passage.source], quoting)
            held = event_cited(c, self.events)
            if held is not None and not is_future(c.unit.text):
                c.role, c.event = "finding", held
            elif c.role == "finding":
                c.event = event_for(c, self.reports[c.unit.passage.source], self.events)

    def _admissible(self, c: Candidate) -> bool:
        text = c.unit.text
        return (
            c.relevance >= RELEVANT and not c.unit.lead_in and len(text.split()) >= 2 and not text.rstrip().endswith(":")
            and not BOILERPLATE.search(text) and not NOT_CONTENT.search(self.reports[c.unit.passage.source].heading(c.unit.passage))
        )

    def _point(self, c: Candidate, *, section: str) -> Point:
        passage = c.unit.passage
        label = finding_label(c) if c.role == "finding" else ""
        point = Point(text=clean(c.unit.text), label=label, council=passage.council, date=passage.date,
                      report_date=passage.date, section=section, refs=[self.citer.cite(passage, c.unit.start, c.unit.end)])
        self.used.add(c.key)
        self.placed.append(([c], point))
        return point

    def commitments_on_topic(self) -> None:
        """A commitment is on the topic when its sentence is, or the paragraph it opens is."""
        by_key = {c.key: c for c in self.candidates}
        for item in self.promises:
            cand = _unit_of(by_key, item.citation)
            if cand is not None and cand.around >= RELEVANT:
                self.on_topic.append((item, cand))
        self.on_topic.sort(key=lambda pair: (pair[0].council, pair[0].time.start, pair[0].report_date))
        self.on_topic = self.on_topic[: LIMITS["commitments"]]
        for _, cand in self.on_topic:
            cand.role = "commitment"
            self.used.add(cand.key)

    def summary(self) -> None:
        """The strongest findings and figures, councils in turn."""
        pool = [c for c in self.relevant if c.key not in self.used
                and (c.role in ("finding", "progress") or (c.role == "other" and not is_future(c.unit.text)))]
        self.chosen = sorted(pick_summary(pool, LIMITS["summary"]), key=reading_order)
        for c in self.chosen:
            point = self._point(c, section=_SECTION_OF.get(c.role, "other"))
            if c.role == "progress":
                point.change = change_of(c, c.unit.passage.date)[0]
            self.note.summary.append(point)

    def findings(self) -> None:
        """Per council: the latest two judgements (for context), then findings by date; list items together."""
        entries: list[tuple[tuple[str, int, str], Point, Passage, int, int]] = []
        with_points = {c.unit.passage.council for c in self.relevant if c.role in ("finding", "progress", "commitment") or c in self.chosen}
        judged: dict[str, list[InspectionEvent]] = defaultdict(list)
        for event in sorted((e for e in self.events if e.judgement), key=lambda e: e.start):
            judged[event.council].append(event)
        for council, events in judged.items():
            for event in events[-2:] if council in with_points else []:
                # Cite the passage that states the judgement, not merely the one that dates the inspection.
                said = next((q for q in [event.citation, *event.also] if JUDGED[event.judgement].search(q.quote)), None)
                passage = self.reports[said.source].by_id.get(said.passage_id) if said and said.source in self.reports else None
                at = passage.text.find(said.quote) if passage and said else -1
                if passage is None or said is None or at < 0:
                    continue
                end = at + len(said.quote)
                self.used.update(c.key for c in self.relevant if c.unit.passage.id == passage.id and c.unit.start < end and at < c.unit.end)
                point = Point(text=event.judgement, label=event_label(event), council=council, date=event.time.start,
                              report_date=passage.date, section="judgement")
                entries.append(((council, 0, event.time.start), point, passage, at, end))
        found = [c for c in self.relevant if c.role == "finding" and c.key not in self.used]
        for group in group_items(found)[: LIMITS["findings"]]:
            self.used.update(c.key for c in group)
            group = sorted(sorted(group, key=lambda c: -c.rank)[:GROUP_ITEMS], key=lambda c: c.unit.start)
            first, last = group[0], group[-1]
            when = first.event.time.start if first.event else first.unit.passage.date
            point = Point(text=join_items(c.unit.text for c in group), items=[clean(c.unit.text) for c in group] if len(group) > 1 else [],
                          label=finding_label(first), council=first.unit.passage.council, date=when,
                          report_date=first.unit.passage.date, section="findings")
            self.placed.append((group, point))
            order = f"{when}|{first.unit.passage.ordinal:05d}|{first.unit.start:06d}"
            entries.append(((point.council, 1, order), point, first.unit.passage, first.unit.start, last.unit.end))
        for _, point, passage, start, end in sorted(entries, key=lambda e: e[0]):
            point.refs = [self.citer.cite(passage, start, end)]
            (self.note.judgements if point.section == "judgement" else self.note.findings).append(point)

    def commitment_rows(self) -> None:
        for item, cand in self.on_topic:
            n = self.citer.cite(cand.unit.passage, cand.unit.start, cand.unit.end)
            self.note.commitments.append(CommitmentRow(
                what=item.action, who=item.responsible, when=item.time.text, start=item.time.start, end=item.time.end,
                status=item.status, status_note=item.status_note, council=item.council, report_date=item.report_date, refs=[n],
            ))

    def progress(self) -> None:
        """Figures and changes, each with the date it refers to; by council, then date."""
        ranked = sorted((c for c in self.relevant if c.role == "progress" and c.key not in self.used), key=lambda c: -weight(c))
        dated = [(c, *change_of(c, c.unit.passage.date)) for c in ranked[: LIMITS["progress"]]]
        dated.sort(key=lambda item: (item[0].unit.passage.council, item[2], *reading_order(item[0])[1:]))
        for c, change, when in dated:
            point = self._point(c, section="progress")
            point.change, point.date = change, when
            self.note.progress.append(point)

    def questions(self, prepared: date) -> None:
        self.note.questions = _questions(self.on_topic, self.placed, self.citer, prepared)


def _scope_text(councils: Sequence[str], date_from: str, date_to: str) -> str:
    parts = [f"council {', '.join(councils)}"] if councils else ["any council"]
    if date_from or date_to:
        parts.append(f"dated {date_from or '…'} to {date_to or '…'}")
    return " ".join(parts)


def _unit_of(by_key: dict[tuple[str, int, int], Candidate], citation: Citation) -> Candidate | None:
    """The scored sentence a register citation quotes."""
    at = citation.passage.find(citation.quote)
    if at < 0:
        return None
    end = at + len(citation.quote)
    inside = [c for (pid, s, e), c in by_key.items() if pid == citation.passage_id and s < end and at < e]
    return max(inside, key=lambda c: c.relevance) if inside else None


_SECTION_OF = {"finding": "findings", "progress": "progress"}


def _questions(
    on_topic: list[tuple[Commitment, Candidate]],
    placed: list[tuple[list[Candidate], Point]],
    citer: Citer,
    prepared: date,
) -> list[Question]:
    """Questions from unkept or unreported commitments, areas for improvement and partial progress; councils take turns."""
    found: list[Question] = []
    for item, cand in on_topic:
        n = citer.cite(cand.unit.passage, cand.unit.start, cand.unit.end)
        made = f"The {item.council} report of {human_month(item.report_date)} planned “{short(item.action, 24)}” for {human_span(item.start, item.end)}"
        own = Anchor.parse(item.report_date)
        if own is not None and (item.end - own.end).days < 31:
            continue  # due at the meeting the report went to: nothing to chase
        if item.status in ("overdue", "not mentioned again") or (item.status == "open" and item.end < prepared):
            later = "later reports do not mention it" if item.status != "open" else "no later report in the library says whether it happened"
            found.append(Question(ask="Was this delivered as planned, and if not, what is the new date?", basis=f"{made}; {later}.",
                                  council=item.council, refs=[n]))
        elif item.status == "in progress" and item.evidence and item.end < prepared:
            last = item.evidence[-1].citation
            found.append(Question(ask="When will it be complete, and what is holding it back?",
                                  basis=f"{made}; the report of {human_month(last.date)} describes it as still in progress.",
                                  council=item.council, refs=[n]))
    for group, point in placed:
        weak = next((c for c in group if c.role == "finding" and c.weak), None)
        if weak is not None:
            source = event_label(weak.event) if weak.event else f"report of {human_month(point.report_date)}"
            found.append(Question(ask="What has changed since, and what evidence will show it has improved?",
                                  basis=f"Ofsted ({source}): “{short(weak.unit.text)}”", council=point.council, refs=point.refs))
    for group, point in placed:
        if group[0].role == "progress" and PARTIAL.search(group[0].unit.text):
            found.append(Question(ask="What is the position now, and when will the rest be achieved?",
                                  basis=f"The report of {human_month(point.report_date)} said: “{short(point.text)}”",
                                  council=point.council, refs=point.refs))
    by_council: dict[str, list[Question]] = defaultdict(list)
    asked: dict[str, int] = defaultdict(int)
    for q in found:
        # Half the questions at most on dates: the rest on what Ofsted asked for and what is half done.
        if asked[q.ask] < LIMITS["questions"] // 2:
            asked[q.ask] += 1
            by_council[q.council].append(q)
    out: list[Question] = []
    while any(by_council.values()) and len(out) < LIMITS["questions"]:
        for council in sorted(by_council):
            if by_council[council] and len(out) < LIMITS["questions"]:
                out.append(by_council[council].pop(0))
    return out


def _sources(citations: list[Citation], scoped: dict[str, IndexedReport]) -> list[SourceEntry]:
    entries: dict[str, SourceEntry] = {}
    for c in citations:
        meta = scoped.get(c.source)
        entry = entries.setdefault(c.source, SourceEntry(
            source=c.source, title=c.title or (meta.title if meta else ""), council=c.council,
            committee=meta.committee if meta else "", date=c.date,
        ))
        if c.paragraph not in entry.paragraphs:
            entry.paragraphs.append(c.paragraph)
        entry.refs.append(c.n)
    for entry in entries.values():
        entry.paragraphs.sort(key=_paragraph_order)
    return sorted(entries.values(), key=lambda e: (e.council, e.date, e.source))


def _paragraph_order(label: str) -> tuple[int, float, str]:
    m = re.match(r"¶?(\d+)", label)
    return (1 if label.startswith("¶") else 0, float(m.group(1)) if m else math.inf, label)
