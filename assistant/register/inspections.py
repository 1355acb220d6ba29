"""Inspection history: the Ofsted inspections and visits, DfE and commissioner reviews a report mentions.

Written by hand for the same reason as commitments: the events are named in a handful of set
phrases ("monitoring visit", "ILACS", "single inspection") with a date beside them, and a
judgement in Ofsted's four words; no library knows this vocabulary.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta

from pydantic import BaseModel, Field

from assistant.dates import Anchor
from assistant.register.clauses import clause_around, first_label, leaning, leans_future, units
from assistant.register.commitments import Dated, TimeInfo
from assistant.timeexpr import TimeSpan, find_times
from assistant.types import Citation, Passage

EVENT_KINDS: list[tuple[str, re.Pattern[str]]] = [
    ("ILACS", re.compile(r"\bILACS\b|Inspection\s+of\s+Local\s+Authority\s+Children's\s+Services", re.I)),
    ("SEND inspection", re.compile(r"\bSEND\b[^.;]{0,60}?\binspection\b")),
    ("peer review", re.compile(r"\bpeer\s+review\b", re.I)),
    ("re-inspection", re.compile(r"\bre-?inspection\b|\bpost-monitoring\s+(?:single\s+)?inspection\b", re.I)),
    ("focused visit", re.compile(r"\bfocused\s+visit\b", re.I)),
    ("monitoring visit", re.compile(r"\bmonitoring\s+visits?\b|\b(?:first|second|third|fourth|fifth|sixth)(?:\s+and\s+\w+)?\s+visits?\b", re.I)),
    ("single inspection", re.compile(r"\bsingle\s+inspection\b|Inspection\s+of\s+services\s+for\s+children\s+in\s+need", re.I)),
    ("DfE review", re.compile(r"\b(?:DfE|Department\s+for\s+Education)\b[^.;]{0,80}?\b(?i:review)\b|\b(?i:review)\b[^.;]{0,60}?\b(?:DfE|Department\s+for\s+Education)\b")),
    ("commissioner review", re.compile(r"\bCommissioner\b[^.;]{0,60}?\b(?:review|report)\b|\breport\s+of\s+the\s+Commissioner\b", re.I)),
    ("full inspection", re.compile(r"\b(?:full(?:\s+service)?\s+)?inspection\b(?!\s+(?:regime|process|update|framework))|\bOfsted\s+(?:report|judgement)\b|\bOfsted\s+inspected\b", re.I)),
]
FULL_INSPECTIONS = ("ILACS", "single inspection", "full inspection")
_JUDGEMENTS = [
    ("Requires improvement to be good", re.compile(r"\brequir\w*\s+improvement(?:\s+to\s+be\s+good)?\b", re.I)),
    ("Inadequate", re.compile(r"(?:'|‘|\b(?:judged|judgement\s+\w+\s+\w+\s+was|rated|graded|was|as)\s+)inadequate\b", re.I)),
    ("Good", re.compile(r"(?:'|‘|\b(?:judged|rated|graded)\s+(?:as\s+)?)Good\b")),
    ("Outstanding", re.compile(r"(?:'|‘|\b(?:judged|rated|graded)\s+(?:as\s+)?)Outstanding\b")),
]
_FOCUS = re.compile(
    r"\b(?:focus(?:ed|ing)\s+on|(?:with\s+)?the\s+focus\s+(?:again\s+)?being(?:\s+on)?|looking\s+at)\s+(?:an?\s+examination\s+of\s+)?(?P<focus>[^.;]+)",
    re.I,
)
_NOT_AN_EVENT = re.compile(r"\b(?:handbook|introduced|regime|framework|guidance)\b", re.I)
_LETTER = re.compile(r"\bletter\s+of\s+$", re.I)
# "the Education and Inspections Act 2006", "(Review) Regulations 2013": a year naming a law, not an event.
_LAW = re.compile(r"\b(?:Act|Regulations|Order|Rules|Bill)\s*(?:\(\w+\)\s*)?$")
_PUBLISHED = re.compile(r"\b(?:published|report\s+of|report\s+entitled)\b", re.I)
_OTHER_COUNCIL = re.compile(r"\b(?!(?:County|City|Borough|District|Town|Parish|The)\b)([A-Z][a-z]+)(?:'s)?\s+(?:County\s+Council|City\s+Council|Council|Children's\s+Trust)\b")


class InspectionEvent(BaseModel, Dated):
    """One inspection, visit or review, held or planned, with what the reports say of it."""

    council: str
    kind: str = Field(description="ILACS, single inspection, full inspection, re-inspection, monitoring visit, focused visit, …")
    time: TimeInfo
    planned: bool = Field(description="True when the report speaks of it as still to come.")
    judgement: str = Field("", description="Ofsted's judgement where stated: Inadequate, Requires improvement to be good, Good, Outstanding.")
    focus: str = Field("", description="What the visit looked at, where stated.")
    citation: Citation
    also: list[Citation] = Field(default_factory=list, description="Other passages on the same event.")
    published: bool = Field(False, description="The date is that of the published report or letter, not the visit.")


# A word every name in EVENT_KINDS holds: most sentences hold none, and are spared running every pattern over them.
_MAY_MENTION = re.compile(r"inspection|visit|review|commissioner|ofsted|ilacs", re.I)


def _mentions(text: str) -> list[tuple[int, int, str]]:
    """(start, end, kind) of each event named in a sentence; an earlier, more specific name wins its span."""
    taken: list[tuple[int, int, str]] = []
    if not _MAY_MENTION.search(text):
        return taken
    for kind, pattern in EVENT_KINDS:
        for m in pattern.finditer(text):
            if not any(m.start() < e and s < m.end() for s, e, _ in taken):
                taken.append((m.start(), m.end(), kind))
    return sorted(taken)


def _judgement(text: str) -> str:
    return first_label(_JUDGEMENTS, text)


def _focus(text: str) -> str:
    if re.search(r"focus\s+of\s+the\s+visit\s+to\s+be\s+decided", text, re.I):
        return "to be decided"
    found = _FOCUS.search(text)
    if not found:
        return ""
    focus = re.split(r",|\s+in\s+(?=(?:\w+\s+)?(?:19|20)\d\d)|\s+(?:which|and\s+the|each)\b", found.group("focus"))[0]
    return focus.strip(" '\"")


def _about_another_council(sentence: str, council: str) -> bool:
    others = {m.group(1) for m in _OTHER_COUNCIL.finditer(sentence)} - set(council.split())
    return bool(others) and not (council and council in sentence)


def _event_for(span: TimeSpan, mentions: list[tuple[int, int, str]], text: str, others: list[TimeSpan]) -> str | None:
    """The event a date belongs to: the thing it names ('the 2015 inspection'), else the nearest event before it in its clause."""
    after = [m for m in mentions if 0 <= m[0] - span.endpos <= 2]
    if after:
        return after[0][2]
    c_start, _c_end = clause_around(text, span.pos, span.endpos)
    before = [m for m in mentions if m[0] < span.pos]
    in_clause = [m for m in before if c_start <= m[0]]
    if in_clause:
        return in_clause[-1][2]
    if not text[: span.pos].strip() and mentions:
        return mentions[0][2]  # "On 24 January 2017, Ofsted published its report …"
    # "the review by the DfE – 17 May 2016", "ILACS, which was completed in April": no other date between
    if before and not any(before[-1][0] < s.pos < span.pos for s in others):
        return before[-1][2]
    return None


def extract_inspections(passages: Sequence[Passage]) -> list[InspectionEvent]:
    """Events one report mentions, merged where two passages speak of the same one."""
    events: list[InspectionEvent] = []
    judgements: list[tuple[str, Citation]] = []  # dateless judgements of this council
    for passage in passages:
        if re.search(r"background\s+papers", passage.section, re.I):
            continue
        anchor = Anchor.parse(passage.date)
        for unit in units(passage.text):
            text = unit.text
            if _about_another_council(text, passage.council):
                continue
            if passage.council and passage.council in text and _judgement(text) and not find_times(text, anchor, "past"):
                judgements.append((_judgement(text), Citation.from_passage(0, passage, text)))
            mentions = _mentions(text)
            if not mentions or _NOT_AN_EVENT.search(text):
                continue
            seen: set[str] = set()

            spans = [s for s in find_times(text, anchor, leaning(text, "past")) if not _LETTER.search(text[: s.pos]) and not _LAW.search(text[: s.pos])]
            for span in spans:
                kind = _event_for(span, mentions, text, spans)
                if kind is None or kind in seen:
                    continue
                seen.add(kind)
                c_start, c_end = clause_around(text, span.pos, span.endpos)
                clause = text[c_start:c_end]
                if anchor is not None and span.start > anchor.end:
                    planned = True
                elif anchor is not None and span.end < anchor.start:
                    planned = False
                else:
                    planned = leans_future(clause)
                events.append(
                    InspectionEvent(
                        council=passage.council,
                        kind=kind,
                        time=TimeInfo(**span.as_json()),
                        planned=planned,
                        judgement=_judgement(text) if kind in FULL_INSPECTIONS else "",
                        focus=_focus(text) if "visit" in kind else "",
                        citation=Citation.from_passage(0, passage, text),
                        published=bool(_PUBLISHED.search(clause)),
                    )
                )
    merged = merge_events(events)
    for label, citation in judgements:
        held = [e for e in merged if e.kind in FULL_INSPECTIONS and not e.planned and not e.judgement]
        if held:
            target = max(held, key=lambda e: e.start)
            target.judgement = label
            target.also.append(citation)
    return merged


def _family(kind: str) -> str:
    return "full inspection" if kind in FULL_INSPECTIONS else kind


def _same_event(a: InspectionEvent, b: InspectionEvent) -> bool:
    if a.council != b.council or _family(a.kind) != _family(b.kind) or a.planned != b.planned:
        return False
    if a.start <= b.end and b.start <= a.end:
        return True
    # An inspection and the report published on it weeks later are one event.
    gap = max(a.start, b.start) - min(a.end, b.end)
    return _family(a.kind) == "full inspection" and not a.planned and gap <= timedelta(days=183)


def _precision(event: InspectionEvent) -> tuple[bool, int]:
    return event.published, (event.end - event.start).days


def merge_events(events: list[InspectionEvent]) -> list[InspectionEvent]:
    """One entry per event: the most precise date (a visit's own over its report's), every citation."""
    merged: list[InspectionEvent] = []
    # Per merged entry, the (passage, quote) keys of its citation and `also` once it is a merge of its own
    # (None while it is still an input event): a merge then appends what is new, rather than copying
    # every citation gathered so far (quadratic when thousands of reports mention one inspection).
    keys: list[set[tuple[str, str]] | None] = []
    for event in events:
        for place, kept in enumerate(merged):
            if not _same_event(kept, event):
                continue
            held = keys[place]
            if held is not None and not _precision(event) < _precision(kept):
                best, other = kept, event
                added = [event.citation, *event.also]
            else:
                best, other = (event, kept) if _precision(event) < _precision(kept) else (kept, event)
                best = best.model_copy(update={"also": []})
                held = {(best.citation.passage_id, best.citation.quote)}
                added = [kept.citation, *kept.also, event.citation, *event.also]
            if FULL_INSPECTIONS.index(other.kind) < FULL_INSPECTIONS.index(best.kind) if other.kind in FULL_INSPECTIONS and best.kind in FULL_INSPECTIONS else False:
                best.kind = other.kind
            best.judgement = best.judgement or other.judgement
            best.focus = best.focus or other.focus
            for c in added:
                if (c.passage_id, c.quote) not in held:
                    held.add((c.passage_id, c.quote))
                    best.also.append(c)
            merged[place], keys[place] = best, held
            break
        else:
            merged.append(event)
            keys.append(None)
    return sorted(merged, key=lambda e: (e.council, e.start))
