"""Which sentences of the reports are on a topic, and what kind of point each one makes.

Written by hand: the reports' own shape says most (a heading or lead-in that names the topic, a
list under "Areas of strength", a sentence that Ofsted "found"), and no library reads it. A
sentence is on the topic when it names it, or sits under a heading or lead-in that does; the
embedding model only ranks what the words have already admitted.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from assistant.answer.kinds import YEAR
from assistant.answer.units import Unit, units_of
from assistant.dates import Anchor
from assistant.dates import human_month as month
from assistant.dates import human_span as span_label
from assistant.index.index import Index
from assistant.register.clauses import VERBAL_FUTURE
from assistant.register.inspections import InspectionEvent
from assistant.text import compile_table, terms
from assistant.timeexpr import find_times
from assistant.types import Passage, SearchHit

# Tuned on the sample reports: a sentence naming the topic scores 1, one under a heading that
# names it 0.7, a list item under a lead-in (or a sentence opening a paragraph) that names it 0.6.
RELEVANT = 0.5


# ------------------------------------------------------------------ topic words


_ACRONYM = re.compile(r"((?:[A-Z][\w'’-]*\s+){0,4}[A-Z][\w'’-]*)\s*\(([A-Z]{2,6})\)")


class Topic:
    """The topic's words, weighted as the answerer weighs a question's, plus acronyms the reports define for it."""

    def __init__(self, text: str, weights: dict[str, float], passages: Sequence[Passage]) -> None:
        self.text = text
        self.weights = weights
        self.total = sum(weights.values()) or 1.0
        self.aliases: set[str] = set()
        wanted = set(weights)
        for passage in passages:
            for m in _ACRONYM.finditer(passage.text):
                if wanted and wanted <= set(terms(m.group(1))):
                    self.aliases.update(terms(m.group(2)))

    def coverage(self, text: str) -> float:
        """Share of the topic's weight that a text's words carry (1 when it names an acronym of it); titles quoted do not count."""
        found = set(terms(_TITLE_QUOTE.sub(" ", text)))
        if self.aliases & found:
            return 1.0
        share = sum(w for t, w in self.weights.items() if t in found) / self.total
        # Squared: one word of a two-word topic ('early' of 'early help') is not the topic.
        return share**2


# ------------------------------------------------------------------ kinds of sentence

# What makes a sentence a finding (and a weakness) or progress.
_ROLE_CUES = compile_table({
    "intro": r"\b(?:found|finds|findings?|identified|inspectors?|Ofsted|judge?ments?|notes)\b[^:]*:\s*$",
    "finding_heading": r"areas? (?:of|for) (?:strength|improvement)|needs? to improve|work to do to improve|findings|strengths|weaknesses",
    "reported": r"\b(?:Ofsted|inspectors?|HMI|the inspection|the (?:outcome )?letter|the (?:DfE )?review|the Minister|the report summary)\b"
    r"(?:'s)?[^.;:]{0,80}?\b(?:found|finds|identified|noted|notes|judged|concluded|acknowledged|challenged|recogni[sz]\w*|"
    r"highlighted|described|feel|felt|stated|states|observed|rated|considered|statement|confirmed|referred)\b"
    r"|\bdescribed by Ofsted\b|\boverall judgement\b|\b(?:judged|rated|graded)\b",
    "weak": r"\b(?:not yet|not (?:consistently|always|sufficiently|well|making|informed|receiving|ensuring)|too (?:variable|many|few|slow|broad)|"
    r"remains? (?:poor|weak|too|variable|inconsistent)|weak(?:ness(?:es)?)?|lacks?|over[- ]reliance|inconsistent|insufficient|poor|"
    r"more work to do|need to ensure|is a need|requires? improvement|inadequate|disjointed|variable|infancy|still to be|missed opportunity)\b",
    "to_improve": r"needs? to improve|work to do to improve|areas? for improvement|weakness",
    "change_word": r"\b(?:reduced|reducing|increased|increasing|improved|improving|fallen|falling|fell|risen|rising|rose|declined|declining|dropped|"
    r"halved|doubled|stabilised|stabilized|(?:more )?stable|(?:is|are) being|underway|in progress|achieved|completed|delivered)\b",
})
PARTIAL = re.compile(r"\b(?:so far|out of (?:the )?\w+|beginning to|some progress|becoming|longer term|not yet|in many parts|still)\b", re.I)
_NUMBER_WORDS = r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|half|quarter"
_FIGURE = re.compile(
    rf"£\s?\d[\d,.]*\s?(?:m|k|bn|million|billion)?\b|\b\d[\d,]*(?:\.\d+)?\s?(?:%|per ?cent\b)|\b\d[\d,]*(?:\.\d+)?\b|\b(?:{_NUMBER_WORDS})\s+out\s+of\b",
    re.I,
)
_REFERENCE = re.compile(
    r"\b(?:appendix|appendices|annex|no\.?|number|para(?:graph)?s?|item|page|section|table|extension|tel|phase|S)\s*\d+(?:\s*(?:&|and|,)\s*\d+)*"
    r"|\b\d{3,}[\s/]\d{3,}\b|\(\w{1,4}\)",
    re.I,
)
_PERCENT = r"\d+(?:\.\d+)?\s?%"
_CHANGE = [
    re.compile(rf"(?P<now>{_PERCENT})[^.;]*?\b(?:having been|down from|up from|compared (?:with|to)|from a (?:high|low) of)\s+(?P<before>{_PERCENT})"),
    re.compile(rf"\bfrom\s+(?P<before>{_PERCENT})[^.;]*?\bto\s+(?P<now>{_PERCENT})"),
]
JUDGED = defaultdict(
    lambda: re.compile(r"(?!)"),
    {
        "Inadequate": re.compile(r"\binadequate\b", re.I),
        "Requires improvement to be good": re.compile(r"\brequir\w*\s+improvement\b", re.I),
        "Good": re.compile(r"\bgood\b", re.I),
        "Outstanding": re.compile(r"\boutstanding\b", re.I),
    },
)
_GRADED = re.compile(r"\s[-–:]\s*['‘]?(?:Good|Outstanding|Inadequate|Requires? improvement(?: to be good)?)\W*$")
NOT_CONTENT = re.compile(r"background papers|appendi(?:x|ces)|supporting information|contact points?", re.I)
_TITLE_QUOTE = re.compile(r"\b(?:entitled|titled|called)\s+['‘\"“][^'’\"”]+['’\"”]")
BOILERPLATE = re.compile(r"\t|\bthis report has (?:no|the) implications\b|^\s*(?:contact|tel|email)\b", re.I)


def figures_in(text: str, anchor: Anchor | None) -> list[str]:
    """Figures a sentence reports, after dates and references are set aside."""
    for span in sorted(find_times(text, anchor, "past"), key=lambda s: -s.pos):
        text = text[: span.pos] + " " * (span.endpos - span.pos) + text[span.endpos :]
    text = _REFERENCE.sub(" ", YEAR.sub(" ", text))
    return [m.group(0).strip() for m in _FIGURE.finditer(text)]


def is_future(text: str) -> bool:
    return bool(VERBAL_FUTURE.search(text))


# ------------------------------------------------------------------ candidates


@dataclass
class ReportView:
    """One report's passages in order, with the headings repeated under several parents."""

    passages: list[Passage]
    anchor: Anchor | None
    by_id: dict[str, Passage] = field(default_factory=dict)
    repeated: set[str] = field(default_factory=set)

    def heading(self, passage: Passage) -> str:
        """The passage's heading; a bare sub-heading used under several parents takes its parent."""
        if " › " in passage.section or passage.section not in self.repeated:
            return passage.section
        for earlier in reversed(self.passages[: passage.ordinal]):
            if " › " in earlier.section:
                return f"{earlier.section.split(' › ')[0]} › {passage.section}"
        return passage.section


