"""A real `chroma run` on a free loopback port, for tests of server mode (ASSISTANT_CHROMA_URL)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def close_http_clients() -> None:
    """Close the HTTP sessions chromadb keeps per server (it never does), so no socket outlives the test."""
    from chromadb.api.shared_system_client import SharedSystemClient

    for identifier, system in list(SharedSystemClient._identifier_to_system.items()):
        if not str(system.settings.chroma_api_impl).endswith("FastAPI"):
            continue  # embedded clients of other tests stay as they are
        for component in system.components():
            session = getattr(component, "_session", None)
            if session is not None and hasattr(session, "close"):
                session.close()
        SharedSystemClient._identifier_to_system.pop(identifier, None)
        SharedSystemClient._identifier_to_refcount.pop(identifier, None)


@contextmanager
def chroma_run(folder: Path) -> Iterator[str]:
    """Start `chroma run` storing in `folder`; yields its URL; stops it (and its clients' sessions) after."""
    chroma = Path(sys.executable).with_name("chroma")
    if not chroma.exists():
        pytest.fail(f"{chroma} is missing: run `make install`")
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = folder / "chroma.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [str(chroma), "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(folder / "data")],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"chroma run did not start: {log_path.read_text()}")
            time.sleep(0.25)
        yield url
    finally:
        close_http_clients()
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
