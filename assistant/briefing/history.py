"""The briefing note's inspection history table and figures over time, read from the register, every cell cited.

The rows are built here, and each format's renderer calls the matching function below, so the
three formats show the same table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from assistant.briefing.model import HistoryRow, SeriesValue
from assistant.register.facts import Fact
from assistant.register.inspections import InspectionEvent
from assistant.register.ofsted import GRADES, KIND_LABELS, NOT_JUDGED, InspectionRecord, grade
from assistant.types import Citation

if TYPE_CHECKING:  # python-docx is imported only when Word is asked for
    from docx.document import Document
    from docx.text.paragraph import Paragraph

HISTORY_HEADING = "Inspection history"
SERIES_HEADING = "Figures over time"
AREAS = ("leaders", "help_and_protection", "in_care", "care_leavers", "adoption", "lscb")
SHORT_LABELS = {"overall": "Overall", "leaders": "Leaders", "help_and_protection": "Help and protection", "in_care": "In care",
                "care_leavers": "Care leavers", "adoption": "Adoption", "lscb": "LSCB"}

Cite = Callable[[Citation], int]


def value_text(value: float, unit: str) -> str:
    """'18.5%', '£1,200,000', '427', '61 per 10,000 children'."""
    number = f"{value:,.2f}".rstrip("0").rstrip(".")
    if unit == "%":
        return f"{number}%"
    if unit == "£":
        return f"£{number}"
    return number if unit == "count" else f"{number} {unit}"


def history_rows(
    records: Sequence[InspectionRecord], events: Sequence[InspectionEvent], councils: Iterable[str], sources: Iterable[str], cite: Cite
) -> list[HistoryRow]:
    """The councils' inspections the scoped reports state, and graded mentions no record holds, by council and date."""
    wanted, scoped = {c.lower() for c in councils}, set(sources)
    rows: list[HistoryRow] = []
    held = {(c.passage_id, c.quote) for r in records for c in r.citations}
    for record in records:
        cited = [c for c in record.citations if c.source in scoped]
        if record.council.lower() in wanted and cited:
            rows.append(HistoryRow(council=record.council, date=record.inspection_end or record.inspection_start, kind=record.label,
                                   judgements=dict(record.judgements), refs=sorted({cite(c) for c in cited})))
    for event in events:
        said = grade(event.judgement)
        if (event.council.lower() in wanted and said and not event.planned and event.citation.source in scoped
                and (event.citation.passage_id, event.citation.quote) not in held):
            rows.append(HistoryRow(council=event.council, date=event.time.start, kind=KIND_LABELS.get(event.kind, event.kind),
                                   judgements={"overall": said}, refs=[cite(event.citation)]))
    return sorted(rows, key=lambda r: (r.council, r.date))


def series_values(facts: Sequence[Fact], councils: Iterable[str], sources: Iterable[str], cite: Cite) -> list[SeriesValue]:
    """Every stated figure of the councils in the scoped reports, by council, metric and date."""
    wanted, scoped = {c.lower() for c in councils}, set(sources)
    chosen = sorted((f for f in facts if f.council.lower() in wanted and f.citation.source in scoped), key=lambda f: (f.council, f.metric, f.sort))
    return [SeriesValue(council=f.council, metric=f.metric, unit=f.unit, date=f.date, value=f.value, refs=[cite(f.citation)]) for f in chosen]


def columns(rows: Sequence[HistoryRow]) -> list[str]:
    """Overall, then each area some row grades."""
    return ["overall", *(a for a in AREAS if any(r.judgements.get(a, "") in GRADES for r in rows))]


def headers(rows: Sequence[HistoryRow]) -> list[str]:
    return ["Council", "Date", "Kind", *(SHORT_LABELS[c] for c in columns(rows))]


def cells(row: HistoryRow, shown: Sequence[str]) -> list[str]:
    """The row's text cells; '—' where a grade is not stated, 'not judged' where the framework judges no such thing."""
    grades = [row.judgements.get(c, "") or "—" for c in shown]
    return [row.council, row.date, row.kind, *(g if g in (*GRADES, NOT_JUDGED) else "—" for g in grades)]