def open_report(passages: list[Passage], report_date: str) -> ReportView:
    passages = sorted(passages, key=lambda p: p.ordinal)
    runs: dict[str, int] = defaultdict(int)
    previous = None
    for p in passages:
        if p.section != previous:
            runs[p.section] += 1
        previous = p.section
    report = ReportView(passages, Anchor.parse(report_date), {p.id: p for p in passages})
    report.repeated = {s for s, n in runs.items() if n > 1 and " › " not in s}
    return report


@dataclass
class Candidate:
    unit: Unit
    relevance: float
    around: float = 0.0  # the topic in the rest of the paragraph: enough for a commitment, not for a point
    rank: float = 0.0
    role: str = "other"  # finding, progress, commitment, other
    label: str = ""
    heading_label: bool = False  # the label is the list's heading (kept beside an event), not a lead-in
    weak: bool = False
    figures: list[str] = field(default_factory=list)
    event: InspectionEvent | None = None

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.unit.passage.id, self.unit.start, self.unit.end)


def lead_in(unit: Unit, siblings: list[Unit], report: ReportView) -> Unit | None:
    """The sentence that introduces a list item; a long list split into parts keeps its first part's."""
    if not unit.bullet:
        return None
    leads = [u for u in siblings if u.lead_in and u.end <= unit.start]
    if leads:
        return leads[-1]
    passage = unit.passage
    for earlier in reversed(report.passages[: passage.ordinal]):
        if earlier.paragraph != passage.paragraph or earlier.part == 0:
            break
        units = units_of(SearchHit(passage=earlier, score=0.0))
        carried = [u for u in units if u.lead_in]
        if carried:
            return carried[-1] if units[-1].bullet else None
    return None


