"""The webhook's outbox: a delivery is accepted when its row is committed, and the hand-off
loop of whichever app runs, now or later, makes it exactly one flow run. Real PostgreSQL,
the real Prefect API behind a gate that counts (and can refuse) every flow-run creation."""

from __future__ import annotations

import time
from collections.abc import Iterator
from uuid import UUID

import pytest
import requests
from prefect.client.orchestration import get_client
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL

from db import webhook_deliveries
from db.webhook_deliveries import RunRequest
from deployments.http.handoff import DEPLOYMENT
from deployments.http.webhook_accept import NOT_STORED
from standins.faults import Delay
from tests.api.prefect_gate import PrefectGate
from tests.api.test_webhook import (  # noqa: F401 - fixtures
    deliveries,
    drained,
    flow_run_of,
    flow_runs_of_deployment,
    gate,
    payload,
    post,
    prefect_api_url_env,
    registered_deployment,
    running_app,
    signed,
    webhook_env,
)
from tests.conftest import ConfiguredRuntime


@pytest.fixture
def via_gate(webhook_env: None, gate: PrefectGate,  # noqa: F811 - the imported fixtures
             runtime: ConfiguredRuntime, monkeypatch: pytest.MonkeyPatch
             ) -> Iterator[PrefectGate]:
    """Apps started inside talk to Prefect through the gate."""
    runtime.set(WEBHOOK_HANDOFF_SECONDS="4")
    with prefect_api_url_env(gate.api_url, monkeypatch):
        yield gate


def queue_directly(engine: Engine, delivery_id: str, key: str = "MAT-70") -> None:
    """A delivery accepted by another replica: its row, and no wake for this app's loop."""
    webhook_deliveries.accept(
        engine, delivery_id=delivery_id, event_type="jira:issue_created", issue_key=key,
        body_sha256="0" * 64, run=RunRequest(DEPLOYMENT, {"issue_key": key}, ["MAT"],
                                             f"jira:{delivery_id}"))


def runs_by_key() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for run in flow_runs_of_deployment():
        out.setdefault(run.idempotency_key or "", []).append(str(run.id))
    return out


class TestNothingAcceptedIsLost:
    def test_an_app_stopped_before_the_hand_off_hands_the_rows_off_once_when_started_again(
        self, via_gate: PrefectGate, engine: Engine
    ) -> None:
        via_gate.down()
        with running_app() as base:
            answers = [post(base, payload(f"MAT-4{n}"), signed(payload(f"MAT-4{n}")),
                            f"restart-{n}") for n in range(3)]
        assert [(a.status_code, a.json()["status"]) for a in answers] == [(202, "queued")] * 3
        assert [r.outcome for r in deliveries(engine)] == ["queued"] * 3
        via_gate.up()
        with running_app():
            drained(engine)
        assert sorted(via_gate.created) == [f"jira:restart-{n}" for n in range(3)]  # once each
        keys = runs_by_key()
        assert all(len(keys[f"jira:restart-{n}"]) == 1 for n in range(3))
        assert [(r.outcome, str(r.flow_run_id)) for r in deliveries(engine)] == [
            ("accepted", keys[f"jira:restart-{n}"][0]) for n in range(3)]

    def test_an_app_stopped_mid_hand_off_gives_the_row_back_and_the_next_finds_its_run(
        self, via_gate: PrefectGate, engine: Engine
    ) -> None:
        via_gate.faults.add("POST /create_flow_run", Delay(3))
        with running_app() as base:
            assert post(base, payload(), signed(payload()), "mid-1").status_code == 202
            while via_gate.creations() == 0:
                time.sleep(0.02)
        # released on stop: due at once, not after the 26 s lease of a replica that died
        [row] = deliveries(engine)
        assert row.outcome == "queued"
        started = time.monotonic()
        with running_app():
            run = flow_run_of(engine, "mid-1")
            assert time.monotonic() - started < 15
        assert runs_by_key()["jira:mid-1"] == [run]

    @pytest.mark.usefixtures("webhook_env")
    def test_a_row_the_database_does_not_take_is_503_and_nothing_is_accepted(
        self, runtime: ConfiguredRuntime, engine: Engine, database_url: URL
    ) -> None:
        with engine.begin() as conn:
            conn.execute(text(f'ALTER DATABASE "{database_url.database}" '
                              "SET lock_timeout = '300ms'"))
        runtime.set()  # new connections, with the timeout
        with running_app() as base, engine.connect() as locker:
            locker.execute(text("LOCK TABLE webhook_delivery IN EXCLUSIVE MODE"))
            refused = post(base, payload(), signed(payload()), "locked-1")
            locker.rollback()
            retried = post(base, payload(), signed(payload()), "locked-1")
            flow_run_of(engine, "locked-1")
        assert refused.status_code == 503
        assert refused.json() == {"status": "unavailable", "reason": NOT_STORED,
                                  "delivery_id": "locked-1"}
        assert (retried.status_code, retried.json()["status"]) == (202, "queued")
        assert [(r.delivery_id, r.outcome) for r in deliveries(engine)] == [
            ("locked-1", "accepted")]


