"""`assistant eval`: retrieval and answer quality on QA files, as Markdown tables and JSON lines."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from assistant.cli.common import fail_cleanly, settings_of


@click.command("eval")
@click.argument("qa_files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--markdown", "markdown_out", type=click.Path(dir_okay=False, path_type=Path), help="Also write the tables as Markdown.")
@click.option("--details", "details_out", type=click.Path(dir_okay=False, path_type=Path), help="Write each question's answer as JSON lines.")
@click.option("--no-baselines", is_flag=True, help="Skip the BM25 and plain llama-index baselines.")
@click.option("--check", is_flag=True, help="Exit 1 if a quality target is missed in any file.")
@click.pass_context
@fail_cleanly
def evaluate(
    ctx: click.Context, qa_files: tuple[Path, ...], markdown_out: Path | None, details_out: Path | None, no_baselines: bool, check: bool
) -> None:
    """Measure retrieval and answers on QA files, one table per file, beside BM25 and plain llama-index.

    \b
    Examples:
      assistant eval ../shared/eval/dev_qa.jsonl --markdown eval.md
      assistant eval dev_qa.jsonl field_qa.jsonl --details eval-details.jsonl --check
    """
    from assistant.answer.engine import Engine
    from assistant.evaluate import run_all

    engine = Engine(settings_of(ctx))
    engine.index.require_ready()
    reports = run_all(qa_files, engine, baselines=not no_baselines, log=lambda message: click.echo(message, err=True))
    tables = "\n\n".join(report.markdown() for report in reports)
    click.echo(tables)
    if markdown_out:
        markdown_out.write_text(tables + "\n", encoding="utf-8")
    if details_out:
        rows = [detail for report in reports for detail in report.details]
        details_out.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in rows), encoding="utf-8")
    problems = [f"{report.name}: {problem}" for report in reports for problem in report.failures()]
    for problem in problems:
        click.echo(f"below target: {problem}", err=True)
    if check and problems:
        sys.exit(1)