def score_units(index: Index, topic: Topic, units: list[Unit], reports: dict[str, ReportView]) -> list[Candidate]:
    """Each unit's relevance to the topic (words, heading, lead-in, paragraph) and its rank for the summary."""
    by_passage: dict[str, list[Unit]] = defaultdict(list)
    for unit in units:
        by_passage[unit.passage.id].append(unit)
    vectors: dict[tuple[str, int, int], np.ndarray] = {}
    for source in {u.passage.source for u in units}:
        for pid, (spans, array) in index.unit_vectors(source).items():
            for (start, end, _, _), vector in zip(spans, array):
                vectors[(pid, start, end)] = vector
    out: list[Candidate] = []
    for unit in units:
        passage = unit.passage
        siblings = by_passage[passage.id]
        direct = topic.coverage(unit.text)
        heading = topic.coverage(reports[passage.source].heading(passage))
        lead = lead_in(unit, siblings, reports[passage.source])
        under = topic.coverage(lead.text) if lead else 0.0
        # In prose the opening sentence sets the paragraph's subject; later ones may touch on anything.
        opening = next((u for u in siblings if not u.bullet), None)
        prose = topic.coverage(opening.text) if opening is not None and opening is not unit and not unit.bullet else 0.0
        relevance = max(direct, 0.7 * heading, 0.6 * under)
        out.append(Candidate(unit, relevance, max(relevance, 0.6 * prose)))
    # Rocchio feedback: the topic's meaning, widened by the sentences that name it.
    query = index.embedder.embed_query(topic.text)
    named = [vectors[c.key] for c in out if c.relevance >= 0.99 and c.key in vectors]
    centre = query + np.mean(named, axis=0) if named else query
    centre = centre / (np.linalg.norm(centre) or 1.0)
    sims = [float(np.dot(vectors[c.key], centre)) if c.key in vectors else (c.unit.hit.dense_score or 0.0) for c in out]
    low, high = (min(sims), max(sims)) if sims else (0.0, 1.0)
    for c, sim in zip(out, sims):
        c.rank = c.relevance + 0.3 * (sim - low) / ((high - low) or 1.0)
    return out


