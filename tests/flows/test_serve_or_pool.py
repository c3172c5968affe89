"""`sdb-agent serve` and `prefect deploy --all` never own the same deployments: each refuses
to take the other's over, the deploy refuses what could not run, and serve without its runner
serves only the webhook and API. Real `prefect deploy` against the suite's Prefect API."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

from base.errors import ConfigError
from base.net import free_loopback_port
from deployments.ownership import DEPLOYMENT_NAMES, refuse_pool_deployments, registered_pools
from tests.flows.agent import Agent, subprocess_env
from tests.flows.test_serve import CLI, start_serve, stops_within

ROOT = Path(__file__).resolve().parents[2]
PREFECT = str(Path(sys.executable).parent / "prefect")


def _forget_deployments() -> None:
    with get_client(sync_client=True) as client:
        for name in DEPLOYMENT_NAMES:
            try:
                client.delete_deployment(client.read_deployment_by_name(f"{name}/{name}").id)
            except ObjectNotFound:
                pass


@pytest.fixture
def no_deployments(agent: Agent) -> Iterator[None]:
    """Neither serve's nor a pool's deployments, before and after (the API is the session's)."""
    with get_client(sync_client=True) as client:
        try:
            client.create_work_pool(WorkPoolCreate(name="sdb-agent", type="process"))
        except ObjectAlreadyExists:
            pass
    _forget_deployments()
    yield
    _forget_deployments()


def deploy(agent: Agent, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in subprocess_env(agent).items()
            if k not in ("SDB_AGENT_HOME", "REPORT_TIMEZONE", "REPORT_TIME")}
    return subprocess.run([PREFECT, "--no-prompt", "deploy", "--all"], cwd=ROOT,
                          env={**base, **env}, capture_output=True, text=True, timeout=240)


@pytest.mark.usefixtures("no_deployments")
class TestPrefectDeploy:
    def test_it_refuses_without_the_checkout_and_time_zone_and_registers_nothing(
        self, agent: Agent
    ) -> None:
        done = deploy(agent)
        assert done.returncode != 0
        assert ("sdb-agent: prefect deploy refused: SDB_AGENT_HOME is unset: set it to the "
                "sdb-agent checkout") in done.stderr
        assert "REPORT_TIMEZONE is unset" in done.stderr
        assert registered_pools() == {}

    def test_it_fixes_the_checkout_and_report_schedule_and_serve_then_refuses_to_start(
        self, agent: Agent
    ) -> None:
        done = deploy(agent, SDB_AGENT_HOME=str(ROOT), REPORT_TIMEZONE="Asia/Seoul",
                      REPORT_TIME="06:45")
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        assert registered_pools() == {f"{n}/{n}": "sdb-agent" for n in DEPLOYMENT_NAMES}
        with get_client(sync_client=True) as client:
            report = client.read_deployment_by_name("daily-cost-report/daily-cost-report")
        assert report.pull_steps == [{"prefect.deployments.steps.set_working_directory": {
            "directory": str(ROOT)}}]
        schedule = report.schedules[0].schedule
        assert (schedule.cron, schedule.timezone) == ("45 6 * * *", "Asia/Seoul")  # type: ignore[union-attr]

        with pytest.raises(ConfigError, match=r"registered .*process-issue/process-issue "
                                              r"\(pool sdb-agent\).*SERVE_RUNNER=false"):
            refuse_pool_deployments()
        served = subprocess.run([CLI, "serve"], env={**subprocess_env(agent),
                                "JIRA_WEBHOOK_SECRET": "s",
                                "HTTP_PORT": str(free_loopback_port())},
                                capture_output=True, text=True, timeout=120)
        assert served.returncode == 1
        last = served.stderr.strip().splitlines()[-1]
        assert last.startswith("error: `prefect deploy` registered ") and "pool" in last

    def test_it_refuses_to_take_over_the_deployments_serve_registered(
        self, agent: Agent
    ) -> None:
        from deployments.serve import process_issue_deployment

        process_issue_deployment(agent.runtime.settings).apply()
        done = deploy(agent, SDB_AGENT_HOME=str(ROOT), REPORT_TIMEZONE="UTC")
        assert done.returncode != 0
        assert ("`sdb-agent serve` registered process-issue/process-issue; deploying them to a "
                "work pool would take them over") in done.stderr
        assert registered_pools() == {"process-issue/process-issue": None}


@pytest.mark.usefixtures("no_deployments")
def test_serve_without_its_runner_serves_the_webhook_and_registers_nothing(
    agent: Agent, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(os.environ, "SERVE_RUNNER", "false")
    process, base = start_serve(agent, tmp_path, ignore_sigint=True)
    try:
        assert requests.get(f"{base}/history", timeout=10).status_code == 200
        assert registered_pools() == {}
    finally:
        assert stops_within(process, signal.SIGINT, 60) == 0
    log = (tmp_path / "serve.log").read_text()
    assert "process-issue/process-issue is not registered" in log


def test_the_deploy_check_names_an_invalid_setting_with_the_settings_own_words(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from deployments.deploy_check import check_before_deploy

    monkeypatch.setenv("SDB_AGENT_HOME", str(ROOT))
    monkeypatch.setenv("REPORT_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ConfigError) as refused:
        check_before_deploy()
    assert str(refused.value) == (
        "prefect deploy refused: invalid configuration: REPORT_TIMEZONE: unknown time zone "
        "'Mars/Olympus'; e.g. UTC or Asia/Seoul")
