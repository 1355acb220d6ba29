"""Inspection history from the register: rows for `assistant inspections`, and chat answers on grades over time.

The answers are read from the register's records, never composed from retrieved text, so every
grade they state is the one a report prints, cited to the table row or summary that prints it.
Anything the records cannot settle returns None and goes to the ordinary answerer.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import Any

from assistant.councils import gazetteer, normalise
from assistant.register.inspections import InspectionEvent
from assistant.register.ofsted import GRADES, JUDGEMENT_LABELS, NOT_JUDGED, InspectionRecord, grade
from assistant.types import Answer, Citation

TABLE_COLUMNS = [
    "council", "inspection_start", "inspection_end", "kind", "planned", "overall", "leaders",
    "help_and_protection", "in_care", "care_leavers", "lead_inspector", "paragraph", "source",
]
SUB_JUDGEMENTS = ("leaders", "help_and_protection", "in_care", "care_leavers", "adoption", "lscb")


def record_row(record: InspectionRecord) -> dict[str, Any]:
    """One inspection as a JSON row: the record's facts and every citation with the facts it supports."""
    row = record.model_dump(exclude={"citations", "sources"})
    row["planned"] = False
    row["citations"] = [{"facts": c.facts, **_cite(c)} for c in record.citations]
    return row


def event_row(event: InspectionEvent) -> dict[str, Any]:
    """A visit, review or mention that is not an inspection record, in the same shape."""
    overall = grade(event.judgement)
    return {
        "council": event.council,
        "kind": event.kind,
        "framework": "",
        "inspection_start": event.time.start,
        "inspection_end": event.time.end,
        "published": "",
        "lead_inspector": "",
        "judgements": {"overall": overall} if overall else {},
        "planned": event.planned,
        "citations": [{"facts": ["inspection_end"], **_cite(c)} for c in [event.citation, *event.also]],
    }


def _cite(c: Citation) -> dict[str, str]:
    return {"source": c.source, "title": c.title, "council": c.council, "date": c.date, "paragraph": c.paragraph, "section": c.section, "quote": c.quote}


def history_rows(records: Sequence[InspectionRecord], events: Sequence[InspectionEvent]) -> list[dict[str, Any]]:
    """Records, then every event no record already cites (planned visits, reviews, dateless mentions), by council and date."""
    cited = {(c.passage_id, c.quote) for r in records for c in r.citations}
    rows = [record_row(r) for r in records]
    rows += [event_row(e) for e in events if (e.citation.passage_id, e.citation.quote) not in cited]
    return sorted(rows, key=lambda r: (r["council"].lower(), r["inspection_start"] or r["inspection_end"]))


def flat_row(row: dict[str, Any]) -> dict[str, str]:
    """An inspection row for CSV and tables: one column per judgement, the first citation as paragraph and source."""
    flat = {k: v for k, v in row.items() if k not in ("judgements", "citations")}
    flat |= {name: row["judgements"].get(name, "") for name in ("overall", *SUB_JUDGEMENTS)}
    first = row["citations"][0] if row["citations"] else {}
    flat |= {"paragraph": first.get("paragraph", ""), "source": first.get("source", ""), "quote": first.get("quote", "")}
    return {k: "" if v is None else str(v) for k, v in flat.items()}


# ------------------------------------------------------------------ chat

_GRADE_WORDS = re.compile(r"\b(?:outstanding|good|requires?\s+improvement|inadequate)\b", re.I)
_RATING = re.compile(r"\b(?:ratings?|rated|grades?|graded|judge?ments?|judged|inspection\s+results?)\b", re.I)
_CHANGE = re.compile(r"\b(?:chang\w*|over\s+(?:the\s+)?(?:years|time)|history|improv\w*|trend|since|progress\w*|declin\w*|deteriorat\w*)\b", re.I)
_LIST = re.compile(r"\b(?:which|what|list|name)\b.{0,30}\b(?:councils?|authorities|local\s+authorities|LAs)\b", re.I)
_COMPARE = re.compile(r"\b(?:compare|comparison|versus|vs\.?)\b", re.I)
_YEAR = re.compile(r"\b((?:19|20)\d\d)\b")
_FIELDS = [
    ("care_leavers", re.compile(r"\bcare\s+leavers?\b", re.I)),
    ("help_and_protection", re.compile(r"\bhelp\s+and\s+protection\b|\bchild\s+protection\b", re.I)),
    ("in_care", re.compile(r"\b(?:children\s+in\s+care|looked[\s-]+after|in\s+care)\b", re.I)),
    ("leaders", re.compile(r"\blead(?:ers|ership)\b", re.I)),
    ("adoption", re.compile(r"\badoption\b", re.I)),
    ("lscb", re.compile(r"\bLSCB\b|\bsafeguarding\s+children\s+board\b", re.I)),
]
# Words a bare "compare X and Y" may carry; any other word names a topic the register does not hold.
_COMPARE_FILLER = {
    "compare", "comparison", "versus", "vs", "and", "with", "to", "the", "how", "do", "does", "did", "between", "their",
    "ofsted", "grades", "grade", "ratings", "rating", "judgements", "inspections", "inspection", "results", "councils",
}


_OUTCOME = re.compile(r"\b(?:outcomes?|results?|better|worse|improv\w*|deteriorat\w*|declin\w*)\b", re.I)


def _asks_grade(question: str) -> bool:
    """A question about grades: rating words, a grade, outcomes, or change in a judged area."""
    if _RATING.search(question) or _GRADE_WORDS.search(question) or _OUTCOME.search(question):
        return True
    return bool(_CHANGE.search(question) and any(rule.search(question) for _, rule in _FIELDS))


