"""Many users at once, in process: concurrent chat sessions, each a question then a follow-up, answered without
errors and without cross-talk (each conversation holds its own questions; each follow-up cites its own council)."""

from __future__ import annotations

import html
import re
import threading

import pytest
from served import free_port

from assistant.answer.engine import Engine
from ui.app import launch
from ui.auth import Users

# (question, its council, follow-up council): neighbouring sessions ask about different councils.
CONVERSATIONS = [
    ("What did Ofsted find at Worcestershire's latest monitoring visit?", "Worcestershire", "North Somerset"),
    ("What did Ofsted find at North Somerset's latest inspection?", "North Somerset", "Worcestershire"),
    ("What does West Sussex's improvement programme say about agency social workers?", "West Sussex", "Darlington"),
    ("How is Darlington's Improvement Board overseeing progress?", "Darlington", "West Sussex"),
]
SESSIONS = 8


def user_questions(chat: list[dict[str, object]]) -> list[str]:
    """The questions of a returned conversation, as typed."""
    out = []
    for message in chat:
        if message.get("role") != "user":
            continue
        content = message.get("content")
        text = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict)) if isinstance(content, list) else str(content)
        out.append(html.unescape(re.sub(r"<[^>]+>", "", text)).strip())
    return out


def cited_part(email: str) -> str:
    """The references (or closest passages) of an answer's email text."""
    for heading in ("References", "Closest passages"):
        if heading in email:
            return email.split(heading, 1)[1]
    return ""


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_concurrent_sessions_with_follow_ups_stay_apart(shared_engine: Engine) -> None:
    import gc

    from gradio_client import Client

    port = free_port()
    demo = launch(shared_engine.settings, port=port, users=Users({}), engine=shared_engine, block=False)
    url = f"http://127.0.0.1:{port}/"
    problems: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(SESSIONS)

    def converse(n: int) -> None:
        question, council, other = CONVERSATIONS[n % len(CONVERSATIONS)]
        try:
            client = Client(url, verbose=False, download_files=False, analytics_enabled=False, ssl_verify=False)
        finally:
            start.wait()
        asked: list[str] = []
        for text, expected in ((question, council), (f"What about {other}?", other)):
            asked.append(text)
            try:
                _, chat, email = client.predict(text, [], "", "", [], api_name="/ask")
            except Exception as exc:  # noqa: BLE001 - every session's failure is reported together below
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if user_questions(chat) != asked or len(chat) != 2 * len(asked):
                    problem = f"conversation {user_questions(chat)!r}, asked {asked!r}"
                elif "Could not answer" in email or expected not in cited_part(email):
                    problem = f"{text!r} not answered from {expected}: {email[-200:]!r}"
                else:
                    continue
            with lock:
                problems.append(f"session {n}: {problem}")

    try:
        threads = [threading.Thread(target=converse, args=(n,)) for n in range(SESSIONS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=240)
        assert not any(thread.is_alive() for thread in threads), "a session never finished"
    finally:
        demo.close()
        gc.collect()  # let Gradio's stray event loops go while the warning filter applies
    assert not problems, "\n".join(problems)