def series_groups(values: Sequence[SeriesValue]) -> dict[tuple[str, str], list[SeriesValue]]:
    """Values by (council, metric), each in date order."""
    groups: dict[tuple[str, str], list[SeriesValue]] = {}
    for v in values:
        groups.setdefault((v.council, v.metric), []).append(v)
    return groups


EMPTY_HISTORY = "The reports drawn on state no inspection grades for these councils."
EMPTY_SERIES = "The reports drawn on state no figures over time for these councils."


def to_markdown(history: Sequence[HistoryRow], series: Sequence[SeriesValue], md: Callable[[str], str], refs: Callable[[Sequence[int]], str]) -> list[str]:
    """The two sections as Markdown lines."""
    out = [f"## {HISTORY_HEADING}", ""]
    if history:
        head = [*headers(history), "Cited"]
        out += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        out += ["| " + " | ".join([*(md(c) for c in cells(r, columns(history))), refs(r.refs)]) + " |" for r in history]
    else:
        out.append(EMPTY_HISTORY)
    out += ["", f"## {SERIES_HEADING}", ""]
    for (council, metric), values in series_groups(series).items():
        points = "; ".join(f"{md(v.date)}: {md(value_text(v.value, v.unit))} {refs(v.refs)}" for v in values)
        out.append(f"- **{md(council)}, {md(metric)}:** {points}")
    if not series:
        out.append(EMPTY_SERIES)
    return [*out, ""]


def to_html(history: Sequence[HistoryRow], series: Sequence[SeriesValue], esc: Callable[[str], str], refs: Callable[[Sequence[int]], str]) -> list[str]:
    """The two sections as HTML parts; every report-derived string escaped."""
    parts = [f"<h2>{HISTORY_HEADING}</h2>"]
    if history:
        head = "".join(f"<th>{esc(h)}</th>" for h in [*headers(history), "Cited"])
        body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in cells(r, columns(history))) + f"<td>{refs(r.refs)}</td></tr>" for r in history)
        parts.append(f'<table class="cra-brief-history"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>')
    else:
        parts.append(f"<p>{EMPTY_HISTORY}</p>")
    parts.append(f"<h2>{SERIES_HEADING}</h2>")
    if series:
        items = []
        for (council, metric), values in series_groups(series).items():
            points = "; ".join(f"{esc(v.date)}: {esc(value_text(v.value, v.unit))}{refs(v.refs)}" for v in values)
            items.append(f"<li><strong>{esc(council)}, {esc(metric)}:</strong> {points}</li>")
        parts.append(f'<ul class="cra-brief-series">{"".join(items)}</ul>')
    else:
        parts.append(f"<p>{EMPTY_SERIES}</p>")
    return parts


def to_docx(
    doc: Document, history: Sequence[HistoryRow], series: Sequence[SeriesValue], refs: Callable[[Paragraph, Sequence[int]], None]
) -> None:
    """The two sections added to a python-docx Document: a real table, then one bullet per council and figure."""
    doc.add_heading(HISTORY_HEADING, level=1)
    if history:
        head = [*headers(history), "Cited"]
        table = doc.add_table(rows=1, cols=len(head))
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, head):
            cell.text = ""
            cell.paragraphs[0].add_run(text).bold = True
        for row in history:
            out = table.add_row().cells
            for cell, text in zip(out, cells(row, columns(history))):
                cell.text = text
            out[-1].text = ""
            refs(out[-1].paragraphs[0], row.refs)
    else:
        doc.add_paragraph(EMPTY_HISTORY)
    doc.add_heading(SERIES_HEADING, level=1)
    for (council, metric), values in series_groups(series).items():
        paragraph = doc.add_paragraph(style="List Bullet")
        paragraph.add_run(f"{council}, {metric}: ").bold = True
        for i, v in enumerate(values):
            paragraph.add_run(("; " if i else "") + f"{v.date}: {value_text(v.value, v.unit)}")
            refs(paragraph, v.refs)
    if not series:
        doc.add_paragraph(EMPTY_SERIES)