def classify(c: Candidate, siblings: list[Unit], report: ReportView, quoting: set[str]) -> None:
    unit = c.unit
    text = unit.text
    heading = report.heading(unit.passage)
    lead = lead_in(unit, siblings, report)
    c.figures = figures_in(text, report.anchor)
    if lead is not None:
        c.label = lead.text.rstrip(": ")
    elif unit.bullet and heading:
        c.label = heading.split(" › ")[-1] + (f" ({heading.split(' › ')[0]})" if " › " in heading else "")
        c.heading_label = True
    finding = (
        (lead is not None and bool(_ROLE_CUES["intro"].search(lead.text)))
        or (unit.bullet and lead is None and bool(_ROLE_CUES["finding_heading"].search(heading)))
        or bool(_ROLE_CUES["reported"].search(text))
        or bool(_GRADED.search(text))
        or unit.passage.id in quoting
    )
    if finding and not is_future(text):
        c.role = "finding"
        c.weak = bool(_ROLE_CUES["weak"].search(text)) or (unit.bullet and bool(_ROLE_CUES["to_improve"].search(f"{c.label} {heading}")))
    elif c.figures or (_ROLE_CUES["change_word"].search(text) and not is_future(text)):
        c.role = "progress"


def quoting_passages(report: ReportView) -> set[str]:
    """Passages that carry on a quotation introduced by 'The report summary notes:' and the like."""
    found: set[str] = set()
    section = None
    for passage in report.passages:
        if passage.section != section:
            section, active = passage.section, False
        if active:
            found.add(passage.id)
        hit = SearchHit(passage=passage, score=0.0)
        spans = units_of(hit)
        for i, unit in enumerate(spans):
            if _ROLE_CUES["intro"].search(unit.text) and i + 1 < len(spans) and not spans[i + 1].bullet:
                active = True
                found.add(passage.id)
    return found


def clean(text: str) -> str:
    """Report text as read: PDF bold markers and line breaks gone, list punctuation trimmed."""
    text = re.sub(r"\*\*|__", "", text)
    text = re.sub(r"\s*\n\s*", " ", text)
    return re.sub(r"[;,]?\s+(?:and|or)$", "", text.strip()).rstrip(" ;,")


def event_for(c: Candidate, report: ReportView, events: list[InspectionEvent]) -> InspectionEvent | None:
    """The inspection or visit a finding comes from, as the register knows it."""
    passage = c.unit.passage
    held = [e for e in events if not e.planned and e.council == passage.council]
    same = [e for e in held if e.citation.passage_id == passage.id]
    if same:
        return same[0]
    context = f"{report.heading(passage)} {c.label}"
    for span in find_times(context, report.anchor, "past"):
        for e in held:
            if e.start <= span.end and span.start <= e.end and e.kind.split()[0].lower() in context.lower():
                return e
    if _ROLE_CUES["reported"].search(c.unit.text):
        return None  # the sentence names its own source
    # A list or quotation of findings with no date of its own: the report's latest Ofsted inspection or visit.
    ofsted = [e for e in held if e.citation.source == passage.source and e.kind in _OFSTED_KINDS
              and (report.anchor is None or e.start <= report.anchor.end)]
    return max(ofsted, key=lambda e: e.start) if ofsted else None


_OFSTED_KINDS = ("ILACS", "single inspection", "full inspection", "re-inspection", "monitoring visit", "focused visit")


def event_cited(c: Candidate, events: list[InspectionEvent]) -> InspectionEvent | None:
    """The held inspection or visit whose register entry quotes this sentence."""
    unit = c.unit
    for e in events:
        if e.planned or e.citation.passage_id != unit.passage.id:
            continue
        at = unit.passage.text.find(e.citation.quote)
        if at >= 0 and at < unit.end and unit.start < at + len(e.citation.quote):
            return e
    return None


def finding_label(c: Candidate) -> str:
    """What a finding is read under: the inspection or visit, and the list heading it sits under."""
    if c.event is None:
        return c.label
    return f"{event_label(c.event)} — {c.label}" if c.heading_label else event_label(c.event)


def event_label(event: InspectionEvent) -> str:
    kind = event.kind if event.kind.isupper() else event.kind[0].upper() + event.kind[1:]
    return f"{kind}, {span_label(event.start, event.end)}"


