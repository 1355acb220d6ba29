"""The two baselines `assistant eval` measures against: BM25 alone, and plain llama-index over Chroma with the same model."""

from __future__ import annotations

import tempfile
from types import TracebackType
from typing import TYPE_CHECKING

from llama_index.core.embeddings import BaseEmbedding
from pydantic import PrivateAttr

from assistant.answer.engine import Engine
from assistant.index.embedding import Embedder

if TYPE_CHECKING:
    from llama_index.core.retrievers import BaseRetriever


class Baselines:
    """BM25 alone and plain llama-index over the engine's reports, built once and reused across question files."""

    def __init__(self, engine: Engine) -> None:
        self._folder = tempfile.TemporaryDirectory()
        try:
            self._bm25 = _Bm25(engine)
            self._llama = _llama_retriever(engine, self._folder.name)
        except BaseException:
            self._folder.cleanup()
            raise

    def search(self, name: str, query: str) -> list[tuple[str, str]]:
        """Top 10 (source, text) from the named baseline."""
        if name == "bm25":
            return self._bm25.search(query)
        return [(n.node.metadata.get("source", ""), n.node.get_content()) for n in self._llama.retrieve(query)]

    def close(self) -> None:
        self._folder.cleanup()

    def __enter__(self) -> Baselines:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.close()


class _Bm25:
    """BM25 alone: bm25s with its own tokenizer and Porter stemmer over the same passages' text."""

    def __init__(self, engine: Engine) -> None:
        import bm25s
        import Stemmer

        self._bm25s = bm25s
        self.passages = [(p.source, p.text) for p in engine.index.all_passages()]
        self.stemmer = Stemmer.Stemmer("english")
        self.retriever = bm25s.BM25()
        corpus = bm25s.tokenize([text for _, text in self.passages], stopwords="en", stemmer=self.stemmer, show_progress=False)
        self.retriever.index(corpus, show_progress=False)

    def search(self, query: str) -> list[tuple[str, str]]:
        tokens = self._bm25s.tokenize([query], stopwords="en", stemmer=self.stemmer, show_progress=False)
        found, _ = self.retriever.retrieve(tokens, k=min(10, len(self.passages)), show_progress=False)
        return [self.passages[i] for i in found[0]]


def _llama_retriever(engine: Engine, folder: str) -> BaseRetriever:
    """Plain llama-index: default SentenceSplitter, VectorStoreIndex over Chroma, same model."""
    import chromadb
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.vector_stores.chroma import ChromaVectorStore

    documents = []
    for source in sorted(engine.index.reports):
        report, _ = engine.index.load_report(source)
        documents.append(Document(text=report.text, metadata={"source": source}))
    collection = chromadb.PersistentClient(path=folder).get_or_create_collection("baseline", embedding_function=None)
    storage = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection))
    index = VectorStoreIndex.from_documents(
        documents, storage_context=storage, embed_model=LlamaEmbedding(engine.index.embedder), transformations=[SentenceSplitter()]
    )
    return index.as_retriever(similarity_top_k=10)


class LlamaEmbedding(BaseEmbedding):
    """Our embedder as a llama-index BaseEmbedding, so the baseline uses the very same model."""

    _embedder: Embedder = PrivateAttr()

    def __init__(self, embedder: Embedder) -> None:
        super().__init__(model_name=getattr(embedder, "name", "embedder"))
        self._embedder = embedder

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._embedder.embed_batch([query])[0].tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._embedder.embed_batch([text])[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._embedder.embed_batch(texts).tolist()
