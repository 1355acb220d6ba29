"""Reports and passages as llama-index objects: a Document per report, a TextNode per passage.

Kept apart from `passages` so that reading and splitting reports never loads llama-index; only
the index, which stores nodes, needs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llama_index.core.node_parser.interface import NodeParser
from llama_index.core.schema import BaseNode, Document, MetadataMode, TextNode

from assistant.documents.passages import TokenCounter, split_report
from assistant.types import Passage, Report


def report_document(report: Report) -> Document:
    """A report as a llama-index Document (metadata kept flat for the vector store)."""
    return Document(
        id_=f"{report.source}@{report.content_hash[:10]}",
        text=report.text,
        metadata=report.meta.model_dump() | {"source": report.source},
    )


def passage_node(passage: Passage) -> TextNode:
    metadata = passage.metadata()
    return TextNode(
        id_=passage.id,
        text=passage.text,
        metadata=metadata,
        start_char_idx=passage.start,
        end_char_idx=passage.end,
        excluded_embed_metadata_keys=list(metadata),
        excluded_llm_metadata_keys=[k for k in metadata if k not in ("title", "council", "date", "paragraph")],
    )


class ParagraphNodeParser(NodeParser):
    """llama-index node parser: Documents from `report_document` → one TextNode per passage."""

    max_tokens: int = 256
    token_counter: TokenCounter | None = None

    def _parse_nodes(self, nodes: Sequence[BaseNode], show_progress: bool = False, **kwargs: Any) -> list[BaseNode]:
        out: list[BaseNode] = []
        for node in nodes:
            meta = dict(node.metadata)
            report = Report(
                source=meta.pop("source", node.node_id),
                text=node.get_content(metadata_mode=MetadataMode.NONE),
                content_hash=node.node_id.rpartition("@")[2] or "0" * 10,
                **{k: v for k, v in meta.items() if k in ("title", "council", "committee", "date", "author")},
            )
            for passage in split_report(report, max_tokens=self.max_tokens, count_tokens=self.token_counter):
                text_node = passage_node(passage)
                text_node.relationships = {}
                out.append(text_node)
        return out
