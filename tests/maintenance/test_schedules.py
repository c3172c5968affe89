"""The maintenance deployments carry the schedules the README promises."""

from __future__ import annotations

from datetime import timedelta

from prefect.client.schemas.schedules import SCHEDULE_TYPES, CronSchedule, IntervalSchedule
from prefect.deployments.runner import RunnerDeployment

from deployments.maintenance_schedules import maintenance_deployments
from tests.conftest import ConfiguredRuntime


def first_schedule(deployment: RunnerDeployment) -> SCHEDULE_TYPES | None:
    assert deployment.schedules is not None
    return deployment.schedules[0].schedule


def cron(schedule: SCHEDULE_TYPES | None) -> CronSchedule:
    assert isinstance(schedule, CronSchedule)
    return schedule


class TestMaintenanceDeployments:
    def test_each_flow_has_its_schedule_and_the_report_its_local_time(
        self, runtime: ConfiguredRuntime
    ) -> None:
        runtime.set(REPORT_TIMEZONE="Asia/Seoul", REPORT_TIME="08:30")
        deployments = {d.name: d for d in maintenance_deployments(settings=runtime.settings)}
        assert set(deployments) == {"create-partitions", "backup-database", "cleanup-retention",
                                    "daily-cost-report", "reap-stale-runs"}
        schedules = {name: first_schedule(d) for name, d in deployments.items()}
        for name in ("create-partitions", "backup-database", "cleanup-retention"):
            assert cron(schedules[name]).cron.endswith(" * * *")
        report = cron(schedules["daily-cost-report"])
        assert (report.cron, report.timezone) == ("30 8 * * *", "Asia/Seoul")
        reaper = schedules["reap-stale-runs"]
        assert isinstance(reaper, IntervalSchedule)
        assert reaper.interval == timedelta(minutes=10)
