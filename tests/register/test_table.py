"""Register rows as tables: an inspection record as a JSON row and a council's history as table rows."""

from __future__ import annotations

from inspection_reports import SIF, read

from assistant.register.table import history_rows, record_row


def test_json_row_shape() -> None:
    row = record_row(read(SIF))
    assert {"council", "kind", "framework", "inspection_start", "inspection_end", "published", "lead_inspector", "judgements", "citations"} <= set(row)
    assert all({"facts", "source", "paragraph", "quote"} <= set(c) for c in row["citations"])
    assert history_rows([read(SIF)], [])[0]["judgements"]["adoption"] == "good"
