"""POST /webhooks/jira over real HTTP, with a real Prefect API and PostgreSQL: a delivery is
answered once its row is queued, and the app's hand-off loop starts its one flow run."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import prefect.context
import pytest
import requests
import uvicorn
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName
from prefect.context import refresh_global_settings_context
from sqlalchemy import Engine, text

from base.net import free_loopback_port
from base.settings import load_settings
from deployments.http.app import create_app
from deployments.serve import process_issue_deployment
from standins.faults import Delay, Reset, Status
from tasks.runtime import current_runtime
from tests.api.prefect_gate import PrefectGate
from tests.conftest import ConfiguredRuntime

SECRET = "webhook-secret-42"



@pytest.fixture(scope="module")
def registered_deployment(prefect_api: str) -> Iterator[str]:
    """The process-issue deployment exists in Prefect (nothing executes its runs here)."""
    process_issue_deployment(load_settings()).apply()
    yield prefect_api
    with get_client(sync_client=True) as client:  # nobody may ever execute these runs
        for run in flow_runs_of_deployment():
            client.delete_flow_run(run.id)


@contextmanager
def running_app() -> Iterator[str]:
    """The HTTP app under uvicorn on a free port, as `sdb-agent serve` runs it."""
    port = free_loopback_port()
    http = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port,
                                         log_level="warning"))
    thread = threading.Thread(target=http.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    try:  # an app left running by a failed start would hand off the next tests' rows
        while time.monotonic() < deadline:
            try:
                requests.get(f"{base}/healthz", timeout=1)
                break
            except requests.RequestException:  # not listening yet, or too busy to answer
                time.sleep(0.05)
        yield base
    finally:
        http.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def webhook_env(runtime: ConfiguredRuntime, registered_deployment: str) -> None:
    runtime.set(JIRA_WEBHOOK_SECRET=SECRET, JIRA_WEBHOOK_TOKEN="automation-token")


@pytest.fixture
def server(webhook_env: None) -> Iterator[str]:
    with running_app() as base:
        yield base


@pytest.fixture
def gate(registered_deployment: str) -> Iterator[PrefectGate]:
    """The real Prefect API behind a gate that can fail."""
    with PrefectGate(registered_deployment) as gate:
        yield gate


@pytest.fixture
def gated_server(webhook_env: None, gate: PrefectGate, runtime: ConfiguredRuntime,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The app, talking to Prefect through the gate (its URL is read when the app starts)."""
    runtime.set(WEBHOOK_HANDOFF_SECONDS="4")
    with prefect_api_url_env(gate.api_url, monkeypatch), running_app() as base:
        yield base


@contextmanager
def prefect_api_url_env(url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Prefect's API at `url` process-wide while inside, then exactly the settings before (the
    test server's, which a refresh from the environment would lose)."""
    before = prefect.context.GLOBAL_SETTINGS_CONTEXT
    with monkeypatch.context() as patch:
        patch.setenv("PREFECT_API_URL", url)
        refresh_global_settings_context()
        try:
            yield
        finally:
            patch.undo()
            prefect.context.GLOBAL_SETTINGS_CONTEXT = before


def payload(key: str = "MAT-7", event: str = "jira:issue_created", **fields: Any) -> bytes:
    body = {"webhookEvent": event, "issue": {"key": key, "fields": {
        "summary": "Add TI64", "description": "Add it", "labels": ["sdb"],
        "issuetype": {"name": "Task"}, "project": {"key": key.split("-")[0]}, **fields}}}
    return json.dumps(body).encode()


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Hub-Signature": f"sha256={digest}"}


def post(base: str, body: bytes, headers: dict[str, str],
         delivery: str | None = None, timeout: float = 30) -> requests.Response:
    if delivery:
        headers = {**headers, "X-Atlassian-Webhook-Identifier": delivery}
    return requests.post(f"{base}/webhooks/jira", data=body, headers=headers, timeout=timeout)


def flow_runs_of_deployment() -> list[Any]:
    with get_client(sync_client=True) as client:
        return client.read_flow_runs(deployment_filter=DeploymentFilter(
            name=DeploymentFilterName(any_=["process-issue"])), limit=200)


def deliveries(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(
            "SELECT delivery_id, outcome, http_status, reason, flow_run_id, issue_key, "
            "handoff_attempts, handoff_error FROM webhook_delivery ORDER BY id")))


