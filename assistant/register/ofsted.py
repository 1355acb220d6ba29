"""Ofsted inspection records: kind, dates, lead inspector and every graded judgement, each fact cited.

Written by hand because an inspection report states these in a handful of set forms that no
library knows: the ILACS judgement table ("Overall effectiveness Good"), the single inspection
framework summary ("1. Children who need help and protection Inadequate"), the pre-2013
"The judgement for overall effectiveness is inadequate", and the header lines ("Inspection dates:
4 to 15 December 2023", "Lead inspector: …"). Patterns match across line breaks, because page
headers and table cells reach the text in different shapes depending on how the PDF was cleaned.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from pydantic import BaseModel, Field

from assistant.councils import gazetteer
from assistant.dates import FULL_MONTHS, iso_date
from assistant.types import Citation, Passage

RECORDS_VERSION = 3
NOT_JUDGED = "not judged"
GRADES = ("outstanding", "good", "requires improvement", "adequate", "inadequate")
JUDGEMENTS = ("overall", "leaders", "help_and_protection", "in_care", "care_leavers", "adoption", "lscb")
SUB_JUDGEMENTS = JUDGEMENTS[1:]  # every judgement but overall effectiveness
JUDGEMENT_LABELS = {
    "overall": "overall effectiveness",
    "leaders": "impact of leaders",
    "help_and_protection": "children who need help and protection",
    "in_care": "children in care",
    "care_leavers": "care leavers",
    "adoption": "adoption performance",
    "lscb": "Local Safeguarding Children Board",
}
KIND_LABELS = {
    "ilacs_standard": "ILACS standard inspection",
    "ilacs_short": "ILACS short inspection",
    "sif": "single inspection (SIF)",
    "lac": "inspection of looked after children services",
    "safeguarding": "inspection of safeguarding services",
    "focused_visit": "focused visit",
    "monitoring_visit": "monitoring visit",
    "jtai": "joint targeted area inspection",
    "inspection": "inspection",
}
# Which judgements each framework makes; the rest are "not judged" rather than unknown.
FRAMEWORK_JUDGES = {
    "ILACS": ("overall", "leaders", "help_and_protection", "in_care", "care_leavers"),
    "SIF": ("overall", "leaders", "help_and_protection", "in_care", "care_leavers", "adoption", "lscb"),
    "pre-2013": ("overall", "leaders"),
}
# Header forms name the report's own kind; they sit on its first page, never deep in a council paper.
HEAD_CHARS = 3000
HEAD_START = 800

_S = r"[\s\u00a0]+"
_GRADE = (
    r"(?P<grade>outstanding|good|requires?" + _S + r"improvement(?:" + _S + r"to" + _S + r"be" + _S + r"good)?"
    r"|inadequate|adequate|improvement)(?![a-z])"  # a bare "improvement": its "Requires" wrapped onto the row above
)
_MONTH = rf"(?:{FULL_MONTHS})"
_DAY_MONTH_YEAR = rf"(?P<d2>\d{{1,2}}){_S}(?P<m2>{_MONTH}){_S}(?P<y2>(?:19|20)\d\d)"
_RANGE = re.compile(
    rf"(?P<d1>\d{{1,2}})(?:{_S}(?P<m1>{_MONTH}))?(?:{_S}(?P<y1>(?:19|20)\d\d))?"
    rf"\s*(?:to|–|-|—|and)\s*{_DAY_MONTH_YEAR}"
    rf"|{_DAY_MONTH_YEAR.replace('2>', '0>')}",
    re.I,
)
_DATES_LINE = re.compile(r"\b(?:Inspection|Visit)\s+dates?\s*:?\s*", re.I)
_PUBLISHED = re.compile(rf"\b(?:Report\s+)?published\s*:?\s*(?P<d>\d{{1,2}}){_S}(?P<m>{_MONTH}){_S}(?P<y>(?:19|20)\d\d)", re.I)
_NAME_STOP = {"HMI", "Deputy", "Team", "Judgement", "Age", "Inspection", "His", "Her", "Senior", "Social", "Report"}
_LINE_LEAD = 12  # characters a quote reaches back to its line's start ("The ", "2.2 ")
_LEAD = re.compile(r"\b(?:Lead|Reporting)\s+inspector\s*:?\s*(?P<name>[^\n,]{2,80})", re.I)

_ILACS_HEAD = re.compile(r"Inspection\s+of\s+(?P<council>[^.]{2,80}?)\s+local\s+authority\s+children['’]s\s+services", re.I)
_SIF_HEAD = re.compile(r"Inspection\s+of\s+services\s+for\s+children\s+in\s+need\s+of\s+help\s+and\s+protection", re.I)
_VISIT_HEAD = re.compile(
    r"\b(?P<what>Focused|Monitoring)\s+visit\s+(?:to|of)\s+(?P<council>[^.]{2,80}?)(?:\s+local\s+authority)?\s+children['’]s\s+services",
    re.I,
)
_JTAI_HEAD = re.compile(r"\bJoint\s+targeted\s+area\s+inspection\b", re.I)
_OLD_HEAD = re.compile(r"\bInspection\s+of\s+(?P<what>safeguarding\s+and\s+looked\s+after|looked\s+after|safeguarding)\s+children", re.I)

_ILACS_ROWS = {
    "leaders": r"impact\s+of\s+leaders\s+on\s+social\s+work\s+practice(?:\s+with\s+children\s+and\s+families)?",
    "help_and_protection": r"experiences\s+and\s+progress\s+of\s+children\s+who\s+need\s+help\s+and\s+protection",
    "in_care": r"experiences\s+and\s+progress\s+of\s+children\s+in\s+care(?P<both>\s+and\s+care\s+leavers)?",
    "care_leavers": r"experiences\s+and\s+progress\s+of\s+care\s+leavers",
    "overall": r"Overall\s+effectiveness",
}
_SIF_ROWS = {
    "help_and_protection": r"(?:\b1\.\s*)?Children\s+who\s+need\s+help\s+and\s+protection",
    "in_care": r"(?:\b2\.\s*)?Children\s+looked\s+after\s+and\s+achieving\s+permanence",
    "adoption": r"(?:\b2\.1\s*)?Adoption\s+performance",
    "care_leavers": r"(?:\b2\.2\s*)?Experiences?\s+and\s+progress\s+of\s+care\s+leavers",
    "leaders": r"(?:\b3\.\s*)?Leadership,?\s+management\s+and\s+governance",
    "overall": r"(?:Children['’]s\s+services\s+in\s+[^.]{2,80}?\s+(?:are|is)?"
    r"|The\s+overall\s+judgement\s+is(?:\s+that\s+children['’]s\s+services(?:\s+are)?)?)",
    "lscb": r"(?:effectiveness\s+of\s+the\s+(?:Local\s+Safeguarding\s+Children\s+Board|LSCB)(?:\s*\(LSCB\))?"
    r"|The\s+Local\s+Safeguarding\s+Children\s+Board)\s+(?:is|are)?",
}
_OLD_ROWS = {
    "overall": r"(?:judgement\s+for\s+overall\s+effectiveness\s+is|Overall\s+effectiveness(?:\s+Grade\s+\d\s*\(?)?)",
    "leaders": r"Leadership\s+and\s+management(?:\s+Grade\s+\d\s*\(?)?",
}


class FactCitation(Citation):
    """A citation and the facts of the record it supports (overall, lead_inspector, inspection_end, …)."""

    facts: list[str] = Field(default_factory=list)


class InspectionRecord(BaseModel):
    """One inspection or visit, from its own report and from any other report that mentions it."""

    council: str
    kind: str = Field(description="ilacs_standard, ilacs_short, sif, lac, safeguarding, focused_visit, monitoring_visit, jtai, inspection.")
    framework: str = Field("", description="ILACS, SIF, pre-2013, JTAI or '' when only mentioned.")
    inspection_start: str = Field("", description="ISO date (or month) the inspection began.")
    inspection_end: str = Field("", description="ISO date (or month) it ended.")
    published: str = Field("", description="ISO date the report was published, where stated.")
    lead_inspector: str = ""
    judgements: dict[str, str] = Field(default_factory=dict, description="Judgement → grade, or 'not judged'.")
    citations: list[FactCitation] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list, description="Files that report or mention it.")

    @property
    def key(self) -> tuple[str, str]:
        return self.council.lower(), self.inspection_end[:7]

    @property
    def label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    def citation_for(self, fact: str) -> FactCitation | None:
        return next((c for c in self.citations if fact in c.facts), None)

    def citations_for(self, fact: str) -> list[FactCitation]:
        """Every passage that states the fact (a grade stands in the summary table and where its section begins)."""
        return [c for c in self.citations if fact in c.facts]


def grade(text: str) -> str:
    """Ofsted's grade words normalised: 'Requires Improvement to be good' → 'requires improvement'."""
    words = " ".join(text.lower().split())
    if words.startswith(("require", "improvement")):
        return "requires improvement"
    return words if words in GRADES else ""


