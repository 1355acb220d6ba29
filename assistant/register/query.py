"""Queries over the register: commitments with their status, inspection history and facts, by council and date.

The options are the CLI's (--council, --from, --to, --status, --as-of); a bad one is an
AssistantError that names it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from assistant.dates import Anchor
from assistant.errors import AssistantError
from assistant.register.commitments import STATUSES, Commitment
from assistant.register.facts import METRICS, Fact, find_metrics
from assistant.register.inspections import InspectionEvent
from assistant.register.status import assess
from assistant.register.store import Register
from assistant.register.table import history_rows


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


def _check_councils(councils: Sequence[str], held: Iterable[str]) -> None:
    """Every council asked for is one the register holds (in any case)."""
    known = sorted(set(held) - {""})
    unknown = [c for c in councils if not any(c.strip().lower() == k.lower() for k in known)]
    if unknown:
        raise AssistantError(f"--council {unknown[0]!r} is not among the indexed councils: {', '.join(known) or 'none'}")


def _register_councils(register: Register) -> set[str]:
    return {r.council for r in register.reports.values()} | {r.council for r in register.records} | {e.council for e in register.inspections}


def statuses(register: Register, as_of: date | None = None) -> list[tuple[str, str]]:
    """(status, note) of each of the register's commitments, in order: as of `as_of`, or as of its council's
    latest report. Worked out once per register and date (a question reads them; it does not pay for them)."""
    key = (as_of, date.today())
    found = register.statuses.get(key)
    if found is not None:
        return found
    # Each council's report dates, sorted: whether a later report exists is a bisection, not a scan.
    starts: dict[str, list[date]] = defaultdict(list)
    anchors: dict[str, Anchor | None] = {}
    for entry in register.reports.values():
        if (anchor := anchors.setdefault(entry.date, Anchor.parse(entry.date))) is not None:
            starts[entry.council].append(anchor.start)
    for held in starts.values():
        held.sort()
    found = []
    for item in register.commitments:
        if item.report_date not in anchors:
            anchors[item.report_date] = Anchor.parse(item.report_date)
        own = anchors[item.report_date]
        reports = starts.get(item.council, [])
        after = bisect_right(reports, own.end) if own is not None else len(reports)
        later = after < len(reports) and (as_of is None or reports[after] <= as_of)
        reference = as_of or (reports[-1] if reports else date.today())
        found.append(assess(item, reference, later_reports=later))
    register.statuses.clear()  # one date at a time: a long-running server moves on
    register.statuses[key] = found
    return found


def with_status(register: Register, as_of: date | None = None) -> list[Commitment]:
    """Every commitment with its status: as of `as_of`, or as of its council's latest report."""
    return [
        item.model_copy(update={"status": status, "status_note": note})
        for item, (status, note) in zip(register.commitments, statuses(register, as_of), strict=True)
    ]


def select_commitments(
    register: Register,
    *,
    councils: Sequence[str] = (),
    date_from: str = "",
    date_to: str = "",
    statuses_wanted: Sequence[str] = (),
    as_of: str = "",
    kinds: Sequence[str] = (),
) -> list[tuple[Commitment, str, str]]:
    """(commitment, status, note) of those whose interval overlaps [date_from, date_to], filtered by council,
    status and kind, in the register's order; the commitments as stored (not copied: an answer lists a few)."""
    _check_councils(councils, _register_councils(register))
    low = parse_date_option(date_from, "--from") or date.min
    high = parse_date_option(date_to, "--to", end=True) or date.max
    if low > high:
        raise AssistantError(f"--from {date_from} is after --to {date_to}")
    for status in statuses_wanted:
        if status not in STATUSES:
            raise AssistantError(f"--status {status!r}: expected one of {', '.join(STATUSES)}")
    judged = statuses(register, parse_date_option(as_of, "--as-of", end=True))
    rows = register.commitments
    if councils:  # only the councils' own rows are read (their places in the register, found once)
        places = _council_rows(register)
        chosen: Iterable[int] = sorted(i for name in {w.strip().lower() for w in councils} for i in places.get(name, ()))
    else:
        chosen = range(len(rows))
    first, last = low.isoformat(), high.isoformat()  # ISO dates compare as the dates do
    return [
        (rows[i], *judged[i])
        for i in chosen
        if (not statuses_wanted or judged[i][0] in statuses_wanted)
        and (not kinds or rows[i].kind in kinds)
        and rows[i].time.start <= last
        and first <= rows[i].time.end
    ]


def _council_rows(register: Register) -> dict[str, list[int]]:
    """Each council's (in lower case) commitments, as places in the register's list."""
    if not register.council_rows:
        for place, item in enumerate(register.commitments):
            register.council_rows.setdefault(item.council.lower(), []).append(place)
    return register.council_rows


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
    """Commitments whose interval overlaps [date_from, date_to], filtered by council, status and kind, each with its status."""
    chosen = select_commitments(
        register, councils=councils, date_from=date_from, date_to=date_to, statuses_wanted=statuses, as_of=as_of, kinds=kinds
    )
    return [c.model_copy(update={"status": status, "status_note": note}) for c, status, note in chosen]


def query_inspections(register: Register, *, councils: Sequence[str] = (), date_from: str = "", date_to: str = "") -> list[InspectionEvent]:
    _check_councils(councils, _register_councils(register))
    low = parse_date_option(date_from, "--from") or date.min
    high = parse_date_option(date_to, "--to", end=True) or date.max
    return [e for e in register.inspections if _council_matches(e.council, councils) and e.start <= high and low <= e.end]


def query_records(register: Register, *, councils: Sequence[str] = (), date_from: str = "", date_to: str = "") -> list[dict[str, Any]]:
    """Inspection history rows (records, then visits and mentions no record holds) within the dates, by council."""
    _check_councils(councils, _register_councils(register))
    low = (parse_date_option(date_from, "--from") or date.min).isoformat()
    high = (parse_date_option(date_to, "--to", end=True) or date.max).isoformat()
    return [
        row
        for row in history_rows(register.records, register.inspections)
        if _council_matches(row["council"], councils) and (row["inspection_start"] or "0") <= high and low <= (row["inspection_end"] or "9")
    ]



def query_facts(facts: Sequence[Fact], metric: str = "", councils: Sequence[str] = (), known: Sequence[str] = ()) -> list[Fact]:
    """The series of a metric (any synonym), by council and date; every fact when no metric is given.

    `known` are the indexed councils besides those the facts name.
    """
    _check_councils(councils, [*known, *(f.council for f in facts)])
    chosen = facts
    if metric:
        names = {m.name for m in find_metrics(metric)}
        if not names:
            raise AssistantError(f"metric {metric!r} is not known; metrics: {', '.join(m.name for m in METRICS)}")
        chosen = [f for f in facts if f.metric in names]
    return [f for f in chosen if _council_matches(f.council, councils)]