def flow_run_of(engine: Engine, delivery_id: str | None = None, *,
                timeout: float = 60) -> str:
    """The flow run that the hand-off loop recorded for the delivery (without an id: for the
    latest delivery that asked for a run), once it has."""
    query = text("SELECT flow_run_id FROM webhook_delivery "
                 "WHERE outcome IN ('queued', 'accepted') "
                 "AND (CAST(:d AS text) IS NULL OR delivery_id = :d) ORDER BY id DESC LIMIT 1")
    deadline = time.monotonic() + timeout
    while True:
        with engine.connect() as conn:
            run = conn.execute(query, {"d": delivery_id}).scalar()
        if run is not None:
            return str(run)
        assert time.monotonic() < deadline, f"{delivery_id} not handed off within {timeout} s"
        time.sleep(0.05)


def drained(engine: Engine, timeout: float = 60) -> None:
    """Wait until no delivery is left queued."""
    deadline = time.monotonic() + timeout
    while True:
        with engine.connect() as conn:
            waiting = conn.execute(text(
                "SELECT count(*) FROM webhook_delivery WHERE outcome = 'queued'")).scalar_one()
        if waiting == 0:
            return
        assert time.monotonic() < deadline, f"{waiting} deliveries still queued"
        time.sleep(0.05)


class TestSignatures:
    @pytest.mark.parametrize(("headers", "expected"), [
        ({"Content-Type": "application/json"}, 401),
        ({"Content-Type": "application/json", "X-Hub-Signature": "sha256=" + "0" * 64}, 401),
        ({"Content-Type": "application/json", "X-Hub-Signature": "sha1=abc"}, 401),
        ({"Content-Type": "application/json", "X-Automation-Webhook-Token": "nope"}, 401),
        ({"Content-Type": "application/json", "X-Automation-Webhook-Token": "automation-token"},
         202),
    ])
    def test_the_signature_or_shared_token_decides_entry(
        self, server: str, headers: dict[str, str], expected: int
    ) -> None:
        assert post(server, payload(), headers).status_code == expected

    def test_a_correctly_signed_delivery_is_queued_then_handed_off_as_its_flow_run(
        self, server: str, engine: Engine
    ) -> None:
        response = post(server, payload(), signed(payload()), delivery="d-1")
        assert response.status_code == 202
        assert response.json() == {"status": "queued", "delivery_id": "d-1",
                                   "reason": "stored; its flow run starts shortly"}
        with get_client(sync_client=True) as client:
            run = client.read_flow_run(UUID(flow_run_of(engine, "d-1")))
        assert run.idempotency_key == "jira:d-1" and "MAT" in run.tags
        assert [(r.outcome, r.http_status, r.handoff_attempts) for r in deliveries(engine)] == [
            ("accepted", 202, 1)]

    def test_a_signature_made_with_another_secret_is_refused(self, server: str) -> None:
        assert post(server, payload(), signed(payload(), "other")).status_code == 401


class TestDeduplication:
    def test_a_redelivery_returns_the_same_flow_run_with_200(
        self, server: str, engine: Engine
    ) -> None:
        first = post(server, payload(), signed(payload()), delivery="dup-1")
        run = flow_run_of(engine, "dup-1")
        again = post(server, payload(), signed(payload()), delivery="dup-1")
        assert (first.status_code, again.status_code) == (202, 200)
        assert (again.json()["status"], again.json()["flow_run_id"]) == ("duplicate", run)
        assert again.json()["flow_run_url"].endswith(run)
        assert [row.outcome for row in deliveries(engine)] == ["accepted", "duplicate"]

    def test_fifty_concurrent_deliveries_of_one_event_create_exactly_one_run(
        self, server: str, engine: Engine
    ) -> None:
        before = len(flow_runs_of_deployment())
        body = payload("MAT-50")
        with ThreadPoolExecutor(max_workers=50) as pool:
            answers = list(pool.map(
                lambda _: post(server, body, signed(body), "burst-1"), range(50)))
        codes = [a.status_code for a in answers]
        assert (codes.count(202), codes.count(200)) == (1, 49)
        run = flow_run_of(engine, "burst-1")
        drained(engine)
        assert {a.json().get("flow_run_id", run) for a in answers} == {run}
        assert len(flow_runs_of_deployment()) == before + 1
        assert [r.outcome for r in deliveries(engine)].count("accepted") == 1


