"""The embedding model: unit vectors from the installed all-MiniLM-L6-v2, meaning close for close meanings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.errors import SettingsError
from assistant.index.embedding import MODEL_NAME, SentenceTransformerEmbedder, UnitEmbedder


def test_a_folder_without_a_model_is_refused_with_the_setting_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=f"ASSISTANT_MODEL_PATH={tmp_path}: not a sentence-transformers model folder"):
        SentenceTransformerEmbedder(tmp_path)


def test_batch_vectors_are_unit_length_and_close_for_close_meanings(embedder: SentenceTransformerEmbedder) -> None:
    assert embedder.name == MODEL_NAME and (embedder.model_dir / "config.json").is_file()
    vectors = embedder.embed_batch([
        "The council has too few social workers.",
        "Social worker vacancies remain high.",
        "The library opens at nine on Saturdays.",
    ])
    assert vectors.shape == (3, 384) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2
    assert embedder.embed_batch([]).shape == (0, 384)


def test_a_query_vector_is_the_batch_vector_and_is_remembered(embedder: SentenceTransformerEmbedder) -> None:
    text = "How many agency social workers does West Sussex have?"
    query = embedder.embed_query(text)
    assert np.allclose(query, embedder.embed_batch([text])[0], atol=1e-5)
    assert embedder.embed_query(text) is query


def test_span_vectors_come_from_the_same_pass(embedder: SentenceTransformerEmbedder) -> None:
    assert isinstance(embedder, UnitEmbedder)
    text = "Caseloads fell in 2020. The new director joined in July."
    first = (0, text.index(".") + 1)
    vectors, units = embedder.embed_with_units([text], [[first, (first[1] + 1, len(text))]])
    assert np.allclose(vectors[0], embedder.embed_batch([text])[0], atol=1e-4)
    assert units[0].shape == (2, 384) and np.allclose(np.linalg.norm(units[0], axis=1), 1.0, atol=1e-5)
    caseloads = embedder.embed_query("caseloads went down")
    assert units[0][0] @ caseloads > units[0][1] @ caseloads


def test_texts_batched_by_token_length_come_back_in_the_order_given(
    embedder: SentenceTransformerEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Batches of two, so the texts are encoded out of order (longest first) and across several batches.
    monkeypatch.setattr(embedder, "batch_size", 2)
    texts = [
        "Short.",
        "A much longer passage about the council's plans for children in care, which runs on for a while.",
        "Agency staff.",
        "The inspection found that leaders know their services well and act on what they find.",
        "Caseloads fell.",
    ]
    spans = [[(0, len(text))] for text in texts]
    vectors, units = embedder.embed_with_units(texts, spans)
    expected = embedder.embed_batch(texts)
    assert np.allclose(vectors, expected, atol=1e-4)
    # A span covering the whole text pools the same tokens as the text's own vector (less [CLS] and [SEP]).
    assert all(units[i].shape == (1, 384) and float(units[i][0] @ vectors[i]) > 0.9 for i in range(len(texts)))
