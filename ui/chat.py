"""The Ask tab: a conversation with cited answers, under filters, each answer ready to paste into an email.

`ChatView` answers and returns plain values, so it is tested without a browser; each browser
session's conversation lives in its own `Session`, never in the view. `build_chat_tab` lays out the
tab's components inside the app's gr.Blocks and wires its events.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypedDict

import gradio as gr
from gradio.events import Dependency

from assistant.answer.engine import Engine
from assistant.answer.followups import Conversation
from assistant.errors import AssistantError
from assistant.types import Answer, Filters
from ui import render
from ui.library import report_picker

EXAMPLES = [
    "What did Ofsted find at Worcestershire's latest monitoring visit?",
    "What does North Somerset's improvement plan say about the front door?",
    "Who chairs the Children First Improvement Board in West Sussex?",
    "How is Darlington's Improvement Board overseeing progress?",
]
_DATE = re.compile(r"^\d{4}(?:-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12]\d|3[01]))?)?$")

# Copy to the clipboard; plain-http pages (no secure context) fall back to execCommand.
COPY_JS = """
(text) => {
  if (!text) return [];
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).catch(() => {});
  } else {
    const area = document.createElement('textarea');
    area.value = text; document.body.appendChild(area); area.select();
    try { document.execCommand('copy'); } finally { area.remove(); }
  }
  return [];
}
"""

Messages = list[dict[str, str]]


@dataclass
class Session:
    """One browser session's conversation; never shared between sessions."""

    chat: Conversation
    messages: Messages = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    selected: int = -1

    def email(self) -> str:
        if not self.answers:
            return ""
        return render.email_text(self.answers[self.selected])


def parse_date(value: str | None, name: str) -> str:
    """A date filter as ISO text ('' when blank); a clear message when it is not one."""
    value = (value or "").strip()
    if value and not _DATE.match(value):
        raise ValueError(f"{name} date '{value}' is not a date: use 2020, 2020-03 or 2020-03-19")
    return value


def make_filters(councils: list[str] | None, date_from: str | None, date_to: str | None, sources: list[str] | None) -> Filters:
    low, high = parse_date(date_from, "From"), parse_date(date_to, "To")
    if low and high and low > high[: len(low)]:
        raise ValueError(f"From date {low} is after To date {high}: swap them")
    return Filters(councils=list(councils or []), date_from=low, date_to=high, sources=list(sources or []))