class TestReplicas:
    def test_rows_another_replica_left_are_found_by_polling(
        self, via_gate: PrefectGate, engine: Engine
    ) -> None:
        with running_app():
            queue_directly(engine, "elsewhere-1")
            run = flow_run_of(engine, "elsewhere-1", timeout=15)
        assert runs_by_key()["jira:elsewhere-1"] == [run]

    def test_two_replicas_hand_each_row_off_exactly_once(
        self, via_gate: PrefectGate, engine: Engine, runtime: ConfiguredRuntime
    ) -> None:
        # A budget that Prefect on SQLite meets under 20 concurrent creations: an attempt that
        # timed out is rightly tried again, and its late answer would count as a creation.
        runtime.set(WEBHOOK_HANDOFF_SECONDS="60")
        with running_app(), running_app():
            for n in range(40):
                queue_directly(engine, f"shared-{n}", key=f"MAT-{100 + n}")
            drained(engine)
        # a row handed off twice would be a second creation that Prefect answered for its key
        assert sorted(via_gate.created) == sorted(f"jira:shared-{n}" for n in range(40))
        keys = runs_by_key()
        assert all(len(keys[f"jira:shared-{n}"]) == 1 for n in range(40))
        assert {(r.outcome, str(r.flow_run_id)) for r in deliveries(engine)} == {
            ("accepted", keys[f"jira:shared-{n}"][0]) for n in range(40)}


class TestTheBacklog:
    def test_readyz_and_metrics_show_it_and_it_does_not_make_the_app_unready(
        self, via_gate: PrefectGate, engine: Engine
    ) -> None:
        via_gate.down()
        with running_app() as base:
            for n in range(2):
                assert post(base, payload(), signed(payload()), f"wait-{n}").status_code == 202
            ready = requests.get(f"{base}/readyz", timeout=10)
            scrape = requests.get(f"{base}/metrics", timeout=10).text
        assert ready.status_code == 200 and ready.json()["ready"] is True
        backlog = ready.json()["checks"]["webhook_backlog"]
        assert backlog["ok"] is True and backlog["required"] is False
        assert backlog["detail"].startswith("2 deliveries waiting for their hand-off")
        assert "\nsdb_agent_webhook_backlog 2.0\n" in scrape
        assert "sdb_agent_webhook_backlog_oldest_seconds " in scrape
        via_gate.up()
        with running_app() as base:
            drained(engine)
            scrape = requests.get(f"{base}/metrics", timeout=10).text
        assert "\nsdb_agent_webhook_backlog 0.0\n" in scrape
        with get_client(sync_client=True) as client:
            assert client.read_flow_run(UUID(flow_run_of(engine, "wait-1"))).idempotency_key == (
                "jira:wait-1")
