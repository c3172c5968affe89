"""The webhook and the team loop: the agent's own events are ignored, an update that changes
nothing the agent reads starts no run, and `/sdb retry` or the trigger label added start one.
Every refusal is a 202 "ignored" or a 4xx with its row, never a 500.

Ignored events are posted to an app whose Prefect API does not listen; an accepted one would
be a `queued` row, so a 202 "ignored" with its one `ignored` row proves no flow run was even
asked for. The runs that must start go to the real Prefect API through the hand-off loop and
are read back with their parameters."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL, temporary_settings
from sqlalchemy import Engine

from base.net import free_loopback_port
from tests.api.conftest import build_app
from tests.api.test_webhook import flow_run_of, registered_deployment  # noqa: F401 - a fixture
from tests.api.test_webhook_hostile import SECRET, rows, signed_post
from tests.conftest import ConfiguredRuntime

AGENT = "agent-account-1"
JIRA = {"JIRA_WEBHOOK_SECRET": SECRET, "JIRA_ACCOUNT_ID": AGENT,
        "JIRA_BASE_URL": "https://example.atlassian.net", "JIRA_EMAIL": "agent@example.com",
        "JIRA_API_TOKEN": "jira-token"}


def issue(key: str = "MAT-7", **fields: Any) -> dict[str, Any]:
    return {"id": "10007", "key": key, "fields": {
        "summary": "Add TI64", "issuetype": {"name": "Task"}, "project": {"key": "MAT"},
        **fields}}


def updated(*items: dict[str, Any], user: str = "person-1") -> bytes:
    """`jira:issue_updated` as Jira Cloud sends it: who, the issue (no comments), what changed."""
    return json.dumps({"webhookEvent": "jira:issue_updated", "user": {"accountId": user},
                       "issue": issue(description="Add it", labels=["sdb"]),
                       "changelog": {"id": "1", "items": list(items)}}).encode()


def change(field: str, before: str | None = None, after: str | None = None) -> dict[str, Any]:
    return {"field": field, "fieldtype": "jira", "fieldId": field, "from": None,
            "fromString": before, "to": None, "toString": after}


def commented(body: Any, author: str = "person-1") -> bytes:
    """`comment_created`: the comment and the short issue Jira sends with it."""
    return json.dumps({"webhookEvent": "comment_created", "issue": issue(), "comment": {
        "id": "10100", "author": {"accountId": author}, "body": body,
        "created": "2026-11-02T10:00:00.000+0000"}}).encode()


@pytest.fixture
def offline(runtime: ConfiguredRuntime) -> Iterator[TestClient]:
    runtime.set(**JIRA, WEBHOOK_HANDOFF_SECONDS="1")
    nowhere = f"http://127.0.0.1:{free_loopback_port()}/api"
    with temporary_settings(updates={PREFECT_API_URL: nowhere}), \
            TestClient(build_app()) as client:
        yield client


class TestIgnored:
    @pytest.mark.parametrize(("body", "reason"), [
        (commented("Opened the pull request", author=AGENT), "the agent's own comment"),
        (commented("/sdb retry", author=AGENT), "the agent's own comment"),
        (updated(change("status", "To Do", "In Review"), user=AGENT), "the agent's own change"),
        (updated(change("description", "a", "b"), user=AGENT), "the agent's own change"),
        (updated(change("assignee", None, "Kim")), "changes nothing the agent reads (assignee)"),
        (updated(change("Watchers", "1", "2"), change("labels", "", "sdb other")),
         "changes nothing the agent reads (watchers, labels)"),
        (updated(), "(no field)"),
        (commented("The code is TI64"), "reads it as a clarification"),
        (commented("/sdb dance"), "no command"),
    ], ids=["own comment", "own command", "own transition", "own edit", "assignee only",
            "watchers and other labels", "no changelog", "plain comment", "unknown command"])
    def test_no_flow_run_is_created_and_the_reason_is_recorded(
        self, offline: TestClient, engine: Engine, body: bytes, reason: str
    ) -> None:
        answer = signed_post(offline, body, delivery="d-1")
        assert (answer.status_code, answer.json()["status"]) == (202, "ignored"), answer.text
        assert reason in answer.json()["reason"]
        assert [(r.outcome, r.http_status) for r in rows(engine)] == [("ignored", 202)]

    def test_a_command_without_jira_credentials_is_ignored_saying_what_is_missing(
        self, offline: TestClient, runtime: ConfiguredRuntime
    ) -> None:
        runtime.set(JIRA_BASE_URL=None)
        answer = signed_post(offline, commented("/sdb retry"))
        assert answer.status_code == 202 and "JIRA_BASE_URL" in answer.json()["reason"]


class TestHostile:
    @pytest.mark.parametrize(("body", "field"), [
        (json.dumps({"webhookEvent": "comment_created", "issue": issue(),
                     "comment": "retry"}).encode(), "comment"),
        (commented(42), "comment.body"),
        (commented({"type": "doc", "content": "x"}, author=["a"]), "comment.author"),  # type: ignore[arg-type]
        (json.dumps({"webhookEvent": "jira:issue_updated", "issue": issue(),
                     "changelog": {"items": "assignee"}}).encode(), "changelog.items"),
        (json.dumps({"webhookEvent": "jira:issue_updated", "issue": issue(),
                     "user": "me"}).encode(), "user"),
        (json.dumps({"webhookEvent": "jira:issue_updated", "issue": issue(),
                     "changelog": {"items": [{"fieldId": ["summary"]}]}}).encode(),
         "changelog.items.0.fieldId"),
    ], ids=["comment a string", "body a number", "author a list", "items a string",
            "user a string", "field id a list"])
    def test_misshapen_event_parts_are_422_naming_the_field(
        self, offline: TestClient, engine: Engine, body: bytes, field: str
    ) -> None:
        answer = signed_post(offline, body)
        assert answer.status_code == 422 and answer.json()["reason"].startswith(field)
        assert [r.outcome for r in rows(engine)] == ["rejected"]

    def test_a_huge_comment_is_ignored_quickly_or_refused_over_the_cap(
        self, offline: TestClient, runtime: ConfiguredRuntime
    ) -> None:
        runtime.set(WEBHOOK_MAX_BYTES="1048576")
        big = signed_post(offline, commented("*a* " * 200_000))
        assert big.status_code == 202 and "clarification" in big.json()["reason"]
        assert signed_post(offline, commented("x" * 1_100_000)).status_code == 413

    def test_not_knowing_who_the_agent_is_is_503_so_jira_retries(
        self, offline: TestClient, runtime: ConfiguredRuntime, engine: Engine
    ) -> None:
        runtime.set(JIRA_ACCOUNT_ID=None,
                    JIRA_BASE_URL=f"http://127.0.0.1:{free_loopback_port()}")
        answer = signed_post(offline, commented("/sdb retry"))
        assert answer.status_code == 503 and "/myself" in answer.json()["reason"]
        assert [(r.outcome, r.http_status) for r in rows(engine)] == [("failed", 503)]

    def test_a_comment_created_without_its_comment_is_ignored(self, offline: TestClient) -> None:
        body = json.dumps({"webhookEvent": "comment_created", "issue": issue()}).encode()
        answer = signed_post(offline, body)
        assert answer.status_code == 202 and "without its comment" in answer.json()["reason"]


@pytest.mark.usefixtures("registered_deployment")
class TestRunsStarted:
    @pytest.fixture
    def live(self, runtime: ConfiguredRuntime) -> Iterator[TestClient]:
        runtime.set(**JIRA, WEBHOOK_TRIGGER_LABEL="sdb")
        with TestClient(build_app()) as client:
            yield client

    @pytest.fixture(autouse=True)
    def _engine(self, engine: Engine) -> None:
        self.engine = engine

    def parameters(self, answer: Any) -> dict[str, Any]:
        assert (answer.status_code, answer.json()["status"]) == (202, "queued"), answer.text
        with get_client(sync_client=True) as client:
            run = client.read_flow_run(UUID(flow_run_of(self.engine)))
        return dict(run.parameters)

    def test_a_retry_command_starts_a_run_that_reads_the_issue_from_jira(
        self, live: TestClient
    ) -> None:
        # the comment event's short issue has no labels and no description: the run fetches
        assert self.parameters(signed_post(live, commented("/sdb  Retry\nplease"))) == {
            "issue_key": "MAT-7"}

    def test_the_trigger_label_added_starts_a_run(self, live: TestClient) -> None:
        body = updated(change("labels", "backend", "backend sdb"))
        assert self.parameters(signed_post(live, body)) == {"issue_key": "MAT-7"}

    def test_an_edited_description_starts_a_run_and_a_new_issue_goes_as_sent(
        self, live: TestClient
    ) -> None:
        assert "issue_key" in self.parameters(signed_post(live, updated(change("description"))))
        created = json.dumps({"webhookEvent": "jira:issue_created", "user": {"accountId": "p"},
                              "issue": issue(labels=["sdb"])}).encode()
        assert self.parameters(signed_post(live, created))["issue"] == json.loads(created)
