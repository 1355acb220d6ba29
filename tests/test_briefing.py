"""Briefing notes over the sample reports: relevant points, correct citations, Word/Markdown/HTML output, CLI and tab."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.briefing.draft import SECTIONS, Briefing, CommitmentRow, Point, Question, SourceEntry, build_briefing
from assistant.briefing.history import HISTORY_HEADING, SERIES_HEADING
from assistant.briefing.render import TABLE_HEADERS, choose_format, to_html, to_markdown
from assistant.cli.main import cli
from assistant.errors import AssistantError
from assistant.types import Citation

PREPARED = date(2025, 6, 1)
WS_2020 = "000_593dbc0cfa530023.txt"
WS_2021 = "004_db1cafc63c8d4454.txt"
WORCS = "001_6c25ee4f623b7f02.txt"
DARLINGTON = "002_d7b47842bbdc0095.txt"
NORTH_SOMERSET = "003_820a53567a27642e.txt"
HEADINGS = [*SECTIONS[:5], HISTORY_HEADING, SERIES_HEADING, SECTIONS[5]]


def _norm(text: str) -> str:
    return re.sub(r"[\s;,.*]+", " ", text).strip().lower()


def _points(note: Briefing) -> list[Point]:
    return note.summary + note.judgements + note.findings + note.progress


def _cited(note: Briefing, n: int) -> Citation:
    return note.citations[n - 1]


def _where(note: Briefing, words: str) -> tuple[Point, Citation]:
    """The point holding `words`, and the citation it gives."""
    for point in _points(note):
        if words.lower() in point.text.lower():
            return point, _cited(note, point.refs[0])
    raise AssertionError(f"no point mentions {words!r}: {[p.text[:60] for p in _points(note)]}")


def check_citations(note: Briefing, engine) -> None:
    """Every citation quotes its passage verbatim, as indexed; every point's text is in what it cites; nothing repeats."""
    assert [c.n for c in note.citations] == list(range(1, len(note.citations) + 1))
    indexed: dict[str, dict[str, str]] = {}
    for c in note.citations:
        if c.source not in indexed:
            indexed[c.source] = {p.id: p.text for p in engine.index.load_report(c.source)[1]}
        assert indexed[c.source][c.passage_id] == c.passage
        assert c.quote and c.quote in c.passage
    for point in _points(note):
        assert len(point.refs) == 1 and 1 <= point.refs[0] <= len(note.citations)
        quote = _norm(_cited(note, point.refs[0]).quote)
        if point.section == "judgement":
            assert point.text.split()[0].lower()[:6] in quote
            continue
        for piece in point.items or [point.text]:
            assert _norm(piece) in quote, (piece, quote)
    for row in note.commitments:
        assert row.refs and 1 <= row.refs[0] <= len(note.citations)
    # Each cited span stands in one place only (questions refer back to it).
    owners = [n for p in _points(note) for n in p.refs] + [n for r in note.commitments for n in r.refs]
    assert len(owners) == len(set(owners))
    every = set(owners) | {n for q in note.questions for n in q.refs}
    every |= {n for r in [*note.history, *note.series] for n in r.refs}
    assert every == {c.n for c in note.citations}
    listed = {s.source: s for s in note.sources}
    for c in note.citations:
        entry = listed[c.source]
        assert c.paragraph in entry.paragraphs and c.n in entry.refs
        assert entry.title and entry.council == c.council and entry.date == c.date


# ------------------------------------------------------------------ the workforce note


@pytest.fixture(scope="module")
def workforce(shared_engine) -> Briefing:
    return build_briefing(shared_engine, "workforce", councils=["West Sussex"], prepared=PREPARED)


def test_workforce_points_are_about_the_workforce_and_cited_to_their_paragraph(workforce: Briefing, shared_engine) -> None:
    check_citations(workforce, shared_engine)
    assert 3 <= len(workforce.summary) <= 6
    assert {c.council for c in workforce.citations} == {"West Sussex"}
    point, cite = _where(workforce, "uncovered vacancy gap is currently 5.34%")
    assert (cite.source, cite.paragraph) == (WS_2020, "8")
    assert point.change == "18.5% (February 2019) → 5.34% (February 2020)"
    _, cite = _where(workforce, "75 FTE Agency Social Workers")
    assert (cite.source, cite.paragraph) == (WS_2020, "8")
    _, cite = _where(workforce, "four out of the eight social work teams")
    assert cite.paragraph == "8"
    point, cite = _where(workforce, "workforce is now more stable")
    assert (cite.source, cite.paragraph) == (WS_2020, "4")
    assert point.label.startswith("Monitoring visit, 3–4 December 2019")
    text = to_markdown(workforce)
    for off_topic in ("Youth Cabinet", "Free Your Mind", "Adoption South East", "privately fostered", "Lucy Butler"):
        assert off_topic not in text


