"""`assistant serve` and `assistant user`: the web app and who may log in to it.

The CLI reaches into ui/ only here: serving the app and its logins are the UI's job.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, cast

import click

from assistant.cli.common import fail_cleanly, settings_of

if TYPE_CHECKING:
    from ui.auth import Role


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on; any but loopback needs login.")
@click.option("--port", default=7860, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option(
    "--users",
    "users_file",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="ASSISTANT_USERS_FILE",
    help="Users file: who may log in, as readers or editors (env ASSISTANT_USERS_FILE); "
    "`assistant user add NAME` writes it. ASSISTANT_USERS may hold the same lines.",
)
@click.option("--concurrency", default=4, show_default=True, type=click.IntRange(1, 64), help="Questions answered at once.")
@click.pass_context
@fail_cleanly
def serve(ctx: click.Context, host: str, port: int, users_file: Path | None, concurrency: int) -> None:
    """Start the web app: chat with cited answers, filters, library, report reader.

    Ingests the corpus folder first if the index is empty.

    \b
    Examples:
      assistant serve
      ASSISTANT_USERS_FILE=users.txt assistant serve --host 0.0.0.0 --port 8080
    """
    from ui.app import launch
    from ui.auth import Users

    launch(settings_of(ctx), host=host, port=port, users=Users.load(users_file), concurrency=concurrency)


@click.group()
def user() -> None:
    """Who may log in to the web app: readers ask; editors also add and remove reports.

    \b
    Examples:
      assistant user add alice --role editor --users-file users.txt
      printf '%s\\n' "$PASSWORD" | assistant user add bob --users-file users.txt
      assistant user remove bob --users-file users.txt
    """


_USERS_FILE = click.option(
    "--users-file",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="ASSISTANT_USERS_FILE",
    default=Path("users.txt"),
    show_default=True,
    help="The users file `assistant serve --users` reads (env ASSISTANT_USERS_FILE).",
)


@user.command("add")
@click.argument("name")
@_USERS_FILE
@click.option("--role", type=click.Choice(["reader", "editor"]), default="reader", show_default=True, help="What the user may do.")
@fail_cleanly
def user_add(name: str, users_file: Path, role: str) -> None:
    """Add user NAME, or set a new password and role; the password is read from stdin when it is not a terminal.

    \b
    Example:
      assistant user add alice --role editor --users-file users.txt
    """
    from ui.auth import add_user, check_name

    check_name(name)
    if sys.stdin.isatty():
        password = click.prompt(f"password for {name}", hide_input=True, confirmation_prompt=True, err=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    new = add_user(users_file, name, password, cast("Role", role))  # click.Choice allows only the roles
    click.echo(f"{'added' if new else 'updated'} {name} ({role}) in {users_file}; serve with `assistant serve --users {users_file}`")


@user.command("remove")
@click.argument("name")
@_USERS_FILE
@fail_cleanly
def user_remove(name: str, users_file: Path) -> None:
    """Remove user NAME; a running server keeps its sessions until restarted.

    \b
    Example:
      assistant user remove bob --users-file users.txt
    """
    from ui.auth import remove_user

    remove_user(users_file, name)
    click.echo(f"removed {name} from {users_file}")
