"""`sdb-agent maintenance ...`: run one maintenance flow now and print its figures."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import typer

from cli.output import PLAIN_HELP, one_line_errors

maintenance_app = typer.Typer(
    help="Run a scheduled maintenance flow now (it is recorded like a scheduled run).",
    no_args_is_help=True,
    **PLAIN_HELP,
)


def _run(flow: Callable[..., dict[str, Any]], **parameters: Any) -> None:
    """Run the flow against the configured (or local) Prefect API; print its figures.

    Settings are loaded first, so a bad value stops here with one line, before any run."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from deployments.local_prefect import prefect_api_url
    from tasks.runtime import current_runtime

    settings = current_runtime().settings
    with temporary_settings(updates={PREFECT_API_URL: prefect_api_url(settings)}):
        figures = flow(**parameters)
    typer.echo(json.dumps(figures, indent=2, default=str))


@maintenance_app.command("create-partitions")
@one_line_errors
def create_partitions(
    premake: Annotated[int | None, typer.Option(help="Months ahead (default: setting).")] = None,
) -> None:
    """Create missing month partitions; move rows out of default partitions."""
    from flows.maintenance import create_partitions as flow

    _run(flow, premake=premake)


@maintenance_app.command("backup-database")
@one_line_errors
def backup_database(
    test_restore: Annotated[bool, typer.Option(
        "--test-restore", help="Also restore into a scratch database and compare counts.")
    ] = False,
) -> None:
    """Take a verified pg_dump backup now, then prune old ones."""
    from flows.maintenance import backup_database as flow

    _run(flow, test_restore=test_restore, kind="manual")


@maintenance_app.command("cleanup-retention")
@one_line_errors
def cleanup_retention() -> None:
    """Apply the retention rules now."""
    from flows.maintenance import cleanup_retention as flow

    _run(flow)


def _route_part(kind: str) -> Callable[[str | None], str | None]:
    """A typer callback that checks --project or --repository as the read API does."""

    def check(value: str) -> str:
        from pydantic import TypeAdapter, ValidationError

        from base.projects import ProjectKey, RepositoryName

        try:
            TypeAdapter(ProjectKey if kind == "project" else RepositoryName).validate_python(
                value)
        except ValidationError:
            what = ("a Jira project key such as MAT" if kind == "project"
                    else "workspace/repository or a local path, at most 300 characters")
            raise typer.BadParameter(f"{value[:60]!r} is not {what}") from None
        return value

    return lambda value: None if value is None else check(value)


@maintenance_app.command("daily-cost-report")
@one_line_errors
def daily_cost_report(
    day: Annotated[datetime | None, typer.Option(
        formats=["%Y-%m-%d"], help="The day to report (report time zone); default yesterday.")
    ] = None,
    today: Annotated[bool, typer.Option(
        "--today", help="Report today so far instead of yesterday.")] = False,
    project: Annotated[str | None, typer.Option(
        callback=_route_part("project"),
        help="Only the runs of this Jira project (its key, e.g. MAT).")] = None,
    repository: Annotated[str | None, typer.Option(
        callback=_route_part("repository"),
        help="Only the runs that went to this repository (workspace/repository).")] = None,
) -> None:
    """Build (and email, if SMTP is configured) a day's LLM cost report, yesterday's by default."""
    from zoneinfo import ZoneInfo

    from base import clock
    from base.errors import ConfigError
    from flows.maintenance import daily_cost_report as flow
    from tasks.runtime import current_runtime

    if day is not None and today:
        raise ConfigError("give --day or --today, not both")
    chosen = clock.today(ZoneInfo(current_runtime().settings.report_timezone)) if today else (
        day.date() if day else None)
    _run(flow, day=chosen, project=project, repository=repository)


@maintenance_app.command("reap-stale-runs")
@one_line_errors
def reap_stale_runs() -> None:
    """Fail issue runs whose flow run is over or that are active too long."""
    from flows.maintenance import reap_stale_runs_flow as flow

    _run(flow)
