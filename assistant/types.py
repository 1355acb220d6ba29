"""Domain types: a Report is split into Passages; search (under Filters) yields SearchHits; an Answer holds Citations."""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel, Field, field_validator, model_validator


class ReportMeta(BaseModel):
    """What is known about a report; empty strings where the text does not say."""

    title: str = Field("", description="Report title as printed.")
    council: str = Field("", description="Council short name, e.g. 'West Sussex'.")
    committee: str = Field("", description="Committee or meeting the report went to.")
    date: str = Field("", description="Report or meeting date, ISO 8601: 2020-10-21, 2021-03 or 2016.")
    author: str = Field("", description="Author or presenting officer/member.")
    kind: str = Field(
        "",
        description="Kind of document: committee_report, ofsted_ilacs, ofsted_ilacs_short, ofsted_sif, "
        "ofsted_focused_visit, ofsted_monitoring_visit, joint_targeted_area_inspection, ofsted_inspection.",
    )
    published: str = Field("", description="Publication date where the document states one, ISO 8601.")


class IndexedReport(ReportMeta):
    """One row of the index manifest: an ingested file's metadata and where its passages are."""

    hash: str = Field(description="SHA-256 of the file bytes ingested.")
    ids: list[str] = Field(default_factory=list, description="Ids of its passages in the vector store.")
    passages: int = Field(0, description="How many passages it was split into.")
    overrides: dict[str, Any] = Field(default_factory=dict, description="Metadata set in manifest.toml.")
    ingested_at: str = ""


class Report(ReportMeta):
    """One report file, read and cleaned."""

    source: str = Field(description="File name; citations and evaluation name reports by it.")
    text: str = Field(description="Cleaned report text; passage spans point into it.")
    content_hash: str = Field(description="SHA-256 of the file bytes.")

    @property
    def meta(self) -> ReportMeta:
        return ReportMeta(**self.model_dump(include=set(ReportMeta.model_fields)))


class Passage(BaseModel):
    """One numbered paragraph (or part of one, or an unnumbered block) of a report."""

    id: str = Field(description="Stable id: source, content hash prefix and ordinal.")
    source: str = Field(description="File name of the report.")
    title: str = ""
    council: str = ""
    committee: str = ""
    date: str = ""
    section: str = Field("", description="Heading(s) the passage sits under, joined by ' › '.")
    paragraph: str = Field(description="Label as printed ('8', '3(b)'), or '¶n' for unnumbered text.")
    part: int = Field(0, description="0 for a whole paragraph; 1, 2, … for parts of a long one.")
    ordinal: int = Field(description="Position of the passage in its report, from 0.")
    start: int = Field(description="Start of the passage in the report's cleaned text.")
    end: int = Field(description="End (exclusive) of the passage in the report's cleaned text.")
    text: str = Field(description="Passage text as indexed.")

    def embedding_text(self) -> str:
        """Text given to the encoder: council and section give a paragraph the topic it omits."""
        context = ". ".join(part for part in (self.council, self.section) if part)
        return f"{context}: {self.text}" if context else self.text

    def metadata(self) -> dict[str, Any]:
        """Flat metadata for the vector store (no nested values)."""
        data = self.model_dump(exclude={"id", "text"})
        data["date_from"], data["date_to"] = date_bounds(self.date)
        return data

    @classmethod
    def from_metadata(cls, id: str, text: str, metadata: Mapping[str, Any]) -> Passage:
        fields = {k: v for k, v in metadata.items() if k in cls.model_fields}
        return cls(id=id, text=text, **fields)


class SearchHit(BaseModel):
    """A passage found for a query, with how it was found."""

    passage: Passage
    score: float = Field(description="Fused relevance score; higher is better.")
    dense_score: float | None = Field(None, description="Cosine similarity to the query, if ranked densely.")
    bm25_score: float | None = Field(None, description="BM25 score, if ranked by keywords.")
    rank: int = Field(0, description="1-based rank in the result list.")



class Citation(BaseModel):
    """A numbered reference from an answer to the passage that holds the cited words."""

    n: int = Field(description="Marker number as it appears in the answer: [n].")
    source: str = Field(description="File name of the report.")
    title: str = ""
    council: str = ""
    date: str = ""
    paragraph: str = Field(description="Paragraph label as printed.")
    section: str = ""
    quote: str = Field(description="The cited sentence(s), verbatim from the passage.")
    passage: str = Field(description="The whole passage text as indexed.")
    passage_id: str = ""
    start: int = Field(0, description="Start of the passage in the report's cleaned text.")
    end: int = Field(0, description="End of the passage in the report's cleaned text.")

    @classmethod
    def from_passage(cls, n: int, passage: Passage, quote: str) -> Citation:
        return cls(
            n=n,
            source=passage.source,
            title=passage.title,
            council=passage.council,
            date=passage.date,
            paragraph=passage.paragraph,
            section=passage.section,
            quote=quote,
            passage=passage.text,
            passage_id=passage.id,
            start=passage.start,
            end=passage.end,
        )


