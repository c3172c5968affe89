"""`sdb-agent maintenance ...` runs the flows now; the reaper flow fails stale runs."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import State, StateType
from prefect.states import Cancelled, Completed, Crashed, Failed, Pending, Running, Scheduled
from sqlalchemy import Engine, insert, select
from typer.testing import CliRunner

from base import clock
from cli.app import app
from db.models import IssueProcessingHistory, MaintenanceRun, WebhookDelivery
from tasks.runtime import install_runtime
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

    def test_the_cost_report_takes_a_project_and_a_repository(
        self, maintenance_env: Path, pinned_clock: datetime
    ) -> None:
        narrowed = runner.invoke(app, ["maintenance", "daily-cost-report", "--project", "MAT",
                                       "--repository", "acme/sdb"])
        assert narrowed.exit_code == 0, narrowed.output
        figures = json.loads(narrowed.stdout)
        assert (figures["project"], figures["repository"]) == ("MAT", "acme/sdb")
        bad = runner.invoke(app, ["maintenance", "daily-cost-report", "--project", "mat x"])
        assert bad.exit_code == 2
        assert "'mat x' is not a Jira project key such as MAT" in bad.stderr

    def test_a_product_error_is_one_line_and_exit_1(
        self, maintenance_env: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        install_runtime(None)  # the command builds its settings from the environment
        monkeypatch.setenv("REPORT_TIMEZONE", "Mars/Olympus")
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


@flow(name="stand-in-process-issue")
def _stand_in_flow() -> None:
    """Only a name for the flow runs below; it is never called."""


def _flow_run(state: State) -> UUID:
    with get_client(sync_client=True) as client:
        return client.create_flow_run(_stand_in_flow, state=state).id


def _accepted(engine: Engine, issue_key: str, flow_run_id: UUID) -> None:
    with engine.begin() as conn:
        conn.execute(insert(WebhookDelivery).values(
            delivery_id=f"d-{flow_run_id}", issue_key=issue_key, outcome="accepted",
            http_status=202, flow_run_id=flow_run_id))


class TestAnAcceptedDeliveryAlwaysEndsInAHistoryRow:
    def test_a_run_that_ended_before_claiming_gets_a_failed_row_with_its_end(
        self, maintenance_env: Path, engine: Engine
    ) -> None:
        crashed = _flow_run(Crashed(message="FileNotFoundError: [Errno 2] ''"))
        cancelled = _flow_run(Cancelled(message="cancelled by a person"))
        answered = _flow_run(Completed(name="AlreadyCompleted"))  # no row by design
        running = _flow_run(Running())
        recorded = _flow_run(Failed(message="every edit failed"))
        for key, run in [("ORPH-1", crashed), ("ORPH-2", cancelled), ("DONE-1", answered),
                         ("LIVE-1", running), ("HAS-1", recorded)]:
            _accepted(engine, key, run)
        with engine.begin() as conn:
            conn.execute(insert(IssueProcessingHistory).values(
                issue_key="HAS-1", status="failed", flow_run_id=recorded))

        result = runner.invoke(app, ["maintenance", "reap-stale-runs"])
        assert result.exit_code == 0, result.output
        assert len(json.loads(result.stdout)["settled_deliveries"]) == 2
        with engine.connect() as conn:
            rows = {r.issue_key: r for r in conn.execute(select(IssueProcessingHistory))}
        assert set(rows) == {"ORPH-1", "ORPH-2", "HAS-1"}
        assert rows["ORPH-1"].status == "failed" and rows["ORPH-1"].flow_run_id == crashed
        assert rows["ORPH-1"].error_message == (
            "the Prefect flow run ended CRASHED before it started the issue: "
            "FileNotFoundError: [Errno 2] ''")
        assert "CANCELLED" in rows["ORPH-2"].error_message
        again = runner.invoke(app, ["maintenance", "reap-stale-runs"])
        assert json.loads(again.stdout)["settled_deliveries"] == []

    def test_a_run_whose_process_died_before_claiming_is_crashed_and_gets_a_row(
        self, maintenance_env: Path, engine: Engine
    ) -> None:
        """(A fresh RUNNING run is left alone: LIVE-1 above.) Prefect stamps a state with
        its own time, so the reaper looks from 61 minutes on (STALE_RUN_MINUTES: 60)."""
        running, pending = _flow_run(Running()), _flow_run(Pending())
        waiting = _flow_run(Scheduled())  # no worker yet: not a death
        for key, run in [("DEAD-1", running), ("DEAD-2", pending), ("WAIT-1", waiting)]:
            _accepted(engine, key, run)

        with clock.frozen_at(clock.now() + timedelta(minutes=61)):
            result = runner.invoke(app, ["maintenance", "reap-stale-runs"])
        assert result.exit_code == 0, result.output
        with engine.connect() as conn:
            rows = {r.issue_key: r for r in conn.execute(select(IssueProcessingHistory))}
        assert set(rows) == {"DEAD-1", "DEAD-2"}
        assert rows["DEAD-1"].error_message == (
            "the Prefect flow run ended CRASHED before it started the issue: sdb-agent found "
            "the run RUNNING for over 60 minutes without a claim: its process is gone")
        with get_client(sync_client=True) as client:
            states = {run: client.read_flow_run(run).state_type
                      for run in (running, pending, waiting)}
        assert states == {running: StateType.CRASHED, pending: StateType.CRASHED,
                          waiting: StateType.SCHEDULED}

    def test_a_delivery_that_waited_long_in_the_outbox_counts_from_its_hand_off(
        self, maintenance_env: Path, engine: Engine
    ) -> None:
        crashed = _flow_run(Crashed(message="killed while pending"))
        with engine.begin() as conn:
            conn.execute(insert(WebhookDelivery).values(
                delivery_id="late-1", issue_key="LATE-1", outcome="accepted", http_status=202,
                flow_run_id=crashed, received_at=clock.now() - timedelta(days=9),
                handed_off_at=clock.now() - timedelta(days=1)))
            conn.execute(insert(WebhookDelivery).values(  # not handed off: no run to judge
                delivery_id="waiting-1", issue_key="WAIT-1", outcome="queued", http_status=202,
                received_at=clock.now() - timedelta(days=1)))

        result = runner.invoke(app, ["maintenance", "reap-stale-runs"])
        assert result.exit_code == 0, result.output
        with engine.connect() as conn:
            keys = [r.issue_key for r in conn.execute(select(IssueProcessingHistory))]
        assert keys == ["LATE-1"]
