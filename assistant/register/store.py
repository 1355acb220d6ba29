"""The register: every report's commitments and inspection history, stored beside the index.

Built whenever the index changes (`Index` calls `write_register`), so the register is always in
step with the documents and queries over it are instant. Status is worked out at query time,
because it depends on the date it is judged at.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from assistant.dates import Anchor, find_times
from assistant.errors import AssistantError, IndexNotReady
from assistant.files import atomic_write
from assistant.register.commitments import (
    REGISTER_FILE,
    REGISTER_VERSION,
    STATUSES,
    Commitment,
    assess,
    extract_commitments,
    link_follow_through,
)
from assistant.register.facts import FACTS_VERSION, Fact, answer_from_facts, extract_facts, merge_facts
from assistant.register.history import TABLE_COLUMNS as HISTORY_COLUMNS
from assistant.register.history import answer_from_records, flat_row, history_rows
from assistant.register.inspections import InspectionEvent, extract_inspections, merge_events
from assistant.register.ofsted import RECORDS_VERSION, InspectionRecord, as_event, merge_records, read_inspection
from assistant.types import Answer, Citation, Passage

FORMATS = ("table", "json", "csv", "md")


class ReportEntry(BaseModel):
    council: str = ""
    date: str = ""
    title: str = ""


class Register(BaseModel):
    """Commitments and inspection events of every indexed report."""

    version: int = REGISTER_VERSION
    built_at: str = ""
    reports: dict[str, ReportEntry] = Field(default_factory=dict, description="Source file → council, date, title.")
    commitments: list[Commitment] = Field(default_factory=list)
    inspections: list[InspectionEvent] = Field(default_factory=list)
    records_version: int = 0
    records: list[InspectionRecord] = Field(default_factory=list, description="Ofsted inspections, one record each, every fact cited.")
    facts_version: int = 0
    facts: list[Fact] = Field(default_factory=list, description="Figures the reports state, by council, metric and date.")


class _Extracted(BaseModel):
    """One report's commitments, inspection events and own inspection before they are joined across reports."""

    commitments: list[Commitment]
    inspections: list[InspectionEvent]
    record: InspectionRecord | None
    facts: list[Fact] = Field(default_factory=list)


def _extract(report: list[Passage], cache: Path | None, used: set[str]) -> _Extracted:
    """A report's extraction, from the cache when its text and metadata are unchanged.

    Every ingest rebuilds the register; without the cache one new file re-reads every report.
    """
    first = report[0]
    key = hashlib.sha256(
        f"{REGISTER_VERSION}.{RECORDS_VERSION}.{FACTS_VERSION}|{first.source}|{first.id.rpartition('@')[2]}|{first.council}|{first.date}|{first.title}".encode()
    ).hexdigest()[:24]
    used.add(key)
    path = cache / f"{key}.json" if cache else None
    if path is not None and path.is_file():
        try:
            return _Extracted.model_validate_json(path.read_bytes())
        except (ValidationError, ValueError):
            pass  # damaged: extract again
    extracted = _Extracted(
        commitments=extract_commitments(report), inspections=extract_inspections(report), record=read_inspection(report),
        facts=extract_facts(report),
    )
    if path is not None:
        atomic_write(path, extracted.model_dump_json())
    return extracted


def build_register(passages: Iterable[Passage], cache: Path | None = None) -> Register:
    """Extract the register from passages (all reports at once, so later reports can vouch for earlier ones).

    `cache` is a folder of per-report extractions, reused while a report is unchanged.
    """
    by_source: dict[str, list[Passage]] = defaultdict(list)
    for passage in passages:
        by_source[passage.source].append(passage)
    register = Register(built_at=time.strftime("%Y-%m-%dT%H:%M:%S"), records_version=RECORDS_VERSION, facts_version=FACTS_VERSION)
    events: list[InspectionEvent] = []
    reports: list[InspectionRecord] = []
    everything: list[Passage] = []
    used: set[str] = set()
    for source in sorted(by_source):
        report = sorted(by_source[source], key=lambda p: p.ordinal)
        everything.extend(report)
        first = report[0]
        register.reports[source] = ReportEntry(council=first.council, date=first.date, title=first.title)
        extracted = _extract(report, cache, used)
        register.commitments.extend(extracted.commitments)
        events.extend(extracted.inspections)
        register.facts.extend(extracted.facts)
        if extracted.record is not None:
            reports.append(extracted.record)
    if cache is not None and cache.is_dir():
        for stale in cache.glob("*.json"):
            if stale.stem not in used:
                stale.unlink(missing_ok=True)
    link_follow_through(register.commitments, everything)
    register.facts = merge_facts(register.facts)
    register.records, others = merge_records(reports, events)
    # An inspection report's own inspection enters the event list as its first page states it.
    register.inspections = merge_events([*(e for r in reports if (e := as_event(r)) is not None), *others])
    register.commitments.sort(key=lambda c: (c.council, c.time.start, c.source, c.citation.start))
    return register


