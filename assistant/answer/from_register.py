"""Answers read from the register: promises and deadlines, inspection grades over time, a metric's values.

The answers are read from the register, never composed from retrieved text, so every grade,
figure and date they state is the one a report prints, cited to the passage that prints it.
Anything the register cannot settle returns None and goes to the ordinary answerer.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from assistant.answer.inspection_fact import answer_inspection_fact
from assistant.answer.kinds import YEAR
from assistant.answer.register_text import (
    Numbered,
    change_line,
    council_history,
    councils_in,
    is_graded,
    list_answer,
    record_line,
    record_when,
)
from assistant.councils import gazetteer
from assistant.dates import Anchor
from assistant.errors import AssistantError
from assistant.register.clauses import first_label
from assistant.register.commitments import Commitment
from assistant.register.facts import Fact, asks_for_metric, find_metrics, show_value
from assistant.register.inspections import InspectionEvent
from assistant.register.ofsted import JUDGEMENT_LABELS, JUDGEMENTS, InspectionRecord, grade
from assistant.register.query import query_inspections, select_commitments
from assistant.register.store import Register, load_register
from assistant.register.table import SUB_JUDGEMENTS
from assistant.text import STOPWORDS, compile_table, terms
from assistant.timeexpr import find_times
from assistant.types import Answer

if TYPE_CHECKING:
    from assistant.index.index import Index

MAX_LISTED = 12  # commitments or events in one answer
MAX_LINES = 15  # council and metric series in one answer


# ------------------------------------------------------------------ promises, deadlines, visits

_PROMISE = re.compile(r"\b(?:promis\w*|commit(?:ted|ments?)|pledg\w*|undertakings?)\b", re.I)
_PLANNED_FOR = re.compile(r"\bwhat\b.{0,40}\b(?:planned|scheduled|due|expected|to\s+be\s+delivered|deliver)\b.{0,20}\b(?:for|by|in|during|before)\b", re.I)
_NEXT_EVENT = re.compile(r"\b(?:when|what)\b.{0,40}\bnext\b.{0,30}\b(?P<what>monitoring\s+visit|focused\s+visit|visit|re-?inspection|inspection|review)", re.I)
_HISTORY = re.compile(r"\binspection\s+history\b|\b(?:what|which|list)\b.{0,20}\b(?:inspections|visits)\b.{0,40}\b(?:had|been|held|mention\w*|happened|list)\b|\blist\b.{0,10}\binspections\b", re.I)
_STATUS_WORDS = {"done": re.compile(r"\b(?:done|delivered|completed|achieved|kept)\b", re.I),
                 "overdue": re.compile(r"\b(?:overdue|missed|slipped|passed|late|not\s+delivered)\b", re.I),
                 "in progress": re.compile(r"\bin\s+progress\b", re.I)}


def _named_councils(question: str, register: Register) -> list[str]:
    """Councils of the register's reports whose names the question holds (as text, in any case)."""
    known = sorted({r.council for r in register.reports.values()} - {""})
    return [c for c in known if c.lower() in question.lower()]


def _span(c: Commitment | InspectionEvent) -> str:
    """'2021-07-01 to 2021-07-31', or the one day."""
    start, end = c.time.start, c.time.end
    return start if start == end else f"{start} to {end}"


def _kind_fits(event_kind: str, asked: str) -> bool:
    if asked == "visit":
        return "visit" in event_kind
    if asked in ("inspection", "reinspection", "re-inspection"):
        return "inspection" in event_kind or event_kind == "ILACS"
    if asked == "review":
        return "review" in event_kind
    return event_kind == " ".join(asked.split())


