"""The briefing note as data, and how its parts read in every format (Markdown, HTML and Word alike).

Citations stay data until a format renders them: a point holds the numbers of the citations it
quotes, and `Citer` hands those numbers out in the order the note shows them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from pydantic import BaseModel, Field

from assistant.dates import human_date, human_span
from assistant.types import Citation, Passage

SECTIONS = (
    "Summary",
    "What Ofsted found",
    "Commitments and dates",
    "Progress reported",
    "Questions members may wish to ask",
    "Sources",
)
TABLE_HEADERS = ("What", "Who", "By when", "Status", "Source")


# ------------------------------------------------------------------ the note


class Point(BaseModel):
    """One cited statement: report text, verbatim, with what it needs to be read on its own."""

    text: str = Field(description="Verbatim report text: a sentence, or list items joined by '; '.")
    items: list[str] = Field(default_factory=list, description="The list items, when the point is several.")
    label: str = Field("", description="Context read before the text: the event, lead-in or heading.")
    council: str
    date: str = Field(description="ISO date the point refers to (the report's date when it gives none).")
    report_date: str = ""
    change: str = Field("", description="A figure's change over time, e.g. '18.5% (February 2019) → 5.34% (February 2020)'.")
    section: str = Field("", description="Section it would sit in: findings, progress or other.")
    refs: list[int] = Field(default_factory=list, description="Citation numbers.")


class CommitmentRow(BaseModel):
    """A commitment from the register, as one row of the table."""

    what: str
    who: str = ""
    when: str = Field(description="The time as written in the report.")
    start: str
    end: str
    status: str
    status_note: str = ""
    council: str
    report_date: str
    refs: list[int] = Field(default_factory=list)


class Question(BaseModel):
    """A question members may wish to ask, and the source it comes from."""

    ask: str
    basis: str = Field(description="What the reports say that prompts it.")
    council: str = ""
    refs: list[int] = Field(default_factory=list)


class SourceEntry(BaseModel):
    """A report the note cites, with the paragraphs it cites."""

    source: str
    title: str = ""
    council: str = ""
    committee: str = ""
    date: str = ""
    paragraphs: list[str] = Field(default_factory=list)
    refs: list[int] = Field(default_factory=list)


class HistoryRow(BaseModel):
    """One inspection in the note's history table."""

    council: str
    date: str = Field(description="Inspection end date (or start, or month), ISO.")
    kind: str = Field(description="What it was: ILACS standard inspection, single inspection (SIF), focused visit, …")
    judgements: dict[str, str] = Field(default_factory=dict, description="Judgement → grade or 'not judged'.")
    refs: list[int] = Field(default_factory=list)


class SeriesValue(BaseModel):
    """One value of a figure the reports state, at the date it describes."""

    council: str
    metric: str
    unit: str
    date: str
    value: float
    refs: list[int] = Field(default_factory=list)


class Briefing(BaseModel):
    """A briefing note on one topic; citations stay data until rendered."""

    topic: str
    councils: list[str] = Field(default_factory=list)
    date_from: str = ""
    date_to: str = ""
    period: tuple[str, str] = Field(("", ""), description="First and last report dates drawn on (ISO).")
    prepared: str = Field(description="ISO date the note was prepared.")
    summary: list[Point] = Field(default_factory=list)
    judgements: list[Point] = Field(default_factory=list, description="Overall Ofsted judgements, for context.")
    findings: list[Point] = Field(default_factory=list)
    commitments: list[CommitmentRow] = Field(default_factory=list)
    progress: list[Point] = Field(default_factory=list)
    questions: list[Question] = Field(default_factory=list)
    history: list[HistoryRow] = Field(default_factory=list, description="The councils' inspections and grades, from the register.")
    series: list[SeriesValue] = Field(default_factory=list, description="Figures the reports state over time, by council and metric.")
    sources: list[SourceEntry] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)

    def summary_points(self, section: str) -> list[int]:
        """1-based numbers of the summary points that belong to a section (shown there as 'see also')."""
        return [i for i, p in enumerate(self.summary, start=1) if p.section == section]


