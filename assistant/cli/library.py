"""`assistant ingest`, `docs` and `remove`: what is in the index."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from assistant.cli.common import check_writable, emit_json, fail_cleanly, settings_of
from assistant.errors import AssistantError

if TYPE_CHECKING:
    from tqdm import tqdm

    from assistant.index.ingest import FileResult


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--prune", is_flag=True, help="Drop reports whose files are no longer among PATHS.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.pass_context
@fail_cleanly
def ingest(ctx: click.Context, paths: tuple[Path, ...], prune: bool, quiet: bool) -> None:
    """Read reports into the index; unchanged files are skipped.

    PATHS are files or folders (default: the corpus folder). Supported: .txt .md .pdf .docx .html

    \b
    Examples:
      assistant ingest corpus/
      assistant ingest --prune corpus/
    """
    from tqdm import tqdm

    from assistant.library import open_index

    settings = settings_of(ctx)
    check_writable(Path(settings.index_dir))
    index = open_index(settings)
    targets = list(paths) or [settings.corpus_dir]
    bar: tqdm[None] | None = None

    def progress(number: int, total: int, name: str) -> None:
        nonlocal bar
        if quiet:
            return
        if bar is None:
            bar = tqdm(total=total, unit="file", file=sys.stderr, leave=False, dynamic_ncols=True)
        bar.set_description(name[:40])
        bar.update(1)

    def on_file(result: FileResult) -> None:
        line = f"{result.status:<9} {result.source}"
        if result.passages and result.status != "failed":
            line += f"  ({result.passages} passages)"
        if result.message:
            line += f"  {result.message}"
        if bar is not None:
            bar.clear()
        click.echo(line)

    try:
        summary = index.ingest(targets, prune=prune, on_file=on_file, progress=progress)
    except PermissionError as exc:
        raise AssistantError(f"{exc.filename or settings.index_dir} cannot be written ({exc.strerror}): fix its permissions") from None
    if bar is not None:
        bar.close()
    parts = [f"{summary.count(s)} {s}" for s in ("added", "updated", "unchanged", "removed", "failed") if summary.count(s)]
    click.echo(f"{', '.join(parts) or 'nothing to do'}; {len(index.reports)} reports indexed ({summary.seconds:.1f}s)")
    if summary.failed:
        sys.exit(1)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@fail_cleanly
def docs(ctx: click.Context, as_json: bool) -> None:
    """List the indexed reports with their metadata and passage counts.

    \b
    Example:
      assistant docs --json
    """
    from assistant.library import open_index

    index = open_index(settings_of(ctx))
    rows = [
        entry.model_dump(include={"title", "council", "committee", "date", "author", "passages"}) | {"source": source}
        for source, entry in sorted(index.reports.items(), key=lambda item: (item[1].council, item[1].date))
    ]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("No reports indexed yet: run `assistant ingest corpus/`.")
        return
    for row in rows:
        click.echo(f"{row['council'] or '?':<16} {row['date'] or '?':<10} {row['passages']:>4}  {row['source']}  {row['title'][:70]}")


@click.command()
@click.argument("source")
@click.pass_context
@fail_cleanly
def remove(ctx: click.Context, source: str) -> None:
    """Remove one report (by file name) from the index; its file is kept.

    \b
    Example:
      assistant remove 000_593dbc0cfa530023.txt
    """
    from assistant.library import open_index

    result = open_index(settings_of(ctx)).remove(source)
    if result.status == "failed":
        raise AssistantError(result.message)
    click.echo(f"removed {source} ({result.passages} passages)")
