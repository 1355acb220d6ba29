"""The Timeline's inspection history and figures: grades over time and a metric's series, each point opening its citation.

Charts are SVG written here, as the commitments timeline is. Each point is a link to the report
reader; the chart's script shows the point's citation card in place instead, and the cards ride in
the same HTML so a click needs no round trip to the server.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypedDict

import gradio as gr

from assistant.briefing.history import value_text as figure_text
from assistant.index.index import Index
from assistant.register.facts import Fact
from assistant.register.inspections import InspectionEvent
from assistant.register.ofsted import GRADES, JUDGEMENT_LABELS, InspectionRecord, grade
from assistant.register.store import load_register
from assistant.types import Citation
from ui.render import esc

Linker = Callable[[Citation], str]
Card = Callable[[Citation, str], str]

# Ofsted's four grades, best at the top; the pre-2013 "adequate" sits where "requires improvement" replaced it.
GRADE_ROWS = ("outstanding", "good", "requires improvement", "inadequate")
LEVEL = {"outstanding": 0, "good": 1, "requires improvement": 2, "adequate": 2, "inadequate": 3}
SERIES_COLOURS = {
    "overall": "#0b3d6e", "leaders": "#7c3aed", "help_and_protection": "#b91c1c", "in_care": "#15803d",
    "care_leavers": "#c2410c", "adoption": "#0891b2", "lscb": "#64748b",
}
WIDTH, LEFT, RIGHT, TOP, ROW = 1100, 190, 30, 40, 46

# Delegated, so it survives every re-render of the chart's HTML.
CHART_JS = """
element.addEventListener('click', (event) => {
  const point = event.target.closest('[data-card]');
  if (!point) return;
  event.preventDefault();
  element.querySelectorAll('.cra-hist-card').forEach((card) => { card.hidden = card.id !== point.dataset.card; });
  element.querySelectorAll('[data-card]').forEach((p) => p.classList.toggle('cra-hist-on', p === point));
});
"""


@dataclass(frozen=True)
class GradePoint:
    """One graded judgement of one inspection, with the passage or table row that states it."""

    judgement: str
    grade: str
    day: date
    when: str
    kind: str
    citation: Citation


def _day(text: str) -> date | None:
    """An ISO date, month or year as a day to plot at (a month at its middle, a year at its middle)."""
    parts = (text or "").split("-")
    try:
        if len(parts) >= 3:
            return date(int(parts[0]), int(parts[1]), int(parts[2][:2]))
        if len(parts) == 2:
            return date(int(parts[0]), int(parts[1]), 15)
        return date(int(parts[0]), 7, 1) if parts[0] else None
    except ValueError:
        return None


def grade_points(records: Sequence[InspectionRecord], events: Sequence[InspectionEvent], council: str) -> list[GradePoint]:
    """Every graded judgement of the council's inspections: records first, then graded mentions no record cites."""
    points: list[GradePoint] = []
    cited = {(c.passage_id, c.quote) for r in records for c in r.citations}
    for record in records:
        if record.council.lower() != council.lower():
            continue
        day = _day(record.inspection_end or record.inspection_start)
        for judgement, said in record.judgements.items():
            citation = record.citation_for(judgement) or (record.citations[0] if record.citations else None)
            if day and citation and said in GRADES:
                points.append(GradePoint(judgement, said, day, record.inspection_end or record.inspection_start, record.label, citation))
    for event in events:
        said = grade(event.judgement)
        if event.council.lower() != council.lower() or event.planned or not said or (event.citation.passage_id, event.citation.quote) in cited:
            continue
        points.append(GradePoint("overall", said, event.start + (event.end - event.start) / 2, event.time.text, event.kind, event.citation))
    return sorted(points, key=lambda p: (p.day, p.judgement))


def judgements_present(points: Sequence[GradePoint]) -> list[str]:
    """The judgements graded at least once, in Ofsted's order."""
    return [j for j in JUDGEMENT_LABELS if any(p.judgement == j for p in points)]