def write_register(folder: Path, passages: Iterable[Passage]) -> Register:
    """Build the register and replace `folder/commitments.json` in one step (never half-written)."""
    register = build_register(passages, cache=folder / "register-cache")
    atomic_write(folder / REGISTER_FILE, register.model_dump_json())
    return register


_CACHE: dict[Path, tuple[int, Register]] = {}


def load_register(index: Any) -> Register:
    """The stored register of an index (built now if an older index lacks one)."""
    path = Path(index.root) / REGISTER_FILE
    if not path.is_file():
        if not index.reports:
            raise IndexNotReady(f"the index in {index.root} is empty: run `assistant ingest corpus/` first")
        return write_register(Path(index.root), index.all_passages())
    stamp = path.stat().st_mtime_ns
    cached = _CACHE.get(path)
    if cached and cached[0] == stamp:
        return cached[1]
    try:
        register = Register.model_validate_json(path.read_bytes())
    except (ValidationError, ValueError) as exc:
        raise AssistantError(f"{path} is damaged ({str(exc).splitlines()[0]}); run `assistant ingest` to rebuild it") from None
    if (register.version, register.records_version, register.facts_version) != (REGISTER_VERSION, RECORDS_VERSION, FACTS_VERSION):
        register = write_register(Path(index.root), index.all_passages())
    _CACHE[path] = (stamp, register)
    return register


# ------------------------------------------------------------------ queries


def parse_date_option(value: str, option: str, *, end: bool = False) -> date | None:
    """'2021', '2021-03' or '2021-03-19' as the first (or last) day it covers."""
    if not value:
        return None
    anchor = Anchor.parse(value.strip())
    if anchor is None:
        raise AssistantError(f"{option} {value!r}: expected a date like 2021, 2021-03 or 2021-03-19")
    return anchor.end if end else anchor.start


def _council_matches(council: str, wanted: Sequence[str]) -> bool:
    return not wanted or any(w.strip().lower() == council.lower() for w in wanted)


def _check_councils(register: Register, councils: Sequence[str]) -> None:
    held = {r.council for r in register.reports.values()} | {r.council for r in register.records}
    known = sorted((held | {e.council for e in register.inspections}) - {""})
    unknown = [c for c in councils if not any(c.strip().lower() == k.lower() for k in known)]
    if unknown:
        raise AssistantError(f"--council {unknown[0]!r} is not among the indexed councils: {', '.join(known) or 'none'}")


def with_status(register: Register, as_of: date | None = None) -> list[Commitment]:
    """Every commitment with its status: as of `as_of`, or as of its council's latest report."""
    dates: dict[str, list[Anchor]] = defaultdict(list)
    for entry in register.reports.values():
        if (anchor := Anchor.parse(entry.date)) is not None:
            dates[entry.council].append(anchor)
    out = []
    for item in register.commitments:
        own = Anchor.parse(item.report_date)
        reports = dates.get(item.council, [])
        later = own is not None and any(a.start > own.end and (as_of is None or a.start <= as_of) for a in reports)
        reference = as_of or (max(a.start for a in reports) if reports else date.today())
        status, note = assess(item, reference, later_reports=later)
        out.append(item.model_copy(update={"status": status, "status_note": note}))
    return out


def query_commitments(
    register: Register,
    *,
    councils: Sequence[str] = (),
    date_from: str = "",
    date_to: str = "",
    statuses: Sequence[str] = (),
    as_of: str = "",
    kinds: Sequence[str] = (),
) -> list[Commitment]:
    """Commitments whose interval overlaps [date_from, date_to], filtered by council, status and kind."""
    _check_councils(register, councils)
    low = parse_date_option(date_from, "--from") or date.min
    high = parse_date_option(date_to, "--to", end=True) or date.max
    if low > high:
        raise AssistantError(f"--from {date_from} is after --to {date_to}")
    for status in statuses:
        if status not in STATUSES:
            raise AssistantError(f"--status {status!r}: expected one of {', '.join(STATUSES)}")
    reference = parse_date_option(as_of, "--as-of", end=True)
    return [
        c
        for c in with_status(register, reference)
        if _council_matches(c.council, councils)
        and c.start <= high
        and low <= c.end
        and (not statuses or c.status in statuses)
        and (not kinds or c.kind in kinds)
    ]


