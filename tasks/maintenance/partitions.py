"""Task: keep month partitions ahead and the default partitions empty."""

from __future__ import annotations

from datetime import date

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from db.partition_upkeep import PartitionUpkeep, ensure_partitions
from tasks.maintenance.common import engine


@task(name="ensure-partitions", cache_policy=NO_CACHE)
def ensure_partitions_task(*, today: date, premake: int) -> PartitionUpkeep:
    logger = get_run_logger()
    upkeep = ensure_partitions(engine(), today=today, premake=premake)
    for alert in upkeep.alerts:
        logger.warning(alert)
    logger.info("created %d partition(s): %s", len(upkeep.created),
                ", ".join(upkeep.created) or "none needed")
    return upkeep
