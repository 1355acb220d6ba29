"""The web app: chat with cited answers, filters, the library, the timeline, briefings and a report reader.

`create_app(settings)` builds the Gradio Blocks without starting a server (tests use it);
`launch(...)` checks the address and login, prepares the index and serves it. Each tab is a module
of its own (chat, library, timeline, briefing, reader); this one puts them together.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import gradio as gr
from starlette.middleware import Middleware

from assistant.answer.engine import Engine
from assistant.settings import Settings, load_settings
from ui.auth import ClientAddress, Users, check_bind
from ui.briefing import build_briefing_tab
from ui.chat import build_chat_tab
from ui.library import LibraryView, Refreshed, build_library_tab, wire_library_tab
from ui.reader import TAB_ID, build_reader_tab
from ui.render import TITLE
from ui.style import CSS
from ui.timeline import build_timeline_tab


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
    library_view = LibraryView(engine.index, users)
    # Gradio keeps its own copy of each upload; clear those hourly (the corpus folder keeps ours).
    with gr.Blocks(title=TITLE, analytics_enabled=False, fill_width=True, delete_cache=(3600, 3600)) as demo:
        header = gr.HTML(library_view.header(), elem_id="cra-header")
        with gr.Tabs(elem_id="cra-tabs") as tabs:
            with gr.Tab("Ask", id="ask", elem_id="tab-ask"):
                chat = build_chat_tab(engine, concurrency=concurrency)
            with gr.Tab("Library", id="library", elem_id="tab-library"):
                library = build_library_tab(library_view, max_file_mb=settings.max_file_mb)
            with gr.Tab("Timeline", id="timeline", elem_id="tab-timeline"):
                timeline = build_timeline_tab(engine.index)
            with gr.Tab("Briefing", id="briefing", elem_id="tab-briefing"):
                briefing = build_briefing_tab(engine)
            with gr.Tab("Read a report", id=TAB_ID, elem_id="tab-reader"):
                reader = build_reader_tab(engine.index)

        # In the order of LibraryView.refresh.
        refreshed = [
            header, library["library"], chat["councils"], chat["sources"], library["remove_choice"], reader["choice"],
            timeline["councils"], briefing["councils"], timeline["history_council"],
        ]
        wire_library_tab(library, refreshed)

        def on_load(request: gr.Request) -> tuple[*Refreshed, gr.Tabs, gr.Dropdown, gr.HTML | str]:
            """Fresh choices for this page; a link from a citation opens the reader at its paragraph."""
            params = dict(request.query_params) if request else {}
            return (*library_view.refresh(), *reader["view"].open_link(params))

        demo.load(on_load, None, [*refreshed, tabs, reader["choice"], reader["reader"]], api_visibility="private")
        demo.load(library_view.controls, None, [library["add_controls"], library["remove_controls"]], api_visibility="private",
                  queue=False)
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
