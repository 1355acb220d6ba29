"""The Timeline tab: commitments as bars over their dates, inspections as markers, each linked to its passage;
below, a council's inspection grades and figures over time (ui/history.py).

The chart is SVG written here rather than a plotting library: none is installed, and SVG lets every
bar be a plain link to the cited paragraph, with its text escaped like the rest of the page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta

import gradio as gr

from assistant.errors import AssistantError
from assistant.index.index import Index
from assistant.register.commitments import STATUS_HELP, STATUSES, Commitment
from assistant.register.inspections import InspectionEvent
from assistant.register.query import query_commitments, query_inspections
from assistant.register.store import load_register
from assistant.types import Citation
from ui.history import HistorySection, build_history_section
from ui.render import citation_url as default_link
from ui.render import escape as esc

STATUS_COLOURS = {
    "done": "#15803d",
    "in progress": "#2563eb",
    "not mentioned again": "#a16207",
    "overdue": "#b91c1c",
    "open": "#64748b",
}
INSPECTION_COLOUR = "#0f172a"
TABLE_HEADERS = ["Council", "When", "Time as written", "Status", "Kind", "Commitment", "Responsible", "Report", "Para"]
WIDTH, LABEL, ROW, TOP = 1100, 0, 22, 46

Linker = Callable[[Citation], str]


def _when(start: str, end: str) -> str:
    return start if start == end else f"{start} → {end}"


def table_rows(commitments: Sequence[Commitment]) -> list[list[str]]:
    return [
        [c.council, _when(c.time.start, c.time.end), c.time.text, c.status, c.kind, c.action, c.responsible,
         c.source, c.citation.paragraph]
        for c in commitments
    ]


def _span(commitments: Sequence[Commitment], inspections: Sequence[InspectionEvent]) -> tuple[date, date]:
    starts = [c.start for c in commitments] + [e.start for e in inspections]
    ends = [c.end for c in commitments] + [e.end for e in inspections]
    low, high = min(starts), max(ends)
    low = date(low.year, 1, 1)
    high = date(high.year, 12, 31)
    return low, high


def timeline_svg(commitments: Sequence[Commitment], inspections: Sequence[InspectionEvent], *, link: Linker = default_link) -> str:
    """The chart: one lane per council, a bar per commitment over its interval, a diamond per inspection."""
    if not commitments and not inspections:
        return '<p class="cra-empty">Nothing on the timeline for these filters.</p>'
    low, high = _span(commitments, inspections)
    days = max((high - low).days + 1, 1)
    plot_left, plot_right = 330, WIDTH - 20

    def x(day: date) -> float:
        return plot_left + (plot_right - plot_left) * (day - low).days / days

    councils = sorted({c.council for c in commitments} | {e.council for e in inspections})
    parts: list[str] = []
    y = TOP
    for council in councils:
        parts.append(f'<text x="8" y="{y + 15}" font-weight="700" font-size="14" fill="#0b3d6e">{esc(council)}</text>')
        y += ROW
        events = [e for e in inspections if e.council == council]
        if events:
            parts.append(f'<text x="16" y="{y + 15}" font-size="12" fill="#334155">Inspections and visits</text>')
            for event in events:
                cx = x(event.start + (event.end - event.start) / 2)
                size = 7
                fill = "#ffffff" if event.planned else INSPECTION_COLOUR
                judged = f" — judged {event.judgement}" if event.judgement else ""
                tip = f"{event.kind}{' (planned)' if event.planned else ''}: {event.time.text}{judged} — {event.citation.source}, para {event.citation.paragraph}"
                parts.append(
                    f'<a href="{esc(link(event.citation))}" target="_top" class="cra-tl-event"><title>{esc(tip)}</title>'
                    f'<polygon points="{cx:.1f},{y + 11 - size} {cx + size:.1f},{y + 11} {cx:.1f},{y + 11 + size} {cx - size:.1f},{y + 11}" '
                    f'fill="{fill}" stroke="{INSPECTION_COLOUR}" stroke-width="1.6"/></a>'
                )
            y += ROW
        for item in (c for c in commitments if c.council == council):
            colour = STATUS_COLOURS.get(item.status, STATUS_COLOURS["open"])
            left = x(item.start)
            width = max(x(item.end + timedelta(days=1)) - left, 4)
            label = item.action if len(item.action) <= 48 else item.action[:47] + "…"
            tip = f"{item.action} — {item.time.text} ({_when(item.time.start, item.time.end)}) — {item.status}: {item.status_note} — {item.source}, para {item.citation.paragraph}"
            parts.append(
                f'<a href="{esc(link(item.citation))}" target="_top" class="cra-tl-bar"><title>{esc(tip)}</title>'
                f'<text x="16" y="{y + 15}" font-size="12" fill="#1e293b">{esc(label)}</text>'
                f'<rect x="{left:.1f}" y="{y + 5}" width="{width:.1f}" height="12" rx="3" fill="{colour}"/></a>'
            )
            y += ROW
        y += 6
    ticks = []
    year = low.year
    while date(year, 1, 1) <= high:
        tx = x(date(year, 1, 1))
        ticks.append(
            f'<line x1="{tx:.1f}" y1="{TOP - 8}" x2="{tx:.1f}" y2="{y}" stroke="#e2e8f0"/>'
            f'<text x="{tx + 3:.1f}" y="{TOP - 12}" font-size="12" fill="#475569">{year}</text>'
        )
        year += 1
    legend = []
    lx = 8
    for status, colour in STATUS_COLOURS.items():
        legend.append(f'<rect x="{lx}" y="6" width="12" height="12" rx="3" fill="{colour}"/><text x="{lx + 16}" y="16" font-size="12" fill="#334155">{esc(status)}</text>')
        lx += 30 + 7 * len(status)
    legend.append(
        f'<polygon points="{lx + 6},5 {lx + 12},12 {lx + 6},19 {lx},12" fill="{INSPECTION_COLOUR}"/>'
        f'<text x="{lx + 16}" y="16" font-size="12" fill="#334155">inspection held</text>'
    )
    lx += 120
    legend.append(
        f'<polygon points="{lx + 6},5 {lx + 12},12 {lx + 6},19 {lx},12" fill="#fff" stroke="{INSPECTION_COLOUR}" stroke-width="1.6"/>'
        f'<text x="{lx + 16}" y="16" font-size="12" fill="#334155">planned</text>'
    )
    height = y + 10
    return (
        f'<div class="cra-timeline" style="overflow-x:auto"><svg xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-label="Timeline of commitments and inspections" viewBox="0 0 {WIDTH} {height}" width="100%" style="min-width:760px">'
        + "".join(legend) + "".join(ticks) + "".join(parts)
        + "</svg></div>"
    )


def passage_html(citation: Citation, *, link: Linker = default_link, heading: str = "") -> str:
    """The cited passage with the quoted words marked, and a link to read it in its report."""
    at = citation.passage.find(citation.quote) if citation.quote else -1
    body = esc(citation.passage)
    if at >= 0:
        body = esc(citation.passage[:at]) + f'<mark class="cra-quote">{esc(citation.quote)}</mark>' + esc(citation.passage[at + len(citation.quote) :])
    return (
        f'<div class="cra-tl-passage">{f"<p><strong>{esc(heading)}</strong></p>" if heading else ""}'
        f"<p>{esc(citation.council)} · {esc(citation.title)} · {esc(citation.date)} · para {esc(citation.paragraph)}</p>"
        f'<blockquote style="white-space:pre-wrap">{body}</blockquote>'
        f'<p><a href="{esc(link(citation))}" target="_top">Open in the report</a></p></div>'
    )


class TimelineView:
    """What the tab shows for a set of filters; kept apart from Gradio so it can be tested directly."""

    def __init__(self, index: Index, link: Linker = default_link) -> None:
        self.index = index
        self.link = link

    def councils(self) -> list[str]:
        return self.index.councils

    def _query(self, councils: list[str] | None, statuses: list[str] | None, date_from: str, date_to: str, as_of: str) -> tuple[list[Commitment], list[InspectionEvent]]:
        register = load_register(self.index)
        found = query_commitments(
            register, councils=councils or [], statuses=statuses or [], date_from=(date_from or "").strip(),
            date_to=(date_to or "").strip(), as_of=(as_of or "").strip(),
        )
        events = query_inspections(register, councils=councils or [], date_from=(date_from or "").strip(), date_to=(date_to or "").strip())
        return found, events

    def update(self, councils: list[str] | None, statuses: list[str] | None, date_from: str, date_to: str, as_of: str) -> tuple[str, list[list[str]], str]:
        """(chart HTML, table rows, message) for the filters; bad input becomes a message, not an error."""
        try:
            found, events = self._query(councils, statuses, date_from, date_to, as_of)
        except AssistantError as exc:
            return "", [], f'<p class="cra-scope cra-scope-bad">{esc(exc)}</p>'
        message = f"<p class=\"cra-scope\">{len(found)} commitments, {len(events)} inspections and visits. Click a bar, a marker or a row to see the cited passage.</p>"
        return timeline_svg(found, events, link=self.link), table_rows(found), message

    def select(
        self, row: int, councils: list[str] | None = None, statuses: list[str] | None = None, date_from: str = "", date_to: str = "",
        as_of: str = "",
    ) -> str:
        """The cited passage of a table row, for the filters the row was listed under.

        Recomputed from the filters, not remembered: one view serves every browser session.
        """
        try:
            shown, _ = self._query(councils, statuses, date_from, date_to, as_of)
        except AssistantError:
            return ""
        if not 0 <= row < len(shown):
            return ""
        item = shown[row]
        note = f"{item.action} — {item.time.text} ({_when(item.time.start, item.time.end)}) — {item.status}: {item.status_note}"
        evidence = "".join(passage_html(e.citation, link=self.link, heading=f"Later report ({e.signal})") for e in item.evidence)
        return passage_html(item.citation, link=self.link, heading=note) + evidence


class TimelineTab(HistorySection):
    """The Timeline tab's view and components, by name (the history section's among them)."""

    view: TimelineView
    councils: gr.Dropdown
    statuses: gr.Dropdown
    date_from: gr.Textbox
    date_to: gr.Textbox
    as_of: gr.Textbox
    summary: gr.HTML
    chart: gr.HTML
    table: gr.Dataframe
    passage: gr.HTML


def build_timeline_tab(index: Index, *, link: Linker = default_link) -> TimelineTab:
    """Add the Timeline's components to the current gr.Blocks (call inside a `with gr.Tab(...)`)."""
    view = TimelineView(index, link)
    chart_html, rows, message = view.update([], [], "", "", "")
    with gr.Row():
        councils = gr.Dropdown(choices=view.councils(), multiselect=True, label="Council", elem_id="cra-tl-council")
        statuses = gr.Dropdown(choices=list(STATUSES), multiselect=True, label="Status", elem_id="cra-tl-status", info="; ".join(f"{k}: {v}" for k, v in STATUS_HELP.items()))
        date_from = gr.Textbox(label="Due from", placeholder="2021 or 2021-03", elem_id="cra-tl-from")
        date_to = gr.Textbox(label="Due to", placeholder="2022", elem_id="cra-tl-to")
        as_of = gr.Textbox(label="Judge due dates as of", placeholder="latest report", elem_id="cra-tl-asof")
    summary = gr.HTML(message, elem_id="cra-tl-summary")
    chart = gr.HTML(chart_html, elem_id="cra-tl-chart")
    table = gr.Dataframe(value=rows, headers=TABLE_HEADERS, interactive=False, wrap=True, elem_id="cra-tl-table")
    passage = gr.HTML("", elem_id="cra-tl-passage")
    inputs = [councils, statuses, date_from, date_to, as_of]

    for dropdown in (councils, statuses):
        dropdown.change(view.update, inputs, [chart, table, summary], api_visibility="private", queue=False)
    for box in (date_from, date_to, as_of):
        box.submit(view.update, inputs, [chart, table, summary], api_visibility="private", queue=False)

    def on_select(
        councils: list[str] | None, statuses: list[str] | None, date_from: str, date_to: str, as_of: str, evt: gr.SelectData
    ) -> str:
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        return view.select(int(index), councils, statuses, date_from, date_to, as_of)

    table.select(on_select, inputs, [passage], api_visibility="private", queue=False)
    history = build_history_section(index, link=link, card=lambda citation, heading: passage_html(citation, link=link, heading=heading))
    return TimelineTab(**history, view=view, councils=councils, statuses=statuses, date_from=date_from, date_to=date_to,
                       as_of=as_of, summary=summary, chart=chart, table=table, passage=passage)
