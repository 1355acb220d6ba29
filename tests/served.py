"""Run `assistant serve` as a real process on a free port, for tests that talk to the server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "corpus" / "sample"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    corpus: Path
    index: Path
    log: Path


@contextmanager
def serve(
    folder: Path,
    *,
    index_from: Path | None = None,
    args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    timeout: float = 240,
) -> Iterator[Server]:
    """Serve the sample corpus from `folder`: a copy of a built index, or an empty one (serve ingests)."""
    corpus, index, log = folder / "corpus", folder / "index", folder / "serve.log"
    shutil.copytree(SAMPLES, corpus / "sample")
    if index_from is not None:
        shutil.copytree(index_from, index)
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    environment |= {
        "ASSISTANT_INDEX_DIR": str(index),
        "ASSISTANT_CORPUS_DIR": str(corpus),
        "HF_HUB_OFFLINE": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        **(env or {}),
    }
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "assistant", "serve", "--port", str(port), *args],
            cwd=folder, env=environment, stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"assistant serve exited with {process.returncode}:\n{log.read_text()}")
            try:
                if httpx.get(url + "gradio_api/info", timeout=2).status_code in (200, 401):
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline:
                raise RuntimeError(f"assistant serve did not start in {timeout:.0f}s:\n{log.read_text()}")
            time.sleep(0.5)
        yield Server(url, corpus, index, log)
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
