"""Inspection records joined across reports: a report's own record, the other reports' mentions of it, and the event list.

An inspection report's first page states its own inspection (`ofsted.read_inspection`); council
papers and later reports mention it (`inspections.extract_inspections`). Joined here, a record
gathers every citation of one inspection, and a mention with no record of its own becomes one
when it states a grade.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.register.commitments import TimeInfo
from assistant.register.inspections import FULL_INSPECTIONS, InspectionEvent
from assistant.register.ofsted import GRADES, FactCitation, InspectionRecord, grade
from assistant.types import Citation


def _mentioned(event: InspectionEvent, council: str) -> InspectionRecord | None:
    """A held inspection another report speaks of, dated to the month or better: a record of what it says."""
    if event.planned or event.kind not in FULL_INSPECTIONS or event.time.granularity not in ("day", "days", "week", "part of month", "month"):
        return None
    month = event.time.start[:7]
    if event.time.end[:7] != month:
        return None
    record = InspectionRecord(
        council=council,
        kind="sif" if event.kind == "single inspection" else "inspection",
        framework={"ILACS": "ILACS", "single inspection": "SIF"}.get(event.kind, ""),
        inspection_start=month,
        inspection_end=month,
        sources=[event.citation.source],
    )
    record.citations = [FactCitation(**event.citation.model_dump(), facts=["inspection_end"])]
    if label := grade(event.judgement):
        record.judgements = {"overall": label}
        # The grade is cited to the passage that states it, which may be the next one, not the date's.
        stated = [c for c in [event.citation, *event.also] if re.search(re.escape(label.split()[0]), c.passage, re.I)]
        if not stated:
            return _without_grade(record)
        if stated[0].passage_id == event.citation.passage_id:
            record.citations[0].facts.append("overall")
        else:
            record.citations.append(FactCitation(**stated[0].model_dump(), facts=["overall"]))
    return record


def _without_grade(record: InspectionRecord) -> InspectionRecord:
    """A mention whose grade no cited passage states keeps only its date: an uncited grade is no fact."""
    record.judgements = {}
    return record


def merge_records(
    reports: Sequence[InspectionRecord], events: Sequence[InspectionEvent]
) -> tuple[list[InspectionRecord], list[InspectionEvent]]:
    """Records of the inspection reports, joined by other reports' mentions; and the events that are not a report's own.

    A mention in an inspection report (of an earlier inspection) takes the council that report names.
    A mention with no record of its own becomes one only when it states a judgement.
    """
    records = [r.model_copy(deep=True) for r in reports]
    councils = {r.sources[0]: r.council for r in reports}
    own: dict[str, list[InspectionRecord]] = {}
    for r in reports:
        own.setdefault(r.sources[0], []).append(r)
    # Looked up, not scanned: at 100,000 passages thousands of mentions meet thousands of records.
    first: dict[tuple[str, str], int] = {}  # (council, month) -> the first record of that inspection
    held: list[set[tuple[str, str]]] = []  # per record, its citations' (passage, quote)
    sources: list[set[str]] = []

    def place(record: InspectionRecord) -> None:
        for month in (record.inspection_end[:7], record.inspection_start[:7], record.published[:7]):
            first.setdefault((record.council.lower(), month), len(held))
        held.append({(k.passage_id, k.quote) for k in record.citations})
        sources.append(set(record.sources))

    for record in records:
        place(record)
    others: list[InspectionEvent] = []
    for event in events:
        if any(_overlaps(event, r) for r in own.get(event.citation.source, ())):
            continue  # the report's own inspection, read better from its first page
        council = councils.get(event.citation.source, event.council)
        others.append(event.model_copy(update={"council": council}))
        mention = _mentioned(event, council)
        if mention is None:
            continue
        if event.citation.source in councils and len({c.passage_id for c in mention.citations}) > 1:
            mention = _without_grade(mention)  # in an inspection report, a grade of another passage is its own
        at = first.get((mention.council.lower(), mention.inspection_end[:7]))
        if at is None:
            if mention.judgements:
                records.append(mention)
                place(mention)
            continue
        kept = records[at]
        new = [c for c in mention.citations if (c.passage_id, c.quote) not in held[at]]
        kept.citations.extend(new)
        held[at].update((c.passage_id, c.quote) for c in new)
        for source in mention.sources:
            if source not in sources[at]:
                sources[at].add(source)
                kept.sources.append(source)
        if mention.judgements.get("overall") and not kept.judgements.get("overall"):
            kept.judgements["overall"] = mention.judgements["overall"]
    records.sort(key=lambda r: (r.council.lower(), r.inspection_start or r.inspection_end))
    return records, others


def _overlaps(event: InspectionEvent, record: InspectionRecord) -> bool:
    if not record.inspection_start:
        return True
    end = record.published or record.inspection_end
    return event.time.start <= end and record.inspection_start[:7] <= event.time.end


_EVENT_KINDS = {"sif": "single inspection", "focused_visit": "focused visit", "monitoring_visit": "monitoring visit"}
_EVENT_GRADES = {"requires improvement": "Requires improvement to be good"}


def as_event(record: InspectionRecord) -> InspectionEvent | None:
    """A report's own inspection as an entry of the event list (the timeline and briefings read that list)."""
    cited = record.citation_for("overall") or record.citation_for("inspection_end")
    if cited is None or not record.inspection_start:
        return None
    kind = _EVENT_KINDS.get(record.kind, "ILACS" if record.framework == "ILACS" else "full inspection")
    overall = record.judgements.get("overall", "")
    span = record.inspection_start if record.inspection_start == record.inspection_end else f"{record.inspection_start} to {record.inspection_end}"
    return InspectionEvent(
        council=record.council,
        kind=kind,
        time=TimeInfo(text=span, start=record.inspection_start, end=record.inspection_end, granularity="days"),
        planned=False,
        judgement=_EVENT_GRADES.get(overall, overall.capitalize()) if overall in GRADES else "",
        citation=Citation(**cited.model_dump(exclude={"facts"})),
        also=[Citation(**c.model_dump(exclude={"facts"})) for c in record.citations if c is not cited],
    )
