"""The Read a report tab: a whole report, its paragraphs labelled, opened at a cited paragraph by a link.

Every citation links to `?report=FILE&passage=ID&q=START-END` (ui/render.report_url); the page's
load event hands those parameters to `ReaderView.open_link`, which opens this tab there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TypedDict

import gradio as gr

from assistant.errors import AssistantError
from assistant.index.index import Index
from assistant.types import Passage, Report
from ui import render
from ui.library import report_picker

TAB_ID = "reader"

# Scroll the report reader to the highlighted paragraph whenever it is (re)drawn.
READER_JS = """
const show = () => { const t = element.querySelector('.cra-target'); if (t) t.scrollIntoView({block: 'center'}); };
watch('value', show); show();
"""


class ReaderView:
    """What the reader shows for a report and a paragraph in it; apart from Gradio so it can be tested."""

    def __init__(self, index: Index) -> None:
        self.index = index

    def _load(self, source: str) -> tuple[Report, list[Passage]] | None:
        if source not in self.index.reports:
            return None
        try:
            return self.index.load_report(source)
        except (AssistantError, OSError):
            return None

    def read(self, source: str | None, passage: str = "", span: tuple[int, int] | None = None) -> str:
        if not source:
            return '<p class="cra-empty">Choose a report to read it in full.</p>'
        loaded = self._load(source)
        if loaded is None:
            return f'<p class="cra-empty">{render.esc(source)} is not in the library.</p>'
        report, passages = loaded
        return render.report_html(report, passages, target=passage, span=span)

    def open_link(self, params: Mapping[str, str]) -> tuple[gr.Tabs, gr.Dropdown, gr.HTML | str]:
        """(tabs, report picker, reader) for a page's query: the reader at the linked paragraph, or all left as they are."""
        source = params.get("report", "")
        if not source:
            return gr.Tabs(), gr.Dropdown(), gr.HTML()
        span = None
        match = re.fullmatch(r"(\d{1,7})-(\d{1,7})", params.get("q", ""))
        if match:
            span = (int(match.group(1)), int(match.group(2)))
        found = source in self.index.reports
        html = self.read(source, params.get("passage", ""), span)
        return gr.Tabs(selected=TAB_ID), gr.Dropdown(value=source if found else None), html


class ReaderTab(TypedDict):
    """The reader tab's view and components, by name."""

    view: ReaderView
    choice: gr.Dropdown
    reader: gr.HTML


def build_reader_tab(index: Index) -> ReaderTab:
    """Add the reader's components to the current gr.Blocks (call inside a `with gr.Tab(..., id=TAB_ID)`)."""
    view = ReaderView(index)
    choice = report_picker("Report", "cra-reader-choice")
    reader = gr.HTML(view.read(None), js_on_load=READER_JS, elem_id="cra-reader")
    choice.input(lambda s: view.read(s), [choice], [reader], api_visibility="private")
    return ReaderTab(view=view, choice=choice, reader=reader)
