"""Task: apply the retention rules and report rows and bytes freed."""

from __future__ import annotations

from datetime import datetime

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from db.retention import RetentionResult, apply_retention
from tasks.maintenance.common import engine


@task(name="apply-retention", cache_policy=NO_CACHE)
def apply_retention_task(
    *, now: datetime, history_months: int, content_days: int, webhook_days: int
) -> RetentionResult:
    result = apply_retention(engine(), now=now, history_months=history_months,
                             content_days=content_days, webhook_days=webhook_days)
    get_run_logger().info(
        "dropped %d partition(s), touched %d row(s), freed %d bytes",
        len(result.dropped_partitions), sum(result.rows.values()), result.bytes_freed,
    )
    return result
