"""Many users at once: concurrent chat sessions against `assistant serve`, each a question then a follow-up.

    python benchmarks/load.py                      # 20 sessions
    python benchmarks/load.py --sessions 8 --concurrency 1

The sample corpus is copied into a temporary folder and `assistant serve` (which ingests it into an
empty index there) runs on a free loopback port. Every session is its own gradio_client Client, so
its own Gradio session state; all start together, ask one council's question, then "What about
<another council>?". An answer counts as an error when the call fails, when it is refused, or when
it belongs to another conversation (cross-talk): the conversation returned must be this session's
own questions, and the follow-up's references must name the follow-up's council. Times are per
answer, as the client sees them. The last line is JSON:
{"sessions", "answers", "errors", "p50_s", "p95_s"}.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "corpus" / "sample"
P95_TARGET_S = 1.5

# (question, its council, follow-up council): each session takes the next, so neighbours differ.
CONVERSATIONS = [
    ("What did Ofsted find at Worcestershire's latest monitoring visit?", "Worcestershire", "North Somerset"),
    ("What did Ofsted find at North Somerset's latest inspection?", "North Somerset", "Worcestershire"),
    ("What does West Sussex's improvement programme say about agency social workers?", "West Sussex", "Darlington"),
    ("How is Darlington's Improvement Board overseeing progress?", "Darlington", "West Sussex"),
    ("What was Worcestershire's overall Ofsted judgement?", "Worcestershire", "North Somerset"),
    ("What does North Somerset's improvement plan say about the front door?", "North Somerset", "Worcestershire"),
    ("Who chairs the Children First Improvement Board in West Sussex?", "West Sussex", "Worcestershire"),
    ("What are the key highlights of Darlington's improvement journey?", "Darlington", "North Somerset"),
]


@dataclass
class Outcome:
    seconds: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def text_of(message: dict[str, object]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content)


def check(chat: list[dict[str, object]], email: str, asked: list[str], council: str) -> str:
    """'' when the reply is this session's: its own questions in order and the council's references; else why not."""
    questions = [html.unescape(re.sub(r"<[^>]+>", "", text_of(m))).strip() for m in chat if m.get("role") == "user"]
    if len(chat) != 2 * len(asked) or questions != asked:
        return f"conversation is not this session's: {questions!r} for {asked!r}"
    if "Could not answer" in email or not email:
        return f"no answer for {asked[-1]!r}: {email[:120]!r}"
    references = email.split("References", 1)[-1] if "References" in email else email.split("Closest passages", 1)[-1]
    if council not in references:
        return f"answer to {asked[-1]!r} cites no {council} report: {references[:160]!r}"
    return ""


def converse(url: str, n: int, start: threading.Barrier, outcome: Outcome, lock: threading.Lock, verify: bool) -> None:
    from gradio_client import Client

    question, council, other = CONVERSATIONS[n % len(CONVERSATIONS)]
    try:
        # Plain http on loopback has no TLS to verify; verifying anyway (gradio_client's default) loads
        # the certificate store for every request, ~0.1 s of CPU that on 2 cores starves the server.
        client = Client(url, verbose=False, download_files=False, analytics_enabled=False, ssl_verify=verify)
    except Exception as exc:  # noqa: BLE001 - a failed session is counted, not raised
        with lock:
            outcome.errors.append(f"session {n}: {exc}")
        start.wait()
        return
    start.wait()
    asked: list[str] = []
    for text, expected in ((question, council), (f"What about {other}?", other)):
        asked.append(text)
        began = time.perf_counter()
        try:
            _, chat, email = client.predict(text, [], "", "", [], api_name="/ask")
            problem = check(chat, email, asked, expected)
        except Exception as exc:  # noqa: BLE001
            problem = f"{type(exc).__name__}: {exc}"
        took = time.perf_counter() - began
        with lock:
            outcome.seconds.append(took)
            if problem:
                outcome.errors.append(f"session {n}: {problem}")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def run(url: str, sessions: int, verify: bool = False) -> Outcome:
    outcome, lock = Outcome(), threading.Lock()
    start = threading.Barrier(sessions)
    threads = [threading.Thread(target=converse, args=(url, n, start, outcome, lock, verify)) for n in range(sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcome


def serve(folder: Path, concurrency: int | None) -> tuple[subprocess.Popen[bytes], str, Path]:
    shutil.copytree(SAMPLES, folder / "corpus" / "sample")
    port, log = free_port(), folder / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env |= {"ASSISTANT_INDEX_DIR": str(folder / "index"), "ASSISTANT_CORPUS_DIR": str(folder / "corpus"),
            "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False", "OMP_WAIT_POLICY": "PASSIVE"}
    extra = ["--concurrency", str(concurrency)] if concurrency else []
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "assistant", "serve", "--port", str(port), *extra],
                                   cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 300
    while True:
        if process.poll() is not None:
            raise SystemExit(f"assistant serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(url + "gradio_api/info", timeout=2).status_code == 200:
                return process, url, log
        except httpx.HTTPError:
            pass
        if time.time() > deadline:
            process.terminate()
            raise SystemExit(f"assistant serve did not start:\n{log.read_text()}")
        time.sleep(0.5)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=None, help="passed to `assistant serve` (default: its own)")
    parser.add_argument("--rounds", type=int, default=1, help="runs of all sessions at once (fresh sessions each)")
    parser.add_argument("--client-tls", action="store_true",
                        help="clients load the certificate store per request, as gradio_client does by default")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="load-") as tmp:
        process, url, _ = serve(Path(tmp), args.concurrency)
        try:
            run(url, 2)  # warm: the first answers load what later ones share
            outcome = Outcome()
            server_cpu, client_cpu = cpu_seconds(process.pid), time.process_time()
            for _ in range(args.rounds):
                done = run(url, args.sessions, args.client_tls)
                outcome.seconds += done.seconds
                outcome.errors += done.errors
            server_cpu, client_cpu = cpu_seconds(process.pid) - server_cpu, time.process_time() - client_cpu
        finally:
            process.terminate()
            process.wait(timeout=30)
    print(f"CPU during the load: server {server_cpu:.1f}s, clients {client_cpu:.1f}s")
    for error in outcome.errors[:20]:
        print("error:", error)
    p50 = statistics.median(outcome.seconds) if outcome.seconds else 0.0
    p95 = percentile(outcome.seconds, 0.95) if outcome.seconds else 0.0
    print(f"{args.sessions} sessions x {args.rounds}: {len(outcome.seconds)} answers, {len(outcome.errors)} errors; "
          f"per answer p50 {p50:.2f}s  p95 {p95:.2f}s  max {max(outcome.seconds, default=0):.2f}s  (target p95 <= {P95_TARGET_S}s)")
    print(json.dumps({"sessions": args.sessions * args.rounds, "answers": len(outcome.seconds), "errors": len(outcome.errors),
                      "p50_s": round(p50, 3), "p95_s": round(p95, 3)}))


if __name__ == "__main__":
    main()
