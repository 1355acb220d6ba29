"""The vector rows: the Chroma collection (embedded or on a server), llama-index's store over it, and keeping up.

Every passage is one row: its id, its vector, its text and flat metadata (Passage.metadata).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, cast

from assistant.errors import SettingsError
from assistant.settings import Settings
from assistant.types import Filters

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection as ChromaCollection
    from chromadb.api.types import Embedding, GetResult, Include, Metadata, OneOrMany, PyEmbedding, QueryResult, Where
    from llama_index.core.schema import BaseNode
    from llama_index.vector_stores.chroma import ChromaVectorStore

log = logging.getLogger(__name__)

# An id no passage has: deleting it is a no-op write that makes Chroma take up other processes' writes.
SYNC_ID = "__sync__"
# Ids per delete call: Chroma refuses very large batches.
DELETE_BATCH = 5000
# The collection on a server that holds the index folder's files, named after the passages' collection.
FILES_SUFFIX = "-files"


class Collection(Protocol):
    """What the index asks of a Chroma collection (chromadb's Collection, or a test's wrapper of one)."""

    def get(self, ids: list[str] | None = None, *, include: Include = ...) -> GetResult: ...

    def upsert(
        self,
        ids: list[str],
        embeddings: OneOrMany[Embedding] | OneOrMany[PyEmbedding] | None = None,
        metadatas: OneOrMany[Metadata] | None = None,
        documents: list[str] | None = None,
    ) -> None: ...

    def delete(self, ids: list[str] | None = None) -> object: ...

    def count(self) -> int: ...

    def query(
        self,
        *,
        query_embeddings: OneOrMany[Embedding] | OneOrMany[PyEmbedding] | None = None,
        n_results: int = 10,
        where: Where | None = None,
        ids: list[str] | None = None,
        include: Include = ...,
    ) -> QueryResult: ...


def open_client(settings: Settings) -> ClientAPI:
    """The Chroma client: embedded in the index folder, or of a server when a URL is set."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        from urllib.parse import urlparse

        url = urlparse(settings.chroma_url)
        if not url.hostname:
            raise SettingsError(f"ASSISTANT_CHROMA_URL={settings.chroma_url}: expected a URL like http://127.0.0.1:8000")
        try:
            return chromadb.HttpClient(
                host=url.hostname,
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        except Exception as exc:
            raise SettingsError(
                f"cannot reach the Chroma server at {settings.chroma_url} ({exc}); start it with "
                "`chroma run` or unset ASSISTANT_CHROMA_URL to use the embedded store"
            ) from None
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)


def open_collection(settings: Settings) -> Collection:
    """The Chroma collection of passages: embedded in the index folder, or on a server when a URL is set."""
    return open_client(settings).get_or_create_collection(
        settings.collection, metadata={"hnsw:space": "cosine"}, embedding_function=None
    )


def open_files_collection(settings: Settings) -> ChromaCollection:
    """The server's collection of the index folder's files (assistant/index/remote.py), beside the passages."""
    return open_client(settings).get_or_create_collection(settings.collection + FILES_SUFFIX, embedding_function=None)


# Embedded stores this process has opened: a later client of the same folder shares the first one's
# in-memory vector index, which may have fallen behind other processes' writes.
_OPENED: set[str] = set()