def test_workforce_commitments_and_questions(workforce: Briefing) -> None:
    offer = [r for r in workforce.commitments if "Social Work Offer" in r.what]
    assert len(offer) == 1
    row = offer[0]
    assert (row.start, row.end, row.when, row.status) == ("2021-07-01", "2021-07-31", "in July", "open")
    cite = _cited(workforce, row.refs[0])
    assert (cite.source, cite.paragraph) == (WS_2021, "9") and "Social Work Offer" in cite.quote
    assert not any(r.what.startswith(("Adoption", "Life Story", "A 'Free Your Mind'")) for r in workforce.commitments)
    chase = [q for q in workforce.questions if q.refs == row.refs]
    assert chase and "July 2021" in chase[0].basis
    assert len(workforce.questions) >= 2 and all(q.refs for q in workforce.questions)


def test_workforce_heading_and_sources(workforce: Briefing) -> None:
    assert workforce.councils == ["West Sussex"]
    assert workforce.period == ("2020-02", "2021-03-19")
    assert workforce.prepared == "2025-06-01"
    assert [s.source for s in workforce.sources] == [WS_2020, WS_2021]
    assert {"4", "8"} <= set(workforce.sources[0].paragraphs)
    assert "9" in workforce.sources[1].paragraphs


# ------------------------------------------------------------------ other topics, other councils


def test_front_door_across_councils(shared_engine) -> None:
    note = build_briefing(shared_engine, "front door", prepared=PREPARED)
    check_citations(note, shared_engine)
    assert {s.source for s in note.sources} == {WORCS, NORTH_SOMERSET}
    point, cite = _where(note, "found weaknesses at the front door")
    assert cite.source == NORTH_SOMERSET and point.label.startswith("Focused visit, March 2019")
    _, cite = _where(note, "quality of initial decision-making by the front door team remains too variable")
    assert cite.source == NORTH_SOMERSET
    # The Family Front Door is also 'the FFD' in Worcestershire's report.
    _, cite = _where(note, "quality of the work of the FFD")
    assert (cite.source, cite.paragraph) == (WORCS, "12")
    for point in note.summary + note.findings + note.progress:
        assert re.search(r"front door|FFD", point.text, re.I), point.text
    asked = " ".join(q.basis for q in note.questions)
    assert "front door" in asked.lower()


def test_care_leavers_findings_commitment_and_question(shared_engine) -> None:
    note = build_briefing(shared_engine, "care leavers", prepared=PREPARED)
    check_citations(note, shared_engine)
    assert WORCS not in {s.source for s in note.sources}  # it names care leavers only in a report's title
    assert DARLINGTON not in {s.source for s in note.sources}  # only in its background papers
    _, cite = _where(note, "children in care and care leavers - Good")
    assert cite.source == NORTH_SOMERSET
    _, cite = _where(note, "Drop in for care leavers who are working")
    assert cite.source == NORTH_SOMERSET
    judged = {(p.council, p.text) for p in note.judgements}
    assert ("North Somerset", "Requires improvement to be good") in judged
    transfer = [r for r in note.commitments if r.what.startswith("Transfer of Care Leavers Service")]
    assert len(transfer) == 1 and transfer[0].status == "overdue" and transfer[0].end == "2020-12-31"
    assert _cited(note, transfer[0].refs[0]).paragraph == "10"
    assert any(q.refs == transfer[0].refs and "later reports do not mention it" in q.basis for q in note.questions)


def test_monitoring_visits_by_council_and_date(shared_engine) -> None:
    note = build_briefing(shared_engine, "Ofsted monitoring visits", prepared=PREPARED)
    check_citations(note, shared_engine)
    point, cite = _where(note, "The workforce is not yet stable")
    assert (cite.source, cite.paragraph, point.council) == (DARLINGTON, "12", "Darlington")
    assert point.label == "Monitoring visit, 10–11 July 2016"
    point, _ = _where(note, "staff morale has improved")
    assert point.label == "Monitoring visit, 3–4 December 2019"
    when = {(r.council, r.start) for r in note.commitments}
    assert ("Worcestershire", "2018-02-01") in when  # the next visit, likely February 2018
    assert ("West Sussex", "2021-05-21") in when  # quarterly visits resume at the end of May 2021
    for points in (note.judgements, note.findings, note.progress):
        assert [p.council for p in points] == sorted(p.council for p in points)
    worcs = [p.date for p in note.findings if p.council == "Worcestershire"]
    assert worcs == sorted(worcs)
    judged = {(p.council, p.text) for p in note.judgements}
    assert ("Worcestershire", "Inadequate") in judged
    assert _cited(note, next(p for p in note.judgements if p.council == "Worcestershire").refs[0]).paragraph == "4"


