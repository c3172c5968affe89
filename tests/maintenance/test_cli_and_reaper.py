"""`sdb-agent maintenance ...` runs the flows now; the reaper flow fails stale runs."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from db.models import IssueProcessingHistory, MaintenanceRun
from sdb_agent import clock
from sdb_agent.cli import app
from tests.maintenance.history import add_issue

runner = CliRunner()


class TestTheMaintenanceCommands:
    def test_backup_with_test_restore_prints_its_figures(
        self, maintenance_env: Path, engine: Engine
    ) -> None:
        result = runner.invoke(app, ["maintenance", "backup-database", "--test-restore"])
        assert result.exit_code == 0, result.output
        figures = json.loads(result.stdout)
        assert figures["verified"] and figures["restore_tested"] and figures["kind"] == "manual"
        assert Path(figures["file"]).exists()

    def test_create_partitions_is_idempotent_from_the_command_line(
        self, maintenance_env: Path
    ) -> None:
        runner.invoke(app, ["maintenance", "create-partitions", "--premake", "5"])
        again = runner.invoke(app, ["maintenance", "create-partitions", "--premake", "5"])
        assert again.exit_code == 0 and json.loads(again.stdout)["created"] == []

    def test_the_cost_report_takes_a_day_or_today_so_far(
        self, maintenance_env: Path, pinned_clock: datetime
    ) -> None:
        today = runner.invoke(app, ["maintenance", "daily-cost-report", "--today"])
        assert today.exit_code == 0, today.output
        assert json.loads(today.stdout)["day"] == pinned_clock.date().isoformat()
        chosen = runner.invoke(app, ["maintenance", "daily-cost-report", "--day", "2026-02-28"])
        assert json.loads(chosen.stdout)["day"] == "2026-02-28"
        both = runner.invoke(app, ["maintenance", "daily-cost-report", "--today", "--day",
                                   "2026-02-28"])
        assert both.exit_code == 1 and "--day or --today" in both.stderr

    def test_a_product_error_is_one_line_and_exit_1(
        self, maintenance_env: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from sdb_agent.settings import get_settings

        monkeypatch.setenv("REPORT_TIMEZONE", "Mars/Olympus")
        get_settings.cache_clear()
        result = runner.invoke(app, ["maintenance", "daily-cost-report"])
        assert result.exit_code == 1
        assert result.stderr.strip().splitlines() == [
            "error: invalid configuration: REPORT_TIMEZONE: unknown time zone 'Mars/Olympus'; "
            "e.g. UTC or Asia/Seoul"
        ]


class TestTheReaperFlow:
    def test_it_fails_runs_active_too_long_and_records_its_run(
        self, maintenance_env: Path, engine: Engine
    ) -> None:
        stale = add_issue(engine, "OLD-1", at=clock.now() - timedelta(hours=3),
                          status="processing")
        fresh = add_issue(engine, "NEW-1", at=clock.now(), status="processing")
        result = runner.invoke(app, ["maintenance", "reap-stale-runs"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["reaped"] == [stale]
        with engine.connect() as conn:
            statuses = dict(conn.execute(select(IssueProcessingHistory.id,
                                                IssueProcessingHistory.status)).all())
            run = conn.execute(select(MaintenanceRun)).one()
        assert statuses == {stale: "failed", fresh: "processing"}
        assert (run.flow_name, run.status, run.figures["examined"]) == (
            "reap-stale-runs", "succeeded", 2)
