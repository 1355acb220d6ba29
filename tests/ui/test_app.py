"""The whole app: built and launched inside the test process and driven through Gradio's API (a question, the
library tab, login with a users file); `assistant serve` refusing unsafe addresses; and, marked slow, the
served process under concurrent use."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from served import SAMPLES, free_port, serve

from assistant.answer.engine import Engine
from assistant.cli.main import cli
from assistant.library import open_index
from assistant.settings import Settings
from ui.app import launch
from ui.auth import USERS_FILE_ENV, Users, add_user, hash_password

PASSWORDS = {"edna": "edna-password", "rita": "rita-password"}
QUESTION = "How many agency social workers does West Sussex have?"
FOSTERING_QUESTION = "How many new foster carers did the Fostering Recruitment Hub approve?"
FOSTERING = (
    "Rutland County Council\n\nFostering Recruitment Progress Report\n\nCabinet, 14 July 2022\n\n"
    "1. The Fostering Recruitment Hub opened in April 2022 to speed up assessments of new carers.\n\n"
    "2. Between April and June 2022 the Fostering Recruitment Hub approved 14 new foster carers.\n\n"
    "3. A second recruitment campaign will start in September 2022.\n"
)

# Gradio opens asyncio event loops while it builds and serves the Blocks and never closes them (not our sockets).
in_process = pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")


# ---------------------------------------------------------------- the app inside the test process


@pytest.fixture(scope="module")
def library_engine(sample_index_dir: Path, embedder, tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """An engine over a writable copy of the sample index, with its own corpus folder for uploads."""
    folder = tmp_path_factory.mktemp("in-process")
    shutil.copytree(sample_index_dir, folder / "index")
    settings = Settings(index_dir=folder / "index", corpus_dir=folder / "corpus")
    return Engine(settings, index=open_index(settings, embedder=embedder))


@contextmanager
def launched(engine: Engine, users: Users | None) -> Iterator[str]:
    """The app as `assistant serve` runs it, on a free loopback port in a thread of this process; its URL."""
    import gc

    port = free_port()
    demo = launch(engine.settings, port=port, users=users, engine=engine, block=False)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()
        gc.collect()  # let Gradio's stray event loops go while the test's warning filter applies


def client(url: str, auth: tuple[str, str] | None = None):  # -> gradio_client.Client
    from gradio_client import Client

    return Client(url, auth=auth, verbose=False, download_files=False, analytics_enabled=False)


@in_process
def test_the_library_tab_in_process(library_engine: Engine, tmp_path: Path) -> None:
    from gradio_client import handle_file

    upload = tmp_path / "Fostering Report.txt"
    upload.write_text(FOSTERING, encoding="utf-8")
    with launched(library_engine, Users({})) as url:
        app = client(url)
        added = app.predict([handle_file(str(upload))], api_name="/upload")
        assert "Added" in added[0] and "Fostering Report.txt (kept as Fostering_Report.txt)" in added[0]
        assert "6 council reports" in added[2] and "Fostering_Report.txt" in added[3]
        assert (library_engine.settings.corpus_dir / "uploads" / "Fostering_Report.txt").is_file()
        _, _, email = app.predict(FOSTERING_QUESTION, [], "", "", [], api_name="/ask")
        assert "14 new foster carers" in email and "Fostering_Report.txt" in email

        removed = app.predict("Fostering_Report.txt", api_name="/remove")
        assert "Removed from the index" in removed[0] and "uploaded file was deleted" in removed[0]
        assert "5 council reports" in removed[1] and "Fostering_Report.txt" not in removed[2]
    assert "Fostering_Report.txt" not in library_engine.index.reports


@in_process
def test_a_question_in_process(library_engine: Engine) -> None:
    with launched(library_engine, Users({})) as url:
        question, chat, email = client(url).predict(QUESTION, [], "", "", [], api_name="/ask")
    assert question == "" and len(chat) == 2
    answer = " ".join(part["text"] for part in chat[1]["content"])
    assert "cra-answered" in answer and 'class="cra-card cra-citation"' in answer
    assert "75 FTE Agency Social Workers" in email and "References" in email


@in_process
def test_a_report_uploaded_after_a_question_is_found(sample_index_dir: Path, embedder, tmp_path: Path) -> None:
    """A session that asked before an upload, and a new session, both find the uploaded report."""
    from gradio_client import handle_file

    shutil.copytree(sample_index_dir, tmp_path / "index")
    settings = Settings(index_dir=tmp_path / "index", corpus_dir=tmp_path / "corpus")
    engine = Engine(settings, index=open_index(settings, embedder=embedder))
    upload = tmp_path / "fostering.txt"
    upload.write_text(FOSTERING, encoding="utf-8")
    with launched(engine, Users({})) as url:
        asked = client(url)
        asked.predict("How many new foster carers were approved?", [], "", "", [], api_name="/ask")
        assert "Added" in asked.predict([handle_file(str(upload))], api_name="/upload")[0]
        # A client keeps its session: this question continues the conversation begun above.
        _, _, follow_up = asked.predict(FOSTERING_QUESTION, [], "", "", [], api_name="/ask")
        _, _, fresh = client(url).predict(FOSTERING_QUESTION, [], "", "", [], api_name="/ask")
    assert "14 new foster carers" in follow_up
    assert "14 new foster carers" in fresh


@in_process
def test_login_with_a_users_file_in_process(
    library_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gradio_client.exceptions import AppError

    users_file = tmp_path / "users.txt"
    add_user(users_file, "edna", PASSWORDS["edna"], "editor")
    add_user(users_file, "rita", PASSWORDS["rita"], "reader")
    monkeypatch.setenv(USERS_FILE_ENV, str(users_file))
    victim = sorted(library_engine.index.reports)[-1]
    with launched(library_engine, None) as url:  # users from $ASSISTANT_USERS_FILE, as `assistant serve` loads them
        with httpx.Client(base_url=url, timeout=30) as http:
            assert http.get("config").status_code == 401
            assert http.post("login", data={"username": "rita", "password": "wrong-password"}).status_code == 400
        with pytest.raises(Exception):  # noqa: B017 - the client cannot even read the API without logging in
            client(url)
        reader = client(url, auth=("rita", PASSWORDS["rita"]))
        _, _, email = reader.predict(QUESTION, [], "", "", [], api_name="/ask")
        assert "75 FTE Agency Social Workers" in email
        with pytest.raises(AppError, match="Only editors"):
            reader.predict(victim, api_name="/remove")
        assert victim in library_engine.index.reports
        removed = client(url, auth=("edna", PASSWORDS["edna"])).predict(victim, api_name="/remove")
        assert "Removed from the index" in removed[0]
    assert victim not in library_engine.index.reports


# ---------------------------------------------------------------- `assistant serve`


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


# ---------------------------------------------------------------- the served process, under concurrent use


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
