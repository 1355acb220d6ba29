"""LLM-written answers against a local server that speaks the OpenAI protocol: checked, or fallen back."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from assistant.answer import Engine
from assistant.settings import Settings


class FakeLLM:
    """Scripted replies to /v1/chat/completions, and a record of what was asked."""

    def __init__(self) -> None:
        self.replies: list[tuple[int, str]] = []
        self.requests: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
                status, content = fake.replies.pop(0) if fake.replies else (200, "NOT IN REPORTS")
                payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"


@pytest.fixture()
def llm() -> Iterator[FakeLLM]:
    fake = FakeLLM()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture()
def llm_engine(shared_engine, llm):
    settings = Settings(index_dir=shared_engine.settings.index_dir, llm_url=llm.url, llm_model="tiny", llm_api_key="secret")
    return Engine(settings, index=shared_engine.index)


QUESTION = "How many agency social workers does West Sussex have in post?"


def test_llm_answer_is_used_when_every_sentence_is_cited_and_supported(llm_engine, llm) -> None:
    llm.replies.append((200, "West Sussex has around 75 FTE agency social workers in post to cover vacancies [1]."))
    answer = llm_engine.answer(QUESTION)
    assert answer.written_by == "llm" and not answer.refused
    assert answer.answer.endswith("[1].")
    assert answer.citations[0].paragraph == "8"
    assert "75 FTE" in answer.citations[0].quote and answer.citations[0].quote in answer.citations[0].passage
    sent = llm.requests[0]
    assert sent["path"] == "/v1/chat/completions" and sent["auth"] == "Bearer secret"
    assert sent["body"]["model"] == "tiny" and "[1]" in sent["body"]["messages"][1]["content"]


@pytest.mark.parametrize(
    "reply",
    [
        "West Sussex has 75 agency social workers.",  # no citation
        "West Sussex has 75 agency social workers [9].",  # a passage it was not given
        "The council spends four million pounds on consultants from Mars [1].",  # not in the passage
    ],
)
def test_unchecked_llm_answers_fall_back_to_extractive(llm_engine, llm, reply: str) -> None:
    llm.replies.append((200, reply))
    answer = llm_engine.answer(QUESTION)
    assert answer.written_by == "extractive" and not answer.refused
    assert "75 FTE" in answer.answer


def test_llm_server_error_falls_back(llm_engine, llm) -> None:
    llm.replies.append((500, "boom"))
    answer = llm_engine.answer(QUESTION)
    assert answer.written_by == "extractive" and "75 FTE" in answer.answer


def test_llm_saying_not_in_reports_refuses(llm_engine, llm) -> None:
    llm.replies.append((200, "NOT IN REPORTS"))
    assert llm_engine.answer(QUESTION).refused


def test_extractive_refusal_is_not_overridden(llm_engine, llm) -> None:
    answer = llm_engine.answer("Who is the Mayor of North Somerset?")
    assert answer.refused and llm.requests == []
