"""The web app without a browser: rendering, login, uploads, the server's address rule and sessions."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from served import SAMPLES, free_port, serve

from assistant.cli.main import cli
from assistant.errors import SettingsError
from assistant.types import Answer, Citation, IndexedReport, Passage, Report, SearchHit
from ui import render
from ui.auth import Users, check_bind, hash_password, is_loopback, verify_password
from ui.library import add_uploads, remove_report, safe_name

EVIL = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'


def _passage(text: str, paragraph: str = "8", **fields: object) -> Passage:
    values: dict[str, object] = {
        "id": f"r.txt#{paragraph}",
        "source": "r.txt",
        "title": "Progress Report",
        "council": "West Sussex",
        "date": "2021-03-19",
        "paragraph": paragraph,
        "ordinal": 0,
        "start": 0,
        "end": len(text),
        "text": text,
    }
    values.update(fields)
    return Passage(**values)  # type: ignore[arg-type]


def _answer(**fields: object) -> Answer:
    passage = _passage("Staffing is stable. Around 75 agency social workers are in post. More later.")
    quote = "Around 75 agency social workers are in post."
    values: dict[str, object] = {
        "question": "How many agency social workers?",
        "standalone_question": "How many agency social workers?",
        "answer": f"{quote} [1]",
        "refused": False,
        "citations": [Citation.from_passage(1, passage, quote)],
    }
    values.update(fields)
    return Answer(**values)  # type: ignore[arg-type]


# ---------------------------------------------------------------- rendering


def test_answer_keeps_markers_and_cites_in_a_card() -> None:
    html = render.answer_html(_answer())
    assert '<span class="cra-ref">[1]</span>' in html
    assert "cra-answered" in html and "cra-refused" not in html
    assert "West Sussex · Progress Report · 19 March 2021 · para 8" in html
    assert '<mark class="cra-quote">Around 75 agency social workers are in post.</mark>' in html
    assert "\n" not in html  # one HTML block: the chat's Markdown never reads report text


def test_card_shows_neighbouring_paragraphs_and_links_to_the_report() -> None:
    before = _passage("The paragraph before.", "7", id="r.txt#7")
    after = _passage("The paragraph after.", "9", id="r.txt#9")
    answer = _answer()
    card = render.citation_card(answer.citations[0], render.Context(before, after))
    assert card.index("para 7") < card.index("cra-quote") < card.index("para 9")
    assert "The paragraph before." in card and "The paragraph after." in card
    assert 'href="?report=r.txt&amp;passage=r.txt%238&amp;q=20-64"' in card
    assert 'target="_blank"' in card


def test_llm_worded_answers_say_so() -> None:
    assert "Worded by the language model" in render.answer_html(_answer(written_by="llm"))
    assert "Worded by the language model" not in render.answer_html(_answer())


def test_refusal_looks_different_and_lists_closest_passages() -> None:
    hit = SearchHit(passage=_passage("Something nearby.", "3"), score=0.1)
    html = render.answer_html(
        _answer(answer="The reports do not answer this question.", refused=True, citations=[], closest=[hit])
    )
    assert "cra-refused" in html and "Not found in the reports" in html
    assert "Closest passages" in html and "cra-closest" in html and "Something nearby." in html
    assert "cra-quote" not in html


@pytest.mark.parametrize(
    "where",
    ["text", "title", "council", "source", "section", "question", "paragraph"],
)
def test_untrusted_text_is_escaped_everywhere(where: str) -> None:
    text = f"Agency staff {EVIL} are in post." if where == "text" else "Agency staff are in post."
    fields: dict[str, object] = {"text": text, "end": len(text)}
    if where in ("title", "council", "source", "section", "paragraph"):
        fields[where] = EVIL
    passage = _passage(**fields)  # type: ignore[arg-type]
    citation = Citation.from_passage(1, passage, text)
    question = EVIL if where == "question" else "q"
    answer = _answer(question=question, standalone_question=question + " ?", answer=f"{text} [1]", citations=[citation])
    report = Report(source=passage.source, text=text, content_hash="x", title=passage.title, council=passage.council)
    outputs = [
        render.answer_html(answer),
        render.question_html(question),
        render.library_html({passage.source: IndexedReport(hash="0", title=passage.title, council=passage.council, passages=1)}),
        render.report_html(report, [passage], target=passage.id, span=(0, 5)),
        render.outcomes_html([render.FileOutcome(passage.source, "failed", message=f"{passage.source}: {EVIL}")]),
        render.filters_html({"councils": [passage.council], "sources": [passage.source]}, {passage.source: passage.title}),
    ]
    for html in outputs:
        assert "<script" not in html and "<img" not in html, html
    assert any("&lt;script&gt;" in html for html in outputs)


def test_answer_body_turns_bullets_into_a_list() -> None:
    body = render.answer_body("Progress:\n- first [1]\n- second *not bold* [2]")
    assert body == (
        '<p>Progress:</p><ul><li>first <span class="cra-ref">[1]</span></li>'
        '<li>second *not bold* <span class="cra-ref">[2]</span></li></ul>'
    )


@pytest.mark.parametrize(
    ("date", "shown"),
    [("2021-03-19", "19 March 2021"), ("2020-02", "February 2020"), ("2016", "2016"), ("", "undated"), ("soon", "soon")],
)
def test_format_date(date: str, shown: str) -> None:
    assert render.format_date(date) == shown


def test_email_text_has_answer_then_numbered_references() -> None:
    text = render.email_text(_answer())
    assert text.splitlines() == [
        "How many agency social workers?",
        "",
        "Around 75 agency social workers are in post. [1]",
        "",
        "References",
        '[1] West Sussex, "Progress Report", 19 March 2021, para 8 (r.txt)',
        '    "Around 75 agency social workers are in post."',
    ]


def test_filters_are_described_in_words() -> None:
    assert render.filters_text({}) == ""
    assert render.filters_text(
        {"councils": ["West Sussex", "Darlington"], "date_from": "2020", "date_to": "2021-03", "sources": ["a.txt"]},
        {"a.txt": "Progress Report"},
    ) == "West Sussex, Darlington · from 2020 · to 2021-03 · Progress Report"
    assert "all reports" in render.filters_html({})


def test_report_reader_marks_the_target_paragraph_and_quote() -> None:
    first, second = "First paragraph.", "Second paragraph holds the quote here."
    text = f"Workforce\n\n- 1**\n{first}\n\n- 2**\n{second}"
    p1 = _passage(first, "1", id="a", ordinal=0, start=text.index(first), end=text.index(first) + len(first))
    p2 = _passage(second, "2", id="b", ordinal=1, start=text.index(second), end=len(text))
    html = render.report_html(Report(source="r.txt", text=text, content_hash="x", title="T"), [p1, p2], target="b", span=(27, 32))
    assert '<div class="cra-gap">Workforce</div>' in html
    assert 'id="cra-p-1"' in html and 'class="cra-para cra-cited cra-target"' in html
    assert '<mark class="cra-quote">quote</mark>' in html
    assert html.count("cra-target") == 1
    assert "- 1" not in html and html.count("cra-gap") == 1  # bare paragraph numbers are not repeated


# ---------------------------------------------------------------- login and address


def test_password_hash_round_trip() -> None:
    encoded = hash_password("correct horse", n=2**10)
    assert encoded.startswith("scrypt$1024$8$1$")
    assert verify_password("correct horse", encoded)
    assert not verify_password("wrong horse", encoded)
    assert not verify_password("correct horse", "scrypt$garbage")
    assert hash_password("correct horse", n=2**10) != encoded  # salted


def test_users_from_file_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = tmp_path / "users.txt"
    file.write_text(f"# who may log in\nalice:{hash_password('alice-pass', n=2**10)}\n\n", encoding="utf-8")
    monkeypatch.setenv("ASSISTANT_USERS", f"bob:{hash_password('bob-pass', n=2**10)}")
    users = Users.load(file)
    assert len(users) == 2
    assert users.check("alice", "alice-pass") and users.check("bob", "bob-pass")
    assert not users.check("alice", "bob-pass") and not users.check("carol", "x")
    monkeypatch.setenv("ASSISTANT_USERS_FILE", str(file))
    monkeypatch.delenv("ASSISTANT_USERS")
    assert len(Users.load()) == 1


@pytest.mark.parametrize(
    ("content", "problem"),
    [("alice:plaintext\n", "line 1: expected 'name:scrypt$"), ("# only a comment\n", "lists no users"), (":scrypt$1$2$3$4$5\n", "line 1")],
)
def test_bad_users_file_is_named(tmp_path: Path, content: str, problem: str) -> None:
    file = tmp_path / "users.txt"
    file.write_text(content, encoding="utf-8")
    with pytest.raises(SettingsError, match=re.escape(problem)) as info:
        Users.load(file, inline="")
    assert str(file) in str(info.value)


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("::1", True), ("localhost", True), ("127.0.0.2", True), ("0.0.0.0", False), ("192.168.1.5", False), ("example.org", False)])
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_non_loopback_needs_login() -> None:
    check_bind("127.0.0.1", Users({}))
    check_bind("0.0.0.0", Users({"alice": hash_password("pw", n=2**10)}))
    with pytest.raises(SettingsError, match="refusing to listen on 0.0.0.0 without login"):
        check_bind("0.0.0.0", Users({}))


def test_serve_refuses_network_address_without_login() -> None:
    started = time.perf_counter()
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--port", str(free_port())])
    assert result.exit_code == 1
    assert "refusing to listen on 0.0.0.0 without login" in result.output
    assert "ASSISTANT_USERS_FILE" in result.output
    assert time.perf_counter() - started < 30  # refused before loading the model or the index


def test_serve_rejects_a_bad_users_file(tmp_path: Path) -> None:
    users = tmp_path / "users.txt"
    users.write_text("alice:secret\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--users", str(users)])
    assert result.exit_code == 1
    assert f"users file {users} line 1" in result.output


# ---------------------------------------------------------------- uploads


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\Windows\\win.ini", "win.ini"),
        ("<img src=x onerror=alert(1)>.txt", "img_src_x_onerror_alert_1.txt"),
        (".hidden.md", "hidden.md"),
        ("Report 2021 (final).PDF", "Report_2021_final.pdf"),
        ("...", "report"),
        ("", "report"),
        ("Ofsted – lettre d’été.docx", "Ofsted_lettre_dete.docx"),
    ],
)
def test_safe_name(sent: str, kept: str) -> None:
    assert safe_name(sent) == kept


REPORT = (
    "Exampleshire County Council\n\nFostering Recruitment Progress Report\n\n"
    "1. The Fostering Recruitment Hub approved 14 new foster carers between April and June 2022.\n\n"
    "2. A second recruitment campaign will start in September 2022.\n"
)


def test_uploads_are_stored_safely_and_bad_ones_not_kept(sample_index, tmp_path: Path) -> None:
    good = tmp_path / "in" / "good.txt"
    bad = tmp_path / "in" / "broken.pdf"
    clash = tmp_path / "in" / "000_593dbc0cfa530023.txt"
    good.parent.mkdir()
    good.write_text(REPORT, encoding="utf-8")
    bad.write_bytes(b"%PDF-1.4 this is not really a pdf")
    clash.write_text(REPORT.replace("14 new", "15 new"), encoding="utf-8")
    program = tmp_path / "in" / "notes.exe"
    program.write_bytes(b"MZ\x90\x00")
    outcomes = add_uploads(
        sample_index,
        [(good, "../Fostering Report.txt"), (bad, "broken.pdf"), (clash, clash.name), (program, "notes.exe")],
    )
    uploads = Path(sample_index.settings.corpus_dir) / "uploads"
    assert [o.status for o in outcomes] == ["added", "failed", "added", "failed"]
    assert outcomes[0].name == "../Fostering Report.txt (kept as Fostering_Report.txt)"
    assert outcomes[1].message.startswith("broken.pdf: ")
    assert outcomes[2].name.endswith("(kept as 000_593dbc0cfa530023-2.txt)")  # the sample of that name is untouched
    assert outcomes[3].message == "notes.exe: unsupported file type '.exe' (convert it to one of .txt, .md, .pdf, .docx, .html, .htm)"
    assert sorted(p.name for p in uploads.iterdir() if p.is_file()) == ["000_593dbc0cfa530023-2.txt", "Fostering_Report.txt"]
    assert not list((uploads / ".incoming").iterdir())
    assert {"Fostering_Report.txt", "000_593dbc0cfa530023-2.txt", "000_593dbc0cfa530023.txt"} <= set(sample_index.reports)

    removed = remove_report(sample_index, "Fostering_Report.txt")
    assert removed.status == "removed" and "uploaded file was deleted" in removed.message
    assert not (uploads / "Fostering_Report.txt").exists() and "Fostering_Report.txt" not in sample_index.reports
    kept = remove_report(sample_index, "001_6c25ee4f623b7f02.txt")
    assert "was kept" in kept.message
    assert remove_report(sample_index, "nope.txt").status == "failed"


# ---------------------------------------------------------------- sessions


def test_sessions_keep_their_own_history_and_filters(engine) -> None:
    from ui.app import Handlers

    h = Handlers(engine)
    _, chat_a, a, _ = h.ask("How many agency social workers does West Sussex have?", None, [], "", "", [])
    _, chat_b, b, _ = h.ask("What did Ofsted find at the latest monitoring visit?", None, ["Worcestershire"], "", "", [])
    _, chat_b, b, email_b = h.ask("And what was the vacancy gap?", b, ["Worcestershire"], "", "", [])
    _, chat_a, a, email_a = h.ask("And what was the vacancy gap?", a, [], "", "", [])
    assert a is not b and len(chat_a) == len(chat_b) == 4
    assert "agency social workers" not in " ".join(m["content"] for m in chat_b)
    assert a.answers[-1].standalone_question == "What was the vacancy gap in West Sussex?"
    assert "West Sussex" not in b.answers[-1].standalone_question
    assert all(c.council == "Worcestershire" for c in b.answers[-1].citations)
    assert "5.34%" in email_a and "5.34%" not in email_b


def test_bad_date_filter_is_explained(engine) -> None:
    import gradio as gr

    from ui.app import Handlers

    h = Handlers(engine)
    with pytest.raises(gr.Error, match="From date '2020/03' is not a date: use 2020, 2020-03 or 2020-03-19"):
        h.ask("Any question?", None, [], "2020/03", "", [])
    assert "after To date" in h.scope([], "2021", "2020", [])


@pytest.mark.parametrize(("councils", "date_from"), [(["Atlantis"], ""), ([], "2030")])
def test_filters_that_match_no_report_say_so_in_the_chat(engine, councils: list[str], date_from: str) -> None:
    from ui.app import Handlers

    _, messages, _, _ = Handlers(engine).ask("How many agency social workers are there?", None, councils, date_from, "", [])
    assert "No reports match these filters" in messages[-1]["content"]


@pytest.fixture(scope="module")
def running(sample_index_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """`assistant serve` on a free loopback port over a copy of the sample index."""
    with serve(tmp_path_factory.mktemp("served"), index_from=sample_index_dir) as server:
        yield server.url


@pytest.mark.slow
def test_two_simultaneous_conversations_stay_apart(running: str) -> None:
    from gradio_client import Client

    first = ["How many agency social workers does West Sussex have?", "And what was the vacancy gap?"]
    second = ["What did Ofsted find at Worcestershire's latest monitoring visit?", "Who led it?"]
    results: dict[str, list] = {}

    def converse(name: str, questions: list[str]) -> None:
        client = Client(running, verbose=False)
        for q in questions:
            results[name] = list(client.predict(q, [], "", "", [], api_name="/ask"))

    threads = [threading.Thread(target=converse, args=(n, qs)) for n, qs in (("a", first), ("b", second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    chat_a, chat_b = results["a"][1], results["b"][1]
    text_a = " ".join(part["text"] for m in chat_a for part in m["content"])
    text_b = " ".join(part["text"] for m in chat_b for part in m["content"])
    assert len(chat_a) == len(chat_b) == 4
    assert "agency social workers" in text_a and "Ofsted find at Worcestershire" not in text_a
    assert "Ofsted find at Worcestershire" in text_b and "agency social workers" not in text_b
    assert "Understood as: What was the vacancy gap in West Sussex?" in text_a
    assert "5.34%" in results["a"][2]


@pytest.mark.slow
def test_a_slow_ingest_does_not_block_questions(running: str, tmp_path: Path) -> None:
    from gradio_client import Client, handle_file
    from gradio_client.utils import Status

    big = tmp_path / "big-report.txt"
    texts = [p.read_text(encoding="utf-8") for p in sorted(SAMPLES.glob("*.txt"))]
    big.write_text("\n\n".join(f"{t}\n\nCopy {i}." for i in range(4) for t in texts), encoding="utf-8")
    uploader, asker = Client(running, verbose=False), Client(running, verbose=False)
    job = uploader.submit([handle_file(str(big))], api_name="/upload")
    deadline = time.time() + 60
    while job.status().code not in (Status.PROCESSING, Status.PROGRESS) and time.time() < deadline:
        time.sleep(0.05)
    started = time.perf_counter()
    answer = asker.predict("How many agency social workers does West Sussex have?", [], "", "", [], api_name="/ask")
    asked = time.perf_counter() - started
    assert not job.done(), f"the ingest finished first; the question took {asked:.1f}s"
    assert "75 FTE Agency Social Workers" in answer[2]
    outcome = job.result(timeout=300)[0]
    assert "Added" in outcome and "big-report.txt" in outcome


@pytest.mark.slow
def test_login_is_required_on_a_network_address(tmp_path: Path) -> None:
    line = f"alice:{hash_password('alice-pass', n=2**10)}"
    with serve(tmp_path, args=("--host", "0.0.0.0"), env={"ASSISTANT_USERS": line}) as server, httpx.Client(
        base_url=server.url, timeout=30
    ) as http:
        assert "login required: 1 user" in server.log.read_text()
        assert http.get("/config").status_code == 401
        assert http.post("/login", data={"username": "alice", "password": "nope"}).status_code == 400
        assert http.post("/login", data={"username": "alice", "password": "alice-pass"}).status_code == 200
        assert http.get("/config").status_code == 200