class TestFilters:
    @pytest.mark.parametrize(("env", "body", "reason"), [
        ({}, payload(event="jira:issue_deleted"), "WEBHOOK_EVENTS"),
        ({"WEBHOOK_PROJECTS": "OPS"}, payload(), "WEBHOOK_PROJECTS"),
        ({"WEBHOOK_ISSUE_TYPES": "Bug"}, payload(), "WEBHOOK_ISSUE_TYPES"),
        ({"WEBHOOK_TRIGGER_LABEL": "agent-please"}, payload(), "trigger label"),
    ])
    def test_an_event_outside_the_filters_is_ignored_with_202_and_a_reason(
        self, server: str, engine: Engine, runtime: ConfiguredRuntime,
        env: dict[str, str], body: bytes, reason: str
    ) -> None:
        runtime.set(**env)
        before = len(flow_runs_of_deployment())
        response = post(server, body, signed(body), delivery="f-1")
        assert response.status_code == 202 and response.json()["status"] == "ignored"
        assert reason in response.json()["reason"]
        assert len(flow_runs_of_deployment()) == before
        assert deliveries(engine)[-1].outcome == "ignored"


class TestBadInput:
    def test_non_json_is_400_oversized_413_wrong_type_415_and_no_key_422(
        self, server: str, engine: Engine, runtime: ConfiguredRuntime
    ) -> None:
        runtime.set(WEBHOOK_MAX_BYTES="2048")
        before = len(flow_runs_of_deployment())
        no_key = json.dumps({"webhookEvent": "jira:issue_created", "issue": {}}).encode()
        huge = payload(description="x" * 5000)
        cases = [
            (b"{not json", signed(b"{not json"), 400),
            (huge, signed(huge), 413),
            (payload(), {**signed(payload()), "Content-Type": "text/plain"}, 415),
            (no_key, signed(no_key), 422),
        ]
        codes = [post(server, body, headers, delivery=f"bad-{i}").status_code
                 for i, (body, headers, _) in enumerate(cases)]
        assert codes == [expected for _, _, expected in cases]
        chunked = requests.post(f"{server}/webhooks/jira", data=iter([huge[:1500], huge[1500:]]),
                                headers=signed(huge), timeout=30)
        assert chunked.status_code == 413
        rows = deliveries(engine)
        assert [r.http_status for r in rows] == [400, 413, 415, 422, 413]
        assert all(r.outcome == "rejected" and r.reason for r in rows)
        assert len(flow_runs_of_deployment()) == before


class TestHandOffCost:
    def test_the_deployment_is_looked_up_at_start_and_a_delivery_costs_one_call(
        self, gated_server: str, gate: PrefectGate, engine: Engine
    ) -> None:
        at_start = [(r.method, r.path) for r in gate.requests]
        assert at_start == [  # each webhook's deployment, once
            ("GET", "/api/deployments/name/process-issue/process-issue"),
            ("GET", "/api/deployments/name/revise-pull-request/revise-pull-request")]
        for n in (1, 2):
            body = payload(f"MAT-3{n}")
            assert post(gated_server, body, signed(body), f"cost-{n}").status_code == 202
            flow_run_of(engine, f"cost-{n}")
        calls = [(r.method, r.path.rsplit("/", 1)[-1]) for r in gate.requests[len(at_start):]]
        once = ("GET", "csrf-token")  # Prefect's client asks once whether the server wants one
        assert calls.count(once) <= 1
        assert [call for call in calls if call != once] == [("POST", "create_flow_run")] * 2


