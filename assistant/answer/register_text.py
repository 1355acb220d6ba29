"""How the register's answers are written: citations numbered as cited, one line an inspection with each
grade cited, grades as Ofsted prints them, a change judged judgement by judgement."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence

from assistant.councils import gazetteer, normalise
from assistant.register.ofsted import GRADES, JUDGEMENT_LABELS, NOT_JUDGED, InspectionRecord
from assistant.register.table import SUB_JUDGEMENTS
from assistant.types import Answer, Citation


class Numbered:
    """The citations of one answer, numbered as cited; with `reuse`, the same passage and quote keeps its number."""

    def __init__(self, *, reuse: bool = True) -> None:
        self.items: list[Citation] = []
        self.reuse = reuse

    def __call__(self, citation: Citation) -> str:
        if self.reuse:
            for item in self.items:
                if item.passage_id == citation.passage_id and item.quote == citation.quote:
                    return f"[{item.n}]"
        # A record's citation also names the facts it supports; the answer cites the passage alone.
        self.items.append(Citation(**citation.model_dump(exclude={"facts", "n"}), n=len(self.items) + 1))
        return f"[{len(self.items)}]"


def list_answer(question: str, lines: Sequence[str], cited: Numbered, kind: str, councils: Sequence[str], started: float) -> Answer:
    """A list answer, one cited line a item, read from the register."""
    return Answer(
        question=question,
        standalone_question=question,
        answer="\n".join(f"- {line}" for line in lines),
        refused=False,
        citations=cited.items,
        kind=kind,
        confidence=1.0,  # read from the register, not ranked evidence
        written_by="register",
        filters={"councils": list(councils)} if councils else {},
        latency_ms=round((time.perf_counter() - started) * 1000, 1),
    )


def councils_in(question: str, records: Sequence[InspectionRecord]) -> list[str]:
    """Councils of the register named in the question, in the order named."""
    known = {normalise(r.council): r.council for r in records}
    named: list[str] = []
    for mention in gazetteer().find(question, known=list(known.values())):
        council = known.get(normalise(mention.council.name))
        if council is None:
            for alias in mention.council.aliases:
                council = council or known.get(normalise(alias))
        if council and council not in named:
            named.append(council)
    lowered = question.lower()
    return named or [name for key, name in sorted(known.items()) if re.search(rf"\b{re.escape(name.lower())}\b", lowered)]


def record_when(record: InspectionRecord) -> str:
    start, end = record.inspection_start, record.inspection_end
    return end if not start or start == end else f"{start} to {end}"


def is_graded(record: InspectionRecord, field: str) -> bool:
    return record.judgements.get(field, NOT_JUDGED) in GRADES


def cite_fact(cite: Numbered, record: InspectionRecord, fact: str, *, every: bool = False) -> str:
    """The marker of the passage stating the fact; with `every`, of each passage stating it (the judgement
    table and the heading of the section that explains the grade), so a reader may check either."""
    cited = record.citations_for(fact) if every else [c for c in [record.citation_for(fact)] if c is not None]
    # The narrowest passage first: a section's heading stating this grade alone before the judgement table of all.
    cited = sorted(cited, key=lambda c: len(c.passage))
    return "".join(f" {cite(c)}" for c in cited)


_RANK = {"inadequate": 0, "adequate": 1, "requires improvement": 1, "good": 2, "outstanding": 3}


def change_line(council: str, mine: Sequence[InspectionRecord], fields: Sequence[str]) -> list[str]:
    """'Bury, 2016 to 2025: impact of leaders improved (inadequate → good); …': each judgement made at both
    the first and the last inspection shown, compared; nothing when fewer than two inspections are shown."""
    ordered = sorted(mine, key=lambda r: r.inspection_end or r.inspection_start)
    if len(ordered) < 2:
        return []
    first, last = ordered[0], ordered[-1]
    parts = []
    for f in fields:
        if is_graded(first, f) and is_graded(last, f):
            a, b = first.judgements[f], last.judgements[f]
            moved = "improved" if _RANK[b] > _RANK[a] else "declined" if _RANK[b] < _RANK[a] else "unchanged"
            parts.append(f"{JUDGEMENT_LABELS[f]} {moved} ({printed(a)} → {printed(b)})")
    span = f"{(first.inspection_end or first.inspection_start)[:4]} to {(last.inspection_end or last.inspection_start)[:4]}"
    return [f"{council}, {span}: " + "; ".join(parts)] if parts else []


def printed(grade: str) -> str:
    """A grade as Ofsted prints it: 'requires improvement to be good' is the grade's full name."""
    return "requires improvement to be good" if grade == "requires improvement" else grade


def record_line(record: InspectionRecord, cite: Numbered, fields: Sequence[str]) -> str:
    """'2023-12-04 to 2023-12-15, ILACS standard inspection: overall inadequate [1]; impact of leaders inadequate [1]'."""
    one = len(fields) == 1
    parts = [f"{JUDGEMENT_LABELS[f]} {printed(record.judgements[f])}{cite_fact(cite, record, f, every=one)}" for f in fields if is_graded(record, f)]
    return f"{record_when(record)}, {record.label}: " + "; ".join(parts)


def council_history(council: str, records: Sequence[InspectionRecord], cite: Numbered, field: str) -> list[str]:
    fields = ["overall", *SUB_JUDGEMENTS] if field == "overall" else [field]
    mine = [r for r in records if r.council == council and any(is_graded(r, f) for f in fields)]
    return [f"{council}: {record_line(r, cite, fields)}" for r in mine]