def query_inspections(register: Register, *, councils: Sequence[str] = (), date_from: str = "", date_to: str = "") -> list[InspectionEvent]:
    _check_councils(register, councils)
    low = parse_date_option(date_from, "--from") or date.min
    high = parse_date_option(date_to, "--to", end=True) or date.max
    return [e for e in register.inspections if _council_matches(e.council, councils) and e.start <= high and low <= e.end]


def query_records(register: Register, *, councils: Sequence[str] = (), date_from: str = "", date_to: str = "") -> list[dict[str, Any]]:
    """Inspection history rows (records, then visits and mentions no record holds) within the dates, by council."""
    _check_councils(register, councils)
    low = (parse_date_option(date_from, "--from") or date.min).isoformat()
    high = (parse_date_option(date_to, "--to", end=True) or date.max).isoformat()
    return [
        row
        for row in history_rows(register.records, register.inspections)
        if _council_matches(row["council"], councils) and (row["inspection_start"] or "0") <= high and low <= (row["inspection_end"] or "9")
    ]


# ------------------------------------------------------------------ output


def _cite(c: Citation) -> dict[str, str]:
    return {"source": c.source, "title": c.title, "council": c.council, "date": c.date, "paragraph": c.paragraph, "section": c.section, "quote": c.quote}


def commitment_row(c: Commitment) -> dict[str, Any]:
    """One commitment as a flat-ish JSON row: the citation and the interval as ISO dates."""
    return {
        "id": c.id,
        "council": c.council,
        "report": c.source,
        "report_date": c.report_date,
        "action": c.action,
        "responsible": c.responsible,
        "kind": c.kind,
        "time": c.time.text,
        "start": c.time.start,
        "end": c.time.end,
        "granularity": c.time.granularity,
        "relation": c.time.relation,
        "status": c.status,
        "status_note": c.status_note,
        "citation": _cite(c.citation),
        "also": [_cite(a) for a in c.also],
        "evidence": [{"signal": e.signal, "score": e.score, **_cite(e.citation)} for e in c.evidence],
    }


def _flat(row: dict[str, Any]) -> dict[str, str]:
    """A row for CSV and tables: the citation as source, paragraph and quote columns."""
    cite = row["citation"]
    flat = {k: v for k, v in row.items() if k not in ("citation", "also", "evidence")}
    flat |= {"source": cite["source"], "paragraph": cite["paragraph"], "quote": cite["quote"]}
    if "evidence" in row:
        flat["evidence"] = "; ".join(f"{e['signal']}: {e['source']} para {e['paragraph']}" for e in row["evidence"])
    return {k: "" if v is None else str(v) for k, v in flat.items()}


TABLE_COLUMNS = {
    "commitments": ["council", "start", "end", "time", "status", "kind", "action", "paragraph", "source"],
    "inspections": HISTORY_COLUMNS,
}


def render(rows: list[dict[str, Any]], fmt: str, what: str) -> str:
    """Rows as json, csv, a Markdown table or a plain text table."""
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2)
    flat = [flat_row(r) if what == "inspections" else _flat(r) for r in rows]
    if fmt == "csv":
        out = io.StringIO()
        fields = list(flat[0]) if flat else TABLE_COLUMNS[what]
        writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(flat)
        return out.getvalue().rstrip("\n")
    columns = TABLE_COLUMNS[what]
    if fmt == "md":
        def cell(text: str) -> str:
            return text.replace("|", "\\|").replace("\n", " ")

        lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(cell(r.get(c, "")) for c in columns) + " |" for r in flat]
        return "\n".join(lines)
    if not flat:
        return f"No {what} match."
    widths = {c: min(max(len(c), *(len(r.get(c, "")) for r in flat)), 60 if c in ("action", "focus") else 28) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns)]
    for r in flat:
        lines.append("  ".join(_clip(r.get(c, ""), widths[c]).ljust(widths[c]) for c in columns).rstrip())
    return "\n".join(lines)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# ------------------------------------------------------------------ chat

