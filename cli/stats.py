"""`sdb-agent stats ...`: the analytics routes' figures as a plain table, or with `--json` as
the route answers them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.output import PLAIN_HELP, one_line_errors

if TYPE_CHECKING:
    from pydantic import BaseModel
    from sqlalchemy import Engine

stats_app = typer.Typer(help="Analytics of the history: the figures of the /stats routes.",
                        no_args_is_help=True, **PLAIN_HELP)

Json = Annotated[bool, typer.Option("--json", help="Print the route's JSON answer instead.")]


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}Z"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def table(rows: list[dict[str, Any]]) -> list[str]:
    """Rows as aligned columns under their field names: text left, figures right."""
    if not rows:
        return ["no rows"]
    names = list(rows[0])
    cells = [[_cell(row[name]) for name in names] for row in rows]
    widths = [max(len(name), *(len(line[i]) for line in cells)) for i, name in enumerate(names)]
    right = [isinstance(rows[0][name], int | float) for name in names]

    def line(values: list[str]) -> str:
        return "  ".join(v.rjust(w) if r else v.ljust(w)
                         for v, w, r in zip(values, widths, right, strict=True)).rstrip()

    return [line(names), *(line(values) for values in cells)]


def _show(query: Callable[[Engine], BaseModel], *, as_json: bool) -> None:
    """Roll up newly closed days as the routes do, run the query and print its answer: its
    `items` as a table, or an answer without items as a table of one row."""
    from db.stats import refresh_rollup
    from tasks.runtime import current_runtime

    engine = current_runtime().engine
    refresh_rollup(engine)
    answer = query(engine)
    if as_json:
        typer.echo(answer.model_dump_json(indent=2))
        return
    dumped = answer.model_dump()
    for line in table(dumped["items"] if "items" in dumped else [dumped]):
        typer.echo(line)


@stats_app.command("weekly")
@one_line_errors
def weekly(weeks: Annotated[int, typer.Option(min=1, max=520, help="ISO weeks.")] = 12,
           as_json: Json = False) -> None:
    """Runs, completed runs and success rate per ISO week (from Monday, UTC)."""
    from db.analytics_runs import weekly as query

    _show(lambda engine: query(engine, weeks=weeks), as_json=as_json)


@stats_app.command("top-files")
@one_line_errors
def top_files(
    limit: Annotated[int, typer.Option(min=1, max=100, help="How many paths.")] = 10,
    days: Annotated[int | None, typer.Option(
        min=1, max=365, help="Runs of the last DAYS UTC days (default: all history).")] = None,
    as_json: Json = False,
) -> None:
    """The most often modified repository paths."""
    from db.analytics_files import top_files as query

    _show(lambda engine: query(engine, limit=limit, days=days), as_json=as_json)


@stats_app.command("llm-cost-by-model")
@one_line_errors
def llm_cost_by_model(
    days: Annotated[int, typer.Option(min=1, max=365, help="UTC days.")] = 30,
    as_json: Json = False,
) -> None:
    """LLM calls, cache hits, tokens and cost per model and call type."""
    from db.analytics_calls import llm_by_model as query

    _show(lambda engine: query(engine, days=days), as_json=as_json)


@stats_app.command("hourly")
@one_line_errors
def hourly(days: Annotated[int, typer.Option(min=1, max=365, help="UTC days.")] = 7,
           as_json: Json = False) -> None:
    """Completed runs and their mean duration per UTC hour of the day."""
    from db.analytics_runs import hourly as query

    _show(lambda engine: query(engine, days=days), as_json=as_json)


@stats_app.command("failures")
@one_line_errors
def failures(
    days: Annotated[int, typer.Option(min=1, max=365, help="UTC days.")] = 30,
    limit: Annotated[int, typer.Option(min=1, max=100, help="How many errors.")] = 20,
    as_json: Json = False,
) -> None:
    """The commonest errors of failed runs (their first 100 characters)."""
    from db.analytics_runs import failures as query

    _show(lambda engine: query(engine, days=days, limit=limit), as_json=as_json)


@stats_app.command("git-host-hourly")
@one_line_errors
def git_host_hourly(
    hours: Annotated[int, typer.Option(min=1, max=720, help="UTC hours.")] = 24,
    as_json: Json = False,
) -> None:
    """Git-host calls, mean duration and errors per UTC hour and method."""
    from db.analytics_calls import git_host_hourly as query

    _show(lambda engine: query(engine, hours=hours), as_json=as_json)


@stats_app.command("durations")
@one_line_errors
def durations(
    days: Annotated[int | None, typer.Option(
        min=1, max=365, help="UTC days (default: all history).")] = None,
    as_json: Json = False,
) -> None:
    """Completed runs' mean and p50/p75/p90/p95/p99 durations (the `durations` of /stats)."""
    from db.stats import overview

    _show(lambda engine: overview(engine, days=days).durations, as_json=as_json)
