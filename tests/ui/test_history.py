"""The Timeline's history charts: grades and a figure's series as SVG, each point linked to its citation card."""

from __future__ import annotations

import re

from assistant.register.facts import Fact
from assistant.register.ofsted import FactCitation, InspectionRecord
from assistant.types import Citation
from ui.history import GRADE_ROWS, grade_chart_svg, grade_points, judgements_present, series_chart_svg, value_text
from ui.timeline import passage_html


def cite(quote: str, passage: str = "", facts: list[str] | None = None) -> FactCitation:
    return FactCitation(n=1, source="ofsted.pdf", council="Kirklees", date="2019-03-01", paragraph="T1",
                        quote=quote, passage=passage or quote, passage_id="p1", facts=facts or [])


def link(c: Citation) -> str:
    return f"?report={c.source}&passage={c.passage_id}"


def card(c: Citation, heading: str) -> str:
    return passage_html(c, link=link, heading=heading)


RECORDS = [
    InspectionRecord(council="Kirklees", kind="sif", framework="SIF", inspection_end="2016-10-20",
                     judgements={"overall": "inadequate", "leaders": "inadequate", "adoption": "not judged"},
                     citations=[cite("Overall effectiveness Inadequate", facts=["overall", "leaders"])]),
    InspectionRecord(council="Kirklees", kind="ilacs_standard", framework="ILACS", inspection_end="2019-03",
                     judgements={"overall": "good", "leaders": "requires improvement"},
                     citations=[cite("Overall effectiveness Good <script>", facts=["overall"]), cite("Leaders RI", facts=["leaders"])]),
    InspectionRecord(council="Wigan", kind="sif", inspection_end="2017-01", judgements={"overall": "good"}, citations=[cite("x")]),
]


def test_grade_points_are_the_councils_graded_judgements_each_with_its_own_citation() -> None:
    points = grade_points(RECORDS, [], "kirklees")
    assert [(p.judgement, p.grade, p.day.isoformat()) for p in points] == [
        ("leaders", "inadequate", "2016-10-20"), ("overall", "inadequate", "2016-10-20"),
        ("leaders", "requires improvement", "2019-03-15"), ("overall", "good", "2019-03-15"),
    ]
    assert next(p for p in points if p.grade == "requires improvement").citation.quote == "Leaders RI"
    assert judgements_present(points) == ["overall", "leaders"]


def test_grade_chart_places_grades_on_ofsteds_scale_and_links_each_point_to_a_hidden_card() -> None:
    svg = grade_chart_svg(grade_points(RECORDS, [], "Kirklees"), ["overall"], link=link, card=card, council="Kirklees")
    for name in GRADE_ROWS:
        assert f">{name}</text>" in svg
    points = re.findall(r'<a href="([^"]+)"[^>]*class="cra-hist-point" data-card="([^"]+)" data-judgement="overall" data-grade="([^"]+)"', svg)
    assert [grade for _, _, grade in points] == ["inadequate", "good"]
    for href, key, _ in points:
        assert href == "?report=ofsted.pdf&amp;passage=p1"
        assert f'<div class="cra-hist-card" id="{key}" hidden>' in svg
    ys = [float(y) for y in re.findall(r'<circle cx="[\d.]+" cy="([\d.]+)" r="7"', svg)]
    assert ys[0] > ys[1]  # inadequate sits below good
    assert "2016</text>" in svg and "2019</text>" in svg
    assert "<script>" not in svg and "Good &lt;script&gt;" in svg


def test_grade_chart_shows_each_chosen_judgement_as_a_series() -> None:
    svg = grade_chart_svg(grade_points(RECORDS, [], "Kirklees"), ["overall", "leaders"], link=link, card=card, council="Kirklees")
    assert svg.count('data-judgement="leaders"') == 2 and svg.count('data-judgement="overall"') == 2
    assert "impact of leaders</text>" in svg and svg.count("<polyline") == 2


def test_grade_chart_without_grades_says_so() -> None:
    assert "No graded inspection of Leeds" in grade_chart_svg([], ["overall"], link=link, card=card, council="Leeds")


def fact(value: float, when: str, sort: str) -> Fact:
    quote = f"The uncovered vacancy gap is {value}%."
    c = Citation(n=1, source="ws.txt", council="West Sussex", date="2020-03-01", paragraph="4", quote=quote, passage=quote, passage_id=f"p{value}")
    return Fact(metric="vacancy rate", value=value, unit="%", date=when, sort=sort, council="West Sussex", citation=c)


def test_series_chart_plots_each_value_by_its_date_with_its_citation() -> None:
    svg = series_chart_svg([fact(5.34, "2020-02", "2020-02-29"), fact(18.5, "2019-02", "2019-02-28")], link=link, card=card, metric="vacancy rate")
    values = re.findall(r'class="cra-hist-value" data-card="([^"]+)"><title>vacancy rate: ([\d.]+%) \(([\d-]+)\)', svg)
    assert [(v, d) for _, v, d in values] == [("18.5%", "2019-02"), ("5.34%", "2020-02")]
    for key, _, _ in values:
        assert f'id="{key}" hidden>' in svg
    assert "The uncovered vacancy gap is 18.5%." in svg and "?report=ws.txt&amp;passage=p18.5" in svg
    cys = [float(y) for y in re.findall(r'<circle cx="[\d.]+" cy="([\d.]+)" r="6"', svg)]
    assert cys[0] < cys[1]  # 18.5% stands higher than 5.34%
    assert "No values" in series_chart_svg([], link=link, card=card, metric="caseload")


def test_value_text_by_unit() -> None:
    assert value_text(fact(18.5, "2019-02", "2019-02-28")) == "18.5%"
    assert value_text(fact(5.0, "2019-02", "2019-02-28").model_copy(update={"unit": "count", "value": 1234.0})) == "1,234"
