"""What the commands share: errors as exit code 1, the settings in force, JSON output and the filter options.

Nothing heavy is imported here: every command module imports this, and `assistant --help` imports them all.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypedDict, TypeVar

import click

from assistant.errors import AssistantError
from assistant.settings import Settings

if TYPE_CHECKING:
    from assistant.types import Filters

P = ParamSpec("P")
R = TypeVar("R")
F = TypeVar("F", bound=Callable[..., object])


def fail_cleanly(func: Callable[P, R]) -> Callable[P, R]:
    """Turn AssistantError into one line on stderr and exit code 1."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except AssistantError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)

    return wrapper


def settings_of(ctx: click.Context) -> Settings:
    """The settings the group loaded for this run."""
    settings = ctx.obj["settings"]
    assert isinstance(settings, Settings)
    return settings


def emit_json(data: object) -> None:
    """Print JSON as the commands' --json does: indented, non-ASCII kept."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def check_writable(folder: Path) -> None:
    """Fail with the folder's name and the fix when the index folder cannot be written."""
    import tempfile

    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise AssistantError(
            f"the index folder {folder} cannot be written ({exc.strerror or exc}): fix its permissions, "
            "or choose another with --index-dir or ASSISTANT_INDEX_DIR"
        ) from None


# ---------------------------------------------------------------- filters (search, ask, chat)


class FilterOptions(TypedDict):
    """The keyword arguments `filter_options` adds to a command."""

    councils: tuple[str, ...]
    date_from: str
    date_to: str
    sources: tuple[str, ...]


def _date(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """A --from/--to value that is a real date; anything else is a usage error naming it (exit 2)."""
    from assistant.types import Filters

    try:
        return Filters(date_from=value or "").date_from
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date: use 2020, 2020-03 or 2020-03-19") from None


def filter_options(func: F) -> F:
    """Add --council, --from, --to and --report (the keyword arguments in FilterOptions)."""
    func = click.option("--council", "councils", multiple=True, help="Only this council (repeatable).")(func)
    func = click.option("--from", "date_from", default="", callback=_date, help="Reports dated on or after (2020, 2020-03).")(func)
    func = click.option("--to", "date_to", default="", callback=_date, help="Reports dated on or before.")(func)
    func = click.option("--report", "sources", multiple=True, help="Only this report file (repeatable).")(func)
    return func


def to_filters(councils: tuple[str, ...], date_from: str, date_to: str, sources: tuple[str, ...]) -> Filters:
    """The options as Filters; a contradiction (--from after --to) is a usage error."""
    from pydantic import ValidationError

    from assistant.types import Filters

    try:
        return Filters(councils=list(councils), date_from=date_from, date_to=date_to, sources=list(sources))
    except ValidationError as exc:
        raise click.UsageError(str(exc.errors()[0]["msg"]).removeprefix("Value error, ")) from None
