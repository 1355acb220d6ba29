"""Who led an inspection, or when it was held, as the first page of its own report states it."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence

from assistant.answer.kinds import YEAR, asks_inspection_fact
from assistant.answer.register_text import Numbered, councils_in, list_answer, record_when
from assistant.register.clauses import first_label
from assistant.register.ofsted import InspectionRecord
from assistant.text import compile_table
from assistant.types import Answer

# An inspection placed by another ("the one before December 2023"); "looked after children" places none.
_RELATIVE = re.compile(r"\b(?:before|prior\s+to|previous|preceding|earlier|first|(?<!looked\s)(?<!looked-)after|since|next|following)\b", re.I)
_FRAMEWORK_ASKED = compile_table({
    "focused_visit": r"\bfocused\s+visit",
    "monitoring_visit": r"\bmonitoring\s+visit",
    "SIF": r"\bSIF\b|\bsingle\s+inspection",
    "ILACS": r"\bILACS\b",
})


def answer_inspection_fact(
    question: str, records: Sequence[InspectionRecord], councils: Sequence[str] = (), *, names_lead: Callable[[str], bool] | None = None
) -> Answer | None:
    """Who led an inspection, or when it was held, as its report's first page states it; None when the
    question asks neither, names no held council, or the report of the inspection asked about states no such line.
    `names_lead(source)`: whether a report speaks of a lead inspector anywhere; one that does is never said to name none."""
    started = time.perf_counter()
    asked = asks_inspection_fact(question)
    if not asked or _RELATIVE.search(question):
        return None  # "the inspection before Dec 2022": one placed by another, which the passages tell
    named = councils_in(question, records) or [c for c in councils if any(r.council == c for r in records)]
    if not named:
        return None
    fact = "lead_inspector" if asked == "lead" else "inspection_end"
    framework = first_label(_FRAMEWORK_ASKED.items(), question, "")
    years = set(YEAR.findall(question))

    def asked_about(held: list[InspectionRecord]) -> list[InspectionRecord]:
        if framework:
            held = [r for r in held if framework in (r.kind, r.framework)]
        if years:
            return [r for r in held if {(r.inspection_end or r.inspection_start)[:4], r.published[:4]} & years]
        # "The latest", or no time named: the council's most recent report of its own.
        return [max((r for r in held if r.council == c), key=lambda r: r.inspection_end) for c in named if any(r.council == c for r in held)]

    mine = asked_about([r for r in records if r.council in named and r.citation_for(fact) and (asked == "dates" or r.lead_inspector)])
    cite = Numbered()
    lines = []
    if asked == "lead":
        # An inspection whose own report names no lead inspector (a short ILACS may not): said so, not answered
        # with another inspection's lead or a passage that merely mentions the inspection.
        reported = [r for r in records if r.council in named and r.framework and r.citation_for("inspection_end")]
        for record in asked_about(reported):
            cited = record.citation_for("inspection_end")
            assert cited is not None
            if not record.lead_inspector and not (names_lead and names_lead(cited.source)):
                lines.append(f"{record.council}, {record.label} ({record_when(record)}): its report names no lead inspector {cite(cited)}")
        if lines and not mine:
            answer = list_answer(question, lines, cite, "inspection lead", named, started)
            return answer.model_copy(update={"refused": True, "confidence": 0.0})
    if not mine:
        return None
    for record in mine:
        cited = record.citation_for(fact)
        assert cited is not None
        said = f"lead inspector {record.lead_inspector}" if asked == "lead" else " ".join(cited.quote.split())
        lines.append(f"{record.council}, {record.label} ({record_when(record)}): {said} {cite(cited)}")
    return list_answer(question, lines, cite, "inspection " + asked, named, started)