def answer_from_register(question: str, index: Index, councils: Sequence[str] = ()) -> Answer | None:
    """Answer questions about promises, deadlines, inspections and figures from the register; None for anything else.

    `councils` (a chat's filter) applies when the question names none.
    """
    started = time.perf_counter()
    register = load_register(index)
    if (stated := answer_inspection_fact(question, register.records, councils, names_lead=lambda source: _names_lead(index, source))) is not None:
        return stated
    if (graded := answer_from_records(question, register.records, councils)) is not None:
        return graded
    if (measured := answer_from_facts(question, register.facts, councils)) is not None:
        return measured
    wants_next = _NEXT_EVENT.search(question)
    wants_list = _PROMISE.search(question) or _PLANNED_FOR.search(question)
    wants_history = _HISTORY.search(question)
    if not (wants_next or wants_list or wants_history):
        return None
    councils = _named_councils(question, register) or list(councils)
    lines: list[str] = []
    cite = Numbered(reuse=False)

    if wants_next and not wants_list:
        kind = wants_next.group("what").lower()
        for council in councils or sorted({e.council for e in register.inspections}):
            planned = [e for e in register.inspections if e.council == council and e.planned and _kind_fits(e.kind, kind)]
            if not planned:
                continue
            latest = max(e.citation.date for e in planned)
            event = min((e for e in planned if e.citation.date == latest), key=lambda e: e.start)
            lines.append(f"{council}: {event.citation.quote} {cite(event.citation)}")
        kind_label = "answer"
    elif wants_history and not wants_list:
        for event in query_inspections(register, councils=councils):
            judged = f", judged '{event.judgement}'" if event.judgement else ""
            lines.append(f"{event.council}: {event.kind} ({'planned, ' if event.planned else ''}{event.time.text}){judged} {cite(event.citation)}")
        kind_label = "inspections"
    else:
        lines = _promises(question, register, councils, cite)
        kind_label = "commitments"
    if not cite.items:
        return None  # nothing in the register: let the normal answerer search the passages
    return list_answer(question, lines, cite, kind_label, councils, started)


def _names_lead(index: Index, source: str) -> bool:
    """Whether a report speaks of a lead inspector anywhere (the register may have missed the line)."""
    try:
        passages = index.load_report(source)[1]
    except AssistantError:
        return False
    return any(_LEAD.search(p.text) for p in passages)


_LEAD = re.compile(r"lead\s+inspector", re.I)


def _promises(question: str, register: Register, councils: Sequence[str], cite: Numbered) -> list[str]:
    """Lines for the commitments a question asks for: of a period, by a deadline, of a status, from a year's report."""
    period = [t for t in find_times(question, Anchor.parse(date.today().isoformat()), "future") if re.search(r"\d{4}", t.text)]
    statuses = [s for s, rule in _STATUS_WORDS.items() if rule.search(question)]
    deadline = bool(period) and period[-1].relation == "by"
    rows = select_commitments(
        register,
        councils=councils,
        date_from=period[0].start.isoformat() if period and not deadline else "",
        date_to=period[-1].end.isoformat() if period else "",
        statuses_wanted=statuses,
    )
    if deadline:
        # "What is due by spring 2022?": what is still to come, not every past promise.
        rows = [row for row in rows if row[0].end <= period[-1].end and row[1] in ("open", "not mentioned again", "in progress")]
    made_in = re.search(r"\bfrom\s+the\s+((?:19|20)\d\d)\s+report", question, re.I)
    if made_in:
        rows = [row for row in rows if row[0].report_date.startswith(made_in.group(1))]
    lines = []
    for c, status, _ in rows[:MAX_LISTED]:
        who = f" ({c.responsible})" if c.responsible and c.responsible not in ("we",) else ""
        shown = f"; {status}" if status in ("done", "in progress", "overdue") else ""
        lines.append(f"{c.council}: {c.action}{who}, {c.time.text} ({_span(c)}{shown}) {cite(c.citation)}")
    if len(rows) > MAX_LISTED:
        lines.append(f"…and {len(rows) - MAX_LISTED} more: `assistant commitments` lists them all.")
    return lines


# ------------------------------------------------------------------ a metric's values


def _councils_named(question: str, known: Sequence[str]) -> list[str]:
    """Councils of `known` the question names as whole words, longest name first."""
    lowered = question.lower().replace("’", "'")
    return [c for c in sorted(known, key=len, reverse=True) if re.search(rf"\b{re.escape(c.lower())}\b", lowered)]


def answer_from_facts(question: str, facts: Sequence[Fact], councils: Sequence[str] = ()) -> Answer | None:
    """A metric's values, each cited, for the councils named (or the chat's); None unless the question asks just that."""
    started = time.perf_counter()
    known = sorted({f.council for f in facts} | set(councils))
    if not asks_for_metric(question, known):
        return None
    names = [m.name for m in find_metrics(question)]
    named = _councils_named(question, known) or list(councils)
    series = [f for f in facts if f.metric in names and (not named or f.council in named)]
    if not series:
        return None
    cite = Numbered()
    lines = []
    for council in dict.fromkeys(f.council for f in sorted(series, key=lambda f: f.council)):
        for name in names:
            mine = sorted((f for f in series if f.council == council and f.metric == name), key=lambda f: f.sort)
            if mine:
                values = "; ".join(f"{show_value(f)} ({f.date}) {cite(f.citation)}" for f in mine)
                lines.append(f"{council}, {name}: {values}")
    shown = lines[:MAX_LINES]
    if len(lines) > MAX_LINES:
        shown.append(f"…and {len(lines) - MAX_LINES} more: `assistant facts \"{names[0]}\"` lists them all.")
    return list_answer(question, shown, cite, "facts", named, started)


