"""The ONNX embedder gives sentence-transformers' vectors, on the real model, without importing torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.errors import SettingsError
from assistant.index.embedding import SentenceTransformerEmbedder, UnitEmbedder
from assistant.index.encoder import ProcessEmbedder
from assistant.index.onnx_embedding import (
    OnnxEmbedder,
    OnnxQueries,
    default_model_dir,
    export,
    onnx_path,
    open_embedder,
)

ROOT = Path(__file__).resolve().parents[2]

LONG = " ".join(
    f"Item {i}: the cabinet approved £{i}.5m for highways maintenance in Ynys Môn and Rhondda Cynon Taf."
    for i in range(40)
)
TEXTS = [
    "Ofsted",
    "When is the next Ofsted inspection of children's services in Bradford?",
    "What did the council decide about the library closures?",
    "Cyngor Sir Ynys Môn — £1.2m overspend (2024/25), naïve café, 東京, São Paulo, 🙂",
    "ÅÄÖ ÆØ ß ﬁ ½ “quoted” ‘single’ …",
    LONG,
    LONG.upper(),
    "",
    "   ",
    "\n\t",
    "?",
]


@pytest.fixture(scope="module")
def onnx_embedder(tmp_path_factory: pytest.TempPathFactory) -> OnnxEmbedder:
    """The export `make install` made; else one made here (about a minute), so the tests stand alone."""
    path = onnx_path(default_model_dir())
    if not path.is_file():
        path = export(default_model_dir(), tmp_path_factory.mktemp("onnx"))
    return OnnxEmbedder(onnx_file=path)


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_long_texts_are_cut_at_256_word_pieces(onnx_embedder: OnnxEmbedder) -> None:
    assert len(onnx_embedder.tokenizer.encode(LONG).ids) == 256  # the file's own setting would cut at 128
    assert np.allclose(onnx_embedder.embed_query(LONG), onnx_embedder.embed_query(LONG + " Any more words."))


def test_vectors_match_sentence_transformers(onnx_embedder: OnnxEmbedder, embedder) -> None:
    expected = embedder.embed_batch(TEXTS)
    batch = onnx_embedder.embed_batch(TEXTS)
    queries = np.vstack([onnx_embedder.embed_query(text) for text in TEXTS])
    for got in (batch, queries):
        assert got.dtype == np.float32 and got.shape == (len(TEXTS), 384)
        assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
        worst = cosines(got, expected).min()
        assert worst >= 0.999, worst
    assert onnx_embedder.embed_batch([]).shape == (0, 384)


def test_unit_vectors_match_sentence_transformers(onnx_embedder: OnnxEmbedder, embedder) -> None:
    texts = [TEXTS[1], TEXTS[3], LONG, ""]
    spans = [[(0, 6), (9, 20), (0, len(text))] for text in texts]
    spans[2].append((len(LONG) - 30, len(LONG)))  # past the cut: no tokens, so the passage's own vector
    vectors, units = onnx_embedder.embed_with_units(texts, spans)
    expected_vectors, expected_units = embedder.embed_with_units(texts, spans)
    assert cosines(vectors, expected_vectors).min() >= 0.999
    for got, expected in zip(units, expected_units, strict=True):
        assert got.shape == expected.shape
        assert cosines(got, expected).min() >= 0.999


def test_a_query_does_not_import_torch(onnx_embedder: OnnxEmbedder) -> None:
    """Through the index's embedder, as `assistant ask` would: torch loads only when passages are embedded."""
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from assistant.index.onnx_embedding import open_embedder\n"
        f"embedder = open_embedder(onnx_dir=Path({str(onnx_embedder.onnx_file.parent)!r}))\n"
        "vector = embedder.embed_query('library closures')\n"
        "heavy = [m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules]\n"
        "print(json.dumps({'kind': type(embedder).__name__, 'heavy': heavy, 'norm': float((vector ** 2).sum())}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"kind": "OnnxQueries", "heavy": [], "norm": pytest.approx(1.0, abs=1e-5)}


def test_the_index_embedder_keeps_passages_on_sentence_transformers(onnx_embedder: OnnxEmbedder) -> None:
    embedder = open_embedder(onnx_dir=onnx_embedder.onnx_file.parent)
    assert isinstance(embedder, OnnxQueries) and isinstance(embedder, UnitEmbedder)
    assert isinstance(embedder.passages, ProcessEmbedder)  # in a child process: assistant/index/encoder.py
    assert isinstance(embedder.passages.local, SentenceTransformerEmbedder)
    assert embedder.name == SentenceTransformerEmbedder().name == "all-MiniLM-L6-v2"  # the index's manifest checks it
    assert embedder.model_dir == default_model_dir()


def test_without_an_export_the_index_embedder_is_sentence_transformers(tmp_path: Path) -> None:
    assert isinstance(open_embedder(onnx_dir=tmp_path), SentenceTransformerEmbedder)


def test_a_missing_export_says_how_to_make_it(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="make install"):
        OnnxEmbedder(onnx_file=tmp_path / "none.onnx")


@pytest.mark.slow
def test_export_refuses_a_graph_that_does_not_match(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import assistant.index.onnx_embedding as onnx_embedding

    reference = onnx_embedding._reference_vectors
    # The real model's vectors, but each paired with the wrong text: the check must catch it.
    monkeypatch.setattr(onnx_embedding, "_reference_vectors", lambda d, texts: reference(d, texts)[::-1].copy())
    with pytest.raises(SettingsError, match="does not reproduce sentence-transformers"):
        export(default_model_dir(), tmp_path)
    assert list(tmp_path.iterdir()) == []
