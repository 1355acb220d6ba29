"""Reports and passages as llama-index objects: the node parser gives the same passages as the splitter."""

from __future__ import annotations

from llama_index.core.schema import TextNode

from assistant.documents.nodes import ParagraphNodeParser, report_document
from assistant.documents.passages import TokenCounter
from assistant.types import Passage, Report


def test_node_parser_through_llama_index(
    reports: dict[str, Report], split: dict[str, list[Passage]], count: TokenCounter
) -> None:
    parser = ParagraphNodeParser(max_tokens=256, token_counter=count, include_prev_next_rel=False)
    documents = [report_document(report) for report in reports.values()]
    nodes = parser.get_nodes_from_documents(documents)
    assert all(isinstance(node, TextNode) for node in nodes)
    expected = [p for name in reports for p in split[name]]
    assert [n.node_id for n in nodes] == [p.id for p in expected]
    assert [n.get_content() for n in nodes] == [p.text for p in expected]
    node = next(n for n in nodes if n.node_id == next(p.id for p in expected if p.source.startswith("000") and p.paragraph == "8"))
    assert node.metadata["paragraph"] == "8"
    assert node.metadata["council"] == "West Sussex"
    assert node.metadata["source"] == "000_593dbc0cfa530023.txt"
    assert (node.start_char_idx, node.end_char_idx) == (node.metadata["start"], node.metadata["end"])
    # Metadata is for filters and citations: the encoder sees the passage text only.
    assert node.get_content(metadata_mode="embed") == node.get_content()
