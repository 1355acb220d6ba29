"""The web app: chat with cited answers, filters, the library and a report reader.

`create_app(settings)` builds the Gradio Blocks without starting a server (tests use it);
`launch(...)` checks the address and login, prepares the index and serves it.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from assistant.answer.extractive import Engine
from assistant.answer.followups import Conversation
from assistant.errors import AssistantError
from assistant.settings import Settings, load_settings
from assistant.types import Answer, Filters, Passage, Report
from ui import render
from ui.auth import ClientAddress, Users, check_bind
from ui.briefing import build_briefing_tab
from ui.history import councils_with_history
from ui.library import add_uploads, remove_report
from ui.style import CSS
from ui.timeline import build_timeline_tab

log = logging.getLogger(__name__)

TITLE = "Council Reports Assistant"
UPLOAD_TYPES = [".pdf", ".docx", ".html", ".htm", ".txt", ".md"]
EXAMPLES = [
    "What did Ofsted find at Worcestershire's latest monitoring visit?",
    "What does North Somerset's improvement plan say about the front door?",
    "Who chairs the Children First Improvement Board in West Sussex?",
    "How is Darlington's Improvement Board overseeing progress?",
]
_DATE = re.compile(r"^\d{4}(?:-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12]\d|3[01]))?)?$")

# Scroll the report reader to the highlighted paragraph whenever it is (re)drawn.
READER_JS = """
const show = () => { const t = element.querySelector('.cra-target'); if (t) t.scrollIntoView({block: 'center'}); };
watch('value', show); show();
"""

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

EDITORS_ONLY = "Only editors can add or remove reports: ask an administrator to make you an editor."
CONFIRM_REMOVE_JS = "(source) => (source && confirm('Remove this report from the library?')) ? source : null"


@dataclass
class Session:
    """One browser session's conversation; never shared between sessions."""

    chat: Conversation
    messages: list[dict[str, str]] = field(default_factory=list)
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


class Handlers:
    """Event handlers over one shared engine; per-user data lives only in each Session."""

    def __init__(self, engine: Engine, users: Users | None = None) -> None:
        self.engine = engine
        self.users = users
        self.library_lock = threading.Lock()

    def may_edit(self, request: gr.Request | None) -> bool:
        """Without login everyone at this machine edits; with it, only editors (checked here, on the server)."""
        if not self.users:
            return True
        return self.users.may_edit(getattr(request, "username", None))

    def library_controls(self, request: gr.Request) -> tuple[Any, ...]:
        """Readers do not see the add and remove controls (the server refuses them anyway)."""
        editor = self.may_edit(request)
        return gr.Column(visible=editor), gr.Column(visible=editor)

    # ------------------------------------------------------------ choices

    def council_choices(self) -> list[str]:
        return self.engine.councils()

    def report_choices(self) -> list[tuple[str, str]]:
        reports = self.engine.index.reports
        ordered = sorted(reports.items(), key=lambda i: (i[1].council, i[1].date, i[0]))
        return [(render.report_choice_label(source, entry), source) for source, entry in ordered]

    def titles(self) -> dict[str, str]:
        return {s: e.title or s for s, e in self.engine.index.reports.items()}

    def header(self) -> str:
        count = len(self.engine.index.reports)
        councils = self.council_choices()
        where = f" ({', '.join(councils)})" if 0 < len(councils) <= 6 else ""
        return (
            f'<div class="cra-header"><h1>{render.esc(TITLE)}</h1>'
            f"<p>Answers questions only from the {count} council report{'s' if count != 1 else ''} in the library{render.esc(where)}, "
            "quoting the paragraph each fact comes from. When the reports do not say, it says so.</p></div>"
        )

    def refresh(self) -> tuple[Any, ...]:
        """Everything that shows the library's contents, brought up to date."""
        reports = self.report_choices()
        return (
            self.header(),
            render.library_html(self.engine.index.reports),
            gr.Dropdown(choices=self.council_choices()),
            gr.Dropdown(choices=reports),
            gr.Dropdown(choices=reports, value=None),
            gr.Dropdown(choices=reports),
            gr.Dropdown(choices=self.council_choices()),
            gr.Dropdown(choices=self.council_choices()),
            gr.Dropdown(choices=self.history_councils()),
        )

    def history_councils(self) -> list[str]:
        """Councils with an inspection grade or a figure, for the Timeline's history."""
        return councils_with_history(self.engine)

    # ------------------------------------------------------------ chat

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
    ) -> tuple[str, list[dict[str, str]], Session | None, str]:
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

    def new_conversation(self, session: Session | None) -> tuple[Any, ...]:
        if session:
            session.chat.reset()
        return [], None, "", [], "", "", [], render.filters_html({})

    def scope(self, councils: list[str] | None, date_from: str | None, date_to: str | None, sources: list[str] | None) -> str:
        try:
            filters = make_filters(councils, date_from, date_to, sources)
        except ValueError as exc:
            return f'<p class="cra-scope cra-scope-bad">{render.esc(exc)}</p>'
        return render.filters_html(filters.model_dump(), self.titles())

    # ------------------------------------------------------------ library

    def upload(self, files: list[str] | None, request: gr.Request | None = None, progress: gr.Progress | None = None) -> tuple[Any, ...]:
        """Store and ingest uploaded reports; one result line per file."""
        if not self.may_edit(request):
            raise gr.Error(EDITORS_ONLY)
        if not files:
            return (render.outcomes_html([]), None, *self.refresh())
        tracker = progress or gr.Progress()
        tracker(0, desc="Starting…")

        def step(number: int, total: int, name: str) -> None:
            tracker((number - 1) / total, desc=f"Reading and indexing {name} ({number} of {total})")

        with self.library_lock:
            outcomes = add_uploads(self.engine.index, [(Path(f), Path(f).name) for f in files], progress=step)
        return (render.outcomes_html(outcomes), None, *self.refresh())

    def remove(self, source: str | None, request: gr.Request | None = None) -> tuple[Any, ...]:
        if not self.may_edit(request):
            raise gr.Error(EDITORS_ONLY)
        if not source:
            return (render.outcomes_html([]), *self.refresh())
        with self.library_lock:
            outcome = remove_report(self.engine.index, source)
        return (render.outcomes_html([outcome]), *self.refresh())

    # ------------------------------------------------------------ reader

    def _load(self, source: str) -> tuple[Report, list[Passage]] | None:
        if source not in self.engine.index.reports:
            return None
        try:
            return self.engine.index.load_report(source)
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

    def on_load(self, request: gr.Request) -> tuple[Any, ...]:
        """Fresh choices for this page; a link from a citation opens the reader at its paragraph."""
        refreshed = self.refresh()
        params = dict(request.query_params) if request else {}
        source = params.get("report", "")
        if not source:
            return (*refreshed, gr.Tabs(), gr.Dropdown(), gr.HTML())
        span = None
        match = re.fullmatch(r"(\d{1,7})-(\d{1,7})", params.get("q", ""))
        if match:
            span = (int(match.group(1)), int(match.group(2)))
        found = source in self.engine.index.reports
        html = self.read(source, params.get("passage", ""), span)
        return (*refreshed, gr.Tabs(selected="reader"), gr.Dropdown(value=source if found else None), html)


