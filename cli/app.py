"""The `sdb-agent` command line. Commands parse input, call plain functions, translate errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from base.errors import SdbAgentError
from cli.output import PLAIN_HELP, one_line_errors

if TYPE_CHECKING:
    from db.models import RunStatus


app = typer.Typer(
    help="Turn Jira issues into Bitbucket pull requests, with every step recorded.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    **PLAIN_HELP,
)
db_app = typer.Typer(
    help="The history database: migrations and the embedded server.", no_args_is_help=True,
    **PLAIN_HELP,
)
app.add_typer(db_app, name="db")
history_app = typer.Typer(help="What the agent did: runs, files, LLM and git-host calls.",
                          invoke_without_command=True, **PLAIN_HELP)
app.add_typer(history_app, name="history")
prefect_app = typer.Typer(help="The local Prefect server used when PREFECT_API_URL is unset.",
                          no_args_is_help=True, **PLAIN_HELP)
app.add_typer(prefect_app, name="local-prefect")


@app.callback()
@one_line_errors
def _mask_secrets() -> None:
    """Every command starts with the configured secrets masked in all it prints or stores."""
    from base import redaction
    from tasks.runtime import current_runtime

    redaction.install(current_runtime().settings.secret_values())


@db_app.command("url")
@one_line_errors
def db_url() -> None:
    """Print the database URL in use, password masked."""
    from db.session import masked, resolve_database_url
    from tasks.runtime import current_runtime

    typer.echo(masked(resolve_database_url(current_runtime().settings)))


@db_app.command("upgrade")
@one_line_errors
def db_upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply migrations up to REVISION (default: the newest). Safe to repeat."""
    from db import migrate
    from tasks.runtime import current_runtime

    engine = current_runtime().engine
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
    from tasks.runtime import current_runtime

    engine = current_runtime().engine
    migrate.downgrade(engine, revision)
    typer.echo(f"schema now at {migrate.current_revision(engine) or 'base (empty)'}")


@db_app.command("current")
@one_line_errors
def db_current() -> None:
    """Print the database's migration revision and this code's newest."""
    from db import migrate
    from tasks.runtime import current_runtime

    current = migrate.check_revision_known(current_runtime().engine)
    typer.echo(f"database: {current or 'empty'}  code head: {migrate.head_revision()}")


@db_app.command("stop")
@one_line_errors
def db_stop() -> None:
    """Stop the embedded PostgreSQL (it starts again on demand)."""
    from db.session import embedded_server
    from tasks.runtime import current_runtime

    embedded_server(current_runtime().settings).stop()
    typer.echo("embedded PostgreSQL stopped")


@app.command("demo")
@one_line_errors
def demo() -> None:
    """Run the main job on the embedded defaults and show what it did."""
    from cli.demo import run_demo

    run_demo(echo=typer.echo)


@app.command("serve")
@one_line_errors
def serve_command() -> None:
    """Serve every deployment and schedule, the Jira webhook and the history API."""
    import logging

    from deployments.serve import serve_forever
    from tasks.runtime import current_runtime

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    serve_forever(current_runtime().settings)


@app.command("check-routes")
@one_line_errors
def check_routes_command() -> None:
    """Check that every PROJECTS_FILE route's repository answers with the configured token
    (one cheap call each, as serve does at start-up); exit 1 if any does not."""
    from base.redaction import redact
    from tasks.route_check import route_report
    from tasks.runtime import current_runtime

    settings = current_runtime().settings
    if settings.projects_file is None:
        typer.echo("PROJECTS_FILE is unset: every issue goes to the one configured repository")
        return
    report = route_report(settings)
    for ok, line in report:
        typer.echo(redact(line), err=not ok)  # a git host's error text is printed as is
    if not all(ok for ok, _ in report):
        raise typer.Exit(1)