class Answer(BaseModel):
    """An answer to one question; it holds its citations as data, never glued into the text."""

    question: str
    standalone_question: str = Field(description="The question rewritten to stand alone.")
    answer: str = Field(description="Answer text with [n] markers.")
    refused: bool = Field(description="True when the reports do not answer the question.")
    citations: list[Citation] = Field(default_factory=list)
    closest: list[SearchHit] = Field(
        default_factory=list, description="Closest passages, shown when the answer is refused."
    )
    kind: str = Field("fact", description="Kind of question understood: when, who, number, …")
    confidence: float = Field(0.0, description="Strength of the best evidence (0-1); below the refusal threshold it refuses.")
    written_by: str = Field("extractive", description="'extractive', 'llm' or 'register': what composed the answer.")
    filters: dict[str, Any] = Field(default_factory=dict, description="Filters in force.")
    latency_ms: float = 0.0


@functools.lru_cache(maxsize=8192)  # filters test every report's date on each question: a library has few distinct dates
def date_bounds(date: str) -> tuple[int, int]:
    """ISO date (full, month or year) as an inclusive yyyymmdd range; (0, 0) when unknown."""
    parts = date.split("-") if date else []
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        return 0, 0
    if len(numbers) == 3:
        value = numbers[0] * 10000 + numbers[1] * 100 + numbers[2]
        return value, value
    if len(numbers) == 2:
        base = numbers[0] * 10000 + numbers[1] * 100
        return base + 1, base + 31
    if len(numbers) == 1:
        return numbers[0] * 10000 + 101, numbers[0] * 10000 + 1231
    return 0, 0


class Filters(BaseModel):
    """Restrictions on which passages may be retrieved; empty means no restriction."""

    councils: list[str] = Field(default_factory=list, description="Council short names.")
    date_from: str = Field("", description="Earliest report date, ISO (2020, 2020-03, 2020-03-01).")
    date_to: str = Field("", description="Latest report date, ISO.")
    sources: list[str] = Field(default_factory=list, description="Report file names.")

    @field_validator("date_from", "date_to")
    @classmethod
    def _is_a_date(cls, value: str) -> str:
        """A filter date is a year, a month or a day that exists; anything else is named, never ignored."""
        value = value.strip()
        if not value:
            return value
        try:
            if not re.fullmatch(r"\d{4}(?:-\d{2}(?:-\d{2})?)?", value):
                raise ValueError(value)
            parts = [int(p) for p in value.split("-")]
            datetime.date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)
        except ValueError:
            raise ValueError(f"'{value}' is not a date: use 2020, 2020-03 or 2020-03-19") from None
        return value

    @model_validator(mode="after")
    def _in_order(self) -> Filters:
        low, high = self.date_from, self.date_to
        if low and high and low > high[: len(low)]:
            raise ValueError(f"from date {low} is after to date {high}: swap them")
        return self

    def is_empty(self) -> bool:
        return not (self.councils or self.date_from or self.date_to or self.sources)

    def describe(self) -> str:
        """The filters in words, for messages: "council Atlantis, from 2030"."""
        parts = [f"council {', '.join(self.councils)}"] if self.councils else []
        parts += [f"from {self.date_from}"] if self.date_from else []
        parts += [f"to {self.date_to}"] if self.date_to else []
        parts += [f"report {', '.join(self.sources)}"] if self.sources else []
        return "; ".join(parts)

    def selects(self, reports: Mapping[str, IndexedReport]) -> list[str]:
        """The indexed reports (manifest entries by file name) these filters let through."""
        return list(self._passing(reports))

    def _passing(self, reports: Mapping[str, IndexedReport]) -> Iterator[str]:
        dated = bool(self.date_from or self.date_to)
        for source, entry in reports.items():
            low, high = date_bounds(entry.date)
            if dated and not low:
                continue  # an undated report is outside any date range, as BM25's mask has it
            if self.allows(entry.council, source, low, high):
                yield source

    def matches_nothing(self, reports: Mapping[str, IndexedReport]) -> bool:
        """True when filters are set and no indexed report passes them (searching would find nothing)."""
        return not self.is_empty() and next(self._passing(reports), None) is None

    def bounds(self) -> tuple[int, int]:
        low = date_bounds(self.date_from)[0] if self.date_from else 0
        high = date_bounds(self.date_to)[1] if self.date_to else 99999999
        return low, high

    def allows(self, council: str, source: str, date_from: int, date_to: int) -> bool:
        if self.councils and council not in self.councils:
            return False
        if self.sources and source not in self.sources:
            return False
        low, high = self.bounds()
        if self.date_from and date_to < low:
            return False
        return not (self.date_to and date_from > high)