class Rows:
    """One index's collection and vector store, opened on first use (a given collection is used as it is)."""

    def __init__(self, settings: Settings, collection: Collection | None, lock: threading.RLock) -> None:
        self.settings = settings
        self._collection = collection
        self._vector_store: ChromaVectorStore | None = None
        self._caught_up = False
        self._lock = lock  # the index's lock for lazy opens: web sessions open it at once

    @property
    def collection(self) -> Collection:
        with self._lock:
            if self._collection is None:
                self._collection = open_collection(self.settings)
                _OPENED.add(str(self.settings.chroma_dir))
            return self._collection

    @property
    def vector_store(self) -> ChromaVectorStore:
        """llama-index's store over the collection, made once (every query goes through it)."""
        with self._lock:
            if self._vector_store is None:
                from llama_index.vector_stores.chroma import ChromaVectorStore

                # This process's Chroma client may be shared with older Index objects that fell behind.
                self.catch_up()
                self._vector_store = ChromaVectorStore(chroma_collection=self.collection)
            return self._vector_store

    def nearest(
        self, vector: Embedding, n: int, filters: Filters, *, rows: bool = True, ids: list[str] | None = None
    ) -> QueryResult:
        """The n rows nearest the vector under the filters (or among `ids`), straight from Chroma (without `rows`:
        ids and distances only).

        Queries skip llama-index's store: importing llama_index.core costs ~2 s of a one-shot question,
        and the store would send Chroma the same `where` clause and read back the same rows.
        """
        with self._lock:
            if self._vector_store is None and not self._caught_up:
                if self._collection is None and str(self.settings.chroma_dir) not in _OPENED:
                    self.collection  # noqa: B018 - the process's first open loads every row written so far
                else:
                    self.catch_up()  # once, as opening the llama-index store does (a write: ~30-100 ms)
                self._caught_up = True
        return self.collection.query(
            query_embeddings=[vector], n_results=n, where=where_clause(filters), ids=ids,
            include=["documents", "metadatas", "distances"] if rows else ["distances"],
        )

    def catch_up(self) -> None:
        """Make embedded Chroma's in-memory vector index take up rows other processes wrote.

        Chroma reads rows from SQLite but answers nearest-neighbour queries from an in-memory index
        that only applies other processes' writes when this process writes (measured with chromadb 1.x).
        A server applies every client's writes itself: nothing to do, and no write to make.
        """
        if self.settings.chroma_url:
            return
        try:
            self.collection.delete(ids=[SYNC_ID])
        except Exception:  # noqa: BLE001 - a read-only or busy store just stays as it was
            log.debug("could not bring Chroma up to date", exc_info=True)

    def catch_up_if_open(self) -> None:
        """After another process's commit: catch up, unless nothing was opened yet (opening will)."""
        if self._collection is not None:
            self.catch_up()

    def add(self, nodes: Sequence[BaseNode]) -> None:
        self.vector_store.add(list(nodes))

    def upsert(self, nodes: Sequence[BaseNode]) -> None:
        """Overwrite rows by id, stored exactly as ChromaVectorStore.add stores them."""
        from llama_index.core.vector_stores.utils import node_to_metadata_dict

        metadatas: list[Metadata] = []
        for node in nodes:
            metadata = node_to_metadata_dict(node, remove_text=True, flat_metadata=True)
            metadatas.append({k: ("" if v is None else v) for k, v in metadata.items()})
        embeddings: list[PyEmbedding] = [n.get_embedding() for n in nodes]
        self.collection.upsert(
            ids=[n.node_id for n in nodes],
            embeddings=embeddings,
            metadatas=metadatas,
            documents=[n.get_content() for n in nodes],
        )

    def backup(self, ids: list[str]) -> GetResult | None:
        """Rows as stored, to put back with `restore` if an overwrite fails."""
        return self.collection.get(ids=ids, include=["embeddings", "metadatas", "documents"])

    def restore(self, backup: GetResult | None) -> None:
        if backup and backup.get("ids"):
            self.collection.upsert(
                ids=backup["ids"],
                embeddings=backup["embeddings"],
                metadatas=backup["metadatas"],
                documents=backup["documents"],
            )

    def delete(self, ids: list[str]) -> None:
        for start in range(0, len(ids), DELETE_BATCH):
            self.collection.delete(ids=ids[start : start + DELETE_BATCH])

    def ids(self) -> list[str]:
        """Every row's id."""
        return list(self.collection.get(include=[])["ids"])


def where_clause(filters: Filters) -> Where | None:
    """Filters as Chroma's `where`: councils and reports by name, dates as overlapping intervals."""
    items: list[dict[str, object]] = []
    if filters.councils:
        items.append({"council": {"$in": list(filters.councils)}})
    if filters.sources:
        items.append({"source": {"$in": list(filters.sources)}})
    low, high = filters.bounds()
    if filters.date_from:
        items.append({"date_to": {"$gte": low}})
    if filters.date_to:
        items.append({"date_from": {"$lte": high}})
    if not items:
        return None
    # The same clause llama-index's ChromaVectorStore builds from MetadataFilters.
    return cast("Where", items[0] if len(items) == 1 else {"$and": items})
