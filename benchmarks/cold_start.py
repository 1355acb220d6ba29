"""Cold start: one-shot `assistant ask` and `assistant docs`, and the query embedder (onnxruntime against torch).

    python benchmarks/cold_start.py              # 3 fresh processes of each, medians
    python benchmarks/cold_start.py --repeat 5 --index index/
    python benchmarks/cold_start.py --baseline /tmp/before   # also the commands of another checkout

`assistant ask` (with retrieval) and `assistant docs` run as a user runs them, on the given index or on the
sample corpus ingested into a temporary one first.

Each measurement is a fresh Python process, as a one-shot `assistant ask` is: the time to import
sentence_transformers alone, and for each embedder the time to import its module, then to load the model
and embed one question. Wall is the whole process seen from outside, interpreter start included.
The runs are interleaved, so a neighbour's load on the shared cores falls on both alike. With --baseline,
the commands also run from another checkout (`python -m assistant` there imports that checkout's package),
interleaved with these: before and after a change, side by side.
The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "When is the next Ofsted inspection of children's services?"

# Each prints one JSON line: in-process timings (s) and the vector.
IMPORT_ST = """
import json, time
t0 = time.perf_counter()
import sentence_transformers
print(json.dumps({"import_s": time.perf_counter() - t0}))
"""
EMBED = """
import json, sys, time
t0 = time.perf_counter()
from assistant.index.{module} import {cls}
t1 = time.perf_counter()
vector = {cls}().embed_query({question!r})
t2 = time.perf_counter()
print(json.dumps({{"import_s": t1 - t0, "load_embed_s": t2 - t1, "torch_loaded": "torch" in sys.modules,
                  "vector": [float(x) for x in vector]}}))
"""
CASES = {
    "import_sentence_transformers": IMPORT_ST,
    "onnx": EMBED.format(module="onnx_embedding", cls="OnnxEmbedder", question=QUESTION),
    "sentence_transformers": EMBED.format(module="embedding", cls="SentenceTransformerEmbedder", question=QUESTION),
}


COMMANDS = {
    "assistant_ask": ["ask", "How many agency social workers does West Sussex have?"],
    "assistant_docs": ["docs"],
}


def run(script: str | list[str], index: Path | None = None, root: Path = ROOT) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "OMP_WAIT_POLICY": "PASSIVE"}
    if isinstance(script, list):  # a command of the CLI (of the checkout at root), timed from outside only
        env["ASSISTANT_INDEX_DIR"] = str(index)
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "assistant", *script], cwd=root, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"cold_start: `assistant {' '.join(script)}` in {root} failed:\n{done.stderr}")
        return {"wall_s": time.perf_counter() - started, "stdout": done.stdout}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"cold_start: a measured process failed:\n{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall_s"] = wall
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes of each kind (medians reported)")
    parser.add_argument("--index", type=Path, help="index folder to ask (default: the samples, ingested into a temporary one)")
    parser.add_argument("--baseline", type=Path, help="another checkout whose commands run too, interleaved (before/after)")
    args = parser.parse_args()
    if args.baseline and not (args.baseline / "assistant" / "__main__.py").is_file():
        raise SystemExit(f"cold_start: --baseline {args.baseline}: no assistant/__main__.py there (give a checkout's root)")

    with tempfile.TemporaryDirectory(prefix="cold-start-") as scratch:
        index = args.index or Path(scratch) / "index"
        if args.index is None:
            env = {**os.environ, "ASSISTANT_INDEX_DIR": str(index), "OMP_WAIT_POLICY": "PASSIVE"}
            print("ingesting corpus/sample into a temporary index", file=sys.stderr)
            subprocess.run([sys.executable, "-m", "assistant", "ingest", "-q", "corpus/sample"], cwd=ROOT, env=env, check=True)
        roots = {"": ROOT} | ({"baseline_": args.baseline} if args.baseline else {})
        runs: dict[str, list[dict]] = {name: [] for name in [*CASES, *(p + c for p in roots for c in COMMANDS)]}
        for repeat in range(args.repeat):
            for name, script in CASES.items():
                runs[name].append(run(script))
            for name, command in COMMANDS.items():
                order = list(roots.items())
                for prefix, root in order[repeat % len(order) :] + order[: repeat % len(order)]:
                    runs[prefix + name].append(run(command, index, root))

    summary: dict[str, object] = {"cores": os.cpu_count(), "repeat": args.repeat}
    for name, results in runs.items():
        medians = {
            key: round(statistics.median(r[key] for r in results), 3) for key in results[0] if key.endswith("_s")
        }
        if "load_embed_s" in medians:
            medians["total_s"] = round(statistics.median(r["import_s"] + r["load_embed_s"] for r in results), 3)
            medians["torch_loaded"] = any(r["torch_loaded"] for r in results)
        summary[name] = medians
        print(f"{name:30} " + "  ".join(f"{k} {v}" for k, v in medians.items()))
    onnx_vector = runs["onnx"][0]["vector"]
    st_vector = runs["sentence_transformers"][0]["vector"]
    summary["cosine_onnx_vs_st"] = round(float(sum(a * b for a, b in zip(onnx_vector, st_vector))), 6)
    print(f"cosine between the two query vectors: {summary['cosine_onnx_vs_st']}")
    if args.baseline:
        for name in COMMANDS:
            ratio = statistics.median(r["wall_s"] for r in runs[name]) / statistics.median(r["wall_s"] for r in runs["baseline_" + name])
            same = {r["stdout"] for r in runs[name]} == {r["stdout"] for r in runs["baseline_" + name]}
            summary[name + "_vs_baseline"] = {"ratio": round(ratio, 3), "same_output": same}
            print(f"{name}: {ratio:.2f} of the baseline's median wall; output {'identical' if same else 'DIFFERS'}")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
