"""Task: fail history rows whose flow run is over or that have been active too long."""

from __future__ import annotations

from datetime import timedelta

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from tasks.delivery_reaper import settle_unrecorded_deliveries
from tasks.maintenance.common import engine
from tasks.reaper import ReapResult, reap_stale_runs
from tasks.runtime import current_runtime


@task(name="reap-stale-runs", cache_policy=NO_CACHE)
def reap_task(*, older_than: timedelta) -> ReapResult:
    replayed = current_runtime().spool.replay(engine())
    if replayed:
        get_run_logger().warning("wrote %d spooled history row(s)", replayed)
    result = reap_stale_runs(engine(), older_than=older_than)
    result.settled_deliveries.extend(settle_unrecorded_deliveries(engine(), silent_for=older_than))
    get_run_logger().info("examined %d active run(s), reaped %d; %d accepted delivery(ies) "
                          "without history settled", result.examined, len(result.reaped),
                          len(result.settled_deliveries))
    return result