# ------------------------------------------------------------------ grades over time

_RI = re.compile(r"\bRI\b")
_GRADE_WORDS = re.compile(r"\b(?:outstanding|good|requires?\s+improvement|inadequate)\b", re.I)
_RATING = re.compile(r"\b(?:ratings?|rated|grades?|graded|judge?ments?|judged|inspection\s+results?)\b", re.I)
_CHANGE = re.compile(
    r"\b(?:chang\w*|over\s+(?:the\s+)?(?:years|time)|history|improv\w*|trend|since|progress\w*|declin\w*|deteriorat\w*|better|worse"
    r"|compar\w*|up\s+or\s+down|(?:go|goes|gone|went)\s+(?:up|down))\b",
    re.I,
)
# One council's inspections set side by side ("compare the last two Ofsted reports", "did it go up or down
# between its two inspections"): a question of how its grades moved.
_OWN_COMPARED = re.compile(r"\b(?:compar\w*|up\s+or\s+down|(?:go|goes|gone|went)\s+(?:up|down))\b.*\b(?:ofsted|inspections?|reports?|ilacs)\b"
                           r"|\b(?:ofsted|inspections?|reports?|ilacs)\b.*\b(?:compar\w*|up\s+or\s+down)\b", re.I)
_LIST = re.compile(r"\b(?:which|what|list|name)\b.{0,30}\b(?:councils?|authorities|local\s+authorities|LAs)\b", re.I)
_COMPARE = re.compile(r"\b(?:compare|comparison|versus|vs\.?)\b", re.I)
# The areas an Ofsted judgement grades, as questions name them.
JUDGED_AREAS = compile_table({
    "care_leavers": r"\bcare\s+leavers?\b",
    "help_and_protection": r"\bhelp\s+and\s+protection\b|\bchild\s+protection\b",
    "in_care": r"\b(?:children\s+in\s+care|looked[\s-]+after|in\s+care)\b",
    "leaders": r"\blead(?:ers|ership)\b",
    "adoption": r"\badoption\b",
    "lscb": r"\bLSCB\b|\bsafeguarding\s+children\s+board\b",
})
# Words a bare "compare X and Y" may carry; any other word names a topic the register does not hold.
_COMPARE_FILLER = {
    "compare", "comparison", "versus", "vs", "and", "with", "to", "the", "how", "do", "does", "did", "between", "their",
    "ofsted", "grades", "grade", "ratings", "rating", "judgements", "inspections", "inspection", "results", "councils",
}
_OUTCOME = re.compile(r"\b(?:outcomes?|results?|better|worse|improv\w*|deteriorat\w*|declin\w*)\b", re.I)
_NEXT_WORD = re.compile(r"[ \t]+([A-Za-z]+)")
# "How did Derby do in its latest Ofsted?", "how did Tameside get on at its last inspection": its grades.
_HOW_IT_DID = re.compile(
    r"^(?=.*\b(?:ofsted|inspect\w*|ilacs|(?:19|20)\d\d)\b).*\bhow\s+(?:did|does|do|has|have|is|are|was|were)\b.{0,40}?"
    r"\b(?:do|done|doing|fared?|fares|faring|get(?:ting)?\s+on|got\s+on|perform(?:ed|ing)?)\b",
    re.I,
)


# "Tell me about South Glos", "how is Wigan doing?": nothing asked but how the council stands, its latest grades.
_OVERVIEW = re.compile(
    r"^\W*(?:(?:can|could|would)\s+you\s+)?(?:please\s+)?(?:tell\s+me\s+about|(?:give\s+me\s+)?(?:an?\s+)?(?:overview|summary)\s+of"
    r"|summari[sz]e|what\s+about|how\s+is|how['’]s|how\s+are\s+things\s+in)\W+(?:doing|getting\s+on|performing|faring|now|please)?\W*$"
    r"|^\W*(?:an?\s+)?(?:overview|summary)(?:\s+please)?\W*$"
    r"|^\W*how\s+(?:did|does|has|have)\W+(?:do|done|get\s+on|got\s+on|fared?|perform(?:ed)?)\W*$"  # "how did kensington do"
    r"|^\W*$",  # a council's name alone ("surrey", "croydon 2024")
    re.I,
)


