"""QA files: questions read from JSON lines, bad lines named, and the evidence that counts as gold."""

from __future__ import annotations

import pytest
from qa_files import AGENCY, MAYOR, write_qa

from assistant import evaluate


def test_gold_evidence_counts_only_in_the_questions_report() -> None:
    q = evaluate.Question("q", "?", "judgement", ["Overall effectiveness: Good"], [], [], None, docs=["a.pdf"])
    assert q.is_gold("Overall effectiveness: good", "a.pdf") and q.is_gold("Overall effectiveness: Good")
    assert not q.is_gold("Overall effectiveness: Good", "b.pdf")


def test_bad_qa_line_names_the_line(tmp_path) -> None:
    path = tmp_path / "qa.jsonl"
    path.write_text('{"question": "ok?"}\n{"nope": 1}\n', encoding="utf-8")
    with pytest.raises(Exception, match="qa.jsonl:2"):
        evaluate.load_questions(path)


def test_repeated_id_names_both_lines(tmp_path) -> None:
    path = write_qa(tmp_path / "qa.jsonl", {"id": "x", "question": "a?"}, {"id": "x", "question": "b?"})
    with pytest.raises(Exception, match="qa.jsonl:2: id 'x' repeats line 1"):
        evaluate.load_questions(path)


def test_a_line_reads_into_a_question_and_follow_ups_into_one_conversation(tmp_path) -> None:
    follow = {"id": "c", "question": "And in Worcestershire?", "type": "number", "follow_up_of": "a",
              "evidence": ["x"], "answer_all": ["1", "2"]}
    path = write_qa(tmp_path / "qa.jsonl", AGENCY, MAYOR, follow)
    agency, mayor, then = evaluate.load_questions(path)
    assert (agency.id, agency.kind, agency.docs, agency.answer_any) == ("a", "number", [AGENCY["doc"]], ["75"])
    assert agency.answerable and not mayor.answerable
    assert (then.follow_up_of, then.answer_all) == ("a", ["1", "2"])
    assert [[q.id for q in chain] for chain in evaluate.conversations([agency, mayor, then])] == [["a", "c"], ["b"]]


def test_normalise_folds_quotes_case_and_space() -> None:
    assert evaluate.normalise("  The  Council’s **“Good”**\nrating ") == "the council's \"good\" rating"
