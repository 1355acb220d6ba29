"""The Timeline tab: commitments and inspections as a chart and a table, each item opening its citation."""

from __future__ import annotations

import pytest

from assistant.register.commitments import extract_commitments
from assistant.types import Passage


def passage(text: str, *, date: str = "2021-03-19", section: str = "", paragraph: str = "4", council: str = "Testshire") -> Passage:
    return Passage(
        id=f"t.txt#{paragraph}", source="t.txt", council=council, date=date, section=section,
        paragraph=paragraph, ordinal=0, start=0, end=len(text), text=text,
    )


EVIL = '<script>window.__pwned=1</script><img src=x onerror="alert(1)">'


def test_timeline_chart_escapes_text_and_links_each_item() -> None:
    from ui.timeline import timeline_svg

    (item,) = extract_commitments([passage(f"The Commissioner will review {EVIL} in July.", council=EVIL)])
    item = item.model_copy(update={"status": "open"})
    svg = timeline_svg([item], [])
    assert "<script" not in svg and "<img" not in svg and "&lt;script&gt;" in svg
    assert 'href="?report=t.txt&amp;passage=t.txt%234' in svg
    assert "<rect" in svg and "2021" in svg


@pytest.mark.slow
# Gradio opens asyncio event loops while building Blocks and never closes them (not our sockets).
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_timeline_tab_inside_blocks(shared_index) -> None:
    import gc

    import gradio as gr

    from ui.timeline import build_timeline_tab

    with gr.Blocks(), gr.Tab("Timeline"):
        parts = build_timeline_tab(shared_index)
    gc.collect()  # let Gradio's stray event loops go while this test's warning filter applies
    view = parts["view"]
    chart, rows, message = view.update(["West Sussex"], ["done"], "", "", "")
    assert rows and all(r[0] == "West Sussex" and r[3] == "done" for r in rows)
    assert chart.count('class="cra-tl-bar"') == len(rows)
    assert 'class="cra-tl-event"' in chart and "commitments" in message
    shown = view.select(0, ["West Sussex"], ["done"], "", "", "")
    assert '<mark class="cra-quote">' in shown and "Open in the report" in shown and "Later report (done)" in shown
    chart, rows, message = view.update([], [], "banana", "", "")
    assert (chart, rows) == ("", []) and "expected a date like 2021" in message