def theme() -> gr.themes.Base:
    return gr.themes.Default(primary_hue="blue", secondary_hue="sky", neutral_hue="slate")


def create_app(
    settings: Settings | None = None, *, engine: Engine | None = None, concurrency: int = 4, users: Users | None = None
) -> gr.Blocks:
    """Build the app over an engine (default: one opened from settings); no server is started."""
    settings = settings or load_settings()
    engine = engine or Engine(settings)
    # Gradio reads this when it reports usage; an offline council tool must not call home.
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    h = Handlers(engine, users)
    # Choices start empty and arrive with the page (on_load): Gradio describes the API from the
    # components as built, in every page including the login page, so built choices would name the library.
    # API callers never load the page, so values are not checked against choices; the handlers check them.
    reports: list[tuple[str, str]] = []
    listed: dict[str, Any] = {"choices": reports, "allow_custom_value": True}
    # Gradio keeps its own copy of each upload; clear those hourly (the corpus folder keeps ours).
    with gr.Blocks(title=TITLE, analytics_enabled=False, fill_width=True, delete_cache=(3600, 3600)) as demo:
        header = gr.HTML(h.header(), elem_id="cra-header")
        session = gr.State(None)
        with gr.Tabs(elem_id="cra-tabs") as tabs:
            with gr.Tab("Ask", id="ask", elem_id="tab-ask"), gr.Row(equal_height=False):
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
                    councils = gr.Dropdown(multiselect=True, label="Council", elem_id="cra-f-council", **listed)
                    with gr.Row():
                        date_from = gr.Textbox(label="From", placeholder="e.g. 2020", min_width=100, elem_id="cra-f-from")
                        date_to = gr.Textbox(label="To", placeholder="e.g. 2021-03", min_width=100, elem_id="cra-f-to")
                    sources = gr.Dropdown(multiselect=True, label="Report", elem_id="cra-f-report", **listed)
            with gr.Tab("Library", id="library", elem_id="tab-library"):
                library = gr.HTML(render.library_html(engine.index.reports), elem_id="cra-library")
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=300) as add_controls:
                        uploads = gr.File(
                            label=f"Add reports (PDF, DOCX, HTML, TXT or MD; up to {settings.max_file_mb:g} MB each)",
                            file_count="multiple",
                            file_types=UPLOAD_TYPES,
                            type="filepath",
                            elem_id="cra-upload",
                        )
                        upload_button = gr.Button("Add to library", variant="primary", elem_id="cra-upload-button")
                        outcomes = gr.HTML("", min_height=40, elem_id="cra-outcomes")
                    with gr.Column(scale=2, min_width=260) as remove_controls:
                        remove_choice = gr.Dropdown(label="Remove a report from the index", elem_id="cra-remove-choice", **listed)
                        remove_button = gr.Button("Remove from index", variant="stop", size="sm", elem_id="cra-remove-button")
            with gr.Tab("Timeline", id="timeline", elem_id="tab-timeline"):
                timeline = build_timeline_tab(engine)
            with gr.Tab("Briefing", id="briefing", elem_id="tab-briefing"):
                briefing = build_briefing_tab(engine)
            with gr.Tab("Read a report", id="reader", elem_id="tab-reader"):
                reader_choice = gr.Dropdown(label="Report", elem_id="cra-reader-choice", **listed)
                reader = gr.HTML(h.read(None), js_on_load=READER_JS, elem_id="cra-reader")

        filter_inputs: list[Any] = [councils, date_from, date_to, sources]
        refresh_outputs = [
            header, library, councils, sources, remove_choice, reader_choice, timeline["councils"], briefing["councils"],
            timeline["history_council"],
        ]
        ask_args: dict[str, Any] = {
            "fn": h.ask,
            "inputs": [question, session, *filter_inputs],
            "outputs": [question, chatbot, session, copy_text],
            "show_progress_on": [chatbot],
            "concurrency_id": "chat",
            "concurrency_limit": concurrency,
        }
        question.submit(api_name="ask", **ask_args)
        ask_button.click(api_visibility="private", **ask_args)
        chatbot.example_select(h.pick_example, None, [question], api_visibility="private", queue=False).then(
            api_visibility="private", **ask_args
        )
        chatbot.select(h.select_answer, [session], [copy_text], api_visibility="private", queue=False)
        copy_button.click(None, [copy_text], None, js=COPY_JS)
        copy_button.click(lambda: gr.Accordion(open=True), None, [copy_panel], api_visibility="private", queue=False)
        reset_outputs = [chatbot, session, copy_text, councils, date_from, date_to, sources, scope]
        chatbot.clear(h.new_conversation, [session], reset_outputs, api_visibility="private", queue=False)
        new_button.click(h.new_conversation, [session], reset_outputs, api_visibility="private", queue=False)
        for component in filter_inputs:
            component.change(h.scope, filter_inputs, [scope], api_visibility="private", queue=False)

        library_args: dict[str, Any] = {"concurrency_id": "library", "concurrency_limit": 1, "api_visibility": "undocumented"}
        upload_button.click(
            h.upload, [uploads], [outcomes, uploads, *refresh_outputs], api_name="upload", show_progress_on=[outcomes], **library_args
        )
        remove_button.click(
            h.remove, [remove_choice], [outcomes, *refresh_outputs], api_name="remove", js=CONFIRM_REMOVE_JS, **library_args
        )
        reader_choice.input(lambda s: h.read(s), [reader_choice], [reader], api_visibility="private")
        demo.load(h.on_load, None, [*refresh_outputs, tabs, reader_choice, reader], api_visibility="private")
        demo.load(h.library_controls, None, [add_controls, remove_controls], api_visibility="private", queue=False)
    return demo


