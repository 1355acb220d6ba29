"""What a question is about besides its words: the councils it names and the time it points at.

Councils come from the gazetteer (any form a person types: "BCP", "south glos", "tamesides"),
never from capitalised words; a council the library holds no report on is reported as missing
rather than silently searched as nothing or as another council.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from assistant.councils import gazetteer
from assistant.types import IndexedReport

_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")
# "the latest report", "most recent ILACS", "what is it called now", "these days", "currently".
_LATEST = re.compile(r"\b(?:latest|most recent|newest|current(?:ly)?|now|these days|nowadays|this time|recent)\b", re.I)


# A year that names a report: "the 2021 Ofsted inspection", "when Ofsted visited in November 2024".
_REPORT_WORDS = re.compile(r"\b(?:inspect\w*|ofsted|report\w*|ilacs|sif|visit\w*|judge?ments?|outcomes?|grades?|rated|rating)\b", re.I)
# "since 2020", "before the December 2023 inspection": a year bounding a period, not naming a report.
_BOUNDING = re.compile(r"\b(?:since|before|after|until|till|by|from|prior to)\s+(?:\w+\s+){0,3}$", re.I)
# Verbs of change, not the nouns of a report's own headings ("areas for improvement", "needs to improve",
# "the experiences and progress of care leavers"), which ask about one report.
_CHANGE = re.compile(
    r"\b(?:since|improv(?:ed|es|ing)|chang\w*|compar\w*|better|worse|between|kept|still|progress(?:ed|ing)|declin\w*|deteriorat\w*)\b",
    re.I,
)

_SINCE = re.compile(r"\bsince\s+(?:[\w’'-]+\s+){0,6}?((?:19|20)\d{2})\b", re.I)


@dataclass
class Scope:
    """Councils and time a question names, resolved against the library."""

    councils: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    latest: bool = False
    report_years: list[int] = field(default_factory=list)
    change: bool = False
    since: int | None = None  # "changed since 2016", "improved since its first inspection in 2022"


def read_scope(question: str, library: Collection[str]) -> Scope:
    """Councils (in the order named) and years a question names; `library` holds the councils with reports."""
    known = set(library)
    councils: list[str] = []
    missing: list[str] = []
    for mention in gazetteer().find(question, known=known):
        council = mention.council
        names = [council.name] if council.name in known else [s for s in council.successors if s in known]
        if names:
            councils.extend(n for n in names if n not in councils)
        elif council.name not in missing:
            missing.append(council.name)
    years = sorted({int(y) for y in _YEAR.findall(question)})
    naming: set[int] = set()
    for match in _YEAR.finditer(question):
        before, after = question[: match.start()], question[match.end() : match.end() + 40]
        if _REPORT_WORDS.search(before + " " + after) and not _BOUNDING.search(before):
            naming.add(int(match.group(0)))
    change = bool(_CHANGE.search(question))
    since = _SINCE.search(question)
    return Scope(
        councils, missing, years, bool(_LATEST.search(question)), sorted(naming), change, int(since.group(1)) if since else None
    )


_MONTH_BEFORE = re.compile(r"(?:\b(?:\d{1,2}\s+)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+)$", re.I)


def search_text(question: str, library: Collection[str], *, keep_years: bool = False) -> str:
    """The question as searched once its scope is applied as filters: named councils and the
    year that names a report are taken out, so a report's title block does not outrank its findings."""
    known = set(library)
    spans = [(m.start, m.end) for m in gazetteer().find(question, known=known) if m.council.name in known]
    for match in [] if keep_years else _YEAR.finditer(question):
        before = question[: match.start()]
        after = question[match.end() : match.end() + 40]
        if _REPORT_WORDS.search(before + " " + after) and not _BOUNDING.search(before):
            month = _MONTH_BEFORE.search(question[: match.start()])
            spans.append((month.start() if month else match.start(), match.end()))
    text = question
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + " " + text[end:]
    text = re.sub(r"\s+", " ", text).strip()
    return text if re.search(r"[A-Za-z]{3,}", text) else question


def reports_of_years(
    years: Collection[int], reports: Mapping[str, IndexedReport], councils: Collection[str]
) -> list[str]:
    """The councils' reports dated (inspected or published) in one of the years."""
    found = []
    for source, entry in reports.items():
        if councils and entry.council not in councils:
            continue
        dated = [d[:4] for d in (entry.date, entry.published)]
        if any(d.isdigit() and int(d) in years for d in dated):
            found.append(source)
    return sorted(found)


# A question that names no time asks how things stand: a council's latest report first, its older ones
# close behind (milder than "latest"/"now", which ask for the present outright). A question about change
# ("since", "improved", "compare") needs the older reports as much, and gets no such lean.
PRESENT_WEIGHT = 0.8


@dataclass
class ReportTimes:
    """Per council, its reports with the years that name them (inspected or published) and whether each is the
    council's latest: read once per state of the library, since a question weighs reports two or three times."""

    by_council: dict[str, list[tuple[str, frozenset[int], bool]]] = field(default_factory=dict)


def report_times(reports: Mapping[str, IndexedReport]) -> ReportTimes:
    latest: dict[str, str] = {}
    for entry in reports.values():
        if entry.date > latest.get(entry.council, ""):
            latest[entry.council] = entry.date
    times = ReportTimes()
    for source, entry in reports.items():
        years = frozenset(int(d[:4]) for d in (entry.date, entry.published) if d[:4].isdigit())
        times.by_council.setdefault(entry.council, []).append((source, years, entry.date == latest.get(entry.council)))
    return times


def report_prior(
    scope: Scope, reports: Mapping[str, IndexedReport], councils: Collection[str], times: ReportTimes | None = None
) -> dict[str, float]:
    """A weight per report for the time a question points at: its year(s), the latest report, or (naming
    no time and asking about no change) a lean towards each council's latest report. `times`: the reports'
    `report_times`, when the caller holds them."""
    weights: dict[str, float] = {}
    present = not (scope.years or scope.latest or scope.change)
    if not (scope.years or scope.latest or present):
        return weights
    times = times or report_times(reports)
    for council in councils or times.by_council:
        for source, years, latest in times.by_council.get(council, ()):
            if scope.since and scope.change:
                # "Changed since 2016" spans that year's report and every later one.
                weights[source] = 1.0 if any(y >= scope.since for y in years) else 0.5
            elif scope.years:
                # A report is "the 2025 one" by its inspection or its publication year.
                weights[source] = 1.0 if years & set(scope.years) else 0.5
            else:
                weights[source] = 1.0 if latest else (0.6 if scope.latest else PRESENT_WEIGHT)
    return weights
