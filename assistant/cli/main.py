"""Command line: `assistant ingest|docs|search|ask|chat|commitments|inspections|facts|brief|eval|serve|settings|user`.

The group and its shared options live here; each family of commands has its own module, imported
when the group is, so every module imports what is heavy (the model, Chroma, Gradio) only inside
the command that needs it.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

from assistant.cli.ask import ask, chat, search
from assistant.cli.brief import brief
from assistant.cli.common import emit_json, settings_of
from assistant.cli.eval import evaluate
from assistant.cli.library import docs, ingest, remove
from assistant.cli.process import READ_ONLY, exit_now_if_done, lighten_imports
from assistant.cli.register import commitments, facts, inspections
from assistant.cli.serve import serve, user
from assistant.errors import AssistantError
from assistant.settings import Settings, load_settings

LOG_NAME = "assistant.log"


class _IndexLog(logging.Handler):
    """Appends warnings to the log in the index folder; a folder that cannot be written loses them, quietly."""

    def __init__(self, path: Path) -> None:
        super().__init__(logging.WARNING)
        self.path = path
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.write(self.format(record) + "\n")
        except OSError:
            pass


def _route_logs(index_dir: Path) -> None:
    """Library warnings (pypdf's "EOF marker not found") go to index/assistant.log, not over the progress bar."""
    logging.captureWarnings(True)
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == "assistant"]:
        root.removeHandler(handler)
    ours = logging.StreamHandler(sys.stderr)
    ours.addFilter(lambda record: record.name.split(".")[0] in ("assistant", "ui"))
    ours.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    for handler in (_IndexLog(index_dir / LOG_NAME), ours):
        handler.set_name("assistant")
        root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.WARNING:
        root.setLevel(logging.WARNING)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": "ASSISTANT"})
@click.option("--index-dir", type=click.Path(path_type=Path), help="Index folder (env ASSISTANT_INDEX_DIR).")
@click.version_option(package_name="council-reports-assistant")
@click.pass_context
def cli(ctx: click.Context, index_dir: Path | None) -> None:
    """Cited answers from UK council reports, offline.

    \b
    Examples:
      assistant ingest corpus/
      assistant ask "How many agency social workers does West Sussex have?"
    """
    ctx.ensure_object(dict)
    try:
        ctx.obj["settings"] = load_settings(index_dir=index_dir)
    except AssistantError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    _route_logs(Path(ctx.obj["settings"].index_dir))
    ctx.obj["command"] = ctx.invoked_subcommand
    if ctx.obj.get("one_shot") and ctx.invoked_subcommand in READ_ONLY:
        lighten_imports()


@click.command("settings")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def show_settings(ctx: click.Context, as_json: bool) -> None:
    """Show the settings in force (environment ASSISTANT_*, assistant.toml, defaults).

    \b
    Example:
      assistant settings --json
    """
    settings = settings_of(ctx)
    data = json.loads(settings.model_dump_json())
    if data.get("llm_api_key"):
        data["llm_api_key"] = "***"
    if as_json:
        emit_json(data)
        return
    for name, field in Settings.model_fields.items():
        click.echo(f"{name} = {data[name]!r}    # {field.description}")


for command in (ingest, docs, remove, search, ask, chat, evaluate, serve, user, commitments, inspections, facts, brief, show_settings):
    cli.add_command(command)


def main() -> None:
    """The `assistant` program: one command; lighter imports and a quick exit when it only reads (process.py)."""
    obj: dict[str, object] = {"one_shot": True}
    try:
        cli(obj=obj)
    except SystemExit as done:
        exit_now_if_done(obj.get("command"), done.code)
        raise
