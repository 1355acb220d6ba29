"""`assistant ask`, `search` and `chat` through the command line: exit codes and parsed JSON."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from assistant.cli.main import cli


@pytest.fixture()
def run(sample_index_dir, monkeypatch):
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(sample_index_dir))

    def invoke(*args: str, stdin: str | None = None):
        return CliRunner().invoke(cli, list(args), input=stdin, obj={})

    return invoke


def test_ask_json_prints_one_answer_object(run) -> None:
    result = run("ask", "--json", "Who is the Chief Executive of West Sussex County Council?")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["refused"] is False and "Becky Shaw" in data["answer"]
    assert data["citations"][0]["source"] == "004_db1cafc63c8d4454.txt"
    assert data["standalone_question"] == data["question"]


def test_ask_jsonl_keeps_conversations_apart(run) -> None:
    lines = [
        {"question": "When is the next Ofsted monitoring visit in Worcestershire?", "conversation": "c1"},
        {"question": "Who is the Chief Executive of West Sussex County Council?", "conversation": "c2"},
        {"question": "what about West Sussex?", "conversation": "c1"},
    ]
    result = run("ask", "--jsonl", stdin="\n".join(json.dumps(line) for line in lines) + "\n")
    assert result.exit_code == 0, result.output
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["conversation"] for a in answers] == ["c1", "c2", "c1"]
    assert answers[2]["standalone_question"] == "When is the next Ofsted monitoring visit in West Sussex?"


def test_ask_readable_output_lists_citations(run) -> None:
    result = run("ask", "How many agency social workers does West Sussex have in post?")
    assert result.exit_code == 0
    assert "75 FTE" in result.stdout and "para 8" in result.stdout


def test_ask_with_empty_index_says_what_to_do(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "empty"))
    result = CliRunner().invoke(cli, ["ask", "anything?"], obj={})
    assert result.exit_code == 1
    assert "assistant ingest" in result.output


def test_ask_bad_jsonl_is_a_usage_error(run) -> None:
    result = run("ask", "--jsonl", stdin="not json\n")
    assert result.exit_code == 2
    assert "line 1" in result.output


def test_search_json_with_filter(run) -> None:
    result = run("search", "--json", "monitoring visit", "-k", "3", "--council", "Darlington")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 3 and all(r["council"] == "Darlington" for r in rows)
    assert set(rows[0]) >= {"source", "title", "council", "committee", "date", "paragraph", "section", "text", "score"}


def test_search_jsonl_prints_one_result_a_line(run) -> None:
    lines = [
        json.dumps({"question": "monitoring visit", "council": "Darlington"}),
        "",
        json.dumps({"question": "agency social workers", "id": "ignored"}),
    ]
    result = run("search", "--jsonl", "-k", "2", stdin="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["question"] for r in rows] == ["monitoring visit", "agency social workers"]
    assert all(set(r) == {"question", "hits"} and len(r["hits"]) == 2 for r in rows)
    assert all(h["council"] == "Darlington" for h in rows[0]["hits"])
    single = json.loads(run("search", "--json", "agency social workers", "-k", "2").stdout)
    assert rows[1]["hits"] == single


@pytest.mark.parametrize(
    "bad, says",
    [
        ("not json", "line 2: expected JSON"),
        ('{"q": "no question key"}', "line 2: expected JSON"),
        ('{"question": "  "}', "line 2: expected JSON"),
        ('{"question": "ok", "council": 7}', "line 2: councils"),
        ('{"question": "ok", "date_from": ["2020"]}', "line 2: date_from"),
    ],
)
def test_search_jsonl_bad_line_names_it(run, bad: str, says: str) -> None:
    result = run("search", "--jsonl", stdin='{"question": "monitoring visit"}\n' + bad + "\n")
    assert result.exit_code == 1
    assert says in result.stderr


# ---------------------------------------------------------------- input at the edges


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["search", "monitoring visit", "--from", "notadate"], "notadate"),
        (["search", "monitoring visit", "--from", "2020-13"], "2020-13"),
        (["ask", "When is the visit?", "--to", "2020-02-30"], "2020-02-30"),
        (["chat", "--from", "soon"], "soon"),
        (["ask", "When is the visit?", "--from", "2021", "--to", "2020-03"], "2021"),
        (["search", "monitoring visit", "-k", "0"], "0"),
        (["search", "monitoring visit", "-k", "-1"], "-1"),
        (["search", "monitoring visit", "-k", "101"], "101"),
        (["ask", "   "], "QUESTION"),
        (["ask", "\t\n"], "QUESTION"),
        (["search", "  "], "QUERY"),
    ],
)
def test_bad_input_is_a_usage_error_naming_the_value(run, args: list[str], named: str) -> None:
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert named in result.output and "Traceback" not in result.output


def test_a_blank_jsonl_question_is_a_usage_error(run) -> None:
    result = run("ask", "--jsonl", stdin='{"question": "   "}\n')
    assert result.exit_code == 2 and "stdin line 1" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["ask", "--council", "Atlantis", "How many agency social workers are there?"],
        ["ask", "--from", "2030", "How many agency social workers are there?"],
        ["ask", "--report", "nonexistent.pdf", "How many agency social workers are there?"],
        # The question names Darlington, whose reports are older than the date filter.
        ["ask", "--from", "2021", "How is Darlington's Improvement Board overseeing progress?"],
        ["search", "--council", "Atlantis", "agency social workers"],
        ["search", "--from", "2030", "agency social workers"],
    ],
)
def test_filters_that_match_nothing_say_so(run, args: list[str]) -> None:
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert "No reports match these filters" in result.output


def test_filters_that_match_nothing_in_json(run) -> None:
    answer = run("ask", "--json", "--from", "2030", "How many agency social workers are there?")
    assert answer.exit_code == 0, answer.output
    data = json.loads(answer.stdout)
    assert data["refused"] is True and data["answer"].startswith("No reports match these filters (from 2030)")
    hits = run("search", "--json", "--council", "Atlantis", "agency social workers")
    assert hits.exit_code == 0 and json.loads(hits.stdout) == []
    lines = run("search", "--jsonl", stdin='{"question": "agency social workers", "council": "Atlantis"}\n')
    assert lines.exit_code == 0, lines.output
    assert json.loads(lines.stdout)["hits"] == []


def test_chat_with_filters_that_match_nothing_says_so(run) -> None:
    result = run("chat", "--council", "Atlantis", stdin="How many agency social workers are there?\n/quit\n")
    assert result.exit_code == 0, result.output
    assert "No reports match these filters (council Atlantis)" in result.output
