"""The `sdb-agent` command line. Commands parse input, call plain functions, translate errors."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer

from sdb_agent.errors import SdbAgentError

P = ParamSpec("P")
R = TypeVar("R")

app = typer.Typer(
    help="Turn Jira issues into Bitbucket pull requests, with every step recorded.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(
    help="The history database: migrations and the embedded server.", no_args_is_help=True
)
app.add_typer(db_app, name="db")


def one_line_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Print a product error as one line on stderr and exit 1, instead of a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except SdbAgentError as exc:
            typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
            raise typer.Exit(1) from None

    return wrapper


@db_app.command("url")
@one_line_errors
def db_url() -> None:
    """Print the database URL in use, password masked."""
    from db.session import masked, resolve_database_url

    typer.echo(masked(resolve_database_url()))


@db_app.command("upgrade")
@one_line_errors
def db_upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply migrations up to REVISION (default: the newest). Safe to repeat."""
    from db import migrate
    from db.session import get_engine

    engine = get_engine()
    before = migrate.current_revision(engine)
    migrate.upgrade(engine, revision)
    after = migrate.current_revision(engine)
    typer.echo(
        f"schema: {before or 'empty'} -> {after}"
        if before != after
        else f"schema already at {after}"
    )


@db_app.command("downgrade")
@one_line_errors
def db_downgrade(revision: str = typer.Argument(..., help="Target revision, or 'base'.")) -> None:
    """Revert migrations down to REVISION ('base' removes every table)."""
    from db import migrate
    from db.session import get_engine

    engine = get_engine()
    migrate.downgrade(engine, revision)
    typer.echo(f"schema now at {migrate.current_revision(engine) or 'base (empty)'}")


@db_app.command("current")
@one_line_errors
def db_current() -> None:
    """Print the database's migration revision and this code's newest."""
    from db import migrate
    from db.session import get_engine

    current = migrate.check_revision_known(get_engine())
    typer.echo(f"database: {current or 'empty'}  code head: {migrate.head_revision()}")


@db_app.command("stop")
@one_line_errors
def db_stop() -> None:
    """Stop the embedded PostgreSQL (it starts again on demand)."""
    from db.session import embedded_server
    from sdb_agent.settings import get_settings

    embedded_server(get_settings()).stop()
    typer.echo("embedded PostgreSQL stopped")


@app.command("demo")
@one_line_errors
def demo() -> None:
    """Run the main job on the embedded defaults and show what it did."""
    from sdb_agent.demo import run_demo

    run_demo(echo=typer.echo)
