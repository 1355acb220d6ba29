"""`assistant commitments`, `inspections` and `facts`: the register of what the reports promised, judged and measured."""

from __future__ import annotations

import click

from assistant.cli.common import fail_cleanly, settings_of


def register_format(fmt: str, as_json: bool) -> str:
    """--json is short for --format json."""
    return "json" if as_json else fmt


@click.command()
@click.option("--council", "councils", multiple=True, help="Only this council (repeatable).")
@click.option("--from", "date_from", default="", help="Due on or after (2021, 2021-03, 2021-03-19).")
@click.option("--to", "date_to", default="", help="Due on or before.")
@click.option("--status", "statuses", multiple=True, type=click.Choice(["done", "in progress", "not mentioned again", "overdue", "open"]), help="Only this status (repeatable).")
@click.option("--as-of", "as_of", default="", help="Judge due dates at this date (default: each council's latest report).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "md"]), default="table", show_default=True, help="Output format.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.pass_context
@fail_cleanly
def commitments(ctx: click.Context, councils: tuple[str, ...], date_from: str, date_to: str, statuses: tuple[str, ...], as_of: str, fmt: str, as_json: bool) -> None:
    """List what the reports promised and when, with follow-through in later reports.

    A commitment is listed when its dates overlap --from/--to. Status: done or in progress
    (a later report says so), not mentioned again, overdue (due date passed without a report),
    open (no later report yet).

    \b
    Examples:
      assistant commitments --council "West Sussex" --from 2021 --to 2021
      assistant commitments --status overdue --as-of 2022-01-01 --format csv
    """
    from assistant.library import open_index
    from assistant.register.query import query_commitments
    from assistant.register.store import load_register
    from assistant.register.table import commitment_row, render

    index = open_index(settings_of(ctx))
    index.require_ready()
    rows = query_commitments(
        load_register(index), councils=councils, date_from=date_from, date_to=date_to, statuses=statuses, as_of=as_of
    )
    click.echo(render([commitment_row(c) for c in rows], register_format(fmt, as_json), "commitments"))


@click.command()
@click.option("--council", "councils", multiple=True, help="Only this council (repeatable).")
@click.option("--from", "date_from", default="", help="On or after (2019, 2019-05).")
@click.option("--to", "date_to", default="", help="On or before.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "md"]), default="table", show_default=True, help="Output format.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.pass_context
@fail_cleanly
def inspections(ctx: click.Context, councils: tuple[str, ...], date_from: str, date_to: str, fmt: str, as_json: bool) -> None:
    """Inspection history: each Ofsted inspection with its dates, lead inspector and grades, and the visits and reviews reports mention.

    Every fact is cited to the report paragraph or table row that states it. JSON rows hold council, kind,
    framework, inspection_start, inspection_end, published, lead_inspector, judgements and citations.

    \b
    Examples:
      assistant inspections --council Worcestershire
      assistant inspections --format json
    """
    from assistant.library import open_index
    from assistant.register.query import query_records
    from assistant.register.store import load_register
    from assistant.register.table import render

    index = open_index(settings_of(ctx))
    index.require_ready()
    rows = query_records(load_register(index), councils=councils, date_from=date_from, date_to=date_to)
    click.echo(render(rows, register_format(fmt, as_json), "inspections"))


@click.command()
@click.argument("metric", required=False, default="")
@click.option("--council", "councils", multiple=True, help="Only this council (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True, help="Output format.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.pass_context
@fail_cleanly
def facts(ctx: click.Context, metric: str, councils: tuple[str, ...], fmt: str, as_json: bool) -> None:
    """Figures the reports state over time: without METRIC the metrics present, with it (any synonym) its series.

    Each value carries the date it describes and the sentence, report and paragraph that state it.
    JSON rows hold metric, council, date, value, unit and citation {source, title, council, date, paragraph, quote}.

    \b
    Examples:
      assistant facts
      assistant facts "vacancy rate" --council "West Sussex" --format json
    """
    from assistant.library import open_index
    from assistant.register.query import query_facts
    from assistant.register.store import load_register
    from assistant.register.table import render_facts

    index = open_index(settings_of(ctx))
    index.require_ready()
    register = load_register(index)
    known = [r.council for r in register.reports.values()]
    click.echo(render_facts(query_facts(register.facts, metric, councils, known), metric, register_format(fmt, as_json)))
