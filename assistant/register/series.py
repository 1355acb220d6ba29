"""Facts over time as the CLI shows them: the metrics present, one metric's series, as a table, JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from assistant.errors import AssistantError
from assistant.register.facts import METRICS, UNITS, Fact, find_metrics

FORMATS = ("table", "json", "csv")


def _check(facts: Sequence[Fact], councils: Sequence[str], known: Sequence[str]) -> None:
    held = sorted({*known, *(f.council for f in facts)} - {""})
    unknown = [c for c in councils if c.strip().lower() not in {h.lower() for h in held}]
    if unknown:
        raise AssistantError(f"--council {unknown[0]!r} is not among the indexed councils: {', '.join(held) or 'none'}")


def query_facts(facts: Sequence[Fact], metric: str = "", councils: Sequence[str] = (), known: Sequence[str] = ()) -> list[Fact]:
    """The series of a metric (any synonym), by council and date; every fact when no metric is given."""
    _check(facts, councils, known)
    chosen = facts
    if metric:
        names = {m.name for m in find_metrics(metric)}
        if not names:
            raise AssistantError(f"metric {metric!r} is not known; metrics: {', '.join(m.name for m in METRICS)}")
        chosen = [f for f in facts if f.metric in names]
    wanted = {c.strip().lower() for c in councils}
    return [f for f in chosen if not wanted or f.council.lower() in wanted]


def metric_rows(facts: Sequence[Fact]) -> list[dict[str, Any]]:
    """The metrics present: how many values and councils each has."""
    rows = []
    for metric in METRICS:
        mine = [f for f in facts if f.metric == metric.name]
        if mine:
            rows.append({"metric": metric.name, "unit": UNITS[metric.kind], "values": len(mine), "councils": len({f.council for f in mine})})
    return rows


def fact_row(fact: Fact) -> dict[str, Any]:
    c = fact.citation
    cite = {"source": c.source, "title": c.title, "council": c.council, "date": c.date, "paragraph": c.paragraph, "quote": c.quote}
    return {"metric": fact.metric, "council": fact.council, "date": fact.date, "value": fact.value, "unit": fact.unit, "citation": cite}


def render_facts(facts: Sequence[Fact], metric: str, fmt: str) -> str:
    """The metrics present (no METRIC) or a metric's series, as a table, JSON or CSV."""
    if metric:
        rows: list[dict[str, Any]] = [fact_row(f) for f in facts]
        columns = ["metric", "council", "date", "value", "unit", "quote", "source", "paragraph"]
    else:
        rows = metric_rows(facts)
        columns = ["metric", "unit", "values", "councils"]
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2)
    flat = [{**{k: v for k, v in r.items() if k != "citation"}, **{k: r["citation"][k] for k in ("quote", "source", "paragraph")}} if "citation" in r else r for r in rows]
    flat = [{k: str(v) if not isinstance(v, float) else f"{v:g}" for k, v in r.items()} for r in flat]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(flat)
        return out.getvalue().rstrip("\n")
    if not flat:
        return "No facts match."
    widths = {c: min(max(len(c), *(len(r[c]) for r in flat)), 70 if c == "quote" else 34) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns)]
    for r in flat:
        cells = (r[c] if len(r[c]) <= widths[c] else r[c][: widths[c] - 1] + "…" for c in columns)
        lines.append("  ".join(cell.replace("\n", " ").ljust(widths[c]) for c, cell in zip(columns, cells)).rstrip())
    return "\n".join(lines)