def test_period_limits_the_reports(shared_engine) -> None:
    note = build_briefing(shared_engine, "workforce", councils=["west sussex"], date_from="2021", prepared=PREPARED)
    assert {s.source for s in note.sources} == {WS_2021}
    assert note.period[0] == "2021"
    assert not any("5.34%" in p.text for p in _points(note))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"topic": "  "}, "topic is empty"),
        ({"topic": "workforce", "councils": ["Atlantis"]}, "'Atlantis' is not among the indexed councils"),
        ({"topic": "workforce", "date_from": "2020-13"}, "--from '2020-13'"),
        ({"topic": "workforce", "date_from": "2021", "date_to": "2020"}, "is after"),
        ({"topic": "workforce", "councils": ["Darlington"], "date_from": "2030"}, "no indexed report matches"),
        ({"topic": "zebra crossings"}, "say nothing on 'zebra crossings'"),
    ],
)
def test_bad_requests_say_what_is_wrong(shared_engine, kwargs, message) -> None:
    with pytest.raises(AssistantError, match=re.escape(message)):
        build_briefing(shared_engine, **kwargs)


# ------------------------------------------------------------------ output formats


def _crafted() -> Briefing:
    """A note whose report text holds markup, to check that every format shows it literally."""
    hostile = "Caseloads <script>alert(1)</script> fell *sharply* | [see](http://x) & more"
    cite = Citation(n=1, source="r.txt", title="T <b>", council="Somewhere", date="2021-03", paragraph="8", quote=hostile, passage=hostile)
    point = Point(text=hostile, council="Somewhere", date="2021-03", report_date="2021-03", section="progress", refs=[1])
    return Briefing(
        topic="caseloads", councils=["Somewhere"], period=("2021-03", "2021-03"), prepared="2025-06-01",
        summary=[point], progress=[point.model_copy(update={"change": "18.5% → 5.34%"})],
        commitments=[CommitmentRow(what="Cut | caseloads <now>", when="in July", start="2021-07-01", end="2021-07-31",
                                   status="open", council="Somewhere", report_date="2021-03", refs=[1])],
        questions=[Question(ask="Why?", basis=hostile, council="Somewhere", refs=[1])],
        sources=[SourceEntry(source="r.txt", title="T <b>", council="Somewhere", date="2021-03", paragraphs=["8"], refs=[1])],
        citations=[cite],
    )


def test_html_escapes_report_text() -> None:
    page = to_html(_crafted())
    assert "<script>" not in page and "&lt;script&gt;" in page and "T &lt;b&gt;" in page
    assert page.startswith("<!DOCTYPE html>") and '<li id="ref-1" value="1">' in page
    assert "<h2>Commitments and dates</h2>" in page and "<th>By when</th>" in page
    fragment = to_html(_crafted(), standalone=False, source_link=lambda c: f"?report={c.source}&x=<")
    assert fragment.startswith('<div class="cra-brief">') and 'href="?report=r.txt&amp;x=&lt;"' in fragment


def test_markdown_escapes_report_text_and_keeps_the_table_whole() -> None:
    text = to_markdown(_crafted())
    assert "\\<script>" in text and "\\*sharply\\*" in text and "\\[see\\]" in text
    row = next(line for line in text.splitlines() if line.startswith("| Cut"))
    assert row.count(" | ") == len(TABLE_HEADERS) - 1 and "Cut \\| caseloads" in row
    assert [line[3:] for line in text.splitlines() if line.startswith("## ")] == HEADINGS


@pytest.mark.parametrize(
    ("fmt", "out", "expected"),
    [(None, None, "md"), (None, "x.docx", "docx"), ("html", None, "html"), (None, "x.HTM", "html"), ("md", "x.md", "md")],
)
def test_format_from_option_or_file_name(fmt, out, expected) -> None:
    assert choose_format(fmt, Path(out) if out else None) == expected


def test_format_and_file_name_must_agree() -> None:
    with pytest.raises(AssistantError, match="--format is md"):
        choose_format("md", Path("note.docx"))


# ------------------------------------------------------------------ inspection history and figures


