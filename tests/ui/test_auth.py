"""Accounts: password hashes, users files, the address rule, login on any host,
nothing of the library before login, failed logins slowed per user and per address, and only editors change
the library (on the server)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from served import serve

from assistant.errors import SettingsError
from ui.auth import Throttle, Users, check_bind, hash_password, is_loopback, verify_password

PASSWORDS = {"edna": "edna-password", "rita": "rita-password"}


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


def test_throttle_books_attempts_in_turn_with_doubling_waits() -> None:
    # Attempts made at once queue: 0, 0, 0, then 1 s, then 1 + 2 s; beyond the hold, refused outright.
    throttle = Throttle(free=2, base=1.0, hold=3.5)
    waits = [throttle.begin(["user:x"]) for _ in range(6)]
    assert [None if w is None else round(w) for w in waits] == [0, 0, 0, 1, 3, None]
    throttle.end(["user:x"], ok=True)
    assert throttle.begin(["user:x"]) == 0  # a success clears the user's record


# ---------------------------------------------------------------- the served app


@dataclass
class App:
    url: str
    sources: list[str]
    councils: list[str]
    index_dir: Path

    def reports(self) -> dict[str, Any]:
        """The served index's reports, as another process sees them."""
        from assistant.index.index import Index
        from assistant.settings import Settings

        return dict(Index(Settings(index_dir=self.index_dir)).reports)


@pytest.fixture(scope="module")
def app(sample_index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """`assistant serve` with a users file, on loopback, over a copy of the sample index."""
    from assistant.index.index import Index
    from assistant.settings import Settings
    from ui.auth import add_user

    folder = tmp_path_factory.mktemp("auth")
    users_file = folder / "users.txt"
    add_user(users_file, "edna", PASSWORDS["edna"], "editor")
    add_user(users_file, "rita", PASSWORDS["rita"], "reader")
    reports = Index(Settings(index_dir=sample_index_dir)).reports
    councils = Index(Settings(index_dir=sample_index_dir)).councils
    with serve(folder, index_from=sample_index_dir, env={"ASSISTANT_USERS_FILE": str(users_file)}) as server:
        yield App(server.url.rstrip("/"), sorted(reports), councils, server.index)


def _client(app: App, address: str = "127.0.0.1") -> httpx.Client:
    return httpx.Client(base_url=app.url, timeout=60, transport=httpx.HTTPTransport(local_address=address))


def _login(http: httpx.Client, name: str, password: str | None = None) -> httpx.Response:
    return http.post("/login", data={"username": name, "password": password or PASSWORDS[name]})


@pytest.mark.parametrize(
    "route", ["/", "/?view=api", "/config", "/info", "/gradio_api/info", "/gradio_api/info?all_endpoints=true",
              "/gradio_api/openapi.json", "/openapi.json", "/gradio_api/config", "/docs"],
)
def test_nothing_of_the_library_before_login(app: App, route: str) -> None:
    with _client(app) as http:
        response = http.get(route)
    assert response.status_code in (200, 401, 404), response.status_code
    for name in [*app.sources, *app.councils]:
        assert name not in response.text, f"{route} shows {name!r} before login"


def test_login_is_required_on_loopback_with_a_users_file(app: App) -> None:
    with _client(app) as http:
        assert http.get("/config").status_code == 401
        assert http.post("/gradio_api/call/ask", json={"data": ["hi", None, [], "", "", []]}).status_code == 401
        assert _login(http, "rita").status_code == 200
        config = http.get("/config")
        assert config.status_code == 200


def _call(http: httpx.Client, api_name: str, data: list[Any]) -> tuple[str, str]:
    """Run one event through Gradio's HTTP API; (last SSE event name, its data)."""
    started = http.post(f"/gradio_api/call/{api_name}", json={"data": data})
    assert started.status_code == 200, started.text
    event_id = started.json()["event_id"]
    event, payload = "", ""
    with http.stream("GET", f"/gradio_api/call/{api_name}/{event_id}") as stream:
        for line in stream.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                payload = line.split(":", 1)[1].strip()
    return event, payload


def test_a_reader_cannot_remove_or_upload_through_the_api(app: App) -> None:
    victim = app.sources[0]
    with _client(app) as http:
        assert _login(http, "rita").status_code == 200
        event, payload = _call(http, "remove", [victim])
        assert event == "error" and "Only editors" in payload
        assert victim in app.reports()
        event, payload = _call(http, "upload", [[]])
        assert event == "error" and "Only editors" in payload


def test_an_editor_can_remove(app: App) -> None:
    victim = app.sources[-1]
    with _client(app) as http:
        assert _login(http, "edna").status_code == 200
        event, payload = _call(http, "remove", [victim])
        assert event == "complete", payload
        assert "Removed from the index" in json.loads(payload)[0]
    assert victim not in app.reports()


def _timed_failure(http: httpx.Client, name: str) -> float:
    started = time.monotonic()
    assert _login(http, name, "wrong-password").status_code == 400
    return time.monotonic() - started


def test_failed_logins_are_slowed_per_user(app: App) -> None:
    # Each guess from a new address: only the user's own record slows them.
    times = []
    for n in range(6):
        with _client(app, f"127.0.0.{10 + n}") as http:
            times.append(_timed_failure(http, "edna"))
    assert max(times[:4]) < 0.7 and times[4] >= 0.7 and times[5] >= 1.5, times
    with _client(app, "127.0.0.30") as http:
        started = time.monotonic()
        assert _login(http, "edna").status_code == 200  # the right password still works, after the wait
        assert time.monotonic() - started >= 3.0


def test_failed_logins_are_slowed_per_address(app: App) -> None:
    # A new name each guess, all from one address: the address's record slows them.
    with _client(app, "127.0.0.40") as http:
        times = [_timed_failure(http, f"guess{n}") for n in range(6)]
    assert max(times[:4]) < 0.7 and times[4] >= 0.7 and times[5] >= 1.5, times
    with _client(app, "127.0.0.41") as http:
        assert _timed_failure(http, "guess-elsewhere") < 0.7  # another address is not held back