def parse_range(text: str) -> tuple[str, str, int, int] | None:
    """The first date range at the start of `text` ('4 to 15 December 2023') as ISO start, end and its span."""
    m = _RANGE.match(text)
    if not m:
        return None
    if m.group("d0"):
        single = iso_date(m.group("d0"), m.group("m0"), m.group("y0"))
        return (single, single, m.start(), m.end()) if single else None
    end = iso_date(m.group("d2"), m.group("m2"), m.group("y2"))
    start = iso_date(m.group("d1"), m.group("m1") or m.group("m2"), m.group("y1") or m.group("y2"))
    if start and end and start > end and not m.group("y1"):  # "29 December to 9 January 2015"
        start = iso_date(m.group("d1"), m.group("m1") or m.group("m2"), str(int(m.group("y2")) - 1))
    return (start, end, m.start(), m.end()) if start and end and start <= end else None


def _name(raw: str) -> str:
    """The inspector's name from what follows 'Lead inspector:' (up to 'HMI', a comma or the next label)."""
    words: list[str] = []
    for word in raw.split():
        token = word.strip("()")
        particle = bool(words) and token in ("de", "van", "von", "le", "la")
        if not token or token in _NAME_STOP or not (token[0].isupper() or particle):
            break
        words.append(token)
        if len(words) == 5:
            break
    return " ".join(words)