def _years(points: Sequence[date]) -> tuple[date, date]:
    return date(min(points).year, 1, 1), date(max(points).year + 1, 1, 1)


def _x_axis(low: date, high: date, bottom: float, x: Callable[[date], float]) -> str:
    """A vertical rule and label at each 1 January."""
    parts = []
    for year in range(low.year, high.year + 1):
        tx = x(date(year, 1, 1))
        parts.append(f'<line x1="{tx:.1f}" y1="{TOP - 6}" x2="{tx:.1f}" y2="{bottom:.1f}" stroke="#e2e8f0"/>'
                     f'<text x="{tx + 3:.1f}" y="{bottom + 16:.1f}" font-size="12" fill="#475569">{year}</text>')
    return "".join(parts)


def _scale(low: date, high: date) -> Callable[[date], float]:
    days = max((high - low).days, 1)
    return lambda day: LEFT + (WIDTH - LEFT - RIGHT) * (day - low).days / days


def _wrap(svg: str, height: float, label: str, cards: Sequence[str], css_class: str) -> str:
    return (
        f'<div class="{css_class}" style="overflow-x:auto"><svg xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-label="{esc(label)}" viewBox="0 0 {WIDTH} {height:.0f}" width="100%" style="min-width:760px">{svg}</svg>'
        + "".join(cards) + "</div>"
    )


def _one_line(text: str) -> str:
    """Tooltips and SVG text take no <br>, which is what the escaping helper makes of a line break."""
    return " ".join(text.split())


def _point(
    key: str, citation: Citation, css_class: str, *, tip: str, mark: str, heading: str, link: Linker, card: Card, attrs: str = ""
) -> tuple[str, str]:
    """A chart's point (the SVG `mark`) as a link to its citation, and the card the chart's script shows in its place."""
    point = (f'<a href="{esc(link(citation))}" target="_top" class="{css_class}" data-card="{key}"{attrs}>'
             f"<title>{esc(_one_line(tip))}</title>{mark}</a>")
    return point, f'<div class="cra-hist-card" id="{key}" hidden>{card(citation, heading)}</div>'


def grade_chart_svg(points: Sequence[GradePoint], judgements: Sequence[str], *, link: Linker, card: Card, council: str = "") -> str:
    """Grades over time: Ofsted's four grades down the side, inspection end dates along, one series per judgement."""
    shown = [p for p in points if p.judgement in (judgements or ["overall"])]
    if not shown:
        return f'<p class="cra-empty">No graded inspection of {esc(council or "this council")} in the reports.</p>'
    low, high = _years([p.day for p in shown])
    x = _scale(low, high)
    bottom = TOP + ROW * (len(GRADE_ROWS) - 1) + 20
    order = [j for j in JUDGEMENT_LABELS if j in {p.judgement for p in shown}]
    parts = [_x_axis(low, high, bottom, x)]
    for level, name in enumerate(GRADE_ROWS):
        y = TOP + 10 + ROW * level
        parts.append(f'<line x1="{LEFT}" y1="{y}" x2="{WIDTH - RIGHT}" y2="{y}" stroke="#cbd5e1" stroke-dasharray="3 3"/>'
                     f'<text x="{LEFT - 10}" y="{y + 4}" font-size="13" text-anchor="end" fill="#1e293b">{esc(name)}</text>')
    cards: list[str] = []
    for s, judgement in enumerate(order):
        colour = SERIES_COLOURS.get(judgement, "#334155")
        mine = [p for p in shown if p.judgement == judgement]
        offset = (s - (len(order) - 1) / 2) * 7  # series side by side where they share a date and grade
        xy = [(x(p.day) + offset, TOP + 10 + ROW * LEVEL[p.grade]) for p in mine]
        if len(xy) > 1:
            line = " ".join(f"{px:.1f},{py:.1f}" for px, py in xy)
            parts.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2" opacity="0.6"/>')
        for i, (p, (px, py)) in enumerate(zip(mine, xy)):
            point, shown_card = _point(
                f"cra-hist-g{s}-{i}", p.citation, "cra-hist-point",
                tip=f"{JUDGEMENT_LABELS[p.judgement]}: {p.grade} — {p.kind}, {p.when} — {p.citation.source}, para {p.citation.paragraph}",
                mark=f'<circle cx="{px:.1f}" cy="{py:.1f}" r="7" fill="{colour}" stroke="#fff" stroke-width="1.5"/>',
                heading=f"{JUDGEMENT_LABELS[p.judgement]}: {p.grade} ({p.kind}, {p.when})", link=link, card=card,
                attrs=f' data-judgement="{esc(p.judgement)}" data-grade="{esc(p.grade)}"',
            )
            parts.append(point)
            cards.append(shown_card)
    lx = LEFT
    for judgement in order:
        parts.append(f'<circle cx="{lx + 6}" cy="14" r="6" fill="{SERIES_COLOURS.get(judgement, "#334155")}"/>'
                     f'<text x="{lx + 16}" y="18" font-size="12" fill="#334155">{esc(JUDGEMENT_LABELS[judgement])}</text>')
        lx += 30 + 7 * len(JUDGEMENT_LABELS[judgement])
    return _wrap("".join(parts), bottom + 26, f"Ofsted grades over time for {council}", cards, "cra-hist-grades")


