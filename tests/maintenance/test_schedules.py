"""The maintenance deployments carry the schedules the README promises."""

from __future__ import annotations

from datetime import timedelta

import pytest

from deployments.maintenance_schedules import maintenance_deployments
from sdb_agent.settings import load_settings


class TestMaintenanceDeployments:
    def test_each_flow_has_its_schedule_and_the_report_its_local_time(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("REPORT_TIMEZONE", "Asia/Seoul")
        monkeypatch.setenv("REPORT_TIME", "08:30")
        deployments = {d.name: d for d in maintenance_deployments(settings=load_settings())}
        assert set(deployments) == {"create-partitions", "backup-database", "cleanup-retention",
                                    "daily-cost-report", "reap-stale-runs"}
        schedules = {name: d.schedules[0].schedule for name, d in deployments.items()}
        for name in ("create-partitions", "backup-database", "cleanup-retention"):
            assert schedules[name].cron.endswith(" * * *")
        report = schedules["daily-cost-report"]
        assert (report.cron, report.timezone) == ("30 8 * * *", "Asia/Seoul")
        assert schedules["reap-stale-runs"].interval == timedelta(minutes=10)
