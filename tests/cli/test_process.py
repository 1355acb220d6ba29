"""The one-shot process: read-only commands end at once with all their output and the right exit code;
writes, and anything with a thread still at work, get the whole interpreter teardown; chromadb loads without
its signature checks, httpx's command-line client or the OTLP exporter until one is used."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from index_checks import check_consistent

from assistant.cli.main import cli
from assistant.library import open_index
from assistant.settings import Settings

# Runs `assistant ARGS...` as the console script does; an exit handler marks a full teardown on stderr.
# With a first argument `--thread`, a worker thread is still writing when the command ends.
PROBE = """
import atexit, sys, threading, time
from assistant.cli.main import main
atexit.register(lambda: print("TEARDOWN", file=sys.stderr))
args = sys.argv[1:]
if args[:1] == ["--thread"]:
    args = args[1:]
    def work():
        time.sleep(1.0)
        print("THREAD DONE", flush=True)
    threading.Thread(target=work).start()
sys.argv = ["assistant", *args]
main()
"""
TEARDOWN = "TEARDOWN"
REPORT = "Fostering Service Review\n\n1. The fostering service recruited fourteen new foster families.\n"


def _probe(*args: str, index: Path, crash_at: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")} | {"ASSISTANT_INDEX_DIR": str(index)}
    if crash_at:
        env["ASSISTANT_CRASH_AT"] = crash_at
    return subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env, timeout=300, check=False)


def test_a_read_only_command_prints_everything_then_skips_the_teardown(sample_index_dir: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    shutil.copytree(sample_index_dir, index)
    # More than a pipe holds (64 KiB): all of it must be flushed before the process ends.
    args = ["search", "--json", "children's services inspection", "-k", "100"]
    result = _probe(*args, index=index)
    assert result.returncode == 0, result.stderr
    assert TEARDOWN not in result.stderr
    assert len(result.stdout.encode()) > 65536
    hits = json.loads(result.stdout)
    in_process = CliRunner().invoke(cli, args, env={"ASSISTANT_INDEX_DIR": str(index)})
    assert in_process.exit_code == 0, in_process.output
    assert [hit["id"] for hit in hits] == [hit["id"] for hit in json.loads(in_process.stdout)]

    docs = _probe("docs", "--json", index=index)
    assert docs.returncode == 0 and TEARDOWN not in docs.stderr
    assert docs.stdout == CliRunner().invoke(cli, ["docs", "--json"], env={"ASSISTANT_INDEX_DIR": str(index)}).stdout


def test_a_read_only_command_that_fails_keeps_its_message_and_exit_code(tmp_path: Path) -> None:
    empty = _probe("ask", "Who is the Chief Executive?", index=tmp_path / "index")
    assert empty.returncode == 1 and TEARDOWN not in empty.stderr
    assert empty.stderr.startswith("error: the index in ") and "run `assistant ingest corpus/` first" in empty.stderr
    usage = _probe("ask", "--from", "someday", "Who is the Chief Executive?", index=tmp_path / "index")
    assert usage.returncode == 2 and TEARDOWN not in usage.stderr
    assert usage.stderr.rstrip().endswith("'someday' is not a date: use 2020, 2020-03 or 2020-03-19")


def test_a_thread_still_at_work_is_waited_for(tmp_path: Path) -> None:
    result = _probe("--thread", "docs", index=tmp_path / "index")
    assert result.returncode == 0, result.stderr
    assert "THREAD DONE" in result.stdout and TEARDOWN in result.stderr


def test_writes_get_the_whole_teardown(tmp_path: Path) -> None:
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    (corpus / "fostering.txt").write_text(REPORT, encoding="utf-8")
    ingest = _probe("ingest", "-q", str(corpus), index=index)
    assert ingest.returncode == 0, ingest.stderr
    assert TEARDOWN in ingest.stderr and "1 added; 1 reports indexed" in ingest.stdout
    remove = _probe("remove", "fostering.txt", index=index)
    assert remove.returncode == 0, remove.stderr
    assert TEARDOWN in remove.stderr
    assert open_index(Settings(index_dir=index)).reports == {}


def test_chromadb_loads_and_works_with_lighter_imports(tmp_path: Path) -> None:
    script = """
import sys
from assistant.cli.process import lighten_imports
lighten_imports()
from overrides import override

class Base:
    def f(self, a: int) -> int:
        return a

class Sub(Base):
    @override
    def f(self, a: int, b: int) -> int:  # would fail the signature check
        return a + b

assert Sub.f.__override__ and override(check_signature=False)(Sub.f) is Sub.f
import chromadb
client = chromadb.PersistentClient(path=sys.argv[1])
rows = client.get_or_create_collection("rows", embedding_function=None)
rows.add(ids=["a", "b"], embeddings=[[1.0, 0.0], [0.0, 1.0]])
print(rows.query(query_embeddings=[[0.9, 0.1]], n_results=1)["ids"][0])
import httpx
assert "rich" not in sys.modules and "pygments" not in sys.modules and httpx.Client
assert "grpc" not in sys.modules
# Asked for spans, chromadb still gets the real exporter.
from chromadb.telemetry.opentelemetry import OpenTelemetryGranularity, otel_init
otel_init("test", "http://127.0.0.1:9", {}, OpenTelemetryGranularity.ALL)
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.trace import get_tracer_provider
exporters = [p.span_exporter for p in get_tracer_provider()._active_span_processor._span_processors]
assert [type(e) for e in exporters] == [OTLPSpanExporter] and "grpc" in sys.modules
"""
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "chroma")], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['a']"


@pytest.mark.slow
def test_a_read_that_repairs_a_crash_finishes_the_repair_before_it_exits(tmp_path: Path, embedder: Any) -> None:
    index = tmp_path / "index"
    (tmp_path / "first").mkdir()
    (tmp_path / "first" / "alpha.txt").write_text(REPORT, encoding="utf-8")
    open_index(Settings(index_dir=index), embedder=embedder).ingest([tmp_path / "first"])
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "gamma.txt").write_text("Care Leavers\n\n1. A zebrafinch mentoring pilot began in spring.\n", encoding="utf-8")
    # Killed with gamma's rows in Chroma but not in the manifest: the next reader deletes them.
    crashed = _probe("ingest", "-q", str(corpus), index=index, crash_at="chroma")
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    assert (index / ".dirty").exists()

    repaired = _probe("search", "--json", "zebrafinch mentoring pilot", index=index)
    assert repaired.returncode == 0, repaired.stderr
    assert TEARDOWN not in repaired.stderr
    assert {hit["source"] for hit in json.loads(repaired.stdout)} == {"alpha.txt"}
    check_consistent(open_index(Settings(index_dir=index), embedder=embedder))
    # A fresh process's vector index holds no row the repair deleted.
    after = _probe("search", "--json", "zebrafinch mentoring pilot", index=index)
    assert after.returncode == 0, after.stderr
    assert {hit["source"] for hit in json.loads(after.stdout)} == {"alpha.txt"}