def change_of(c: Candidate, report_date: str) -> tuple[str, str]:
    """(change over time, ISO date the figure refers to) of a progress sentence."""
    text = c.unit.text
    times = [t for t in find_times(text, Anchor.parse(report_date), "past") if t.relation != "by"]
    for pattern in _CHANGE:
        m = pattern.search(text)
        if m:
            before_when = next((t for t in times if t.pos >= m.end("before") - 1), None) or next(iter(times), None)
            before = f"{m.group('before')} ({month(before_when.start.isoformat()[:7])})" if before_when else m.group("before")
            return f"{before} → {m.group('now')} ({month(report_date)})", report_date
    if times and not re.search(r"\b(?:currently|now|at present|to date|so far)\b", text, re.I):
        return "", times[-1].start.isoformat()[: 7 if times[-1].granularity != "day" else 10]
    return "", report_date


_META = re.compile(r"^\W*(?:the\s+)?purpose of (?:this|the) report\b|^\W*this (?:report|update)\b", re.I)
_ANAPHORA = re.compile(r"^\W*(?:this|these|those|that|it|they|such|the above|all these|he|she)\b", re.I)


def weight(c: Candidate) -> float:
    """Rank for the summary: on the topic (beyond a point, more words do not help), then substance, then standing alone."""
    substance = (0.25 if c.figures else 0.0) + (0.1 if any(p.search(c.unit.text) for p in _CHANGE) else 0.0)
    substance += {"finding": 0.2, "progress": 0.1, "other": -0.1}.get(c.role, 0.0)
    alone = -0.25 if _ANAPHORA.search(c.unit.text) or _META.search(c.unit.text) else 0.0
    alone -= 0.2 if c.unit.bullet and len(c.unit.text.split()) < 8 else 0.0
    return min(c.relevance, 0.75) + (c.rank - c.relevance) + substance + alone


def reading_order(c: Candidate) -> tuple[str, str, str, int, int]:
    p = c.unit.passage
    return (p.council, p.date, p.source, p.ordinal, c.unit.start)


def pick_summary(pool: list[Candidate], limit: int = 6) -> list[Candidate]:
    """Three to six points: councils take turns; a second point from one paragraph must be much stronger."""
    if not pool:
        return []
    top = max(weight(c) for c in pool)
    by_council: dict[str, list[Candidate]] = defaultdict(list)
    for c in pool:
        by_council[c.unit.passage.council].append(c)
    chosen: list[Candidate] = []
    taken: dict[str, int] = defaultdict(int)

    def adjusted(c: Candidate) -> float:
        return weight(c) - 0.25 * taken[c.unit.passage.id]

    order = sorted(by_council, key=lambda k: -max(weight(c) for c in by_council[k]))
    while len(chosen) < limit:
        added = False
        for council in order:
            left = [c for c in by_council[council] if c not in chosen]
            if not left or len(chosen) >= limit:
                continue
            best = max(left, key=adjusted)
            if len(chosen) >= 3 and adjusted(best) < 0.7 * top:
                continue
            chosen.append(best)
            taken[best.unit.passage.id] += 1
            added = True
        if not added:
            break
    return chosen


def group_items(findings: list[Candidate]) -> list[list[Candidate]]:
    """List items of one paragraph read as one point; sentences stand alone."""
    groups: list[list[Candidate]] = []
    ordered = sorted(findings, key=lambda c: (c.unit.passage.council, c.unit.passage.source, c.unit.passage.ordinal, c.unit.start))
    for c in ordered:
        last = groups[-1][-1] if groups else None
        if last and c.unit.bullet and last.unit.bullet and last.unit.passage.id == c.unit.passage.id and last.label == c.label:
            groups[-1].append(c)
        else:
            groups.append([c])
    return groups


def join_items(texts: Iterable[str]) -> str:
    """List items as one line: '; ' between items, a space after an item that ends a sentence."""
    out = ""
    for text in texts:
        text = clean(text)
        out += ("" if not out else " " if out.endswith((".", "!", "?")) else "; ") + text
    return out


def short(text: str, words: int = 14) -> str:
    parts = clean(text).split()
    return " ".join(parts[:words]) + ("…" if len(parts) > words else "")