class _Reader:
    """Finds facts in a report's text and cites each to the passage that holds it."""

    def __init__(self, text: str, passages: Sequence[Passage]) -> None:
        self.text = text
        self.passages = sorted(passages, key=lambda p: p.start)
        self.citations: list[FactCitation] = []

    def cite(self, fact: str, start: int, end: int) -> None:
        """Cite text[start:end] to the passage that holds it (or, for a heading between passages, the one it heads)."""
        # A match that starts a few words into its line ("The", "2.2", a table row's first cell) is quoted from
        # the line's start, so the quote reads as the report prints it.
        line_start = self.text.rfind("\n", 0, start) + 1
        if start - line_start <= _LINE_LEAD and not re.search(r"[.:;\t]", self.text[line_start:start]):
            start = line_start
        holder = next((p for p in self.passages if p.start < end and start < p.end), None)
        if holder is not None:
            start, end = max(start, holder.start), min(end, holder.end)
        else:
            holder = next((p for p in self.passages if p.start >= end), None)
        quote = self.text[start:end].strip()
        if holder is None or not quote:
            return
        if quote not in holder.text:
            # The passage may hold the words with other spacing; quote them as it has them.
            found = re.search(r"\s+".join(map(re.escape, quote.split())), holder.text)
            quote = found.group(0) if found else quote
        for kept in self.citations:
            if kept.passage_id == holder.id and kept.quote == quote:
                kept.facts.append(fact)
                return
        self.citations.append(FactCitation(**Citation.from_passage(0, holder, quote).model_dump(), facts=[fact]))

    def stated(self, pattern: str, fact: str, *, most: int = 2) -> re.Match[str] | None:
        """The first match, cited; later ones stating the same grade in other passages too (up to `most`):
        a judgement stands in the summary table and again where its section begins."""
        for found in (matches := list(re.compile(pattern, re.I).finditer(self.text))):
            held, count = {c.passage_id for c in self.citations if fact in c.facts}, len(self.citations)
            if len(held) < most and grade(found.group("grade")) == grade(matches[0].group("grade")):
                self.cite(fact, found.start(), found.end())
                if len(self.citations) > count and self.citations[-1].passage_id in held:
                    self.citations.pop()  # another line of a passage already cited
        return matches[0] if matches else None

    def first(self, pattern: str, fact: str, *, limit: int | None = None) -> re.Match[str] | None:
        found = re.compile(pattern, re.I).search(self.text, 0, limit or len(self.text))
        if found:
            self.cite(fact, found.start(), found.end())
        return found


def _kind(head: str) -> tuple[str, str, str] | None:
    """(kind, framework, council as printed) from a report's first page; None when it is no inspection report."""
    if found := _ILACS_HEAD.search(head):
        return "ilacs", "ILACS", found.group("council")
    if found := _VISIT_HEAD.search(head):
        return f"{found.group('what').lower()}_visit", "ILACS", found.group("council")
    if _SIF_HEAD.search(head):
        if said := _SERVICES_IN.search(head):
            return "sif", "SIF", said.group("council")
        printed = head[: _SIF_HEAD.search(head).start()].strip().splitlines()  # type: ignore[union-attr]
        return "sif", "SIF", " ".join(printed[-2:]) if printed else ""
    if _JTAI_HEAD.search(head):
        return "jtai", "JTAI", ""
    if found := _OLD_HEAD.search(head):
        what = found.group("what").lower()
        council = re.search(r"\n(?P<c>[A-Z][\w ,'’-]{2,60}?(?:Council|Borough|City))\s*\n", head)
        return ("lac" if what.startswith("looked") else "safeguarding"), "pre-2013", council.group("c") if council else ""
    return None


_COUNCIL_WORDS = re.compile(
    r"\b(?:London\s+Borough\s+of|Royal\s+Borough\s+of|Metropolitan\s+Borough\s+of|City\s+of|Borough\s+of|County\s+of)\s+"
    r"|\s+(?:Metropolitan\s+Borough|Borough|County|City|District)?\s*Council\b|\s+City\s*$|^\s*the\s+",
    re.I,
)
_SERVICES_IN = re.compile(r"Children['’]s\s+services\s+in\s+(?P<council>[^.\n]{2,80}?)\s+(?:are|is|require)\b", re.I)