def _overview(question: str, named: Sequence[str]) -> bool:
    if not named:
        return False
    for mention in reversed(gazetteer().find(question, known=list(named))):  # as typed: "south glos", "K&C"
        question = question[: mention.start] + " " + question[mention.end :]
    # "Wandsworth Ofsted 2026 - overview": the report and its year name which inspection, nothing more.
    rest = re.sub(r"\b(?:ofsted|inspections?|reports?|ilacs|latest|last|most\s+recent|the|its|their|(?:19|20)\d\d)\b", " ", _strip(question, named), flags=re.I)
    return bool(_OVERVIEW.match(rest))


# Words a question about a council's grades may carry beside its councils, years, grades and judged areas.
_GRADE_FILLER = frozenset(
    t
    for word in re.findall(
        r"\w+",
        "children child services social care council councils authority local ofsted inspection inspected report ilacs sif "
        "still now latest last current currently recent most overall effectiveness rated year from to area areas "
        "get got getting go goes went gone become became stay stayed remain remained move moved",
    )
    for t in terms(word)
)


def _names_a_topic(question: str, named: Sequence[str]) -> bool:
    """Whether the question names something beside councils, years, grades and the judged areas: "is Coventry's
    early help any good?" asks about early help, which no judgement grades."""
    for mention in reversed(gazetteer().find(question, known=list(named))):
        question = question[: mention.start] + " " + question[mention.end :]
    for pattern in (_GRADE_WORDS, YEAR, *(rule for rule in JUDGED_AREAS.values())):
        question = pattern.sub(" ", question)
    return bool(set(terms(question)) - _GRADE_FILLER)


def _asks_outcome(question: str) -> bool:
    """Outcome words, but for a noun naming a thing ("improvement plan", "the improvement board"): "has Bury
    improved?" asks how it came out, "what is the improvement plan about?" asks about a plan."""
    for found in _OUTCOME.finditer(question):
        after = _NEXT_WORD.match(question, found.end())
        naming = found.group().lower().startswith("improvement") and after and after.group(1).lower() not in STOPWORDS
        if not naming:
            return True
    return False


def _asks_grade(question: str, named: Sequence[str] = ()) -> bool:
    """A question about grades: rating words, a grade, outcomes, or change in a judged area. A grade word alone
    ("any good?") asks about a grade only of the council or a judged area, not of a topic no judgement grades."""
    if _RATING.search(question) or _asks_outcome(question) or _OWN_COMPARED.search(question):
        return True
    if _GRADE_WORDS.search(question) and not _names_a_topic(question, named):
        return True
    if _HOW_IT_DID.search(question):
        return True
    return bool(_CHANGE.search(question) and any(rule.search(question) for rule in JUDGED_AREAS.values()))


def _field(question: str) -> str:
    return first_label(JUDGED_AREAS.items(), question, "overall")


def _unrecorded_named(question: str, records: Sequence[InspectionRecord], recorded: Sequence[str]) -> bool:
    """Whether the question names, beside councils the records hold, another they hold nothing on."""
    known = sorted({r.council for r in records})
    named = {m.council.name for m in gazetteer().find(question, known=known)}
    return bool(recorded) and len(named) > len(recorded)


def _strip(question: str, councils: Sequence[str]) -> str:
    for council in councils:
        question = re.sub(re.escape(council) + r"(?:['’]s)?", " ", question, flags=re.I)
    return question