def prepare(settings: Settings, engine: Engine | None = None) -> Engine:
    """An engine ready to answer: the corpus folder ingested if the index is empty, the model warm."""
    engine = engine or Engine(settings)
    if not engine.index.reports:
        folder = Path(settings.corpus_dir)
        print(f"The index is empty: ingesting {folder} …", file=sys.stderr)
        summary = engine.index.ingest([folder])
        for result in summary.results:
            if result.status == "failed":
                print(f"failed    {result.message}", file=sys.stderr)
        print(f"{len(engine.index.reports)} reports indexed ({summary.seconds:.1f}s)", file=sys.stderr)
    engine.index.require_ready()
    # One search now loads the model and opens Chroma and BM25: the first questions then do not
    # wait, and concurrent first requests do not race to open the store.
    engine.retrieve("warm up")
    return engine


def launch(
    settings: Settings | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    users: Users | None = None,
    concurrency: int = 4,
    engine: Engine | None = None,
    block: bool = True,
) -> gr.Blocks:
    """Serve the app; refuses a non-loopback address unless login is on (raises SettingsError)."""
    settings = settings or load_settings()
    users = users if users is not None else Users.load()
    check_bind(host, users)
    engine = prepare(settings, engine)
    demo = create_app(settings, engine=engine, concurrency=concurrency, users=users)
    demo.queue(default_concurrency_limit=concurrency, max_size=256)
    login = f" (login required: {len(users)} user{'s' if len(users) != 1 else ''})" if users else ""
    print(f"Serving on http://{host}:{port}{login}", file=sys.stderr)
    demo.launch(
        server_name=host,
        server_port=port,
        # An async check (Gradio awaits it) can wait out a login delay without holding the server.
        auth=users.login if users else None,  # type: ignore[arg-type]
        auth_message=f"{TITLE}: sign in with the name and password you were given." if users else None,
        share=False,
        max_file_size=int(settings.max_file_mb * 1024 * 1024),
        prevent_thread_lock=not block,
        show_error=True,
        quiet=True,
        footer_links=[],
        run_history=False,
        enable_monitoring=False,
        mcp_server=False,
        ssr_mode=False,
        pwa=False,
        theme=theme(),
        css=CSS,
        # Gradio gives the login check only a name and password; the middleware adds the address.
        app_kwargs={"middleware": [Middleware(ClientAddress)]},
    )
    return demo
