"""The five scheduled maintenance flows. Each records a `maintenance_run` row, publishes
keyed Prefect artifacts, is safe to repeat, and returns its figures."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from prefect import flow

from base import clock, redaction
from base.projects import ProjectKey, RepositoryName
from base.settings import Settings
from db.backup import dump_name
from db.maintenance_runs import recorded_run
from db.stats_figures import RouteFilter
from tasks.maintenance import backup, cost_report
from tasks.maintenance.common import current_flow_run_id, engine, publish_artifacts
from tasks.maintenance.partitions import ensure_partitions_task
from tasks.maintenance.reaper import reap_task
from tasks.maintenance.retention import apply_retention_task
from tasks.runtime import current_runtime


def _started() -> Settings:
    """A maintenance flow's first step: its settings, with their secrets masked everywhere."""
    settings = current_runtime().settings
    redaction.install(settings.secret_values())
    return settings


def _markdown(title: str, figures: dict[str, Any], alerts: list[str] | None = None) -> str:
    lines = [f"> **warning:** {alert}" for alert in alerts or []]
    lines += [f"# {title}", "", "| figure | value |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in figures.items()]
    return "\n".join(lines) + "\n"


@flow(name="create-partitions")
def create_partitions(today: date | None = None, premake: int | None = None) -> dict[str, Any]:
    """Keep `premake` months of partitions ahead; move rows out of default partitions."""
    settings = _started()
    premake = premake or settings.partition_premake_months
    today = today or clock.today()
    with recorded_run(engine(), flow_name="create-partitions",
                      flow_run_id=current_flow_run_id()) as figures:
        upkeep = ensure_partitions_task(today=today, premake=premake)
        figures.update(created=upkeep.created, moved_rows=upkeep.moved_rows,
                       analyzed=upkeep.analyzed, alerts=upkeep.alerts)
        publish_artifacts(
            key="create-partitions", description=f"partitions up to {premake} months ahead",
            markdown=_markdown("Partitions", {"created": ", ".join(upkeep.created) or "none",
                                              "analyzed": ", ".join(upkeep.analyzed) or "none"},
                               upkeep.alerts),
            table=[{"partition": name} for name in upkeep.created],
        )
    return figures


@flow(name="backup-database")
def backup_database(
    test_restore: bool = False, kind: str | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """Verified `pg_dump -Fc`; a test restore weekly (Sundays) or on demand; then prune."""
    settings = _started()
    now = now or clock.now()
    kind = kind or ("weekly" if now.weekday() == 6 else "daily")
    restore = test_restore or kind == "weekly"
    with recorded_run(engine(), flow_name="backup-database",
                      flow_run_id=current_flow_run_id()) as figures:
        client, server_version = backup.backup_client_task()
        target = settings.resolved_backup_dir.resolve() / dump_name(
            client.url.database or "db", now=now)
        dump = backup.dump_task(client, target=target, with_counts=restore)
        figures.update(file=str(target), size_bytes=dump.size_bytes, sha256=dump.sha256,
                       dump_seconds=dump.seconds, kind=kind, verified=False)
        backup_id, final = backup.verify_task(client, dump, kind=kind,
                                              server_version=server_version, now=now)
        figures.update(backup_id=backup_id, verified=True)
        if restore and dump.row_counts is not None:
            check = backup.restore_task(client, backup_id=backup_id, dump=final,
                                        expected=dump.row_counts)
            figures.update(restore_tested=True, restore_tables=check.tables,
                           restore_rows=check.rows)
        figures["pruned"] = backup.prune_task(after_verified=backup_id,
                                              keep_daily=settings.backup_keep_daily,
                                              keep_weekly=settings.backup_keep_weekly)
        publish_artifacts(key="backup-database", description=f"{kind} backup {final.name}",
                          markdown=_markdown("Backup", figures),
                          table=[{"pruned": path} for path in figures["pruned"]])
    return figures


@flow(name="cleanup-retention")
def cleanup_retention(now: datetime | None = None) -> dict[str, Any]:
    """Drop old call-history partitions, strip old file contents, delete old rows."""
    settings = _started()
    with recorded_run(engine(), flow_name="cleanup-retention",
                      flow_run_id=current_flow_run_id()) as figures:
        result = apply_retention_task(
            now=now or clock.now(), history_months=settings.history_retention_months,
            content_days=settings.content_retention_days,
            webhook_days=settings.webhook_retention_days,
        )
        figures.update(dropped_partitions=result.dropped_partitions, rows=result.rows,
                       bytes_before=sum(result.bytes_before.values()),
                       bytes_after=sum(result.bytes_after.values()),
                       bytes_freed=result.bytes_freed)
        publish_artifacts(
            key="cleanup-retention", description="retention applied",
            markdown=_markdown("Retention", {**result.rows, "bytes freed": result.bytes_freed,
                                             "partitions dropped": len(result.dropped_partitions)}),
            table=[{"table": t, "bytes_before": b, "bytes_after": result.bytes_after[t]}
                   for t, b in result.bytes_before.items()],
        )
    return figures


@flow(name="daily-cost-report")
def daily_cost_report(today: date | None = None, day: date | None = None,
                      project: ProjectKey | None = None,
                      repository: RepositoryName | None = None) -> dict[str, Any]:
    """A day's LLM cost (report time zone) as artifacts, and by email when configured: the
    given `day` (today's means so far), else the day before `today` (default: yesterday);
    of one Jira project's or one repository's runs only when given."""
    settings = _started()
    tz = ZoneInfo(settings.report_timezone)
    day = day or (today or clock.today(tz)) - timedelta(days=1)
    route = RouteFilter(project, repository)
    with recorded_run(engine(), flow_name="daily-cost-report",
                      flow_run_id=current_flow_run_id()) as figures:
        calls, runs = cost_report.load_task(day=day, tz=tz, route=route)
        report = cost_report.build_task(calls, runs, day=day, tz=tz,
                                        budget=settings.cost_budget_daily_usd, route=route)
        cost_report.artifacts_task(report)
        figures.update(day=day.isoformat(), timezone=str(tz), alerts=report.alerts,
                       project=project, repository=repository, **report.totals)
        figures["emailed"] = cost_report.email_task(report, settings=settings)
    return figures


@flow(name="reap-stale-runs")
def reap_stale_runs_flow() -> dict[str, Any]:
    """Fail active history rows whose Prefect run is over or that are too old, and write the
    missing row of an accepted delivery whose flow run ended without one."""
    settings = _started()
    older_than = timedelta(minutes=settings.stale_run_minutes)
    with recorded_run(engine(), flow_name="reap-stale-runs",
                      flow_run_id=current_flow_run_id()) as figures:
        result = reap_task(older_than=older_than)
        figures.update(examined=result.examined, reaped=result.reaped,
                       settled_deliveries=result.settled_deliveries)
        publish_artifacts(key="reap-stale-runs", description="stale-run reaper",
                          markdown=_markdown("Stale runs", figures),
                          table=[{"history_id": i, "why": "reaped"} for i in result.reaped]
                          + [{"history_id": i, "why": "accepted delivery without history"}
                             for i in result.settled_deliveries])
    return figures
