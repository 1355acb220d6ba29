"""The Library tab: the indexed reports, uploads into the corpus folder under safe names (ingested together), removal.

The upload and removal functions work on the index alone and are tested without Gradio;
`LibraryView` adds who may change the library and what the page shows of it, and
`build_library_tab` lays out the tab inside the app's gr.Blocks.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath
from typing import TypedDict

import gradio as gr

from assistant.index.index import FileResult, Index
from ui import render
from ui.auth import Users
from ui.history import councils_with_history
from ui.render import FileOutcome

UPLOAD_TYPES = [".pdf", ".docx", ".html", ".htm", ".txt", ".md"]
EDITORS_ONLY = "Only editors can add or remove reports: ask an administrator to make you an editor."
CONFIRM_REMOVE_JS = "(source) => (source && confirm('Remove this report from the library?')) ? source : null"
UPLOADS = "uploads"
_INCOMING = ".incoming"  # hidden, so `assistant ingest corpus/` never reads a half-finished upload
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def safe_name(name: str) -> str:
    """A plain file name from whatever a browser sent: no folders, no leading dots, no odd characters."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()  # é → e
    base = PurePosixPath(ascii_name.replace("\\", "/")).name
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = re.sub(r"[ _]+", "_", _UNSAFE.sub("_", stem)).strip("._- ")[:80] or "report"
    suffix = _UNSAFE.sub("", suffix).lower()[:10]
    return f"{stem}.{suffix}" if suffix else stem


def uploads_dir(index: Index) -> Path:
    return Path(index.settings.corpus_dir) / UPLOADS


def _destination(index: Index, name: str) -> Path:
    """Where an upload is kept: a new upload of the same name replaces the earlier one; a name
    already used by a report that came from elsewhere gets a numbered variant."""
    folder = uploads_dir(index)
    path = folder / name
    stem, suffix = path.stem, path.suffix
    number = 2
    while not path.exists() and path.name in index.reports:
        path = folder / f"{stem}-{number}{suffix}"
        number += 1
    return path


def add_uploads(
    index: Index,
    files: Sequence[tuple[Path, str]],
    *,
    progress: Callable[[int, int, str], None] | None = None,
) -> list[FileOutcome]:
    """Store each (temporary path, original name) under the corpus folder and ingest it.

    A file that fails is not kept, so the corpus folder only holds reports that were read.
    """
    incoming = uploads_dir(index) / _INCOMING
    incoming.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path, str]] = []
    taken: set[str] = set()
    for temp, original in files:
        final = _destination(index, safe_name(original))
        stem, suffix, number = final.stem, final.suffix, 2
        while final.name in taken:  # two uploads in one batch with the same safe name
            final = final.with_name(f"{stem}-{number}{suffix}")
            number += 1
        taken.add(final.name)
        path = incoming / final.name
        shutil.copyfile(temp, path)
        staged.append((path, final, original))
    try:
        summary = index.ingest([path for path, _, _ in staged], progress=progress)
    except BaseException:
        for path, _, _ in staged:
            path.unlink(missing_ok=True)
        raise
    outcomes: list[FileOutcome] = []
    done = {r.path: r for r in summary.results}
    for path, final, original in staged:
        result = done.get(str(path)) or FileResult(str(path), "failed", message=f"{final.name}: not read")
        if result.status == "failed":
            path.unlink(missing_ok=True)
        else:
            os.replace(path, final)
        shown = original if final.name == original else f"{original} (kept as {final.name})"
        outcomes.append(FileOutcome(shown, result.status, result.passages, result.message))
    return outcomes


def remove_report(index: Index, source: str) -> FileOutcome:
    """Drop a report from the index; an uploaded copy is deleted too, other files are left alone."""
    result = index.remove(source)
    if result.status == "failed":
        return FileOutcome(source, "failed", message=result.message)
    uploaded = uploads_dir(index) / source
    if uploaded.is_file():
        uploaded.unlink()
        note = "its uploaded file was deleted"
    else:
        note = "its file in the corpus folder was kept; `assistant ingest` would add it back"
    return FileOutcome(source, "removed", result.passages, f"Removed from the index; {note}.")


# ---------------------------------------------------------------- the tab

def report_picker(label: str, elem_id: str, *, multiselect: bool = False) -> gr.Dropdown:
    """A picker of the library's councils or reports, whose choices arrive with the page (`LibraryView.refresh`).

    Gradio describes the API from the components as built, in every page including the login page,
    so built choices would name the library. API callers never load the page, so values are not
    checked against choices; the handlers check them.
    """
    return gr.Dropdown(choices=[], allow_custom_value=True, multiselect=multiselect, label=label, elem_id=elem_id)


# What shows the library's contents: the header, the table, then every picker of councils or reports.
Refreshed = tuple[str, str, gr.Dropdown, gr.Dropdown, gr.Dropdown, gr.Dropdown, gr.Dropdown, gr.Dropdown, gr.Dropdown]