def _field(question: str) -> str:
    return next((name for name, rule in _FIELDS if rule.search(question)), "overall")


def _councils_in(question: str, records: Sequence[InspectionRecord]) -> list[str]:
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


class _Cites:
    """Numbered citations: the same passage and quote keeps its number."""

    def __init__(self) -> None:
        self.items: list[Citation] = []

    def __call__(self, record: InspectionRecord, fact: str) -> str:
        cited = record.citation_for(fact)
        if cited is None:
            return ""
        for item in self.items:
            if item.passage_id == cited.passage_id and item.quote == cited.quote:
                return f" [{item.n}]"
        self.items.append(Citation(**cited.model_dump(exclude={"facts", "n"}), n=len(self.items) + 1))
        return f" [{len(self.items)}]"


def _when(record: InspectionRecord) -> str:
    start, end = record.inspection_start, record.inspection_end
    return end if not start or start == end else f"{start} to {end}"


def _graded(record: InspectionRecord, field: str) -> bool:
    return record.judgements.get(field, NOT_JUDGED) in GRADES


def _line(record: InspectionRecord, cite: _Cites, fields: Sequence[str]) -> str:
    """'2023-12-04 to 2023-12-15, ILACS standard inspection: overall inadequate [1]; impact of leaders inadequate [1]'."""
    parts = [f"{JUDGEMENT_LABELS[f]} {record.judgements[f]}{cite(record, f)}" for f in fields if _graded(record, f)]
    return f"{_when(record)}, {record.label}: " + "; ".join(parts)


def _history(council: str, records: Sequence[InspectionRecord], cite: _Cites, field: str) -> list[str]:
    fields = ["overall", *SUB_JUDGEMENTS] if field == "overall" else [field]
    mine = [r for r in records if r.council == council and any(_graded(r, f) for f in fields)]
    return [f"{council}: {_line(r, cite, fields)}" for r in mine]


def answer_from_records(question: str, records: Sequence[InspectionRecord], councils: Sequence[str] = ()) -> Answer | None:
    """Grades over time, by council, by grade and compared, from the inspection records; None when they cannot settle it."""
    started = time.perf_counter()
    if not records:
        return None
    in_question = _councils_in(question, records)
    scope = [c for c in councils if any(r.council.lower() == c.lower() for r in records)]
    named = in_question or scope
    field = _field(question)
    since = re.search(r"\b(?:since|after|from)\s+((?:19|20)\d\d)\b", question, re.I)
    years = [] if since else _YEAR.findall(question)

    now = re.search(r"\b(?:now|latest|current(?:ly)?|most\s+recent|these\s+days)\b", question, re.I)

    def dated(mine: list[InspectionRecord]) -> list[InspectionRecord]:
        year = lambda r: (r.inspection_end or r.inspection_start)[:4]  # noqa: E731
        if since:
            return [r for r in mine if year(r) >= since.group(1)]
        if not years:
            return mine
        # "inadequate in 2015 - where are they now?": that year, and the latest of each council.
        latest = {r.council: r for r in sorted(mine, key=year)} if now else {}
        return [r for r in mine if year(r) in years or latest.get(r.council) is r]

    wanted = [grade(m.group(0)) for m in _GRADE_WORDS.finditer(question)]
    cite = _Cites()
    lines: list[str] = []
    kind = "inspections"
    if _LIST.search(question) and wanted and not in_question:
        kind = "inspections by grade"
        for council in sorted({r.council for r in records if not scope or r.council in scope}):
            mine = dated([r for r in records if r.council == council and _graded(r, field)])
            if not years and not since and mine:
                mine = mine[-1:]  # "have an inadequate grade": as things stand, the latest inspection
            lines += [f"{council}: {_line(r, cite, [field])}" for r in mine if r.judgements[field] in wanted]
    elif len(named) >= 2 and (_COMPARE.search(question) or _asks_grade(question)):
        if not _asks_grade(question) and set(re.findall(r"[a-z']+", _strip(question, named).lower())) - _COMPARE_FILLER:
            return None  # "compare Trafford and Wigan on caseloads": not a question of grades
        kind = "inspections compared"
        for council in named:
            lines += _history(council, records, cite, field)
    elif named and _asks_grade(question):
        mine = dated([r for r in records if r.council in named and _graded(r, field)])
        if _CHANGE.search(question) or not re.search(r"\b(?:latest|last|current|most\s+recent|now)\b", question, re.I):
            for council in named:
                lines += _history(council, mine, cite, field)
        else:
            fields = ["overall", *SUB_JUDGEMENTS] if field == "overall" else [field]
            for council in named:
                lines += [f"{council}: {_line(r, cite, fields)}" for r in [r for r in mine if r.council == council][-1:]]
    else:
        return None
    if not lines or not cite.items:
        return None
    return Answer(
        question=question,
        standalone_question=question,
        answer="\n".join(f"- {line}" for line in lines),
        refused=False,
        citations=cite.items,
        kind=kind,
        confidence=1.0,  # read from the register, not ranked evidence
        written_by="register",
        filters={"councils": list(councils)} if councils else {},
        latency_ms=round((time.perf_counter() - started) * 1000, 1),
    )


def _strip(question: str, councils: Sequence[str]) -> str:
    for council in councils:
        question = re.sub(re.escape(council) + r"(?:['’]s)?", " ", question, flags=re.I)
    return question

