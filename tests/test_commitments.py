"""Commitments and inspection history: extracted from the sample reports, stored with the index, queried."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.register.commitments import Commitment, extract_commitments, units
from assistant.register.store import Register, answer_from_register, load_register, query_commitments, query_inspections
from assistant.types import Passage

EXPECTED = Path(__file__).parent / "data" / "commitments_expected.json"
W20, WORCS, DARL, NSOM, W21 = (
    "000_593dbc0cfa530023.txt",
    "001_6c25ee4f623b7f02.txt",
    "002_d7b47842bbdc0095.txt",
    "003_820a53567a27642e.txt",
    "004_db1cafc63c8d4454.txt",
)


def passage(text: str, *, date: str = "2021-03-19", section: str = "", paragraph: str = "4", council: str = "Testshire") -> Passage:
    return Passage(
        id=f"t.txt#{paragraph}", source="t.txt", council=council, date=date, section=section,
        paragraph=paragraph, ordinal=0, start=0, end=len(text), text=text,
    )


# ------------------------------------------------------------------ single statements


@pytest.mark.parametrize(
    ("text", "action", "responsible", "kind", "start", "end"),
    [
        ("The Commissioner will formally review our progress in July.", "Review our progress", "The Commissioner", "review", "2021-07-01", "2021-07-31"),
        ("In July a new simplified staffing structure will be rolled out.", "A new simplified staffing structure to be rolled out", "", "staffing", "2021-07-01", "2021-07-31"),
        ("The next Ofsted monitoring visit is likely to take place during February 2022.", "The next Ofsted monitoring visit", "Ofsted", "inspection/visit", "2022-02-01", "2022-02-28"),
        ("A refreshed Improvement Plan will undergo scrutiny and re-adoption during May.", "A refreshed Improvement Plan to undergo scrutiny and re-adoption", "", "plan/strategy", "2021-05-01", "2021-05-31"),
        ("The new Director is Jane Smith; she will join the council in early May.", "Join the council", "Jane Smith", "staffing", "2021-05-01", "2021-05-10"),
        ("The Cabinet will take a decision on the Trust not later than January 2022.", "Take a decision on the Trust", "The Cabinet", "decision", "2021-03-19", "2022-01-31"),
    ],
)
def test_one_commitment(text: str, action: str, responsible: str, kind: str, start: str, end: str) -> None:
    (found,) = extract_commitments([passage(text)])
    assert (found.action, found.responsible, found.kind, found.time.start, found.time.end) == (action, responsible, kind, start, end)
    assert found.citation.quote in found.citation.passage
    assert found.citation.paragraph == "4"


@pytest.mark.parametrize(
    "text",
    [
        "The first Ofsted monitoring visit took place on 3 to 4 December 2020.",
        "John Readman left the County Council at the end of January to become Director elsewhere.",
        "The plan was adopted in August 2020 and approved by the Board on 24 August 2020.",
        "It is the re-inspection which will formally assess progress against the 2019 inspection.",
        "Arrangements are being made, which will take some months to be realised in full.",
        "Reliance on agency staff will reduce in the longer term.",
        "The Ofsted Focused Visit in October gave encouraging messages.",
        "The purpose of this report is to update Cabinet further to the inspection in June 2020.",
    ],
)
def test_past_events_and_dateless_aims_are_not_commitments(text: str) -> None:
    assert extract_commitments([passage(text)]) == []


def test_list_items_take_their_date_from_the_heading() -> None:
    text = (
        "The following are examples of the measures now being planned for the coming year:\n"
        "- **Adoption**: membership of a regional adoption agency from April 2021, to improve outcomes;\n"
        "- Creation of a specific Family and Friends Team; and\n"
        "- Transfer of the Care Leavers Service to the Children Looked After Service."
    )
    found = extract_commitments([passage(text, date="2021-02", section="Further improvement planned for 2021")])
    assert [(c.action, c.time.start, c.time.end, c.time.source) for c in found] == [
        ("Adoption: membership of a regional adoption agency", "2021-04-01", "2021-04-30", ""),
        ("Creation of a specific Family and Friends Team", "2021-01-01", "2021-12-31", "heading"),
        ("Transfer of the Care Leavers Service to the Children Looked After Service", "2021-01-01", "2021-12-31", "heading"),
    ]
    assert all(c.citation.quote in text for c in found)


def test_a_repeated_commitment_is_one_entry_citing_each_place() -> None:
    first = passage("The next DfE review is scheduled toward the end of 2016.", date="2016", paragraph="3")
    second = passage("With regard to DfE and Red Quadrant there will be a second review toward the end of 2016.", date="2016", paragraph="16")
    (found,) = extract_commitments([first, second])
    assert found.citation.paragraph == "3"
    assert [c.paragraph for c in found.also] == ["16"]


def test_units_keep_a_broken_list_item_whole() -> None:
    text = "Key points:\n - A focus on education ensures each child\n has a plan; and\n - Caseloads have reduced."
    assert [u.text for u in units(text)] == ["Key points:", "A focus on education ensures each child\n has a plan; and", "Caseloads have reduced."]


# ------------------------------------------------------------------ the sample reports


@pytest.fixture()
def register(sample_index) -> Register:
    return load_register(sample_index)


def _matches(item: Commitment, expected: dict) -> bool:
    citations = [item.citation, *item.also]
    return item.source == expected["source"] and any(
        c.paragraph in expected["paragraphs"] and expected["match"].lower() in c.quote.lower() for c in citations
    )


def measure(commitments: list[Commitment], expected: list[dict]) -> dict:
    """Precision, recall and interval accuracy of the register against the hand-made list."""
    required = [e for e in expected if e["required"]]
    found_required = {i for i, e in enumerate(required) if any(_matches(c, e) for c in commitments)}
    optional_only = [c for c in commitments if not any(_matches(c, e) for e in required) and any(_matches(c, e) for e in expected if not e["required"])]
    true_positive = [c for c in commitments if any(_matches(c, e) for e in required)]
    judged = len(commitments) - len(optional_only)
    right_interval = [
        e for i, e in enumerate(required) if i in found_required
        and any(_matches(c, e) and (c.time.start, c.time.end) == (e["start"], e["end"]) for c in commitments)
    ]
    return {
        "extracted": len(commitments),
        "required": len(required),
        "precision": len(true_positive) / judged if judged else 0.0,
        "recall": len(found_required) / len(required),
        "interval_accuracy": len(right_interval) / max(len(found_required), 1),
        "missed": [e["match"] for i, e in enumerate(required) if i not in found_required],
        "unexpected": [f"{c.source} para {c.citation.paragraph}: {c.citation.quote[:80]}" for c in commitments if not any(_matches(c, e) for e in expected)],
    }


@pytest.mark.slow
def test_register_against_the_hand_made_list(register: Register) -> None:
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))["commitments"]
    scores = measure(register.commitments, expected)
    print(
        f"\ncommitments: {scores['extracted']} extracted, {scores['required']} expected; precision {scores['precision']:.2f}, "
        f"recall {scores['recall']:.2f}, interval accuracy {scores['interval_accuracy']:.2f}; missed {scores['missed']}; unexpected {scores['unexpected']}"
    )
    assert scores["recall"] >= 0.9, scores["missed"]
    assert scores["precision"] >= 0.9, scores["unexpected"]
    assert scores["interval_accuracy"] >= 0.95


@pytest.mark.slow
@pytest.mark.parametrize(
    ("source", "paragraph", "words", "start", "end", "kind"),
    [
        (W20, "5", "second week of May", "2020-05-08", "2020-05-14", "inspection/visit"),
        (W20, "6", "early May", "2020-05-01", "2020-05-10", "staffing"),
        (W20, "10", "Adoption South East", "2020-04-01", "2020-04-30", "service change"),
        (W20, "4", "re-inspection in 2021", "2021-01-01", "2021-12-31", "inspection/visit"),
        (WORCS, "16", "February 2018", "2018-02-01", "2018-02-28", "inspection/visit"),
        (WORCS, "15", "October 2017 to March 2018", "2017-10-01", "2018-03-31", "plan/strategy"),
        (DARL, "3", "toward the end of 2016", "2016-09-01", "2016-12-31", "review"),
        (DARL, "13", "first half of 2017", "2017-01-01", "2017-06-30", "inspection/visit"),
        (DARL, "15", "towards summer 2017", "2017-06-01", "2017-08-31", "inspection/visit"),
        (NSOM, "¶19", "LGA Peer Review", "2020-10-21", "2021-01-21", "review"),
        (W21, "8", "early part of 2022", "2022-01-01", "2022-04-30", "service change"),
        (W21, "9", "in July a new simplified staffing structure", "2021-07-01", "2021-07-31", "staffing"),
        (W21, "3", "not later than January 2022", "2021-03-19", "2022-01-31", "decision"),
    ],
)
def test_sample_commitment(register: Register, source: str, paragraph: str, words: str, start: str, end: str, kind: str) -> None:
    hits = [c for c in register.commitments if c.source == source and c.citation.paragraph == paragraph and words in c.citation.quote]
    assert hits, [c.citation.quote for c in register.commitments if c.source == source]
    assert (start, end, kind) in [(c.time.start, c.time.end, c.kind) for c in hits]
    assert all(c.citation.quote in c.citation.passage for c in hits)


@pytest.mark.slow
def test_follow_through_in_the_later_west_sussex_report(register: Register) -> None:
    rows = {c.action: c for c in query_commitments(register, councils=["West Sussex"])}
    hampshire = next(c for a, c in rows.items() if "Partner in Practice" in a and c.citation.paragraph == "2")
    assert hampshire.status == "done"
    assert hampshire.evidence[0].citation.source == W21 and hampshire.evidence[0].citation.paragraph == "2"
    director = rows["Join West Sussex"]
    assert (director.responsible, director.status) == ("Lucy Butler", "done")
    assert any("Lucy Butler" in e.citation.quote for e in director.evidence)
    adoption = next(c for c in rows.values() if "Adoption South East" in c.action)
    assert adoption.status == "overdue" and not adoption.evidence
    later = next(c for c in rows.values() if c.source == W21 and c.time.text == "in the early part of 2022")
    assert later.status == "open"
    assert {c.status for c in query_commitments(register, councils=["west sussex"], as_of="2023")} <= {"done", "in progress", "overdue"}


@pytest.mark.slow
def test_query_filters(register: Register) -> None:
    in_2021 = query_commitments(register, date_from="2021", date_to="2021")
    assert in_2021 and all(c.time.start <= "2021-12-31" and c.time.end >= "2021-01-01" for c in in_2021)
    worcs = query_commitments(register, councils=["Worcestershire"], as_of="2018-06")
    assert {c.status for c in worcs} == {"overdue"}
    assert query_commitments(register, statuses=["done"]) and all(c.status == "done" for c in query_commitments(register, statuses=["done"]))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("council", "kind", "start", "planned", "judgement", "paragraph"),
    [
        ("Worcestershire", "single inspection", "2017-01-24", False, "Inadequate", "3"),
        ("Worcestershire", "monitoring visit", "2017-05-23", False, "", "6"),
        ("Worcestershire", "monitoring visit", "2017-09-12", False, "", "2"),
        ("Worcestershire", "monitoring visit", "2018-02-01", True, "", "16"),
        ("Darlington", "single inspection", "2015-06-01", False, "Inadequate", "¶3"),
        ("Darlington", "DfE review", "2016-05-17", False, "", "3"),
        ("Darlington", "monitoring visit", "2016-07-10", False, "", "3"),
        ("Darlington", "monitoring visit", "2016-10-12", True, "", "13"),
        ("Darlington", "re-inspection", "2017-06-01", True, "", "15"),
        ("North Somerset", "ILACS", "2020-03-02", False, "Requires improvement to be good", "¶28"),
        ("North Somerset", "full inspection", "2017-06-01", False, "Requires improvement to be good", "¶8"),
        ("North Somerset", "focused visit", "2019-03-01", False, "", "¶4"),
        ("North Somerset", "SEND inspection", "2019-05-01", False, "", "¶8"),
        ("West Sussex", "full inspection", "2019-05-01", False, "", "1"),
        ("West Sussex", "monitoring visit", "2019-12-03", False, "", "4"),
        ("West Sussex", "commissioner review", "2019-12-17", False, "", "2"),
        ("West Sussex", "monitoring visit", "2020-05-08", True, "", "5"),
        ("West Sussex", "focused visit", "2020-10-01", False, "", "4"),
        ("West Sussex", "re-inspection", "2021-01-01", True, "", "4"),
        ("West Sussex", "monitoring visit", "2021-05-21", True, "", "4"),
        ("West Sussex", "commissioner review", "2021-07-01", True, "", "3"),
    ],
)
def test_inspection_history(register: Register, council: str, kind: str, start: str, planned: bool, judgement: str, paragraph: str) -> None:
    events = [e for e in query_inspections(register, councils=[council]) if e.kind == kind and e.time.start == start]
    assert len(events) == 1, [(e.kind, e.time.start) for e in query_inspections(register, councils=[council])]
    event = events[0]
    assert (event.planned, event.judgement, event.citation.paragraph) == (planned, judgement, paragraph)
    assert event.citation.quote in event.citation.passage


@pytest.mark.slow
def test_inspection_focus(register: Register) -> None:
    focus = {(e.council, e.time.start): e.focus for e in register.inspections}
    assert focus[("Worcestershire", "2017-05-23")] == "the Family Front Door service"
    assert focus[("Worcestershire", "2018-02-01")] == "to be decided"
    assert focus[("West Sussex", "2020-05-08")] == "services to Children Looked After"


@pytest.mark.slow
def test_register_follows_the_index(sample_index) -> None:
    path = Path(sample_index.root) / "commitments.json"
    assert path.is_file()
    assert any(c.source == NSOM for c in load_register(sample_index).commitments)
    sample_index.remove(NSOM)
    after = load_register(sample_index)
    assert not any(c.source == NSOM for c in after.commitments)
    assert not any(e.council == "North Somerset" for e in after.inspections)
    assert NSOM not in after.reports


# ------------------------------------------------------------------ chat answers


@pytest.mark.slow
def test_answer_what_was_promised(engine) -> None:
    answer = answer_from_register("What was promised for 2021?", engine)
    assert answer is not None and not answer.refused
    assert "in July" in answer.answer and "[1]" in answer.answer
    for citation in answer.citations:
        assert citation.quote in citation.passage
        assert f"[{citation.n}]" in answer.answer


@pytest.mark.slow
def test_answer_next_monitoring_visit(engine) -> None:
    answer = answer_from_register("When is the next monitoring visit in Worcestershire?", engine)
    assert answer is not None
    assert [(c.source, c.paragraph) for c in answer.citations] == [(WORCS, "16")]
    assert "February 2018" in answer.answer


@pytest.mark.slow
def test_answer_what_is_due_by_a_date(engine) -> None:
    answer = answer_from_register("What did West Sussex commit to deliver by spring 2022?", engine)
    assert answer is not None and answer.citations
    assert W21 in {c.source for c in answer.citations} and "overdue" not in answer.answer
    assert "early part of 2022" in answer.answer and "Adoption South East" not in answer.answer


@pytest.mark.slow
@pytest.mark.parametrize("question", ["How many agency social workers does West Sussex have?", "Who is the Chief Executive?"])
def test_other_questions_are_left_to_the_answerer(engine, question: str) -> None:
    assert answer_from_register(question, engine) is None


# ------------------------------------------------------------------ command line


def _run(index_dir: Path, *args: str):
    from assistant.cli.main import cli

    return CliRunner().invoke(cli, ["--index-dir", str(index_dir), *args], catch_exceptions=False)


@pytest.mark.slow
def test_cli_commitments_json(sample_index) -> None:
    result = _run(sample_index.root, "commitments", "--json", "--council", "West Sussex", "--from", "2021", "--to", "2021")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows and all(r["council"] == "West Sussex" for r in rows)
    for row in rows:
        assert row["start"] <= "2021-12-31" and row["end"] >= "2021-01-01"
        assert {"source", "paragraph", "quote"} <= set(row["citation"]) and row["time"]
    assert any(r["time"] == "in the early part of 2022" for r in rows) is False


@pytest.mark.slow
def test_cli_commitments_csv_and_status(sample_index) -> None:
    result = _run(sample_index.root, "commitments", "--format", "csv", "--status", "overdue")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert rows and {r["status"] for r in rows} == {"overdue"}
    assert {"source", "paragraph", "quote", "start", "end", "time"} <= set(rows[0])


@pytest.mark.slow
def test_cli_inspections(sample_index) -> None:
    result = _run(sample_index.root, "inspections", "--council", "Worcestershire", "--format", "md")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("| council |") and "2018-02-01" in result.output


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["commitments", "--council", "Nowhere"], "--council 'Nowhere' is not among the indexed councils"),
        (["commitments", "--from", "banana"], "--from 'banana': expected a date like 2021"),
        (["commitments", "--from", "2022", "--to", "2021"], "--from 2022 is after --to 2021"),
        (["inspections", "--to", "2021-13"], "--to '2021-13': expected a date"),
    ],
)
def test_cli_bad_input(sample_index, args: list[str], message: str) -> None:
    result = _run(sample_index.root, *args)
    assert result.exit_code == 1
    assert message in result.output


def test_cli_on_an_empty_index(tmp_path: Path) -> None:
    result = _run(tmp_path / "empty", "commitments")
    assert result.exit_code == 1
    assert "run `assistant ingest corpus/` first" in result.output


# ------------------------------------------------------------------ timeline tab

EVIL = '<script>window.__pwned=1</script><img src=x onerror="alert(1)">'


def test_timeline_chart_escapes_text_and_links_each_item() -> None:
    from ui.timeline import timeline_svg

    (item,) = extract_commitments([passage(f"The Commissioner will review {EVIL} in July.", council=EVIL)])
    item = item.model_copy(update={"status": "open"})
    svg = timeline_svg([item], [])
    assert "<script" not in svg and "<img" not in svg and "&lt;script&gt;" in svg
    assert 'href="?report=t.txt&amp;passage=t.txt%234' in svg
    assert "<rect" in svg and "2021" in svg


@pytest.mark.slow
# Gradio opens asyncio event loops while building Blocks and never closes them (not our sockets).
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_timeline_tab_inside_blocks(engine) -> None:
    import gc

    import gradio as gr

    from ui.timeline import build_timeline_tab

    with gr.Blocks(), gr.Tab("Timeline"):
        parts = build_timeline_tab(engine)
    gc.collect()  # let Gradio's stray event loops go while this test's warning filter applies
    view = parts["view"]
    chart, rows, message = view.update(["West Sussex"], ["done"], "", "", "")
    assert rows and all(r[0] == "West Sussex" and r[3] == "done" for r in rows)
    assert chart.count('class="cra-tl-bar"') == len(rows)
    assert 'class="cra-tl-event"' in chart and "commitments" in message
    shown = view.select(0, ["West Sussex"], ["done"], "", "", "")
    assert '<mark class="cra-quote">' in shown and "Open in the report" in shown and "Later report (done)" in shown
    chart, rows, message = view.update([], [], "banana", "", "")
    assert (chart, rows) == ("", []) and "expected a date like 2021" in message


def test_register_rebuild_reuses_unchanged_reports(sample_index, tmp_path, monkeypatch) -> None:
    """A new file re-extracts only itself: the other reports come from the per-report cache."""
    import assistant.register.store as register_module

    calls: list[str] = []
    real = register_module.extract_commitments

    def counting(passages):
        calls.append(passages[0].source)
        return real(passages)

    monkeypatch.setattr(register_module, "extract_commitments", counting)
    folder = tmp_path / "more"
    folder.mkdir()
    (folder / "extra.txt").write_text(
        "Darlington Borough Council\n\nCabinet, 10 January 2017\n\n"
        "1. The Ofsted re-inspection of Darlington will take place in March 2017.\n",
        encoding="utf-8",
    )
    sample_index.ingest([folder])
    assert calls == ["extra.txt"]
    register = register_module.load_register(sample_index)
    assert any(c.source == "extra.txt" for c in register.commitments)
    assert {c.source for c in register.commitments} >= {"000_593dbc0cfa530023.txt", "004_db1cafc63c8d4454.txt"}