class LibraryView:
    """Who may change the library, the changes, and what the page shows of the library after them."""

    def __init__(self, index: Index, users: Users | None = None) -> None:
        self.index = index
        self.users = users
        self.lock = threading.Lock()

    def may_edit(self, request: gr.Request | None) -> bool:
        """Without login everyone at this machine edits; with it, only editors (checked here, on the server)."""
        if not self.users:
            return True
        return self.users.may_edit(getattr(request, "username", None))

    def controls(self, request: gr.Request) -> tuple[gr.Column, gr.Column]:
        """Readers do not see the add and remove controls (the server refuses them anyway)."""
        editor = self.may_edit(request)
        return gr.Column(visible=editor), gr.Column(visible=editor)

    def report_choices(self) -> list[tuple[str, str]]:
        ordered = sorted(self.index.reports.items(), key=lambda i: (i[1].council, i[1].date, i[0]))
        return [(render.report_choice_label(source, entry), source) for source, entry in ordered]

    def header(self) -> str:
        return render.header_html(len(self.index.reports), self.index.councils)

    def refresh(self) -> Refreshed:
        """Everything that shows the library's contents, brought up to date."""
        reports = self.report_choices()
        councils = self.index.councils
        return (
            self.header(),
            render.library_html(self.index.reports),
            gr.Dropdown(choices=councils),
            gr.Dropdown(choices=reports),
            gr.Dropdown(choices=reports, value=None),
            gr.Dropdown(choices=reports),
            gr.Dropdown(choices=councils),
            gr.Dropdown(choices=councils),
            gr.Dropdown(choices=councils_with_history(self.index)),
        )

    def upload(
        self, files: list[str] | None, request: gr.Request | None = None, progress: gr.Progress | None = None
    ) -> tuple[str, None, *Refreshed]:
        """Store and ingest uploaded reports; one result line per file."""
        if not self.may_edit(request):
            raise gr.Error(EDITORS_ONLY)
        if not files:
            return (render.outcomes_html([]), None, *self.refresh())
        tracker = progress or gr.Progress()
        tracker(0, desc="Starting…")

        def step(number: int, total: int, name: str) -> None:
            tracker((number - 1) / total, desc=f"Reading and indexing {name} ({number} of {total})")

        with self.lock:
            outcomes = add_uploads(self.index, [(Path(f), Path(f).name) for f in files], progress=step)
        return (render.outcomes_html(outcomes), None, *self.refresh())

    def remove(self, source: str | None, request: gr.Request | None = None) -> tuple[str, *Refreshed]:
        if not self.may_edit(request):
            raise gr.Error(EDITORS_ONLY)
        if not source:
            return (render.outcomes_html([]), *self.refresh())
        with self.lock:
            outcome = remove_report(self.index, source)
        return (render.outcomes_html([outcome]), *self.refresh())


class LibraryTab(TypedDict):
    """The Library tab's view and components, by name."""

    view: LibraryView
    library: gr.HTML
    add_controls: gr.Column
    uploads: gr.File
    upload_button: gr.Button
    outcomes: gr.HTML
    remove_controls: gr.Column
    remove_choice: gr.Dropdown
    remove_button: gr.Button


def build_library_tab(view: LibraryView, *, max_file_mb: float) -> LibraryTab:
    """Add the Library tab's components to the current gr.Blocks (call inside a `with gr.Tab(...)`).

    Its events change what other tabs show, so the app wires them (`wire_library_tab`) once every tab is built.
    """
    library = gr.HTML(render.library_html(view.index.reports), elem_id="cra-library")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=300) as add_controls:
            uploads = gr.File(
                label=f"Add reports (PDF, DOCX, HTML, TXT or MD; up to {max_file_mb:g} MB each)",
                file_count="multiple",
                file_types=UPLOAD_TYPES,
                type="filepath",
                elem_id="cra-upload",
            )
            upload_button = gr.Button("Add to library", variant="primary", elem_id="cra-upload-button")
            outcomes = gr.HTML("", min_height=40, elem_id="cra-outcomes")
        with gr.Column(scale=2, min_width=260) as remove_controls:
            remove_choice = report_picker("Remove a report from the index", "cra-remove-choice")
            remove_button = gr.Button("Remove from index", variant="stop", size="sm", elem_id="cra-remove-button")
    return LibraryTab(view=view, library=library, add_controls=add_controls, uploads=uploads, upload_button=upload_button,
                      outcomes=outcomes, remove_controls=remove_controls, remove_choice=remove_choice, remove_button=remove_button)


def wire_library_tab(tab: LibraryTab, refreshed: Sequence[gr.components.Component]) -> None:
    """The tab's events: one change at a time, each followed by every component in `refreshed` (`LibraryView.refresh`'s order)."""
    view = tab["view"]
    tab["upload_button"].click(
        view.upload, [tab["uploads"]], [tab["outcomes"], tab["uploads"], *refreshed], api_name="upload",
        show_progress_on=[tab["outcomes"]], concurrency_id="library", concurrency_limit=1, api_visibility="undocumented",
    )
    tab["remove_button"].click(
        view.remove, [tab["remove_choice"]], [tab["outcomes"], *refreshed], api_name="remove", js=CONFIRM_REMOVE_JS,
        concurrency_id="library", concurrency_limit=1, api_visibility="undocumented",
    )
