"""Report metadata read from the text: title, council, date, committee, author and kind of document.

A field the text does not state stays empty: a wrong council or date filters a question to the
wrong reports, which is worse than none.
"""

from __future__ import annotations

import re

from assistant.councils import gazetteer
from assistant.dates import FULL_MONTHS, iso_date
from assistant.text import LIST_START as _LIST_START
from assistant.types import ReportMeta

_DATE_DMY = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({FULL_MONTHS})\s+(\d{{4}})\b", re.I)
_DATE_MY = re.compile(rf"\b({FULL_MONTHS})\s+(\d{{4}})\b", re.I)
_FIELD = re.compile(r"^\s*([A-Za-z/ ]{3,40}):\s*(.+?)\s*$", re.M)
_COMMITTEE = re.compile(
    r"\b(?:[A-Z][A-Za-z&'’]*\s+){0,8}(?:PANEL|COMMITTEE|CABINET|BOARD|Panel|Committee|Board)\b"
)


def _head(text: str, lines: int = 12) -> list[str]:
    return [line.strip() for line in text.split("\n") if line.strip()][:lines]


# Cover-sheet lines are short; a longer line near the top is already body text.
_HEAD_LINE = 160
_FIELD_KEYS = {
    "date", "date of meeting", "meeting date", "date of report", "subject", "subject of report",
    "title", "report title", "town or parish", "wards", "wards affected", "key decision", "reason",
    "officer/member presenting", "author", "report author", "contact", "contact officer",
    "lead officer", "report of", "report by", "meeting", "committee", "classification",
}


def _cover_line(line: str) -> bool:
    """A line that can belong to a cover sheet or title block, not a body sentence or list item."""
    return len(line) <= _HEAD_LINE and not line.endswith(".") and not _LIST_START.match(line)


def _is_field(line: str) -> bool:
    """A cover-sheet "Key: value" line (a known key, or a one-word value), not a title with a colon."""
    key, colon, value = line.partition(":")
    if not colon or len(key) > 40:
        return False
    return key.strip().lower() in _FIELD_KEYS or len(value.split()) <= 1


# Inspection reports and letters state their dates as fields; the date that names the report is
# the last day of the inspection or visit.
_VISIT_DATES = re.compile(
    r"^\s*(?:inspection|visit|monitoring visit|focused visit)?\s*dates?(?: of (?:the )?(?:inspection|visit))?\s*:\s*(.+)$",
    re.I | re.M,
)
_PUBLISHED = re.compile(r"^\s*(?:report published|publication date|date published)\s*:\s*(.+)$", re.I | re.M)
# Kinds of document, read from the opening words (an inspection report's title), then the first pages.
_KINDS = [
    (kind, re.compile(pattern, re.I))
    for kind, pattern in (
        ("ofsted_focused_visit", r"^.{0,80}\bfocused visit\b"),
        ("ofsted_monitoring_visit", r"^.{0,80}\bmonitoring visit\b"),
        ("joint_targeted_area_inspection", r"^.{0,80}\bjoint targeted area inspection\b"),
        ("ofsted_sif", r"^.{0,160}\binspection of services for children in need of help and protection"),
        ("ofsted_ilacs_short", r"^.{0,160}\binspection of .{0,80}children['’]s services\b.{0,3000}\bshort inspection\b"),
        ("ofsted_ilacs", r"^.{0,160}\binspection of .{0,80}\blocal authority children['’]s services\b"),
        ("ofsted_inspection", r"^.{0,160}\binspection of .{0,80}\bservices\b"),
    )
]


def infer_metadata(text: str) -> ReportMeta:
    """Metadata stated in the text; a field the text does not state is left empty."""
    fields = {k.strip().lower(): v for k, v in _FIELD.findall(text[:4000])}
    head = _head(text)
    top = text[:3000]
    kind = _infer_kind(top, fields)
    title = _title_block(text) if kind.startswith(("ofsted", "joint")) else ""
    title = title or _infer_title(fields, head)
    found = gazetteer().report_council(text, title)
    return ReportMeta(
        title=title,
        council=found.name if found else "",
        committee="" if kind.startswith(("ofsted", "joint")) else _infer_committee(fields, head),
        date=_visit_end(top) or _infer_date(fields, head),
        author=_infer_author(fields),
        kind=kind,
        published=_first_date(_PUBLISHED.search(top)),
    )


def _infer_kind(top: str, fields: dict[str, str]) -> str:
    flat = " ".join(top.split())
    for kind, pattern in _KINDS:
        if pattern.search(flat):
            return kind
    if any(key in fields for key in ("date of meeting", "meeting date", "committee", "meeting")):
        return "committee_report"
    return ""


def _first_date(match: re.Match[str] | None) -> str:
    found = _DATE_DMY.search(match.group(1)) if match else None
    return iso_date(*found.groups()) if found else ""


def _visit_end(top: str) -> str:
    """The last day of an inspection or visit: '4 to 15 December 2023' ends on 15 December 2023."""
    match = _VISIT_DATES.search(top)
    if not match:
        return ""
    dates = list(_DATE_DMY.finditer(match.group(1)))
    return iso_date(*dates[-1].groups()) if dates else ""


def _title_block(text: str) -> str:
    """An inspection report's title: its opening lines up to the first field, a council letterhead joined by ':'."""
    lines: list[str] = []
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            if lines:
                break
            continue
        if _FIELD.match(line) or len(lines) >= 5 or "\t" in line:
            break
        lines.append(re.sub(r"(?<=[a-z])\d{1,2}$", "", line))  # a footnote mark glued to the last word
    if not lines:
        return ""
    head = lines[0]
    lookup = gazetteer().lookup(head)
    rest = " ".join(lines[1:])
    if lookup is not None and rest:
        return f"{head}: {rest}"
    return " ".join(lines)


def _infer_date(fields: dict[str, str], head: list[str]) -> str:
    for key in ("date of meeting", "meeting date", "date of report", "date"):
        if key in fields:
            found = _DATE_DMY.search(fields[key])
            if found:
                return iso_date(*found.groups())
    for line in head:
        if len(line) > _HEAD_LINE:
            continue
        found = _DATE_DMY.search(line)
        if found:
            return iso_date(*found.groups())
        found = _DATE_MY.search(line)
        if found:
            return iso_date(None, *found.groups())
    return ""


def _infer_title(fields: dict[str, str], head: list[str]) -> str:
    for key in ("subject of report", "title", "report title", "subject"):
        if key in fields:
            return fields[key]
    for line in head:
        if not _cover_line(line) or _is_field(line):
            continue  # body sentences, list items and cover-sheet fields are not titles
        if _DATE_DMY.search(line) and len(line.split()) < 14 and _COMMITTEE.search(line):
            continue
        if re.fullmatch(r"[\w\s']*Council", line) or len(line.split()) < 3:
            continue
        return line
    return ""


def _infer_committee(fields: dict[str, str], head: list[str]) -> str:
    for line in head:
        if not _cover_line(line):
            continue
        found = re.match(r"report to (?:the )?(.+)", line, re.I)
        if found:
            return found.group(1).strip()
        found = _COMMITTEE.search(line)
        if found and _DATE_DMY.search(line):
            return found.group(0).strip().title().replace("And", "and")
    return fields.get("meeting", fields.get("committee", ""))


def _infer_author(fields: dict[str, str]) -> str:
    for key in ("author", "officer/member presenting", "report author", "contact officer", "lead officer"):
        if key in fields:
            return fields[key]
    return ""