class ChatView:
    """The tab's event handlers over one shared engine; per-user data lives only in each Session."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def titles(self) -> dict[str, str]:
        return {s: e.title or s for s, e in self.engine.index.reports.items()}

    def _contexts(self, answer: Answer) -> dict[str, render.Context]:
        wanted = {c.passage_id: c.source for c in answer.citations} | {h.passage.id: h.passage.source for h in answer.closest}
        out: dict[str, render.Context] = {}
        for pid, source in wanted.items():
            try:
                _, passages = self.engine.index.load_report(source)
            except (AssistantError, OSError):
                continue  # removed meanwhile: the card still shows the passage itself
            for i, p in enumerate(passages):
                if p.id == pid:
                    out[pid] = render.Context(passages[i - 1] if i > 0 else None, passages[i + 1] if i + 1 < len(passages) else None)
                    break
        return out

    def ask(
        self,
        question: str,
        session: Session | None,
        councils: list[str] | None,
        date_from: str | None,
        date_to: str | None,
        sources: list[str] | None,
    ) -> tuple[str, Messages, Session | None, str]:
        """Answer the next question of this session's conversation under the filters shown."""
        question = (question or "").strip()
        if not question:
            return "", (session.messages if session else []), session, (session.email() if session else "")
        try:
            filters = make_filters(councils, date_from, date_to, sources)
        except ValueError as exc:
            raise gr.Error(str(exc)) from None
        session = session or Session(self.engine.conversation())
        session.chat.filters = filters
        try:
            answer = session.chat.ask(question)
            reply = render.answer_html(answer, self._contexts(answer))
        except AssistantError as exc:
            answer = Answer.model_validate(
                {"question": question, "standalone_question": question, "answer": f"Could not answer: {exc}", "refused": True}
            )
            reply = render.error_html(str(exc))
        session.messages = session.messages + [
            {"role": "user", "content": render.question_html(question)},
            {"role": "assistant", "content": reply},
        ]
        session.answers.append(answer)
        session.selected = len(session.answers) - 1
        return "", session.messages, session, session.email()

    def pick_example(self, evt: gr.SelectData) -> str:
        value = evt.value
        return str(value.get("text", "")) if isinstance(value, dict) else str(value)

    def select_answer(self, session: Session | None, evt: gr.SelectData) -> str:
        """Clicking an answer makes it the one 'copy' takes."""
        if not session or not session.answers:
            return ""
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        if isinstance(index, int):
            session.selected = max(0, min(index // 2, len(session.answers) - 1))
        return session.email()

    def new_conversation(self, session: Session | None) -> tuple[Messages, None, str, list[str], str, str, list[str], str]:
        if session:
            session.chat.reset()
        return [], None, "", [], "", "", [], render.filters_html({})

    def scope(self, councils: list[str] | None, date_from: str | None, date_to: str | None, sources: list[str] | None) -> str:
        try:
            filters = make_filters(councils, date_from, date_to, sources)
        except ValueError as exc:
            return f'<p class="cra-scope cra-scope-bad">{render.esc(exc)}</p>'
        return render.filters_html(filters.model_dump(), self.titles())


class ChatTab(TypedDict):
    """The Ask tab's view and the components the rest of the app refreshes."""

    view: ChatView
    councils: gr.Dropdown
    sources: gr.Dropdown


def build_chat_tab(engine: Engine, *, concurrency: int = 4) -> ChatTab:
    """Add the Ask tab's components to the current gr.Blocks (call inside a `with gr.Tab(...)`) and wire its events."""
    view = ChatView(engine)
    session = gr.State(None)
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=340):
            scope = gr.HTML(render.filters_html({}), elem_id="cra-scope")
            chatbot = gr.Chatbot(
                label="Conversation",
                show_label=False,
                elem_id="cra-chat",
                height="62vh",
                min_height=360,
                layout="panel",
                buttons=[],
                feedback_options=None,
                latex_delimiters=[],
                allow_tags=False,
                sanitize_html=True,
                placeholder="New here? Try one of these questions, or type your own below.",
                examples=[{"text": q, "display_text": q} for q in EXAMPLES],
            )
            with gr.Row(equal_height=True):
                question = gr.Textbox(
                    show_label=False,
                    placeholder="Ask about the reports, e.g. what did Ofsted find at the last monitoring visit?",
                    scale=5,
                    min_width=220,
                    max_lines=4,
                    elem_id="cra-question",
                    autofocus=True,
                )
                ask_button = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="cra-ask")
            with gr.Row():
                copy_button = gr.Button("Copy answer with references", size="sm", elem_id="cra-copy")
                new_button = gr.Button("New conversation", size="sm", elem_id="cra-new")
            with gr.Accordion("Answer with references, ready to paste", open=False, elem_id="cra-copy-panel") as copy_panel:
                copy_text = gr.Textbox(
                    label="Paste into an email", lines=6, max_lines=16, interactive=False, buttons=["copy"], elem_id="cra-copy-text"
                )
        with gr.Column(scale=1, min_width=240, elem_id="cra-filters"):
            gr.HTML('<h3 class="cra-panel-title">Filters</h3><p class="cra-hint">They apply to your next questions.</p>')
            councils = report_picker("Council", "cra-f-council", multiselect=True)
            with gr.Row():
                date_from = gr.Textbox(label="From", placeholder="e.g. 2020", min_width=100, elem_id="cra-f-from")
                date_to = gr.Textbox(label="To", placeholder="e.g. 2021-03", min_width=100, elem_id="cra-f-to")
            sources = report_picker("Report", "cra-f-report", multiselect=True)

    filters: list[gr.Dropdown | gr.Textbox] = [councils, date_from, date_to, sources]

    def answer_on(listener: Callable[..., Dependency], api_name: str | None = None) -> Dependency:
        """The one answering event, on each trigger; only the question box's is the API's `ask`."""
        # Gradio runs one event at a time unless told; answers share the engine across worker threads
        # (its lazy opens are locked, ONNX and Chroma queries are thread-safe), `concurrency` at once.
        return listener(view.ask, [question, session, *filters], [question, chatbot, session, copy_text], show_progress_on=[chatbot],
                        concurrency_id="chat", concurrency_limit=concurrency, api_name=api_name,
                        api_visibility="public" if api_name else "private")

    answer_on(question.submit, "ask")
    answer_on(ask_button.click)
    answer_on(chatbot.example_select(view.pick_example, None, [question], api_visibility="private", queue=False).then)
    chatbot.select(view.select_answer, [session], [copy_text], api_visibility="private", queue=False)
    copy_button.click(None, [copy_text], None, js=COPY_JS)
    copy_button.click(lambda: gr.Accordion(open=True), None, [copy_panel], api_visibility="private", queue=False)
    reset = [chatbot, session, copy_text, councils, date_from, date_to, sources, scope]
    for listener in (chatbot.clear, new_button.click):
        listener(view.new_conversation, [session], reset, api_visibility="private", queue=False)
    for component in filters:
        component.change(view.scope, filters, [scope], api_visibility="private", queue=False)
    return ChatTab(view=view, councils=councils, sources=sources)