def test_history_table_and_series_from_the_register_each_cited(shared_engine, tmp_path) -> None:
    from docx import Document

    from assistant.briefing.render import write

    note = build_briefing(shared_engine, "workforce", councils=["West Sussex", "Worcestershire"], prepared=PREPARED)
    check_citations(note, shared_engine)
    sif = next(r for r in note.history if r.council == "Worcestershire" and r.date == "2017-01")
    assert sif.kind == "single inspection (SIF)" and sif.judgements["overall"] == "inadequate"
    assert any(_cited(note, n).source == WORCS and "inadequate" in _cited(note, n).quote.lower() for n in sif.refs)
    vacancy = [(v.date, v.value) for v in note.series if v.council == "West Sussex" and v.metric == "vacancy rate"]
    assert vacancy == [("2019-02", 18.5), ("2020-02", 5.34)]
    for v in note.series:
        assert f"{v.value:g}" in _cited(note, v.refs[0]).quote.replace(",", "")

    text = to_markdown(note)
    row = next(line for line in text.splitlines() if line.startswith("| Worcestershire | 2017-01"))
    assert "| single inspection (SIF) | inadequate |" in row and re.search(r"\[\d+\] \|$", row)
    assert re.search(r"- \*\*West Sussex, vacancy rate:\*\* 2019-02: 18\.5% \[\d+\]; 2020-02: 5\.34% \[\d+\]", text)
    page = to_html(note)
    assert '<table class="cra-brief-history">' in page and "<td>inadequate</td>" in page and "5.34%<sup>" in page
    doc = Document(str(write(note, "docx", tmp_path / "note.docx")))
    history = next(t for t in doc.tables if t.rows[0].cells[0].text == "Council")
    assert [c.text for c in history.rows[0].cells] == ["Council", "Date", "Kind", "Overall", "Cited"]
    assert [c.text for c in history.rows[1].cells][:4] == ["Worcestershire", "2017-01", "single inspection (SIF)", "inadequate"]
    assert any("vacancy rate: 2019-02: 18.5%" in p.text for p in doc.paragraphs)


def test_history_table_says_when_the_reports_state_no_grades(workforce: Briefing) -> None:
    assert workforce.history == [] and "state no inspection grades" in to_markdown(workforce)


# ------------------------------------------------------------------ command line


@pytest.fixture()
def run(sample_index_dir, monkeypatch):
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(sample_index_dir))

    def invoke(*args: str):
        return CliRunner().invoke(cli, list(args), obj={})

    return invoke


def test_cli_writes_a_word_document_like_a_council_paper(run, tmp_path) -> None:
    from docx import Document

    out = tmp_path / "workforce.docx"
    result = run("brief", "workforce", "--council", "West Sussex", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(out)
    doc = Document(str(out))
    styles = [(p.style.name, p.text) for p in doc.paragraphs]
    assert styles[0] == ("Title", "Briefing note: Workforce")
    assert [t for s, t in styles if s == "Heading 1"] == HEADINGS
    assert ("Heading 2", "References") in styles
    table = doc.tables[0]
    assert [c.text for c in table.rows[0].cells] == list(TABLE_HEADERS)
    offer = next(r for r in table.rows[1:] if "Social Work Offer" in r.cells[0].text)
    assert "July 2021" in offer.cells[2].text and offer.cells[3].text.startswith("open")
    markers = [r.text for p in doc.paragraphs for r in p.runs if r.font.superscript]
    markers += [r.text for t in doc.tables for row in t.rows for c in row.cells for p in c.paragraphs for r in p.runs if r.font.superscript]
    numbers = {int(m.strip("[]")) for m in markers}
    references = [t for s, t in styles[styles.index(("Heading 2", "References")) + 1 :]]
    assert len(references) == len(numbers) == max(numbers)
    vacancy = next(t for t in references if "uncovered vacancy gap" in t)
    assert re.match(r"\[\d+\] West Sussex, .+, February 2020, para 8: “The uncovered vacancy gap is currently 5\.34%", vacancy)
    summary = styles[styles.index(("Heading 1", "Summary")) + 1][1]
    assert summary.startswith("1.\tWest Sussex, February 2020")


def test_cli_prints_markdown_and_html(run) -> None:
    result = run("brief", "care leavers", "--council", "North Somerset")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Briefing note: Care leavers\n")
    assert "## What Ofsted found" in result.stdout and "¶3" in result.stdout
    page = run("brief", "front door", "--format", "html")
    assert page.exit_code == 0 and page.stdout.startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["brief", "workforce", "--council", "Atlantis"], "'Atlantis' is not among the indexed councils"),
        (["brief", "workforce", "--from", "March"], "--from 'March'"),
        (["brief", "workforce", "--format", "md", "--out", "note.docx"], "--format is md"),
        (["brief", "workforce", "--out", "no/such/folder/note.md"], "does not exist"),
        (["brief", "zebra crossings"], "say nothing"),
    ],
)
def test_cli_errors_exit_1_with_the_reason(run, args, message) -> None:
    result = run(*args)
    assert result.exit_code == 1
    assert message in result.stderr


