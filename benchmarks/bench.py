"""Run every benchmark and print one Markdown table of their figures (`make bench`).

    python benchmarks/bench.py                   # full runs: ingest, query (100k passages), cold start
    python benchmarks/bench.py --quick           # small runs, to check the benchmarks themselves
    python benchmarks/bench.py --query-args "--passages 20000"
    python benchmarks/bench.py --only query-server   # 1,000,000 passages on `chroma run` (make bench BENCH_ARGS=...)

Each benchmark runs in its own process, its output shown as it goes; the last line it prints is
its JSON summary (ingest.py and query.py with --json, cold_start.py always). A benchmark that
fails is marked in the table and the others still run; the exit status is then 1.

query-server (query.py at 1,000,000 passages on a `chroma run` it starts) runs only when named in
--only: its first build takes over an hour on two busy cores and ~25 GB of disk, kept in
--server-folder (default /tmp/q1m) so later runs only start the server and ask.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# Each benchmark's script and arguments: the full runs, and --quick's small ones.
BENCHMARKS: dict[str, tuple[str, list[str], list[str]]] = {
    "ingest.py": ("ingest.py", ["--json"], ["--json", "--corpus", "corpus/sample", "--reports", "0", "--files", "0", "--repeats", "1"]),
    "query.py": ("query.py", ["--json"], ["--json", "--passages", "5000", "--repeats", "1"]),
    "cold_start.py": ("cold_start.py", [], ["--repeat", "1"]),
    "query-server": ("query.py", ["--json", "--server", "--passages", "1000000", "--repeats", "3"],
                     ["--json", "--server", "--passages", "5000", "--repeats", "1"]),
}
# Run only when named in --only (hours to build the first time).
ON_REQUEST = {"query-server"}

# (benchmark, key path in its JSON, measure, format, target): targets as the benchmarks state them.
Row = tuple[str, tuple[str, ...], str, Callable[[float], str], str]
ROWS: list[Row] = [
    ("ingest.py", ("ratio",), "ingest / raw encoder throughput", "{:.1%}".format, ">= 90%"),
    ("ingest.py", ("passages_per_s",), "ingest, passages/s", "{:.1f}".format, ""),
    ("ingest.py", ("encoder_passages_per_s",), "raw encoder, passages/s", "{:.1f}".format, ""),
    ("query.py", ("passages",), "passages in the large index", "{:,}".format, ""),
    ("query.py", ("p50_ms",), "warm ask p50, ms", "{:.0f}".format, "<= 150"),
    ("query.py", ("p95_ms",), "warm ask p95, ms", "{:.0f}".format, "<= 300"),
    ("query.py", ("filtered_p50_ms",), "warm ask with a council filter p50, ms", "{:.0f}".format, ""),
    ("query.py", ("rss_mb",), "resident memory (index + model), MB", "{:.0f}".format, ""),
    ("query-server", ("passages",), "passages on `chroma run`", "{:,}".format, ""),
    ("query-server", ("p50_ms",), "warm ask p50 on the server, ms", "{:.0f}".format, ""),
    ("query-server", ("p95_ms",), "warm ask p95 on the server, ms", "{:.0f}".format, "<= 300"),
    ("query-server", ("filtered_p50_ms",), "warm ask with a council filter p50 on the server, ms", "{:.0f}".format, ""),
    ("query-server", ("rss_mb",), "resident memory of the asking process, MB", "{:.0f}".format, ""),
    ("cold_start.py", ("assistant_ask", "wall_s"), "cold `assistant ask`, s", "{:.2f}".format, ""),
    ("cold_start.py", ("assistant_docs", "wall_s"), "cold `assistant docs`, s", "{:.2f}".format, ""),
    ("cold_start.py", ("onnx", "total_s"), "query embedder import + load + embed (ONNX), s", "{:.2f}".format, ""),
    ("cold_start.py", ("sentence_transformers", "total_s"), "the same with sentence-transformers, s", "{:.2f}".format, ""),
    ("cold_start.py", ("cosine_onnx_vs_st",), "cosine, ONNX vs sentence-transformers query vector", "{:.6f}".format, ""),
]


def run(script: str, args: list[str]) -> dict | None:
    """Run one benchmark, echoing its output; its last line parsed as JSON, or None if it failed."""
    command = [sys.executable, str(HERE / script), *args]
    print(f"$ {shlex.join(command)}", flush=True)
    last = ""
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, bufsize=1) as process:
        assert process.stdout is not None
        for line in process.stdout:
            print(line, end="", flush=True)
            if line.strip():
                last = line.strip()
    if process.returncode != 0:
        print(f"bench: {script} failed (exit {process.returncode})", file=sys.stderr)
        return None
    try:
        result = json.loads(last)
    except json.JSONDecodeError:
        print(f"bench: {script}'s last line is not JSON: {last!r}", file=sys.stderr)
        return None
    return result if isinstance(result, dict) else None


def value(result: dict | None, path: tuple[str, ...], form: Callable[[float], str]) -> str:
    found: object = result
    for key in path:
        found = found.get(key) if isinstance(found, dict) else None
    if isinstance(found, int | float) and not isinstance(found, bool):
        return form(found)
    return "failed" if result is None else "missing"


def table(results: dict[str, dict | None]) -> str:
    lines = ["| benchmark | measure | value | target |", "|---|---|---|---|"]
    for script, path, measure, form, target in ROWS:
        if script in results:
            lines.append(f"| {script} | {measure} | {value(results[script], path, form)} | {target} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small runs (samples only, 5,000 passages, one repeat)")
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), help="run only these benchmarks")
    parser.add_argument("--server-folder", default="/tmp/q1m", help="where query-server keeps its built data")
    for name in BENCHMARKS:
        option = name.removesuffix(".py").replace("_", "-")
        parser.add_argument(f"--{option}-args", default="", metavar="ARGS", help=f"more arguments for {name}")
    args = parser.parse_args()

    results: dict[str, dict | None] = {}
    for name, (script, full, quick) in BENCHMARKS.items():
        if (args.only and name not in args.only) or (not args.only and name in ON_REQUEST):
            continue
        extra = shlex.split(getattr(args, name.removesuffix(".py").replace("-", "_") + "_args"))
        if name == "query-server":
            extra = ["--folder", args.server_folder + ("-quick" if args.quick else ""), *extra]
        results[name] = run(script, (quick if args.quick else full) + extra)
        print(flush=True)
    print(table(results))
    if any(result is None for result in results.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