def answer_from_records(question: str, records: Sequence[InspectionRecord], councils: Sequence[str] = ()) -> Answer | None:
    """Grades over time, by council, by grade and compared, from the inspection records; None when they cannot settle it."""
    started = time.perf_counter()
    if not records:
        return None
    question = _RI.sub("requires improvement", question)  # "did Croydon get RI?": the sector's short form
    in_question = councils_in(question, records)
    if _unrecorded_named(question, records, in_question):
        return None  # "… in Worcestershire and North Somerset?", one never inspected here: the passages compare
    scope = [c for c in councils if any(r.council.lower() == c.lower() for r in records)]
    named = in_question or scope
    field = _field(question)
    since = re.search(r"\b(?:since|after|from)\s+(?:[\w'’-]+\s+){0,5}?(?:in\s+)?((?:19|20)\d\d)\b", question, re.I)
    before = _BEFORE.search(question)
    years = [] if since or before else YEAR.findall(question)

    now = re.search(r"\b(?:now|latest|current(?:ly)?|most\s+recent|these\s+days|still)\b", question, re.I)

    def dated(mine: list[InspectionRecord]) -> list[InspectionRecord]:
        year = lambda r: (r.inspection_end or r.inspection_start)[:4]  # noqa: E731
        # "the 2016 report" may be of an inspection that ended in 2015: either year names it.
        named_years = lambda r: {year(r), r.published[:4]} - {""}  # noqa: E731
        if since:
            return [r for r in mine if max(named_years(r), default="") >= since.group(1)]
        if before:
            # "the grade before the December 2023 inspection": the latest of each council's earlier ones.
            bound = before.group("year") + (f"-{MONTHS.index(before.group('month')[:3].lower()) + 1:02d}" if before.group("month") else "")
            earlier = sorted((r for r in mine if (r.inspection_end or r.inspection_start) < bound), key=lambda r: r.inspection_end)
            return list({r.council: r for r in earlier}.values())
        if not years:
            return mine
        # "inadequate in 2015 - where are they now?": that year, and the latest of each council.
        latest = {r.council: r for r in sorted(mine, key=year)} if now else {}
        return [r for r in mine if named_years(r) & set(years) or latest.get(r.council) is r]

    wanted = [grade(m.group(0)) for m in _GRADE_WORDS.finditer(question)]
    cite = Numbered()
    lines: list[str] = []
    kind = "inspections"
    if _LIST.search(question) and wanted and not in_question:
        kind = "inspections by grade"
        for council in sorted({r.council for r in records if not scope or r.council in scope}):
            mine = dated([r for r in records if r.council == council and is_graded(r, field)])
            if not years and not since and mine:
                mine = mine[-1:]  # "have an inadequate grade": as things stand, the latest inspection
            lines += [f"{council}: {record_line(r, cite, [field])}" for r in mine if r.judgements[field] in wanted]
    elif len(named) >= 2 and (_COMPARE.search(question) or _asks_grade(question, named)):
        if not _asks_grade(question, named) and set(re.findall(r"[a-z']+", _strip(question, named).lower())) - _COMPARE_FILLER:
            return None  # "compare Trafford and Wigan on caseloads": not a question of grades
        kind = "inspections compared"
        for council in named:
            graded = council_history(council, dated(list(records)) if years or since else records, cite, field)
            if not graded:
                return None  # no grade of one side: the passages compare what the reports say of both
            lines += graded
    elif named and (_asks_grade(question, named) or _overview(question, named)):
        mine = dated([r for r in records if r.council in named and is_graded(r, field)])
        if not mine and (years or since) and (held := dated([r for r in records if r.council in named and r.judgements])):
            return _not_judged(question, held, field, councils, started)
        if _CHANGE.search(question) or not re.search(r"\b(?:latest|last|current|most\s+recent|now|still)\b", question, re.I):
            shown = ["overall", *SUB_JUDGEMENTS] if field == "overall" else [field]
            if field == "overall" and _CHANGE.search(question):
                # A later framework may make no overall judgement: its other grades still show the change.
                mine = dated([r for r in records if r.council in named and any(is_graded(r, f) for f in shown)])
            for council in named:
                lines += council_history(council, mine, cite, field)
                if _CHANGE.search(question):
                    lines += change_line(council, [r for r in mine if r.council == council], shown)
        else:
            fields = ["overall", *SUB_JUDGEMENTS] if field == "overall" else [field]
            for council in named:
                lines += [f"{council}: {record_line(r, cite, fields)}" for r in [r for r in mine if r.council == council][-1:]]
    else:
        return None
    if not lines or not cite.items:
        return None
    return list_answer(question, lines, cite, kind, councils, started)


def _not_judged(question: str, held: Sequence[InspectionRecord], field: str, councils: Sequence[str], started: float) -> Answer:
    """The inspection asked about is held but made no such judgement (a framework without an overall grade):
    say so, with the judgements it did make, rather than answer with another inspection's grade."""
    cite = Numbered()
    lines = []
    for record in held:
        made = [f for f in JUDGEMENTS if is_graded(record, f)]
        lines.append(f"{record.council}: {record_line(record, cite, made)}" if made else f"{record.council}: {record_when(record)}, {record.label}")
    label = JUDGEMENT_LABELS[field]
    answer = list_answer(question, lines, cite, "not judged", councils, started)
    text = f"The inspection asked about made no '{label}' judgement. What it judged:\n{answer.answer}"
    return answer.model_copy(update={"answer": text, "refused": True, "confidence": 0.0})


# ------------------------------------------------------------------ the inspection before another

MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_BEFORE = re.compile(
    r"\b(?:before|prior\s+to|preceding)\s+(?:the\s+|its\s+|their\s+)?(?:(?P<month>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*\s+)?(?P<year>(?:19|20)\d\d)\b",
    re.I,
)