def council_name(printed: str, known: str) -> str:
    """The council as the report prints it (Ofsted names the local authority exactly); the metadata when it prints none."""
    name = " ".join(_COUNCIL_WORDS.sub(" ", " ".join(printed.split())).split()).strip(" ,")
    name = _COUNCIL_WORDS.sub(" ", name).strip(" ,")  # "the Royal Borough of …"
    if not name or name.lower() == known.lower():
        return known
    council = gazetteer().lookup(name)
    return council.name if council is not None else name


def report_text(passages: Sequence[Passage]) -> str:
    """A report's text rebuilt from its passages at their offsets; a heading between two passages is put back from the section."""
    out: list[str] = []
    pos, seen = 0, [""]
    for p in sorted(passages, key=lambda p: p.start):
        if p.start > pos:
            parts = p.section.split(" › ") if p.section else []
            filler = "\n" + "\n".join(x for x in parts if x not in seen) + "\n"
            gap = p.start - pos
            out.append(filler[-gap:] if len(filler) > gap else "\n" * (gap - len(filler)) + filler)
            pos = p.start
        out.append(p.text[pos - p.start :])
        pos, seen = max(pos, p.end), parts if (parts := p.section.split(" › ")) else seen
    return "".join(out)


def read_inspection(passages: Sequence[Passage], text: str | None = None) -> InspectionRecord | None:
    """The inspection a report is the Ofsted report of, read from its own first page; None for other reports.

    `text` is the report's cleaned text; without it the text is rebuilt from the passages.
    """
    if text is None:
        text = report_text(passages)
    found = _kind(text[:HEAD_START])
    dates = _DATES_LINE.search(text, 0, HEAD_CHARS)
    if found is None or not passages or (dates is None and not found[0].endswith("_visit")):
        return None  # a council paper quoting a report's title is not the report
    kind, framework, printed = found
    reader = _Reader(text, passages)
    record = InspectionRecord(council=council_name(printed, passages[0].council), kind=kind, framework=framework)
    if dates and (span := parse_range(text[dates.end():])):
        record.inspection_start, record.inspection_end = span[0], span[1]
        reader.cite("inspection_end", dates.start(), dates.end() + span[3])
        if kind == "ilacs":
            days = (date.fromisoformat(span[1]) - date.fromisoformat(span[0])).days
            record.kind = "ilacs_short" if days <= 7 else "ilacs_standard"
    elif kind == "ilacs":
        record.kind = "ilacs_standard"
    if published := _PUBLISHED.search(text, 0, HEAD_CHARS):
        record.published = iso_date(published.group("d"), published.group("m"), published.group("y"))
        reader.cite("published", published.start(), published.end())
    if (lead := _LEAD.search(text)) and (name := _name(lead.group("name"))):
        record.lead_inspector = name
        reader.cite("lead_inspector", lead.start(), lead.start("name") + len(lead.group("name").split(name)[0]) + len(name))
    record.judgements = _judgements(reader, framework, kind)
    record.citations = reader.citations
    record.sources = [passages[0].source]
    return record


def _judgements(reader: _Reader, framework: str, kind: str) -> dict[str, str]:
    judged = FRAMEWORK_JUDGES.get(framework)
    if judged is None or kind.endswith("_visit"):
        return {}
    rows = {"ILACS": _ILACS_ROWS, "SIF": _SIF_ROWS, "pre-2013": _OLD_ROWS}[framework]
    out = dict.fromkeys(JUDGEMENTS, NOT_JUDGED)
    for fact, label in rows.items():
        # "Overall effectiveness Good" (a table row), "…care leavers: good" (a heading), or in the single
        # inspection framework's prose, "The graded judgement about the experience and progress of care leavers is that it is good".
        prose = rf"graded\s+judgement\s+(?:for|about|on)\s+(?:the\s+)?{label.replace('(?P<both>', '(?:')}\s+is\s+that\s+(?:it\s+|they\s+)?(?:is\s+|are\s+)?"
        found = reader.stated(rf"(?:{label}\s*[:\-–]?\s*|{prose}){_GRADE}", fact)
        if found is None:
            continue
        out[fact] = grade(found.group("grade"))
        if fact == "in_care" and found.groupdict().get("both"):
            out["care_leavers"] = NOT_JUDGED  # one judgement for both, before care leavers were judged apart
    if framework == "pre-2013":
        # A looked-after-children inspection's overall judgement is its judgement of care; a safeguarding one's, of protection.
        out["help_and_protection" if kind == "safeguarding" else "in_care"] = out["overall"]
    return out
