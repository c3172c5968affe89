"""A provider that echoes the API key in its 401 answer fails the run, and none of eight
distinctive secrets (LLM key, Bitbucket token, Jira token, webhook secret and token,
API_TOKEN, SMTP password, a database password with '@') is in any sink: rows of every table,
Prefect flow and task states, logs and artifacts, the read API's answers, the console."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    FlowRunFilter,
    FlowRunFilterId,
    LogFilter,
    LogFilterFlowRunId,
)
from prefect.events.filters import EventAnyResourceFilter, EventFilter
from sqlalchemy import inspect, text

from deployments.http.app import create_app
from standins.faults import Status
from standins.openai_server import openai_error
from tests.flows.agent import TOKEN, Agent, canned

LLM_KEY = "sk-proj-SWEEP-llm-key-1"
SECRETS = {
    "OPENAI_API_KEY": LLM_KEY,
    "JIRA_API_TOKEN": "jira-SWEEP-token-2",
    "JIRA_WEBHOOK_SECRET": "hook-SWEEP-secret-3",
    "JIRA_WEBHOOK_TOKEN": "hook-SWEEP-token-4",
    "API_TOKEN": "api-SWEEP-token-5",
    "SMTP_PASSWORD": "smtp-SWEEP-password-6",
}


DB_PASSWORD = "db-SWEEP@pass-7"  # an '@', written %40 in the URL


def database_url_with_at_sign(agent: Agent) -> str:
    """This test's database, reached as a role of its own whose password holds an '@'."""
    role = f"sweep_{uuid.uuid4().hex[:8]}"
    with agent.engine.begin() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN PASSWORD '{DB_PASSWORD}'"))
        conn.execute(text(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}"))
        conn.execute(text(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role}"))
    url = agent.engine.url.set(username=role, password=DB_PASSWORD)
    return url.render_as_string(hide_password=False)


@pytest.fixture
def echoing_provider(agent: Agent) -> Agent:
    agent.configure(**SECRETS, DATABASE_URL=database_url_with_at_sign(agent))
    assert "%40" in agent.env["DATABASE_URL"]
    agent.llm.faults.add("POST /chat/completions", Status(401, body=openai_error(
        f"Incorrect API key provided: {LLM_KEY}. You can find your API key at "
        "https://platform.openai.com/account/api-keys.", code="invalid_api_key")))
    return agent


def every_row(agent: Agent) -> str:
    with agent.engine.connect() as conn:
        tables = inspect(conn).get_table_names()
        return "\n".join(str(row) for table in tables
                         for row in conn.execute(text(f'SELECT t::text FROM "{table}" t')))


def read_events_of(client: Any, flow_run_id: Any) -> list[Any]:
    """The flow run's events, once Prefect has persisted its final state change."""
    related = EventAnyResourceFilter(id=[f"prefect.flow-run.{flow_run_id}"])
    deadline, events = time.monotonic() + 15, []
    while time.monotonic() < deadline:
        events = client.read_events(EventFilter(any_resource=related), limit=50).events
        if any(e.event == "prefect.flow-run.Failed" for e in events):
            break
        time.sleep(0.3)
    return events


def prefect_sinks(flow_run_id: Any) -> dict[str, str]:
    deadline, logs = time.monotonic() + 15, []
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:  # logs are shipped in batches
            logs = client.read_logs(log_filter=LogFilter(
                flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
            if any("401" in log.message for log in logs):
                break
            time.sleep(0.2)
        flow_run = client.read_flow_run(flow_run_id)
        task_runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))
        events = read_events_of(client, flow_run_id)
    return {
        "events": "\n".join(event.model_dump_json() for event in events),
        "flow-run state": f"{flow_run.state.name}: {flow_run.state.message}"
        if flow_run.state else "",
        "task-run states": "\n".join(f"{t.name}: {t.state.message}" for t in task_runs
                                     if t.state),
        "logs": "\n".join(log.message for log in logs),
        "artifacts": "\n".join(f"{a.key}: {a.data}" for a in artifacts),
    }


class TestASecretEchoedByTheProvider:
    def test_appears_in_no_sink(self, echoing_provider: Agent,
                                capfd: pytest.CaptureFixture[str]) -> None:
        agent = echoing_provider
        with pytest.raises(Exception, match="401"):
            agent.run()
        run = agent.runs()[-1]
        assert run.status == "failed" and "401" in (run.error_message or "")
        sinks = prefect_sinks(run.flow_run_id)
        assert "401" in sinks["flow-run state"] and "Failed" in sinks["flow-run state"]
        assert "prefect.flow-run.Failed" in sinks["events"]
        sinks["rows of every table"] = every_row(agent)
        with TestClient(create_app()) as client:
            headers = {"Authorization": f"Bearer {SECRETS['API_TOKEN']}"}
            sinks["GET /history/{id}"] = client.get(f"/history/{run.id}", headers=headers).text
            sinks["GET /history"] = client.get("/history", headers=headers).text
        sinks["console"] = "".join(capfd.readouterr())
        assert "invalid_api_key" in sinks["rows of every table"] or "401" in sinks[
            "rows of every table"]
        secrets = [*SECRETS.values(), TOKEN, DB_PASSWORD, "SWEEP@pass",
                   agent.engine.url.password or "<none>"]
        leaked = {sink: [s for s in secrets if s in body] for sink, body in sinks.items()}
        assert {sink: found for sink, found in leaked.items() if found} == {}


class TestAModelThatRepeatsASecret:
    def test_cannot_put_it_into_the_commit_or_the_pull_request(
        self, agent: Agent, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        key = agent.env["OPENAI_API_KEY"]
        answers = canned()
        agent.llm.script("issue_spec", {"spec_markdown": f"Use the key {key} to test."})
        for path, reply in answers["file_edits"].items():
            leaking = {**reply, "summary": f"{reply['summary']} (key {key})"}
            agent.llm.script("file_edits", leaking, path=path)
        result = agent.run()
        assert result["outcome"] == "completed"
        pr = next(iter(agent.bitbucket.pull_requests.values()))
        committed = [agent.bitbucket.file_at(agent.branch_name(), path)
                     for path in ("docs/specs/MAT-101.md", *answers["file_edits"])]
        assert "(key ***)" in pr.description and "Use the key *** to test." in pr.description
        assert key not in pr.description + pr.title
        assert all(key.encode() not in data for data in committed)