def _nice_top(value: float) -> float:
    """A round number at or above the largest value, for the top of the value axis."""
    if value <= 0:
        return 1.0
    step = 10 ** (len(str(int(value))) - 1)
    return float((int(value / step) + 1) * step)


def value_text(fact: Fact) -> str:
    """'18.5%', '£1,200,000', '427', '61 per 10,000 children', as the briefing note writes them."""
    return figure_text(fact.value, fact.unit)


def series_chart_svg(facts: Sequence[Fact], *, link: Linker, card: Card, metric: str = "") -> str:
    """A metric's series for one council: values up the side, the dates they describe along, each value a link to its citation."""
    dated = [(f, _day(f.sort)) for f in facts]
    shown = sorted(((f, d) for f, d in dated if d), key=lambda fd: fd[1])
    if not shown:
        return f'<p class="cra-empty">No values of {esc(metric or "this metric")} in the reports.</p>'
    low, high = _years([d for _, d in shown])
    x = _scale(low, high)
    top_value = _nice_top(max(f.value for f, _ in shown))
    height = ROW * 4
    bottom = TOP + 10 + height

    def y(value: float) -> float:
        return bottom - height * value / top_value

    parts = [_x_axis(low, high, bottom, x)]
    for i in range(5):
        tick = top_value * i / 4
        label = f"{tick:,.2f}".rstrip("0").rstrip(".") + ("%" if shown[0][0].unit == "%" else "")
        parts.append(f'<line x1="{LEFT}" y1="{y(tick):.1f}" x2="{WIDTH - RIGHT}" y2="{y(tick):.1f}" stroke="#e2e8f0"/>'
                     f'<text x="{LEFT - 10}" y="{y(tick) + 4:.1f}" font-size="12" text-anchor="end" fill="#475569">{esc(label)}</text>')
    line = " ".join(f"{x(d):.1f},{y(f.value):.1f}" for f, d in shown)
    if len(shown) > 1:
        parts.append(f'<polyline points="{line}" fill="none" stroke="#0b3d6e" stroke-width="2"/>')
    cards = []
    for i, (fact, day) in enumerate(shown):
        point, shown_card = _point(
            f"cra-hist-m{i}", fact.citation, "cra-hist-value",
            tip=f"{fact.metric}: {value_text(fact)} ({fact.date}) — {fact.citation.source}, para {fact.citation.paragraph}",
            mark=f'<circle cx="{x(day):.1f}" cy="{y(fact.value):.1f}" r="6" fill="#0b3d6e" stroke="#fff" stroke-width="1.5"/>'
            f'<text x="{x(day) + 9:.1f}" y="{y(fact.value) - 8:.1f}" font-size="12" fill="#0f172a">{esc(value_text(fact))}</text>',
            heading=f"{fact.metric}: {value_text(fact)} ({fact.date})", link=link, card=card,
        )
        parts.append(point)
        cards.append(shown_card)
    parts.append(f'<text x="{LEFT}" y="18" font-size="13" font-weight="700" fill="#0b3d6e">{esc(metric)} ({esc(shown[0][0].unit)})</text>')
    return _wrap("".join(parts), bottom + 26, f"{metric} over time", cards, "cra-hist-series")


