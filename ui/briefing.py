"""The Briefing tab: a note on one topic, previewed in the page and offered as a Word, Markdown or HTML file.

`BriefingView` does the work and returns plain values (preview HTML, a file path), so it is tested
without a browser; `build_briefing_tab` lays out its components inside the app's gr.Blocks.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import TypedDict

import gradio as gr

from assistant.answer.engine import Engine
from assistant.briefing.draft import build_briefing
from assistant.briefing.model import Briefing
from assistant.briefing.render import CSS, FORMATS, file_name, to_html, write
from assistant.dates import Anchor
from assistant.errors import AssistantError
from ui.render import citation_url, escape

FORMAT_CHOICES = [("Word (.docx)", "docx"), ("Markdown (.md)", "md"), ("Web page (.html)", "html")]
INTRO = (
    '<p class="cra-brief-intro">Name a topic (for example <em>workforce</em>, <em>front door</em> or '
    "<em>care leavers</em>), choose councils and dates if you wish, and prepare the note. Every point "
    "quotes the report and paragraph it comes from.</p>"
)


def message_html(text: str) -> str:
    return f'<p class="cra-brief-message" role="alert">{escape(text[:1].upper() + text[1:])}</p>'


def preview_html(note: Briefing) -> str:
    """The note as it is shown in the tab, with a line saying what it holds."""
    counts = (
        f"{len(note.summary)} summary points, {len(note.findings) + len(note.judgements)} Ofsted findings, "
        f"{len(note.commitments)} commitments, {len(note.progress)} progress points, {len(note.questions)} questions; "
        f"{len(note.citations)} references to {len(note.sources)} reports."
    )
    return f'<p class="cra-brief-status">{escape(counts)}</p>' + to_html(note, standalone=False, source_link=citation_url)


def _check_date(value: str | None, name: str) -> str:
    value = (value or "").strip()
    if value and Anchor.parse(value) is None:
        raise AssistantError(f"{name} date '{value}' is not a date: use 2020, 2020-03 or 2020-03-19")
    return value


class BriefingView:
    """What the tab shows for its inputs; kept apart from Gradio so it can be tested directly."""

    def __init__(self, engine: Engine, folder: Path | None = None) -> None:
        self.engine = engine
        self.folder = Path(folder) if folder else Path(tempfile.gettempdir()) / "cra-briefings"

    def councils(self) -> list[str]:
        return list(self.engine.councils())

    def prepare(
        self,
        topic: str | None,
        councils: list[str] | None = None,
        date_from: str | None = "",
        date_to: str | None = "",
        fmt: str | None = "docx",
        *,
        prepared: date | None = None,
    ) -> tuple[str, str | None]:
        """(preview HTML, path of the file to download); bad input becomes a message, not an error."""
        fmt = fmt if fmt in FORMATS else "docx"
        try:
            low, high = _check_date(date_from, "From"), _check_date(date_to, "To")
            note = build_briefing(self.engine, topic or "", councils=councils or [], date_from=low, date_to=high, prepared=prepared)
            self.folder.mkdir(parents=True, exist_ok=True)
            # One folder per note, so two people preparing the same topic never share a file.
            path = write(note, fmt, Path(tempfile.mkdtemp(prefix="note-", dir=self.folder)) / file_name(note, fmt))
        except AssistantError as exc:
            return message_html(str(exc)), None
        return preview_html(note), str(path)


class BriefingTab(TypedDict):
    """The Briefing tab's view and components, by name."""

    view: BriefingView
    topic: gr.Textbox
    councils: gr.Dropdown
    date_from: gr.Textbox
    date_to: gr.Textbox
    format: gr.Radio
    prepare: gr.Button
    download: gr.File
    preview: gr.HTML


def build_briefing_tab(engine: Engine, *, folder: Path | None = None, concurrency: int = 2) -> BriefingTab:
    """Add the Briefing tab's components to the current gr.Blocks (call inside a `with gr.Tab(...)`)."""
    view = BriefingView(engine, folder)
    with gr.Row(equal_height=False):
        topic = gr.Textbox(label="Topic", placeholder="e.g. workforce, front door, care leavers", scale=3, min_width=220,
                           elem_id="cra-brief-topic")
        councils = gr.Dropdown(choices=view.councils(), multiselect=True, label="Council", scale=2, elem_id="cra-brief-council")
        date_from = gr.Textbox(label="From", placeholder="e.g. 2020", min_width=100, elem_id="cra-brief-from")
        date_to = gr.Textbox(label="To", placeholder="e.g. 2021-03", min_width=100, elem_id="cra-brief-to")
    with gr.Row(equal_height=True):
        fmt = gr.Radio(FORMAT_CHOICES, value="docx", label="File to download", scale=3, elem_id="cra-brief-format")
        prepare = gr.Button("Prepare briefing", variant="primary", scale=1, min_width=160, elem_id="cra-brief-go")
    download = gr.File(label="Download", interactive=False, elem_id="cra-brief-file")
    preview = gr.HTML(INTRO, css_template=CSS, elem_id="cra-brief-preview")
    inputs = [topic, councils, date_from, date_to, fmt]

    def run(topic: str, councils: list[str] | None, date_from: str, date_to: str, fmt: str) -> tuple[str, str | None]:
        return view.prepare(topic, councils, date_from, date_to, fmt)

    for listener in (prepare.click, topic.submit):
        listener(run, inputs, [preview, download], api_visibility="private", show_progress_on=[preview],
                 concurrency_id="briefing", concurrency_limit=concurrency)
    return BriefingTab(view=view, topic=topic, councils=councils, date_from=date_from, date_to=date_to,
                       format=fmt, prepare=prepare, download=download, preview=preview)