class TestPrefectUnavailable:
    def test_prefect_down_still_answers_202_and_the_row_goes_through_once_it_is_back(
        self, gated_server: str, gate: PrefectGate, engine: Engine
    ) -> None:
        body = payload("MAT-9")
        assert post(gated_server, body, signed(body), delivery="warm").status_code == 202
        flow_run_of(engine, "warm")
        before = len(flow_runs_of_deployment())
        gate.down()
        down = post(gated_server, body, signed(body), delivery="retry-1")
        assert (down.status_code, down.json()["status"]) == (202, "queued")
        row = wait_for_row(engine, "retry-1", lambda r: r.handoff_attempts >= 1)
        assert row.outcome == "queued" and row.handoff_error == "Prefect API unreachable"
        again = post(gated_server, body, signed(body), delivery="retry-1")
        assert (again.status_code, again.json()["status"]) == (200, "duplicate")
        assert "flow_run_id" not in again.json()
        assert "waiting for its hand-off; last attempt: Prefect API unreachable" in again.json()[
            "reason"]
        ready = requests.get(f"{gated_server}/readyz", timeout=10)
        backlog = ready.json()["checks"]["webhook_backlog"]
        assert ready.status_code == 200 and backlog["required"] is False
        assert backlog["detail"].startswith("1 deliveries waiting for their hand-off")
        assert "last error: Prefect API unreachable" in backlog["detail"]
        assert ready.json()["checks"]["prefect"]["ok"] is False
        gate.up()
        run = flow_run_of(engine, "retry-1")
        after = post(gated_server, body, signed(body), delivery="retry-1")
        assert (after.status_code, after.json()["flow_run_id"]) == (200, run)
        assert len(flow_runs_of_deployment()) == before + 1
        retry_rows = [r for r in deliveries(engine) if r.delivery_id == "retry-1"
                      or "retry-1" in (r.reason or "")]
        assert [r.outcome for r in retry_rows] == ["accepted", "duplicate", "duplicate"]
        ready = requests.get(f"{gated_server}/readyz", timeout=10).json()
        assert ready["checks"]["webhook_backlog"]["detail"].startswith("0 deliveries")

    def test_a_busy_prefect_is_retried_within_the_budget_and_creates_one_run(
        self, gated_server: str, gate: PrefectGate, engine: Engine
    ) -> None:
        gate.faults.add("POST /create_flow_run", Status(503), times=3)
        gate.faults.add("POST /create_flow_run", Status(429, retry_after=0.2))
        before = len(flow_runs_of_deployment())
        answer = post(gated_server, payload("MAT-10"), signed(payload("MAT-10")), "busy-1")
        assert answer.status_code == 202
        flow_run_of(engine, "busy-1")
        assert gate.faults.pending == 0 and gate.creations() == 5
        assert len(flow_runs_of_deployment()) == before + 1
        assert deliveries(engine)[-1].handoff_attempts == 1  # one attempt of the loop

    def test_a_stall_past_the_budget_is_tried_again_and_finds_its_run(
        self, gated_server: str, gate: PrefectGate, engine: Engine
    ) -> None:
        gate.faults.add("POST /create_flow_run", Delay(5))
        known = {run.id for run in flow_runs_of_deployment()}
        body = payload("MAT-11")
        assert post(gated_server, body, signed(body), delivery="stall-1").status_code == 202
        run = flow_run_of(engine, "stall-1")
        [row] = deliveries(engine)
        assert (row.outcome, row.handoff_attempts) == ("accepted", 2)
        assert row.handoff_error == "Prefect API did not take the run within 4 s"
        assert {str(r.id) for r in flow_runs_of_deployment()} - {str(k) for k in known} == {run}

    def test_dropped_connections_are_retried_quickly_and_create_one_run(
        self, gated_server: str, gate: PrefectGate, engine: Engine
    ) -> None:
        gate.faults.add("POST /create_flow_run", Reset(), times=2)
        before = len(flow_runs_of_deployment())
        answer = post(gated_server, payload("MAT-13"), signed(payload("MAT-13")), "reset-1")
        assert answer.status_code == 202
        flow_run_of(engine, "reset-1")
        assert gate.creations() == 3 and len(flow_runs_of_deployment()) == before + 1

    def test_an_error_that_retrying_cannot_fix_is_tried_once_per_attempt_with_backoff(
        self, gated_server: str, gate: PrefectGate, engine: Engine
    ) -> None:
        gate.faults.add("POST /create_flow_run", Status(500), times=2)
        answer = post(gated_server, payload("MAT-12"), signed(payload("MAT-12")), "err-1")
        assert answer.status_code == 202
        row = wait_for_row(engine, "err-1", lambda r: r.handoff_attempts >= 1)
        assert row.handoff_error == "Prefect API answered 500" and gate.creations() == 1
        flow_run_of(engine, "err-1")
        [row] = deliveries(engine)
        assert (row.outcome, row.handoff_attempts, gate.creations()) == ("accepted", 3, 3)


def wait_for_row(engine: Engine, delivery_id: str, done: Any, timeout: float = 30) -> Any:
    """The delivery's row once `done(row)` holds."""
    deadline = time.monotonic() + timeout
    while True:
        row = next(r for r in deliveries(engine) if r.delivery_id == delivery_id)
        if done(row):
            return row
        assert time.monotonic() < deadline, f"{delivery_id}: still {row}"
        time.sleep(0.05)


