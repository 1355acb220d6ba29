"""The Read a report tab without a browser: a whole report, opened at a cited paragraph by a link."""

from __future__ import annotations

import gradio as gr
import pytest

from assistant.index.index import Index
from ui.reader import TAB_ID, ReaderView

WORCS = "001_6c25ee4f623b7f02.txt"


def test_the_reader_shows_a_report_or_says_why_not(shared_index: Index) -> None:
    view = ReaderView(shared_index)
    assert "Choose a report" in view.read(None)
    assert view.read("<b>gone.txt</b>") == '<p class="cra-empty">&lt;b&gt;gone.txt&lt;/b&gt; is not in the library.</p>'
    _, passages = shared_index.load_report(WORCS)
    html = view.read(WORCS)
    assert html.count('class="cra-para') == len(passages) and "cra-target" not in html


# The picker's value is an update to the app's picker; built alone it has no choices, and Gradio warns.
@pytest.mark.filterwarnings("ignore:The value passed into gr.Dropdown:UserWarning")
def test_a_link_opens_the_reader_at_the_cited_paragraph(shared_index: Index) -> None:
    view = ReaderView(shared_index)
    _, passages = shared_index.load_report(WORCS)
    target = passages[3]
    tabs, picker, html = view.open_link({"report": WORCS, "passage": target.id, "q": f"{target.start}-{target.start + 20}"})
    assert tabs.selected == TAB_ID and picker.value == WORCS
    assert isinstance(html, str) and f'class="cra-para cra-cited cra-target" id="cra-p-{target.ordinal}"' in html
    _, picker, missing = view.open_link({"report": "nope.txt"})
    assert picker.value is None and "is not in the library" in missing
    tabs, _, _ = view.open_link({})
    assert isinstance(tabs, gr.Tabs) and tabs.selected is None