@app.command("process")
@one_line_errors
def process(
    issue_file: Annotated[Path | None, typer.Option(
        "--issue-file", exists=True, dir_okay=False,
        help="Webhook payload or REST issue JSON.")] = None,
    issue_key: Annotated[str | None, typer.Option(
        "--issue-key", help="Fetch the issue from Jira.")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Process again even if completed.")] = False,
) -> None:
    """Run the process-issue flow now for one issue, against the configured services."""
    from base.errors import ConfigError
    from cli.result_text import describe_result
    from cli.runner import run_issue_now

    if (issue_file is None) == (issue_key is None):
        raise ConfigError("give exactly one of --issue-file and --issue-key")
    payload = None
    if issue_file is not None:
        try:
            payload = json.loads(issue_file.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{issue_file} is not JSON: {exc}") from None
    result = run_issue_now(issue=payload, issue_key=issue_key, force=force)
    for line in describe_result(result):
        typer.echo(line)
    if result.get("outcome") in {"failed", "refused", "rejected"}:
        raise typer.Exit(1)


@history_app.callback()
@one_line_errors
def history_recent(
    ctx: typer.Context,
    limit: int = typer.Option(20, min=1, max=500, help="How many runs, newest first."),
) -> None:
    """List recent issue runs (the same as `history list`)."""
    if ctx.invoked_subcommand is None:
        _print_runs(status=None, issue=None, since=None, limit=limit)


@history_app.command("list")
@one_line_errors
def history_list(
    status: Annotated[str | None, typer.Option(
        help="queued, processing, completed or failed.")] = None,
    issue: Annotated[str | None, typer.Option(help="Only this issue key.")] = None,
    since: Annotated[datetime | None, typer.Option(
        help="Created at or after (a date, or a date and time; UTC).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="How many, newest first.")] = 20,
) -> None:
    """List issue runs with their files, LLM calls, cost, PR and error."""
    from db.models import RunStatus

    known = [str(value) for value in RunStatus]
    if status is not None and status not in known:
        raise SdbAgentError(f"--status must be one of {', '.join(known)}")
    _print_runs(status=RunStatus(status) if status else None, issue=issue, since=since,
                limit=limit)


def _print_runs(*, status: RunStatus | None, issue: str | None, since: datetime | None,
                limit: int) -> None:
    from db.history_queries import RunFilter, list_runs
    from tasks.runtime import current_runtime

    when = since.replace(tzinfo=UTC) if since and since.tzinfo is None else since
    runs = list_runs(current_runtime().engine, limit=limit,
                     filters=RunFilter(status=status, issue_key=issue, since=when))
    for run in runs:
        cost = ("unpriced" if run["llm_calls"] and not run["llm_priced_calls"]
                else f"${run['llm_cost'] or 0:.4f}")
        typer.echo(f"#{run['id']:<6} {run['issue_key']:<12} {run['status']:<10} "
                   f"{run['created_at'].astimezone(UTC):%Y-%m-%d %H:%M}Z "
                   f"files={run['file_records']} "
                   f"llm_calls={run['llm_calls']} {cost} {run['pr_url'] or ''}".rstrip())
        if run["error_message"]:
            typer.echo(f"        error: {run['error_message'].splitlines()[0][:200]}")
    if not runs:
        typer.echo("no runs match")


@history_app.command("show")
@one_line_errors
def history_show(history_id: int = typer.Argument(..., help="The run's history id.")) -> None:
    """Show one run as JSON: the run, its files, LLM calls and git-host calls."""
    from db.history_queries import run_detail
    from tasks.runtime import current_runtime

    detail = run_detail(current_runtime().engine, history_id)
    if detail is None:
        raise SdbAgentError(f"no run with history id {history_id}")
    typer.echo(json.dumps(detail, indent=2, ensure_ascii=False, default=str))


@prefect_app.command("stop")
@one_line_errors
def local_prefect_stop() -> None:
    """Stop the local Prefect server started by demo, process or serve."""
    from deployments.local_prefect import LocalPrefectServer
    from tasks.runtime import current_runtime

    stopped = LocalPrefectServer(current_runtime().settings.data_dir).stop()
    typer.echo("local Prefect server stopped" if stopped else "no local Prefect server running")


# maintenance: `sdb-agent maintenance ...` (cli/maintenance.py)
from cli.maintenance import maintenance_app  # noqa: E402

app.add_typer(maintenance_app, name="maintenance")

# analytics: `sdb-agent stats ...` (cli/stats.py)
from cli.stats import stats_app  # noqa: E402

app.add_typer(stats_app, name="stats")

# spend control: `sdb-agent budget ...` (cli/budget.py)
from cli.budget import budget_app  # noqa: E402

app.add_typer(budget_app, name="budget")

# work pools: `sdb-agent worker` (cli/worker.py)
from cli.worker import worker  # noqa: E402

app.command("worker")(worker)