_PROMISE = re.compile(r"\b(?:promis\w*|commit(?:ted|ments?)|pledg\w*|undertakings?)\b", re.I)
_PLANNED_FOR = re.compile(r"\bwhat\b.{0,40}\b(?:planned|scheduled|due|expected|to\s+be\s+delivered|deliver)\b.{0,20}\b(?:for|by|in|during|before)\b", re.I)
_NEXT_EVENT = re.compile(r"\b(?:when|what)\b.{0,40}\bnext\b.{0,30}\b(?P<what>monitoring\s+visit|focused\s+visit|visit|re-?inspection|inspection|review)", re.I)
_HISTORY = re.compile(r"\binspection\s+history\b|\b(?:what|which|list)\b.{0,20}\b(?:inspections|visits)\b.{0,40}\b(?:had|been|held|mention\w*|happened|list)\b|\blist\b.{0,10}\binspections\b", re.I)
_STATUS_WORDS = {"done": re.compile(r"\b(?:done|delivered|completed|achieved|kept)\b", re.I),
                 "overdue": re.compile(r"\b(?:overdue|missed|slipped|passed|late|not\s+delivered)\b", re.I),
                 "in progress": re.compile(r"\bin\s+progress\b", re.I)}
MAX_LISTED = 12


def _named_councils(question: str, register: Register) -> list[str]:
    known = sorted({r.council for r in register.reports.values()} - {""})
    return [c for c in known if c.lower() in question.lower()]


def _when(c: Commitment | InspectionEvent) -> str:
    start, end = c.time.start, c.time.end
    return start if start == end else f"{start} to {end}"


def answer_from_register(question: str, engine: Any, councils: Sequence[str] = ()) -> Answer | None:
    """Answer questions about promises, deadlines and inspections from the register; None for anything else.

    `councils` (a chat's filter) applies when the question names none.
    """
    started = time.perf_counter()
    register = load_register(engine.index)
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
    citations: list[Citation] = []

    def cite(citation: Citation) -> str:
        citations.append(citation.model_copy(update={"n": len(citations) + 1}))
        return f"[{len(citations)}]"

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
        period = [t for t in find_times(question, Anchor.parse(date.today().isoformat()), "future") if re.search(r"\d{4}", t.text)]
        statuses = [s for s, rule in _STATUS_WORDS.items() if rule.search(question)]
        deadline = bool(period) and period[-1].relation == "by"
        rows = query_commitments(
            register,
            councils=councils,
            date_from=period[0].start.isoformat() if period and not deadline else "",
            date_to=period[-1].end.isoformat() if period else "",
            statuses=statuses,
        )
        if deadline:
            # "What is due by spring 2022?": what is still to come, not every past promise.
            rows = [c for c in rows if c.end <= period[-1].end and c.status in ("open", "not mentioned again", "in progress")]
        made_in = re.search(r"\bfrom\s+the\s+((?:19|20)\d\d)\s+report", question, re.I)
        if made_in:
            rows = [c for c in rows if c.report_date.startswith(made_in.group(1))]
        for c in rows[:MAX_LISTED]:
            who = f" ({c.responsible})" if c.responsible and c.responsible not in ("we",) else ""
            status = f"; {c.status}" if c.status in ("done", "in progress", "overdue") else ""
            lines.append(f"{c.council}: {c.action}{who}, {c.time.text} ({_when(c)}{status}) {cite(c.citation)}")
        if len(rows) > MAX_LISTED:
            lines.append(f"…and {len(rows) - MAX_LISTED} more: `assistant commitments` lists them all.")
        kind_label = "commitments"
    if not citations:
        return None  # nothing in the register: let the normal answerer search the passages
    return Answer(
        question=question,
        standalone_question=question,
        answer="\n".join(f"- {line}" for line in lines),
        refused=False,
        citations=citations,
        kind=kind_label,
        confidence=1.0,  # read from the register, not ranked evidence
        written_by="register",
        filters={"councils": councils} if councils else {},
        latency_ms=round((time.perf_counter() - started) * 1000, 1),
    )


def _kind_fits(event_kind: str, asked: str) -> bool:
    if asked == "visit":
        return "visit" in event_kind
    if asked in ("inspection", "reinspection", "re-inspection"):
        return "inspection" in event_kind or event_kind == "ILACS"
    if asked == "review":
        return "review" in event_kind
    return event_kind == " ".join(asked.split())
