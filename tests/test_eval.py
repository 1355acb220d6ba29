"""The quality bar on the dev questions, run in CI: the build fails if a figure drops below target."""

from __future__ import annotations

import json

import pytest
from conftest import DEV_QA

from assistant import evaluate


@pytest.mark.slow
def test_dev_questions_meet_the_quality_bar(shared_engine, tmp_path) -> None:
    assert DEV_QA.is_file(), f"{DEV_QA} is missing: the dev questions live in shared/ beside the repository"
    report = evaluate.run(DEV_QA, shared_engine)
    print(report.markdown())
    assert report.failures() == [], report.failures()


def test_metrics_on_a_made_up_file(shared_engine, tmp_path) -> None:
    rows = [
        {"id": "a", "question": "How many agency social workers does West Sussex have in post?", "type": "number",
         "evidence": ["Around 75 FTE Agency Social Workers are in post"], "answer_any": ["75"]},
        {"id": "b", "question": "Who is the Mayor of Darlington?", "type": "unanswerable", "evidence": [], "answer_any": []},
    ]
    path = tmp_path / "qa.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    report = evaluate.run(path, shared_engine, baselines=False)
    assert report.rows["assistant"]["recall@1"] == 1.0
    assert report.answers["answer_hit"] == 1.0 and report.answers["refusal_recall"] == 1.0
    assert "| assistant |" in report.markdown()


def test_bad_qa_line_names_the_line(tmp_path) -> None:
    path = tmp_path / "qa.jsonl"
    path.write_text('{"question": "ok?"}\n{"nope": 1}\n', encoding="utf-8")
    with pytest.raises(Exception, match="qa.jsonl:2"):
        evaluate.load_questions(path)