def councils_with_history(index: Index) -> list[str]:
    """Councils with a graded inspection or a stated figure."""
    register = load_register(index)
    graded = {r.council for r in register.records if any(g in GRADES for g in r.judgements.values())}
    graded |= {e.council for e in register.inspections if grade(e.judgement) and not e.planned}
    return sorted((graded | {f.council for f in register.facts}) - {""})


class HistoryView:
    """What the history section shows for a council, judgements and metric; apart from Gradio so it can be tested."""

    def __init__(self, index: Index, link: Linker, card: Card) -> None:
        self.index = index
        self.link = link
        self.card = card

    def councils(self) -> list[str]:
        return councils_with_history(self.index)

    def metrics(self, council: str) -> list[str]:
        register = load_register(self.index)
        return sorted({f.metric for f in register.facts if council and f.council.lower() == council.lower()})

    def grades(self, council: str, judgements: Sequence[str]) -> str:
        if not council:
            return '<p class="cra-empty">Choose a council to see its inspection history.</p>'
        register = load_register(self.index)
        points = grade_points(register.records, register.inspections, council)
        return grade_chart_svg(points, judgements, link=self.link, card=self.card, council=council)

    def series(self, council: str, metric: str) -> str:
        if not council or not metric:
            return '<p class="cra-empty">Choose a council and a figure to see its values over time.</p>'
        register = load_register(self.index)
        facts = [f for f in register.facts if f.metric == metric and f.council.lower() == council.lower()]
        return series_chart_svg(facts, link=self.link, card=self.card, metric=metric)


class HistorySection(TypedDict):
    """The history section's view and components, by name."""

    history_view: HistoryView
    history_council: gr.Dropdown
    judgements: gr.Dropdown
    metric: gr.Dropdown
    grades: gr.HTML
    series: gr.HTML


def build_history_section(index: Index, *, link: Linker, card: Card) -> HistorySection:
    """Add the history's components to the current gr.Blocks."""
    view = HistoryView(index, link, card)
    gr.Markdown("### Inspection history and figures over time")
    with gr.Row():
        council = gr.Dropdown(choices=view.councils(), value=None, label="Council", elem_id="cra-hist-council")
        judgements = gr.Dropdown(
            choices=[(label, key) for key, label in JUDGEMENT_LABELS.items()], value=["overall"], multiselect=True,
            label="Judgements", elem_id="cra-hist-judgements", info="Each judgement is a series; click a point for its citation.",
        )
        metric = gr.Dropdown(choices=[], value=None, label="Figure", elem_id="cra-hist-metric")
    grades = gr.HTML(view.grades("", []), js_on_load=CHART_JS, elem_id="cra-hist-chart")
    series = gr.HTML(view.series("", ""), js_on_load=CHART_JS, elem_id="cra-hist-series")

    def on_council(name: str | None, chosen: list[str] | None) -> tuple[str, gr.Dropdown, str]:
        metrics = view.metrics(name or "")
        first = metrics[0] if metrics else None
        return view.grades(name or "", chosen or []), gr.Dropdown(choices=metrics, value=first), view.series(name or "", first or "")

    council.change(on_council, [council, judgements], [grades, metric, series], api_visibility="private", queue=False)
    judgements.change(lambda n, j: view.grades(n or "", j or []), [council, judgements], [grades], api_visibility="private", queue=False)
    metric.input(lambda n, m: view.series(n or "", m or ""), [council, metric], [series], api_visibility="private", queue=False)
    return HistorySection(history_view=view, history_council=council, judgements=judgements, metric=metric, grades=grades, series=series)
