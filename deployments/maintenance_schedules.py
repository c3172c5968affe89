"""The maintenance deployments and their schedules, for `serve(*maintenance_deployments())`.

Partitions, backup and retention run daily in the small hours (UTC) in that order, so the
backup holds the new partitions and retention prunes after a fresh backup exists. The cost
report runs at `REPORT_TIME` in `REPORT_TIMEZONE`; the reaper every 10 minutes.
"""

from __future__ import annotations

from collections.abc import Coroutine
from datetime import timedelta
from typing import Any

from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron, Interval

from base.settings import Settings
from flows.maintenance import (
    backup_database,
    cleanup_retention,
    create_partitions,
    daily_cost_report,
    reap_stale_runs_flow,
)

TAGS = ["maintenance"]


def maintenance_deployments(*, settings: Settings) -> list[RunnerDeployment]:
    """One deployment per maintenance flow, named after the flow, with its schedule."""
    return [
        runner_deployment(create_partitions.to_deployment(
            name="create-partitions", schedule=Cron("15 0 * * *", timezone="UTC"), tags=TAGS)),
        runner_deployment(backup_database.to_deployment(
            name="backup-database", schedule=Cron("30 1 * * *", timezone="UTC"), tags=TAGS)),
        runner_deployment(cleanup_retention.to_deployment(
            name="cleanup-retention", schedule=Cron("30 2 * * *", timezone="UTC"), tags=TAGS)),
        runner_deployment(daily_cost_report.to_deployment(
            name="daily-cost-report",
            schedule=Cron(report_cron(settings), timezone=settings.report_timezone),
            tags=TAGS)),
        runner_deployment(reap_stale_runs_flow.to_deployment(
            name="reap-stale-runs", schedule=Interval(timedelta(minutes=10)), tags=TAGS)),
    ]


def runner_deployment(made: RunnerDeployment | Coroutine[Any, Any, RunnerDeployment],
                      ) -> RunnerDeployment:
    """`to_deployment` is typed as maybe a coroutine; called outside an event loop it is not."""
    assert isinstance(made, RunnerDeployment)
    return made


def report_cron(settings: Settings) -> str:
    """The cost report's daily cron line at `REPORT_TIME` (read in `REPORT_TIMEZONE`)."""
    hour, minute = (int(part) for part in settings.report_time.split(":")[:2])
    return f"{minute} {hour} * * *"