@dataclass
class Citer:
    """Numbers citations in the order the note shows them; one number per passage and quoted span."""

    citations: list[Citation] = field(default_factory=list)
    numbers: dict[tuple[str, int, int], int] = field(default_factory=dict)

    def cite(self, passage: Passage, start: int, end: int) -> int:
        """The number of a span of a passage the note quotes."""
        key = (passage.id, start, end)
        if key not in self.numbers:
            self.numbers[key] = len(self.citations) + 1
            self.citations.append(Citation.from_passage(self.numbers[key], passage, passage.text[start:end]))
        return self.numbers[key]

    def cite_register(self, c: Citation) -> int:
        """The number of a register's citation, in the same list as the note's quoted spans."""
        at = max(c.passage.find(c.quote), 0)
        key = (c.passage_id, at, at + len(c.quote))
        if key not in self.numbers:
            self.numbers[key] = len(self.citations) + 1
            self.citations.append(Citation(**c.model_dump(exclude={"n", "facts"}), n=self.numbers[key]))
        return self.numbers[key]


# ------------------------------------------------------------------ wording shared by every format


def para_label(paragraph: str) -> str:
    return paragraph if paragraph.startswith("¶") else f"para {paragraph}"


def title(note: Briefing) -> str:
    return f"Briefing note: {note.topic[:1].upper()}{note.topic[1:]}"


def heading_rows(note: Briefing) -> list[tuple[str, str]]:
    """The note's heading as (label, value) pairs."""
    councils = ", ".join(note.councils) or ", ".join(sorted({s.council for s in note.sources})) or "all councils"
    first, last = (human_date(d[:7]) for d in note.period)
    period = first if first == last else f"{first} to {last}"
    return [("Topic", note.topic), ("Councils", councils), ("Period covered", period), ("Prepared", human_date(note.prepared))]


def report_line(entry: SourceEntry) -> str:
    parts = [entry.council, entry.title, entry.committee, human_date(entry.date)]
    return ", ".join(p for p in parts if p)


def when_text(row: CommitmentRow) -> str:
    interval = human_span(date.fromisoformat(row.start), date.fromisoformat(row.end))
    return row.when if row.when.lower().endswith(interval.lower()) else f"{row.when} ({interval})"


def status_text(row: CommitmentRow) -> str:
    return f"{row.status}: {row.status_note}" if row.status_note else row.status


def point_lead(point: Point, *, with_council: bool) -> str:
    """What is read before the quoted text: council and date, event or lead-in."""
    parts = []
    if with_council:
        parts.append(f"{point.council}, {human_date(point.report_date or point.date)}")
    if point.label:
        parts.append(point.label)
    if with_council and point.change:
        parts.append(point.change)
    return " — ".join(parts)


def figure_lead(point: Point) -> str:
    """What is read before a progress point: the date its figure describes, and its change."""
    return " — ".join(x for x in (human_date(point.date), point.change) if x)


def finding_lead(note: Briefing, point: Point) -> str:
    if point in note.judgements:
        return f"Overall judgement ({point.label})"
    return point_lead(point, with_council=False) or f"Report of {human_date(point.report_date)}"


def see_also(note: Briefing, section: str) -> str:
    numbers = note.summary_points(section)
    if not numbers:
        return ""
    listed = ", ".join(str(n) for n in numbers)
    return f"See also summary point{'s' if len(numbers) > 1 else ''} {listed}."


def by_council(points: Sequence[Point]) -> dict[str, list[Point]]:
    groups: dict[str, list[Point]] = {}
    for p in points:
        groups.setdefault(p.council, []).append(p)
    return groups


def citation_line(c: Citation) -> str:
    return f"{c.council}, {c.title}, {human_date(c.date)}, {para_label(c.paragraph)}"