def test_cli_bad_format_is_a_usage_error(run) -> None:
    assert run("brief", "workforce", "--format", "pdf").exit_code == 2


# ------------------------------------------------------------------ the Briefing tab, without a browser


def test_tab_prepares_a_preview_and_a_file(shared_engine, tmp_path) -> None:
    from docx import Document

    from ui.briefing import BriefingView

    view = BriefingView(shared_engine, tmp_path)
    assert view.councils() == ["Darlington", "North Somerset", "West Sussex", "Worcestershire"]
    preview, path = view.prepare("workforce", ["West Sussex"], "", "", "docx", prepared=PREPARED)
    assert path and Path(path).is_file() and Path(path).parent.parent == tmp_path
    assert "<h2>Commitments and dates</h2>" in preview and "Social Work Offer" in preview
    assert "?report=000_593dbc0cfa530023.txt" in preview  # references open the reader at the paragraph
    assert any(p.style.name == "Heading 1" for p in Document(path).paragraphs)
    again, other = view.prepare("workforce", ["West Sussex"], "", "", "md", prepared=PREPARED)
    assert other != path and Path(other).read_text(encoding="utf-8").startswith("# Briefing note: Workforce")


@pytest.mark.parametrize(
    ("args", "message"),
    [(("", [], "", ""), "topic is empty"), (("workforce", [], "2020-13", ""), "From date"), (("workforce", [], "", "soon"), "To date")],
)
def test_tab_shows_bad_input_as_a_message(shared_engine, tmp_path, args, message) -> None:
    from ui.briefing import BriefingView

    preview, path = BriefingView(shared_engine, tmp_path).prepare(*args, "md")
    assert path is None and 'role="alert"' in preview and message in preview


# Gradio opens asyncio event loops while building Blocks and never closes them (not our sockets).
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_tab_builds_inside_blocks(shared_engine, tmp_path) -> None:
    import gc

    import gradio as gr

    from ui.briefing import build_briefing_tab

    with gr.Blocks(), gr.Tab("Briefing"):
        parts = build_briefing_tab(shared_engine, folder=tmp_path)
    assert {"topic", "councils", "date_from", "date_to", "format", "prepare", "download", "preview"} <= set(parts)
    assert parts["councils"].choices[0][0] == "Darlington"
    # Collect Gradio's abandoned loops here, where their warnings are ignored, not in a later test.
    gc.collect()


# ------------------------------------------------------------------ small pieces


@pytest.mark.parametrize(
    ("start", "end", "label"),
    [
        ("2019-12-03", "2019-12-04", "3–4 December 2019"),
        ("2016-07-01", "2016-07-31", "July 2016"),
        ("2021-01-01", "2021-12-31", "2021"),
        ("2017-01-01", "2017-06-30", "January to June 2017"),
        ("2021-05-21", "2021-05-21", "21 May 2021"),
        ("2020-10-21", "2021-01-21", "21 October 2020 to 21 January 2021"),
    ],
)
def test_span_label(start, end, label) -> None:
    from assistant.briefing.points import span_label

    assert span_label(date.fromisoformat(start), date.fromisoformat(end)) == label


@pytest.mark.parametrize(
    ("raw", "read"),
    [
        ("Transfer of Care Leavers Service from Early Help; and", "Transfer of Care Leavers Service from Early Help"),
        ("reported to the Director", "reported to the Director"),
        ("**Signs of Safety** has been adopted,\n so that staff know;", "Signs of Safety has been adopted, so that staff know"),
    ],
)
def test_clean_keeps_the_words(raw, read) -> None:
    from assistant.briefing.points import clean

    assert clean(raw) == read


@pytest.mark.parametrize(
    ("text", "figures"),
    [
        ("The uncovered vacancy gap is currently 5.34%, having been 18.5% in February 2019;", ["5.34%", "18.5%"]),
        ("so far, four out of the eight social work teams have achieved", ["four out of"]),
        ("See letter of 5 August 2016 at Appendix 2.", []),
        ("The next monitoring visit (No. 3) is likely during February 2018", []),
    ],
)
def test_figures_leave_out_dates_and_references(text, figures) -> None:
    from assistant.briefing.points import figures_in
    from assistant.dates import Anchor

    assert figures_in(text, Anchor.parse("2017-10-24")) == figures
