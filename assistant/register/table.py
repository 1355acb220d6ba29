"""The register as the CLI prints it: rows of commitments, inspections and facts as JSON, CSV, Markdown or a text table.

JSON rows keep each citation whole; the flat formats give a row's first citation as source,
paragraph and quote columns.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from assistant.register.commitments import Commitment
from assistant.register.facts import METRICS, UNITS, Fact
from assistant.register.inspections import InspectionEvent
from assistant.register.ofsted import SUB_JUDGEMENTS, InspectionRecord, grade
from assistant.types import Citation

TABLE_COLUMNS = {
    "commitments": ["council", "start", "end", "time", "status", "kind", "action", "paragraph", "source"],
    "inspections": [
        "council", "inspection_start", "inspection_end", "kind", "planned", "overall", "leaders",
        "help_and_protection", "in_care", "care_leavers", "lead_inspector", "paragraph", "source",
    ],
}
FACT_COLUMNS = ["metric", "council", "date", "value", "unit", "quote", "source", "paragraph"]
METRIC_COLUMNS = ["metric", "unit", "values", "councils"]


def _cite(c: Citation) -> dict[str, str]:
    return {"source": c.source, "title": c.title, "council": c.council, "date": c.date, "paragraph": c.paragraph, "section": c.section, "quote": c.quote}


# ------------------------------------------------------------------ rows


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


def history_rows(records: Sequence[InspectionRecord], events: Sequence[InspectionEvent]) -> list[dict[str, Any]]:
    """Records, then every event no record already cites (planned visits, reviews, dateless mentions), by council and date."""
    cited = {(c.passage_id, c.quote) for r in records for c in r.citations}
    rows = [record_row(r) for r in records]
    rows += [event_row(e) for e in events if (e.citation.passage_id, e.citation.quote) not in cited]
    return sorted(rows, key=lambda r: (r["council"].lower(), r["inspection_start"] or r["inspection_end"]))


def fact_row(fact: Fact) -> dict[str, Any]:
    """One value of a metric with the sentence that states it (the citation without its section)."""
    cite = {k: v for k, v in _cite(fact.citation).items() if k != "section"}
    return {"metric": fact.metric, "council": fact.council, "date": fact.date, "value": fact.value, "unit": fact.unit, "citation": cite}


def metric_rows(facts: Sequence[Fact]) -> list[dict[str, Any]]:
    """The metrics present: how many values and councils each has."""
    rows = []
    for metric in METRICS:
        mine = [f for f in facts if f.metric == metric.name]
        if mine:
            rows.append({"metric": metric.name, "unit": UNITS[metric.kind], "values": len(mine), "councils": len({f.council for f in mine})})
    return rows


# ------------------------------------------------------------------ flat rows


def _text(value: Any) -> str:
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _flat(row: dict[str, Any]) -> dict[str, str]:
    """A commitment or fact row for CSV and tables: the citation as source, paragraph and quote columns."""
    flat = {k: v for k, v in row.items() if k not in ("citation", "also", "evidence")}
    if "citation" in row:
        cite = row["citation"]
        flat |= {"source": cite["source"], "paragraph": cite["paragraph"], "quote": cite["quote"]}
    if "evidence" in row:
        flat["evidence"] = "; ".join(f"{e['signal']}: {e['source']} para {e['paragraph']}" for e in row["evidence"])
    return {k: _text(v) for k, v in flat.items()}


def flat_row(row: dict[str, Any]) -> dict[str, str]:
    """An inspection row for CSV and tables: one column per judgement, the first citation as paragraph and source."""
    flat = {k: v for k, v in row.items() if k not in ("judgements", "citations")}
    flat |= {name: row["judgements"].get(name, "") for name in ("overall", *SUB_JUDGEMENTS)}
    first = row["citations"][0] if row["citations"] else {}
    flat |= {"paragraph": first.get("paragraph", ""), "source": first.get("source", ""), "quote": first.get("quote", "")}
    return {k: _text(v) for k, v in flat.items()}


# ------------------------------------------------------------------ formats


def _csv(flat: Sequence[dict[str, str]], fields: Sequence[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(flat)
    return out.getvalue().rstrip("\n")


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _text_table(flat: Sequence[dict[str, str]], columns: Sequence[str], widest: dict[str, int], default: int) -> str:
    """Columns padded to their longest cell, each at most its width in `widest` (else `default`) and clipped with '…'."""
    widths = {c: min(max(len(c), *(len(r.get(c, "")) for r in flat)), widest.get(c, default)) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns)]
    for r in flat:
        lines.append("  ".join(_clip(r.get(c, ""), widths[c]).ljust(widths[c]) for c in columns).rstrip())
    return "\n".join(lines)


def render(rows: list[dict[str, Any]], fmt: str, what: str) -> str:
    """Commitment or inspection rows as json, csv, a Markdown table or a plain text table."""
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2)
    flat = [flat_row(r) if what == "inspections" else _flat(r) for r in rows]
    if fmt == "csv":
        return _csv(flat, list(flat[0]) if flat else TABLE_COLUMNS[what])
    columns = TABLE_COLUMNS[what]
    if fmt == "md":
        def cell(text: str) -> str:
            return text.replace("|", "\\|").replace("\n", " ")

        lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(cell(r.get(c, "")) for c in columns) + " |" for r in flat]
        return "\n".join(lines)
    if not flat:
        return f"No {what} match."
    return _text_table(flat, columns, {"action": 60, "focus": 60}, 28)


def render_facts(facts: Sequence[Fact], metric: str, fmt: str) -> str:
    """The metrics present (no METRIC) or a metric's series, as a table, JSON or CSV."""
    rows = [fact_row(f) for f in facts] if metric else metric_rows(facts)
    columns = FACT_COLUMNS if metric else METRIC_COLUMNS
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2)
    flat = [_flat(r) for r in rows]
    if fmt == "csv":
        return _csv(flat, columns)
    if not flat:
        return "No facts match."
    # A quote may hold a line break; a table row may not.
    return _text_table([{k: v.replace("\n", " ") for k, v in r.items()} for r in flat], columns, {"quote": 70}, 34)
