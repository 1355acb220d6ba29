"""The Briefing tab without a browser: a preview and a file for a topic, bad input as a message, the tab inside Blocks."""

from __future__ import annotations

from pathlib import Path

import pytest
from briefing_checks import PREPARED


def test_tab_prepares_a_preview_and_a_file(shared_engine, tmp_path) -> None:
    from docx import Document

    from ui.briefing import BriefingView

    view = BriefingView(shared_engine, tmp_path)
    assert view.councils() == ["Darlington", "North Somerset", "West Sussex", "Worcestershire"]
    preview, path = view.prepare("workforce", ["West Sussex"], "", "", "docx", prepared=PREPARED)
    assert path and Path(path).is_file() and Path(path).parent.parent == tmp_path
    assert "<h2>Commitments and dates</h2>" in preview and "Social Work Offer" in preview
    assert "?report=000_593dbc0cfa530023.txt" in preview  # references open the reader at the paragraph
    assert any(p.style.name == "Heading 1" for p in Document(path).paragraphs)
    again, other = view.prepare("workforce", ["West Sussex"], "", "", "md", prepared=PREPARED)
    assert other != path and Path(other).read_text(encoding="utf-8").startswith("# Briefing note: Workforce")


@pytest.mark.parametrize(
    ("args", "message"),
    [(("", [], "", ""), "topic is empty"), (("workforce", [], "2020-13", ""), "From date"), (("workforce", [], "", "soon"), "To date")],
)
def test_tab_shows_bad_input_as_a_message(shared_engine, tmp_path, args, message) -> None:
    from ui.briefing import BriefingView

    preview, path = BriefingView(shared_engine, tmp_path).prepare(*args, "md")
    assert path is None and 'role="alert"' in preview and message in preview


# Gradio opens asyncio event loops while building Blocks and never closes them (not our sockets).
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_tab_builds_inside_blocks(shared_engine, tmp_path) -> None:
    import gc

    import gradio as gr

    from ui.briefing import build_briefing_tab

    with gr.Blocks(), gr.Tab("Briefing"):
        parts = build_briefing_tab(shared_engine, folder=tmp_path)
    assert {"topic", "councils", "date_from", "date_to", "format", "prepare", "download", "preview"} <= set(parts)
    assert parts["councils"].choices[0][0] == "Darlington"
    # Collect Gradio's abandoned loops here, where their warnings are ignored, not in a later test.
    gc.collect()
