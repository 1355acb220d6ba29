"""`assistant brief`: a cited briefing note on a topic, as Markdown, HTML or Word."""

from __future__ import annotations

from pathlib import Path

import click

from assistant.cli.common import fail_cleanly, settings_of


@click.command()
@click.argument("topic")
@click.option("--council", "councils", multiple=True, help="Only this council (repeatable).")
@click.option("--from", "date_from", default="", help="Reports dated on or after (2020, 2020-03).")
@click.option("--to", "date_to", default="", help="Reports dated on or before.")
@click.option("--format", "fmt", type=click.Choice(["docx", "md", "html"]), default=None, help="Output format (default: from --out, else md).")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write to this file (docx defaults to briefing-TOPIC.docx).")
@click.pass_context
@fail_cleanly
def brief(ctx: click.Context, topic: str, councils: tuple[str, ...], date_from: str, date_to: str, fmt: str | None, out: Path | None) -> None:
    """Draft a cited briefing note on TOPIC: summary, Ofsted findings, commitments, progress, questions.

    Every point quotes the report and paragraph it comes from. Markdown and HTML go to stdout
    unless --out is given; a Word file is written and its path printed.

    \b
    Examples:
      assistant brief "workforce" --council "West Sussex"
      assistant brief "care leavers" --from 2019 --out care-leavers.docx
    """
    from assistant.answer.engine import Engine
    from assistant.briefing.draft import build_briefing
    from assistant.briefing.render import choose_format, file_name, render, write

    fmt = choose_format(fmt, out)
    engine = Engine(settings_of(ctx))
    note = build_briefing(engine, topic, councils=councils, date_from=date_from, date_to=date_to)
    if out is None and fmt != "docx":
        click.echo(render(note, fmt).decode("utf-8"), nl=False)
        return
    path = write(note, fmt, out or Path(file_name(note, fmt)))
    click.echo(str(path))
