"""The embedding model run by onnxruntime, so a question is embedded without importing torch.

sentence-transformers needs torch, whose import alone takes ~6 s; onnxruntime and the Rust `tokenizers`
load the same all-MiniLM-L6-v2 in well under a second. The ONNX graph is exported once, at install time
(`make install` runs `python -m assistant.index.onnx_embedding`), from the installed model with torch, and
saved only if its vectors match sentence-transformers' (cosine >= 0.999). At run time only onnxruntime,
tokenizers and numpy are loaded: nothing imported at the top of this module may import torch.

`open_embedder` is the index's embedder: questions through ONNX, passages still through sentence-transformers,
so stored vectors are made exactly as before and only a question's vector changes (by ~1e-7).

Tokenisation, truncation (256 word pieces), mean pooling and normalisation follow the model folder's
modules.json, sentence_bert_config.json and 1_Pooling/config.json, as sentence-transformers does.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.errors import SettingsError
from assistant.index.embedding import MODEL_NAME, Embedder, SentenceTransformerEmbedder, default_model_dir

if TYPE_CHECKING:
    from onnxruntime import InferenceSession
    from tokenizers import Encoding, Tokenizer

    from assistant.index.encoder import ProcessEmbedder

logger = logging.getLogger(__name__)

# Part of the file's name: bump it when the exported graph changes, so files of an older export are not used.
EXPORT_VERSION = 1
MIN_COSINE = 0.999
INPUTS = ("input_ids", "attention_mask", "token_type_ids")

# Vectors of these must match sentence-transformers' before an export is kept: short and long (past the
# 256-word-piece cut), non-ASCII, and next to empty.
CHECK_TEXTS = (
    "When is the next Ofsted inspection of children's services?",
    "Cyngor Sir Ynys Môn: £1.2m overspend — adult social care, 2024/25 (Q3).",
    "",
    "   ",
    "Highways",
    " ".join(["The committee noted the report on the capital programme and agreed the recommendations."] * 40),
)


def default_onnx_dir() -> Path:
    """Beside the installed packages the file is made from: a new venv gets a new export."""
    return Path(sys.prefix) / "share" / "council-reports-assistant" / "onnx"


def onnx_path(model_dir: Path, onnx_dir: Path | None = None) -> Path:
    """Where the export of `model_dir` lives: its name changes when the model's files or the export change."""
    digest = hashlib.sha256(f"{EXPORT_VERSION}\n{model_dir.resolve()}\n".encode())
    for file in sorted(p for p in model_dir.iterdir() if p.is_file()):
        stat = file.stat()
        digest.update(f"{file.name}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    name = MODEL_NAME if model_dir.resolve() == default_model_dir().resolve() else model_dir.name
    return (onnx_dir or default_onnx_dir()) / f"{name}-{digest.hexdigest()[:16]}.onnx"


@dataclass(frozen=True)
class ModelLayout:
    """What sentence-transformers does around the transformer, read from the model folder."""

    max_length: int  # word pieces, [CLS] and [SEP] included
    dimension: int

    @classmethod
    def read(cls, model_dir: Path) -> ModelLayout:
        def load(name: str) -> Any:  # parsed JSON
            path = model_dir / name
            if not path.is_file():
                raise SettingsError(f"{model_dir}: no {name}; not a sentence-transformers model folder")
            return json.loads(path.read_text(encoding="utf-8"))

        modules = load("modules.json")
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        if kinds[:2] != ["Transformer", "Pooling"] or kinds[2:] not in ([], ["Normalize"]) or modules[0]["path"]:
            raise SettingsError(
                f"{model_dir}: modules {kinds} not supported by the ONNX embedder (Transformer, Pooling)"
            )
        pooling = load(f"{modules[1]['path']}/config.json")
        others = [
            k for k, v in pooling.items() if k.startswith("pooling_mode_") and v and k != "pooling_mode_mean_tokens"
        ]
        if not pooling.get("pooling_mode_mean_tokens") or others:
            raise SettingsError(f"{model_dir}: only mean pooling is supported by the ONNX embedder, not {others}")
        config = load("config.json")
        max_length = min(
            int(load("sentence_bert_config.json")["max_seq_length"]), int(config["max_position_embeddings"])
        )
        return cls(max_length=max_length, dimension=int(pooling["word_embedding_dimension"]))


def _session(path: Path, threads: int) -> InferenceSession:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads  # 0: one per physical core
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # Extended: the attention, GELU and layer-norm fusions, none tied to this CPU.
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    # Idle workers sleep instead of spinning: the two cores are shared with the server and ingests.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _unit(rows: np.ndarray) -> np.ndarray:
    norms = np.maximum(np.linalg.norm(rows, axis=-1, keepdims=True), 1e-12)
    return (rows / norms).astype(np.float32)


class OnnxEmbedder:
    """all-MiniLM-L6-v2 through onnxruntime: loads in ~0.5 s, the same vectors as SentenceTransformerEmbedder."""

    def __init__(
        self,
        model_dir: Path | None = None,
        *,
        onnx_file: Path | None = None,
        query_threads: int = 1,
        batch_threads: int = 0,
        batch_size: int = 64,
    ) -> None:
        self.model_dir = Path(model_dir) if model_dir else default_model_dir()
        if not (self.model_dir / "config.json").is_file():
            raise SettingsError(f"ASSISTANT_MODEL_PATH={self.model_dir}: not a sentence-transformers model folder")
        self.name = MODEL_NAME if model_dir is None else self.model_dir.name
        self.onnx_file = onnx_file or onnx_path(self.model_dir)
        if not self.onnx_file.is_file():
            raise SettingsError(
                f"no ONNX export of {self.model_dir} (looked for {self.onnx_file}): run `make install` or "
                f"`python -m assistant.index.onnx_embedding --model {self.model_dir}`"
            )
        self.layout = ModelLayout.read(self.model_dir)
        self.query_threads = query_threads
        self.batch_threads = batch_threads
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self._tokenizer: Tokenizer | None = None
        self._sessions: dict[int, InferenceSession] = {}
        self._recent: dict[str, np.ndarray] = {}

    # ------------------------------------------------------------ loading

    @property
    def tokenizer(self) -> Tokenizer:
        with self._lock:
            if self._tokenizer is None:
                from tokenizers import Tokenizer

                path = self.model_dir / "tokenizer.json"
                if not path.is_file():
                    raise SettingsError(
                        f"{self.model_dir}: no tokenizer.json (the ONNX embedder needs a fast tokenizer)"
                    )
                tokenizer = Tokenizer.from_file(str(path))
                # The file's own settings (cut at 128, pad to 128) are not the ones sentence-transformers uses.
                tokenizer.enable_truncation(max_length=self.layout.max_length, strategy="longest_first")
                tokenizer.enable_padding()  # to the longest text of a batch
                self._tokenizer = tokenizer
            return self._tokenizer

    def _session_for(self, threads: int) -> InferenceSession:
        with self._lock:
            session = self._sessions.get(threads)
            if session is None:
                session = self._sessions[threads] = _session(self.onnx_file, threads)
            return session

    # ------------------------------------------------------------ encoding

    def _forward(self, texts: Sequence[str], threads: int) -> tuple[np.ndarray, list[Encoding]]:
        """Token vectors (batch, tokens, dim) and the encodings they came from, for one padded batch."""
        encodings = self.tokenizer.encode_batch(list(texts))
        feed = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        (tokens,) = self._session_for(threads).run(["token_embeddings"], feed)
        return np.asarray(tokens, dtype=np.float32), encodings

    def _pooled(self, texts: Sequence[str], threads: int) -> tuple[np.ndarray, np.ndarray, list[Encoding]]:
        tokens, encodings = self._forward(texts, threads)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.float32)[:, :, None]
        means = (tokens * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        return _unit(means), tokens, encodings

    def _batches(self, texts: Sequence[str]) -> list[list[int]]:
        """Indices of texts in batches of similar length (longest first), so little is padding."""
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        return [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]

    def embed_batch(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Vectors for many texts, using every core."""
        vectors = np.zeros((len(texts), self.layout.dimension), dtype=np.float32)
        for batch in self._batches(texts):
            vectors[batch] = self._pooled([texts[i] for i in batch], self.batch_threads)[0]
        return vectors

    def embed_with_units(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]], *, show_progress: bool = False
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Vectors for texts, plus one per (start, end) character span of each text, from the same forward pass.

        A span's vector is the mean of the token vectors inside it, as SentenceTransformerEmbedder makes them.
        """
        dimension = self.layout.dimension
        vectors = np.zeros((len(texts), dimension), dtype=np.float32)
        unit_vectors: list[np.ndarray] = [np.zeros((0, dimension), dtype=np.float32)] * len(texts)
        for batch in self._batches(texts):
            pooled, tokens, encodings = self._pooled([texts[i] for i in batch], self.batch_threads)
            for row, i in enumerate(batch):
                vectors[i] = pooled[row]
                offsets = np.array(encodings[row].offsets, dtype=np.int64).reshape(-1, 2)
                starts, ends = offsets[:, 0], offsets[:, 1]
                real = (ends > starts) & (np.array(encodings[row].attention_mask) > 0)  # not [CLS], [SEP], padding
                mine = np.zeros((len(spans[i]), dimension), dtype=np.float32)
                for j, (start, end) in enumerate(spans[i]):
                    inside = real & (starts >= start) & (ends <= end)
                    mine[j] = _unit(tokens[row][inside].mean(axis=0)) if inside.any() else pooled[row]
                unit_vectors[i] = mine
        return vectors, unit_vectors

    def embed_query(self, text: str) -> np.ndarray:
        """One vector, on one thread: a single short encode gains nothing from more, and the cores are shared."""
        cached = self._recent.get(text)
        if cached is not None:
            return cached
        vector = self._pooled([text], self.query_threads)[0][0]
        if len(self._recent) > 256:
            self._recent.clear()
        self._recent[text] = vector
        return vector


class OnnxQueries:
    """Questions through onnxruntime, passages through sentence-transformers (torch loads only to ingest, in a
    process of its own: assistant/index/encoder.py)."""

    def __init__(self, passages: SentenceTransformerEmbedder | ProcessEmbedder, queries: OnnxEmbedder) -> None:
        self.passages = passages
        self.queries = queries
        self.name = passages.name
        self.model_dir = passages.model_dir

    def embed_batch(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        return self.passages.embed_batch(texts, show_progress=show_progress)

    def embed_with_units(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]], *, show_progress: bool = False
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        return self.passages.embed_with_units(texts, spans, show_progress=show_progress)

    def embed_query(self, text: str) -> np.ndarray:
        return self.queries.embed_query(text)


def open_embedder(
    model_dir: Path | None = None, *, query_threads: int = 1, batch_size: int = 64, onnx_dir: Path | None = None
) -> Embedder:
    """The index's embedder: questions by ONNX when the model was exported, else everything by sentence-transformers."""
    passages = SentenceTransformerEmbedder(model_dir, query_threads=query_threads, batch_size=batch_size)
    path = onnx_path(passages.model_dir, onnx_dir)
    if not path.is_file():
        logger.warning("no ONNX export of the embedding model (run `make install`): questions load torch (~7 s)")
        return passages
    from assistant.index.encoder import shared

    return OnnxQueries(shared(passages), OnnxEmbedder(model_dir, onnx_file=path, query_threads=query_threads))


# ------------------------------------------------------------ export (install time; needs torch)


def export(model_dir: Path | None = None, onnx_dir: Path | None = None, *, force: bool = False) -> Path:
    """Export the model to ONNX, check it against sentence-transformers, and save it atomically.

    Raises SettingsError, saving nothing, if any check text's vector is further than cosine 0.999 from
    sentence-transformers'.
    """
    model_dir = Path(model_dir) if model_dir else default_model_dir()
    target = onnx_path(model_dir, onnx_dir)
    if target.is_file() and not force:
        return target
    ModelLayout.read(model_dir)  # refuse an unsupported layout before the slow part
    import warnings

    from assistant.files import atomic_save_bytes

    with tempfile.TemporaryDirectory(prefix="onnx-export-") as scratch:
        candidate = Path(scratch) / target.name
        with warnings.catch_warnings():
            # The TorchScript exporter's deprecation and tracer notes: the check below is what counts.
            warnings.simplefilter("ignore")
            _export_graph(model_dir, candidate)
            expected = _reference_vectors(model_dir, CHECK_TEXTS)
        embedder = OnnxEmbedder(model_dir, onnx_file=candidate)
        got = np.vstack([embedder.embed_batch(CHECK_TEXTS), [embedder.embed_query(t) for t in CHECK_TEXTS]])
        cosines = np.sum(got * np.vstack([expected, expected]), axis=1)
        worst = int(np.argmin(cosines))
        if cosines[worst] < MIN_COSINE:
            text = CHECK_TEXTS[worst % len(CHECK_TEXTS)]
            raise SettingsError(
                f"the ONNX export of {model_dir} does not reproduce sentence-transformers: cosine "
                f"{cosines[worst]:.5f} < {MIN_COSINE} for {text[:60]!r}; nothing was saved"
            )
        atomic_save_bytes(target, candidate.read_bytes(), mode=0o644)
    return target


def _export_graph(model_dir: Path, path: Path) -> None:
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()

    class TokenVectors(torch.nn.Module):
        """The transformer alone, returning its last hidden state; pooling is done in numpy."""

        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
        ) -> torch.Tensor:
            out = self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    # Plain (eager) attention traces to MatMul/Softmax, which onnxruntime fuses; SDPA traces less cleanly.
    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True, attn_implementation="eager").eval()
    sample = torch.ones((2, 8), dtype=torch.long)
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "token_embeddings")}
    with torch.no_grad():
        torch.onnx.export(
            TokenVectors(model),
            (sample, torch.ones_like(sample), torch.zeros_like(sample)),
            str(path),
            dynamo=False,  # the torch.export-based exporter needs onnxscript, which is not installed
            input_names=list(INPUTS),
            output_names=["token_embeddings"],
            dynamic_axes=axes,
            opset_version=17,
        )


def _reference_vectors(model_dir: Path, texts: Sequence[str]) -> np.ndarray:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    return np.asarray(model.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True), dtype=np.float32)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m assistant.index.onnx_embedding",
        description="Export the embedding model to ONNX (once, at install), so questions are embedded without torch.",
    )
    parser.add_argument(
        "--model", type=Path, help="model folder (default: ASSISTANT_MODEL_PATH, else the installed one)"
    )
    parser.add_argument("--out", type=Path, help=f"folder for the .onnx file (default: {default_onnx_dir()})")
    parser.add_argument("--force", action="store_true", help="export again even if the file is there")
    args = parser.parse_args(argv)
    model_dir = args.model
    if model_dir is None:
        from assistant.settings import load_settings

        model_dir = load_settings().model_path
    try:
        path = export(model_dir, args.out, force=args.force)
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
