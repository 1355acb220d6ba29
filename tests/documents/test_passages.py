"""Splitting reports into passages: one numbered paragraph (with its list) is one passage."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from conftest import SAMPLES

from assistant.documents.passages import split_report
from assistant.types import Passage, Report

SAMPLE_FILES = sorted(p.name for p in SAMPLES.glob("*.txt"))
MANIFEST = tomllib.loads((SAMPLES / "manifest.toml").read_text(encoding="utf-8"))


def test_there_are_five_samples() -> None:
    assert len(SAMPLE_FILES) == 5
    assert set(MANIFEST) == set(SAMPLE_FILES)


@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_each_sample_gets_its_council_date_and_title(shared_index, name: str) -> None:
    entry = shared_index.reports[name]
    expected = MANIFEST[name]
    assert (entry.council, entry.date, entry.title) == (expected["council"], expected["date"], expected["title"])
    report, passages = shared_index.load_report(name)
    assert (report.council, report.date, report.title) == (expected["council"], expected["date"], expected["title"])
    assert {(p.council, p.date, p.title) for p in passages} == {(expected["council"], expected["date"], expected["title"])}


def test_west_sussex_vacancy_paragraph_is_one_passage_with_its_list(split) -> None:
    passages = split["000_593dbc0cfa530023.txt"]
    eights = [p for p in passages if p.paragraph == "8"]
    assert len(eights) == 1
    eight = eights[0]
    assert eight.part == 0
    assert eight.text.startswith("Significant activity is continuing to build a resilient workforce")
    assert "The uncovered vacancy gap is currently 5.34%, having been 18.5% in February 2019;" in eight.text
    assert "four out of the eight social work teams have achieved or improved upon their agreed maximum caseload targets" in eight.text
    assert eight.text.rstrip().endswith("sickness and other long-term absence is stable.")
    assert eight.section == "Strengthening the Workforce"
    # The list belongs to paragraph 8 and nowhere else.
    assert sum("5.34%" in p.text for p in passages) == 1


def test_every_passage_has_a_label(split) -> None:
    for name, passages in split.items():
        assert passages, name
        for passage in passages:
            assert passage.paragraph.strip(), (name, passage.ordinal)
            assert passage.text.strip(), (name, passage.ordinal)


def test_numbered_paragraphs_keep_their_printed_labels(split) -> None:
    labels = [p.paragraph for p in split["001_6c25ee4f623b7f02.txt"] if not p.paragraph.startswith("¶")]
    assert labels == [str(n) for n in range(1, 18)]
    west_sussex_2021 = {p.paragraph for p in split["004_db1cafc63c8d4454.txt"]}
    assert {str(n) for n in range(1, 12)} <= west_sussex_2021


def test_no_passage_is_longer_than_the_model_reads(split, count) -> None:
    for name, passages in split.items():
        for passage in passages:
            assert count(passage.embedding_text()) <= 256, (name, passage.paragraph, passage.part)


def test_passage_text_is_its_span_of_the_report(reports, split) -> None:
    for name, passages in split.items():
        text = reports[name].text
        for passage in passages:
            assert passage.text == text[passage.start : passage.end]
            assert passage.text == passage.text.strip()
        starts = [p.start for p in passages]
        assert starts == sorted(starts)
        assert all(a.end <= b.start for a, b in zip(passages[:-1], passages[1:], strict=True))
        assert [p.ordinal for p in passages] == list(range(len(passages)))
        assert len({p.id for p in passages}) == len(passages)


def test_long_paragraphs_are_split_into_parts_with_one_label(split) -> None:
    parted = [p for passages in split.values() for p in passages if p.part]
    assert parted, "the samples hold paragraphs longer than 256 word pieces"
    by_label: dict[tuple[str, str], list[Passage]] = {}
    for passage in parted:
        by_label.setdefault((passage.source, passage.paragraph), []).append(passage)
    for (_, label), parts in by_label.items():
        assert [p.part for p in parts] == list(range(1, len(parts) + 1)), label
        assert len(parts) >= 2
        assert len({p.section for p in parts}) == 1
        assert [p.ordinal for p in parts] == list(range(parts[0].ordinal, parts[0].ordinal + len(parts)))
    ten = [p for p in split["000_593dbc0cfa530023.txt"] if p.paragraph == "10"]
    assert [p.part for p in ten] == [1, 2]


def test_a_long_paragraph_is_cut_at_sentences(count) -> None:
    sentences = [f"Sentence {n} says that the service made progress on area number {n} this year." for n in range(1, 41)]
    text = "Workforce\n\n1. " + " ".join(sentences) + "\n2. A short paragraph follows it.\n"
    report = Report(source="long.txt", text=text, content_hash="0" * 64)
    passages = split_report(report, max_tokens=64, count_tokens=count)
    ones = [p for p in passages if p.paragraph == "1"]
    assert len(ones) > 3
    assert [p.part for p in ones] == list(range(1, len(ones) + 1))
    for passage in ones:
        assert passage.text.startswith("Sentence ") and passage.text.endswith("this year.")
        assert count(passage.embedding_text()) <= 64
    assert " ".join(p.text for p in ones) == " ".join(sentences)
    assert [p.paragraph for p in passages if p.paragraph != "1"] == ["2"]


def test_headings_become_sections_not_passages(reports, split) -> None:
    passages = split["000_593dbc0cfa530023.txt"]
    headings = [
        "Introduction",
        "Continuing role of the Children's Services Commissioner",
        "Children's Trust",
        "Ofsted Monitoring Visit",
        "Strengthening the Workforce",
        "Other recent service improvements",
    ]
    texts = [p.text for p in passages]
    for heading in headings:
        assert not any(t == heading or t.startswith(heading + "\n") for t in texts), heading
    sections = {p.paragraph: p.section for p in passages if p.part in (0, 1)}
    assert sections["1"] == "Introduction"
    assert sections["2"] == "Continuing role of the Children's Services Commissioner"
    assert sections["4"] == sections["5"] == "Ofsted Monitoring Visit"
    assert sections["9"] == "Other recent service improvements"
    # The heading is embedded with the text, so a short paragraph keeps its topic.
    eight = next(p for p in passages if p.paragraph == "8")
    assert "Strengthening the Workforce: Significant activity" in eight.embedding_text()


def test_lettered_items_stay_in_their_paragraph(split) -> None:
    three = next(p for p in split["002_d7b47842bbdc0095.txt"] if p.paragraph == "3")
    assert three.text.startswith("Notable activities have included:")
    assert "(a) A mid-term Improvement Plan progress review" in three.text
    assert "(c) Improvement Board approval" in three.text


def test_index_split_uses_the_same_passages(shared_index, split) -> None:
    name = "003_820a53567a27642e.txt"
    report, stored = shared_index.load_report(name)
    assert [p.model_dump() for p in shared_index.split(report)] == [p.model_dump() for p in split[name]]
    assert [p.model_dump() for p in stored] == [p.model_dump() for p in split[name]]


def test_unnumbered_text_gets_running_labels(tmp_path: Path, count) -> None:
    report = Report(
        source="plain.txt",
        text=(
            "Budget Update\n\nThe council has agreed its budget for the coming year after a long consultation with residents.\n\n"
            "Spending on children's services will rise by four per cent in real terms over the period.\n"
        ),
        content_hash="1" * 64,
    )
    passages = split_report(report, count_tokens=count)
    assert [p.paragraph for p in passages] == ["¶1", "¶2"]
    assert {p.section for p in passages} == {"Budget Update"}


def _split_text(text: str, count) -> list[Passage]:
    return split_report(Report(source="r.pdf", text=text, content_hash="2" * 64), count_tokens=count)


def test_a_page_foot_footnote_does_not_restart_the_numbering(count) -> None:
    # Ofsted's 2025 layout: "1 The areas for improvement…" at a page foot, inside a run of numbered paragraphs.
    text = (
        "The experiences and progress of children in care: good\n"
        "3. Children who come into care are helped to understand why, and they see their families often.\n"
        "4. The front door team screens referrals quickly. Decisions are made by experienced managers and this\n"
        "1 The areas for improvement have been cross-referenced with the outcomes of the national framework.\n"
        "reflects a relational model of practice that prioritises the family voice and the views of children.\n"
        "5. Care leavers are supported well by personal advisers who know them and visit them regularly.\n"
    )
    passages = _split_text(text, count)
    labels = [p.paragraph for p in passages if not p.paragraph.startswith("¶")]
    assert labels == ["3", "4", "4", "5"]
    # The paragraph the page break cut carries on after the footnote, which stands apart.
    fours = [p for p in passages if p.paragraph == "4"]
    assert [p.part for p in fours] == [1, 2]
    assert fours[1].text.endswith("the views of children.") and all("cross-referenced" not in p.text for p in fours)
    assert any(p.text.startswith("1 The areas for improvement") for p in passages)


def test_a_list_starting_again_at_one_is_still_numbered(count) -> None:
    text = (
        "1. The council has agreed its budget for the coming year after a long consultation with residents.\n"
        "2. Spending on children's services will rise by four per cent in real terms over the period.\n"
        "Recommendations\n"
        "1. Members note the report and the progress made on the improvement plan since the last meeting.\n"
        "2. Members agree the next steps set out in the plan, including the review of the front door.\n"
    )
    labels = [p.paragraph for p in _split_text(text, count) if not p.paragraph.startswith("¶")]
    assert labels == ["1", "2", "1", "2"]


def test_a_wrapped_line_closing_a_bracket_is_no_heading(count) -> None:
    text = (
        "What needs to improve?1\n"
        "• Collaborative safety planning with children and families. (Outcome 3, National\n"
        "Framework)\n"
        "• The numbers of care leavers in education, training and employment. (Outcome 4, National Framework)\n"
        "The experiences and progress of children in care: good\n"
        "1. Most children in care enjoy positive experiences and make good progress in many aspects of their lives.\n"
    )
    passages = _split_text(text, count)
    assert all("Framework)" not in p.section for p in passages)
    first = next(p for p in passages if p.text.startswith("• Collaborative"))
    assert "(Outcome 3, National\nFramework)\n• The numbers" in first.text
    # The footnote mark glued to the heading is not part of the section's name.
    assert first.section == "What needs to improve?"


def test_a_finding_heading_wrapped_over_two_lines_is_one_heading(count) -> None:
    text = (
        "• The workloads of personal advisers in the leaving care service. (Enabler two)\n"
        "The experiences and progress of children who need help and protection:\n"
        "outstanding\n"
        "1. Children and their families receive a very strong early help offer in the borough.\n"
        "2. Responses to concerns about children are swift and made by experienced social workers in the Initial Contact Team\n"
        "(ICRT). Decisions are underpinned by clear analysis of what information is\n"
        "already held and the views of parents and carers, which results in proportionate next steps.\n"
        "(Recommendation)\n"
        "3. Children in need of help receive visits from their social workers that are purposeful and regular.\n"
    )
    passages = _split_text(text, count)
    finding = next(p for p in passages if p.text.startswith("The experiences"))
    assert finding.text == "The experiences and progress of children who need help and protection:\noutstanding"
    title = "The experiences and progress of children who need help and protection: outstanding"
    assert {p.section for p in passages if p.paragraph in ("1", "2", "3")} == {title}
    # A line opening with a bracket after an unfinished sentence carries the sentence on; it heads nothing.
    two = next(p for p in passages if p.paragraph == "2")
    assert two.text.endswith("proportionate next steps.")


def test_a_list_item_in_a_symbol_font_is_text_not_a_heading(count) -> None:
    # Older Ofsted PDFs print list marks in a symbol font: "\uf06e" (a square), "\uf02d" (a dash).
    text = (
        "Children looked after in this area\n"
        "\uf06e In the past 12 months:\n"
        "\uf02d there have been 48 adoptions\n"
        "\uf02d 29 children became the subject of special guardianship orders and 214 children ceased to be looked after\n"
    )
    passages = _split_text(text, count)
    assert any("there have been 48 adoptions" in p.text for p in passages)
    assert not any("adoptions" in p.section for p in passages)


def test_a_sentence_before_a_numbered_paragraph_is_text_not_its_heading(count) -> None:
    text = (
        "12. Assessments are not always updated when circumstances change, and risk is not reassessed when it should be.\n"
        "This results in poor-quality assessment of risk, and leaves some children at risk of harm. (Recommendation)\n"
        "13. The MARAC process is well established, with a wide range of agencies engaged in it.\n"
    )
    passages = _split_text(text, count)
    assert any("leaves some children at risk of harm. (Recommendation)" in p.text for p in passages)
    assert all("Recommendation" not in p.section for p in passages)


def test_a_list_of_short_numbered_lines_is_text_not_nested_headings(count) -> None:
    # An older Ofsted report's summary of grades: each line heads nothing, so every one must be a passage's text.
    text = (
        "Children’s services in Southwark are good\n"
        "1. Children who need help and protection Good\n"
        "2. Children looked after and achieving permanence Requires improvement\n"
        "2.1 Adoption performance Outstanding\n"
        "2.2 Experiences and progress of care leavers Requires improvement\n"
        "3. Leadership, management and governance Good\n"
        "Executive summary\n"
        "1. Children’s services in Southwark are good overall. Leaders and managers understand the strengths of their service.\n"
    )
    passages = _split_text(text, count)
    body = "\n".join(p.text for p in passages)
    for line in text.splitlines()[1:6]:
        assert line.split(" ", 1)[1] in body
    assert not any("Adoption" in p.section or "Experiences" in p.section for p in passages)
    assert next(p for p in passages if "governed" in p.text or "overall" in p.text).section == "Executive summary"


def test_two_numbered_headings_over_text_stay_headings(count) -> None:
    text = "2. Background\n2.1 Staffing\n2.1.1 The service has 40 social workers in post and 12 vacancies, filled by agency staff for now.\n"
    passages = _split_text(text, count)
    assert any(p.section.endswith("Staffing") for p in passages)


def test_a_heading_saying_what_requires_improvement_is_also_a_passage(count) -> None:
    text = (
        "The Local Safeguarding Children Board requires improvement\n"
        "1. The board has not yet set out how it will check the quality of multi-agency work with children at risk.\n"
    )
    passages = _split_text(text, count)
    assert any(p.text == "The Local Safeguarding Children Board requires improvement" for p in passages)


def test_a_number_carrying_on_an_unfinished_sentence_is_no_new_paragraph(count) -> None:
    text = (
        "1. Ensure that support to the children in care council enables effective representation of children of all ages.\n"
        "2. Ensure that the use of bed and breakfast accommodation for care leavers aged\n"
        "18 to 25 ceases.\n"
        "3. Review and update the corporate parenting strategy to give clarity to the work of the board.\n"
    )
    passages = _split_text(text, count)
    assert next(p for p in passages if p.paragraph == "2").text.endswith("aged\n18 to 25 ceases.")
    assert [p.paragraph for p in passages] == ["1", "2", "3"]
