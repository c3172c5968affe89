"""POST /webhooks/bitbucket over the real ASGI stack, with PostgreSQL and a real Prefect API:
the signed comment events of the Bitbucket stand-in's documents."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName
from sqlalchemy import Engine, text

from base.settings import load_settings
from deployments.serve import revise_pull_request_deployment
from standins.bitbucket import BitbucketEmulator
from standins.bitbucket_comments import Account, signed_headers
from tests.api.conftest import build_app
from tests.api.test_webhook import flow_run_of
from tests.conftest import ConfiguredRuntime

SECRET = "bb-hook-secret-7"
KIM = Account.named("kim")


@pytest.fixture(scope="module")
def revise_deployment(prefect_api: str) -> Iterator[None]:
    """The revise deployment exists in Prefect; nothing executes its runs here."""
    revise_pull_request_deployment(load_settings()).apply()
    yield
    with get_client(sync_client=True) as client:
        for run in client.read_flow_runs(deployment_filter=DeploymentFilter(
                name=DeploymentFilterName(any_=["revise-pull-request"]))):
            client.delete_flow_run(run.id)


@pytest.fixture
def bitbucket(tmp_path: Path) -> Iterator[BitbucketEmulator]:
    repo = BitbucketEmulator.create_repository(tmp_path / "r.git", {"src/a.cpp": b"x\r\n"})
    with BitbucketEmulator(repo, "acme", "materials", access_token="t") as emulator:
        emulator.git.create_branch("sdb/MAT-7-x", str(emulator.git.branch_tip("main")))
        emulator.prs.open("MAT-7: x", "", "sdb/MAT-7-x", "main", True, emulator.author)
        yield emulator


@pytest.fixture
def client(runtime: ConfiguredRuntime, engine: Engine, bitbucket: BitbucketEmulator,
           revise_deployment: None) -> Iterator[TestClient]:
    runtime.set(BITBUCKET_WEBHOOK_SECRET=SECRET, BITBUCKET_WORKSPACE="acme",
                BITBUCKET_REPOSITORY="materials", API_TOKEN=None)
    pr_url = f"{bitbucket.views.repo_html}/pull-requests/1"
    with engine.begin() as conn:  # the run that opened the PR
        conn.execute(text("INSERT INTO issue_processing_history (issue_key, status, pr_url, "
                          "branch_name) VALUES ('MAT-7', 'completed', :url, 'sdb/MAT-7-x')"),
                     {"url": pr_url})
    with TestClient(build_app()) as test_client:
        yield test_client


def event(bitbucket: BitbucketEmulator, raw: str, who: Account = KIM) -> dict[str, Any]:
    return bitbucket.comment_event(bitbucket.comment(1, raw, who))


def post(client: TestClient, payload: dict[str, Any], secret: str | None = SECRET,
         **headers: Any) -> Any:
    body = json.dumps(payload).encode()
    return client.post("/webhooks/bitbucket", content=body,
                       headers=signed_headers(body, secret, **headers))


def deliveries(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT outcome, http_status, reason FROM webhook_delivery ORDER BY id"))]


def test_a_comment_to_the_agent_starts_one_run_and_a_redelivery_is_a_duplicate(
        client: TestClient, bitbucket: BitbucketEmulator, engine: Engine) -> None:
    payload = event(bitbucket, "/sdb rename X in src/a.cpp")
    first = post(client, payload, request_uuid="req-1")
    assert (first.status_code, first.json()["status"]) == (202, "queued"), first.text
    run_id = flow_run_of(engine, "req-1")
    again = post(client, payload, request_uuid="req-1")
    assert (again.status_code, again.json()["flow_run_id"]) == (200, run_id)
    resent = post(client, payload, request_uuid="req-2")  # "Resend request": one run per comment
    assert resent.status_code == 202 and flow_run_of(engine, "req-2") == run_id
    with get_client(sync_client=True) as prefect:
        run = prefect.read_flow_run(UUID(run_id))
        deployment = prefect.read_deployment_by_name("revise-pull-request/revise-pull-request")
    assert run.parameters["comment"]["comment_id"] == payload["comment"]["id"]
    assert run.deployment_id == deployment.id and "MAT" in run.tags
    assert [d[0] for d in deliveries(engine)] == ["accepted", "duplicate", "accepted"]


@pytest.mark.parametrize(("secret", "status"), [(None, 401), ("forged", 401)])
def test_a_missing_or_forged_signature_is_refused(
        client: TestClient, bitbucket: BitbucketEmulator, engine: Engine, secret: str | None,
        status: int) -> None:
    answer = post(client, event(bitbucket, "/sdb x"), secret=secret)
    assert answer.status_code == status and "signature" in answer.json()["reason"]
    assert deliveries(engine)[-1][:2] == ("rejected", 401)


def test_an_unset_secret_refuses_every_delivery(
        client: TestClient, runtime: ConfiguredRuntime, bitbucket: BitbucketEmulator) -> None:
    runtime.set(BITBUCKET_WEBHOOK_SECRET=None)
    answer = post(client, event(bitbucket, "/sdb x"), secret=None)
    assert answer.status_code == 401 and "BITBUCKET_WEBHOOK_SECRET" in answer.json()["reason"]


@pytest.mark.parametrize(("change", "reason"), [
    (lambda p: p.update(actor=p["pullrequest"]["author"]), "the agent's own"),
    (lambda p: p["comment"]["content"].update(raw="looks good"), "does not address the agent"),
    (lambda p: p["pullrequest"]["links"]["html"].update(href="https://x/pr/9"),
     "was not opened by sdb-agent"),
    (lambda p: p["repository"].update(full_name="acme/other"), "is not acme/materials"),
])
def test_what_is_not_for_the_agent_is_ignored_and_recorded(
        client: TestClient, bitbucket: BitbucketEmulator, engine: Engine, change: Any,
        reason: str) -> None:
    payload = event(bitbucket, "@sdb-agent please fix")
    change(payload)
    answer = post(client, payload)
    assert (answer.status_code, answer.json()["status"]) == (202, "ignored")
    assert reason in answer.json()["reason"] and reason in deliveries(engine)[-1][2]


def test_a_body_not_shaped_as_bitbucket_sends_it_is_a_422_and_other_events_are_ignored(
        client: TestClient, bitbucket: BitbucketEmulator) -> None:
    payload = event(bitbucket, "/sdb x")
    payload["comment"]["id"] = "seven"
    answer = post(client, payload)
    assert answer.status_code == 422 and answer.json()["reason"].startswith("comment.id")
    assert post(client, payload, event_key="repo:push").json()["status"] == "ignored"
    body = b"{}"
    no_uuid = {k: v for k, v in signed_headers(body, SECRET).items() if k != "X-Request-UUID"}
    assert client.post("/webhooks/bitbucket", content=body, headers=no_uuid).status_code == 400