class TestDeploymentRegisteredAgain:
    def test_a_new_deployment_id_is_looked_up_again(self, server: str, engine: Engine) -> None:
        first = post(server, payload("MAT-20"), signed(payload("MAT-20")), delivery="re-1")
        flow_run_of(engine, "re-1")
        with get_client(sync_client=True) as client:
            old = client.read_deployment_by_name("process-issue/process-issue")
            client.delete_deployment(old.id)
        new_id = process_issue_deployment(current_runtime().settings).apply()
        second = post(server, payload("MAT-21"), signed(payload("MAT-21")), delivery="re-2")
        assert (first.status_code, second.status_code) == (202, 202)
        with get_client(sync_client=True) as client:
            run = client.read_flow_run(UUID(flow_run_of(engine, "re-2")))
        assert new_id != old.id and run.deployment_id == new_id


AUTOMATION_TOKEN = {"Content-Type": "application/json",
                    "X-Automation-Webhook-Token": "automation-token"}


def automation_issue(key: str) -> dict[str, Any]:
    """An issue as Automation's "Send web request" sends it: REST v2 links, numeric ids, a
    wiki description (support.atlassian.com/cloud-automation/docs/issue-data-automation-
    format-payload-for-send-web-request)."""
    return {"self": f"https://sample.jira-dev.com/rest/api/2/issue/{key[-2:]}", "id": 11111,
            "key": key, "changelog": {"startAt": 0, "maxResults": 0, "total": 0,
                                      "histories": None},
            "fields": {"summary": "Add TI64", "description": "Add *Ti-6Al-4V*",
                       "labels": ["sdb"], "issuetype": {"id": 22222, "name": "Task"},
                       "project": {"id": 10002, "key": key.split("-")[0], "description": None}}}


def event_types(engine: Engine) -> list[str | None]:
    with engine.connect() as conn:
        return list(conn.execute(text(
            "SELECT event_type FROM webhook_delivery ORDER BY id")).scalars())


class TestAutomationSendWebRequest:
    @pytest.mark.parametrize(("wrap", "key", "event_type"), [
        (lambda issue: issue, "MAT-60", "automation:automation-format"),
        (lambda issue: {"issue": issue}, "MAT-61", "automation:jira-format"),
    ], ids=["Automation format", "Jira format"])
    def test_a_body_without_webhook_event_and_with_the_token_starts_a_run(
        self, server: str, engine: Engine, wrap: Any, key: str, event_type: str
    ) -> None:
        body = wrap(automation_issue(key))
        response = post(server, json.dumps(body).encode(), AUTOMATION_TOKEN)
        assert response.status_code == 202, response.text
        assert response.json()["status"] == "queued"
        with get_client(sync_client=True) as client:
            run = client.read_flow_run(UUID(flow_run_of(engine)))
        assert run.parameters["issue"] == body  # as sent: parse_issue reads both shapes
        assert [(row.outcome, row.issue_key) for row in deliveries(engine)] == [
            ("accepted", key)]
        assert event_types(engine) == [event_type]

    def test_a_body_only_signed_and_without_webhook_event_is_ignored(
        self, server: str, engine: Engine
    ) -> None:
        body = json.dumps(automation_issue("MAT-62")).encode()
        response = post(server, body, signed(body))
        assert response.status_code == 202 and response.json()["status"] == "ignored"
        assert "X-Automation-Webhook-Token" in response.json()["reason"]
        assert [row.outcome for row in deliveries(engine)] == ["ignored"]

    def test_a_wrong_token_is_still_refused(self, server: str) -> None:
        body = json.dumps(automation_issue("MAT-63")).encode()
        headers = {**AUTOMATION_TOKEN, "X-Automation-Webhook-Token": "guess"}
        assert post(server, body, headers).status_code == 401

    def test_the_project_filter_applies_to_automation_bodies_too(
        self, server: str, runtime: ConfiguredRuntime
    ) -> None:
        runtime.set(WEBHOOK_PROJECTS="OPS")
        body = json.dumps(automation_issue("MAT-64")).encode()
        response = post(server, body, AUTOMATION_TOKEN)
        assert response.status_code == 202 and "WEBHOOK_PROJECTS" in response.json()["reason"]

    def test_a_token_body_that_is_no_issue_is_422(self, server: str) -> None:
        response = post(server, json.dumps({"custom": "data"}).encode(), AUTOMATION_TOKEN)
        assert response.status_code == 422 and "issue key" in response.json()["reason"]
