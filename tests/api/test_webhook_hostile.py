"""Hostile signed deliveries: every one gets a 4xx with a JSON reason and a recorded row,
never a 500, and nothing is queued for Prefect."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prefect.settings import PREFECT_API_URL, temporary_settings
from sqlalchemy import Engine, text

from base.net import free_loopback_port
from integrations.jira import parse_issue
from tests.api.conftest import build_app
from tests.api.test_webhook import running_app
from tests.conftest import ConfiguredRuntime

SECRET = "hostile-secret"
ANSWERED = {202, 400, 401, 408, 413, 415, 422, 503}


@pytest.fixture
def hostile(runtime: ConfiguredRuntime) -> Iterator[TestClient]:
    """The app with a Prefect API where nothing listens: a body that passes every check is
    queued (202) and its hand-off keeps failing, so no run is ever made here."""
    runtime.set(JIRA_WEBHOOK_SECRET=SECRET, WEBHOOK_HANDOFF_SECONDS="1")
    nowhere = f"http://127.0.0.1:{free_loopback_port()}/api"
    with temporary_settings(updates={PREFECT_API_URL: nowhere}), \
            TestClient(build_app()) as client:
        yield client


def signed_post(client: TestClient, body: bytes, delivery: str | None = None,
                content_type: str = "application/json") -> Any:
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": content_type, "X-Hub-Signature": f"sha256={digest}"}
    if delivery is not None:
        headers["X-Atlassian-Webhook-Identifier"] = delivery
    return client.post("/webhooks/jira", content=body, headers=headers)


def issue(key: Any = "MAT-1", event: Any = "jira:issue_created", **fields: Any) -> bytes:
    body = {"webhookEvent": event, "issue": {"key": key, "fields": {
        "summary": "Add Ti", "description": "Add it", "project": {"key": "MAT"},
        "issuetype": {"name": "Task"}, **fields}}}
    return json.dumps(body).encode()


def rows(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(
            "SELECT outcome, http_status, reason, flow_run_id FROM webhook_delivery ORDER BY id")))


def adf(content: Any) -> dict[str, Any]:
    return {"type": "doc", "version": 1, "content": content}


def nested_adf(levels: int) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "text", "text": "deep"}
    for _ in range(levels):
        node = {"type": "blockquote", "content": [node]}
    return adf([node])


HOSTILE = {
    "event as a list": issue(event=["jira:issue_created"]),
    "event as an object": issue(event={"a": 1}),
    "event with NUL": issue(event="jira:issue_created\x00"),
    "event with a lone surrogate": issue(event="jira:\ud800"),
    "event of 150 characters": issue(event="e" * 150),
    "project key as a list": issue(project={"key": ["MAT"]}),
    "project key as an object": issue(project={"key": {"k": 1}}),
    "issue type as an int": issue(issuetype={"name": 5}),
    "key of 51 characters": issue(key="A" * 45 + "-12345"),
    "key of 61 characters": issue(key="A" * 50 + "-1234567890"),
    "key with a trailing newline": issue(key="MAT-1\n"),
    "key as an int": issue(key=42),
    "summary with a lone surrogate": issue(summary="Ti \ud800"),
    "summary with NUL": issue(summary="Ti\x00"),
    "summary of 200 KB": issue(summary="S" * 200_000),
    "description with NUL": issue(description="a\x00b"),
    "NUL in an unread field": issue(customfield_1="x\x00"),
    "ADF nested 400 levels": issue(description=nested_adf(400)),
    "JSON nested 50,000 levels": b"[" * 50_000 + b"]" * 50_000,
    "labels as a string": issue(labels="sdb"),
    "a number beyond a double": issue(customfield_2="N").replace(b'"N"', b"1e400"),
    "NaN in an unread field": issue(customfield_2="N").replace(b'"N"', b"NaN"),
}


# Malformed but harmless ADF: the reporter's text is kept, the odd attribute is not trusted.
ODD_ADF = {
    "heading level as text": ([{"type": "heading", "attrs": {"level": "x"},
                                "content": [{"type": "text", "text": "Ti"}]}], "# Ti"),
    "attrs as a list": ([{"type": "heading", "attrs": [],
                          "content": [{"type": "text", "text": "Ti"}]}], "# Ti"),
    "marks as a number": ([{"type": "paragraph", "content": [
        {"type": "text", "text": "Ti", "marks": 5}]}], "Ti"),
    "content as a string": ([{"type": "paragraph", "content": "Ti"}, {"type": "paragraph",
                             "content": [{"type": "text", "text": "kept"}]}], "kept"),
}


class TestHostileDeliveries:
    @pytest.mark.parametrize("body", list(HOSTILE.values()), ids=list(HOSTILE))
    def test_each_is_refused_with_a_json_reason_and_recorded(
        self, hostile: TestClient, engine: Engine, body: bytes
    ) -> None:
        answer = signed_post(hostile, body, delivery="hostile-1")
        assert answer.status_code in (400, 422), answer.text
        assert answer.json()["status"] == "rejected" and answer.json()["reason"]
        [row] = rows(engine)
        assert (row.outcome, row.http_status, row.flow_run_id) == (
            "rejected", answer.status_code, None)

    @pytest.mark.parametrize(("content", "text_"), list(ODD_ADF.values()), ids=list(ODD_ADF))
    def test_odd_adf_keeps_the_text_and_is_queued_not_a_500(
        self, hostile: TestClient, engine: Engine, content: list[Any], text_: str
    ) -> None:
        body = issue(description=adf(content))
        assert parse_issue(json.loads(body)).description == text_
        answer = signed_post(hostile, body, delivery="odd-adf")
        assert (answer.status_code, answer.json()["status"]) == (202, "queued")
        assert [r.outcome for r in rows(engine)] == ["queued"]

    def test_a_delivery_id_longer_than_the_column_is_refused_and_recorded(
        self, hostile: TestClient, engine: Engine
    ) -> None:
        answer = signed_post(hostile, issue(), delivery="d" * 256)
        assert answer.status_code == 400
        assert "X-Atlassian-Webhook-Identifier" in answer.json()["reason"].title() or \
            "identifier" in answer.json()["reason"]
        assert [(r.outcome, r.http_status) for r in rows(engine)] == [("rejected", 400)]

    @pytest.mark.parametrize("content_type", ["text/x-notjson", "application/jsonp",
                                              "text/json-ish", "multipart/form-data"])
    def test_a_body_that_is_not_declared_json_is_415(
        self, hostile: TestClient, engine: Engine, content_type: str
    ) -> None:
        answer = signed_post(hostile, issue(), content_type=content_type)
        assert answer.status_code == 415
        assert [r.http_status for r in rows(engine)] == [415]

    @pytest.mark.parametrize("content_type", ["application/json; charset=utf-8",
                                              "Application/JSON", "application/vnd.jira+json"])
    def test_json_media_types_with_parameters_or_a_suffix_are_read(
        self, hostile: TestClient, content_type: str
    ) -> None:
        answer = signed_post(hostile, issue(key="MAT-2", event="jira:issue_deleted"),
                             content_type=content_type)
        assert (answer.status_code, answer.json()["status"]) == (202, "ignored")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20)
ISSUE_SHAPED = st.fixed_dictionaries({
    "webhookEvent": JSON | st.sampled_from(["jira:issue_created", "jira:issue_updated"]),
    "issue": JSON | st.fixed_dictionaries({"key": JSON | st.just("MAT-9"), "fields": JSON}),
})


class TestArbitraryJsonShapes:
    @settings(max_examples=100, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(body=JSON | ISSUE_SHAPED)
    def test_any_signed_json_gets_an_answer_and_a_row_never_a_500(
        self, hostile: TestClient, engine: Engine, body: Any
    ) -> None:
        with engine.connect() as conn:
            before = conn.execute(text("SELECT count(*) FROM webhook_delivery")).scalar_one()
        answer = signed_post(hostile, json.dumps(body).encode())
        assert answer.status_code in ANSWERED, answer.text
        assert answer.json()["status"]
        with engine.connect() as conn:
            after = conn.execute(text("SELECT count(*) FROM webhook_delivery")).scalar_one()
        assert after == before + 1


class TestAHalfSentBody:
    def test_is_answered_408_after_webhook_read_seconds_and_recorded(
        self, runtime: ConfiguredRuntime, engine: Engine
    ) -> None:
        runtime.set(JIRA_WEBHOOK_SECRET=SECRET, WEBHOOK_READ_SECONDS="0.5")
        with running_app() as base:
            host, port = base.removeprefix("http://").split(":")
            with socket.create_connection((host, int(port)), timeout=30) as conn:
                conn.sendall(b"POST /webhooks/jira HTTP/1.1\r\nHost: x\r\n"
                             b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
                             b'{"webhookEvent"')  # ... and the rest never comes
                answer = conn.recv(4096).decode()
        assert answer.startswith("HTTP/1.1 408")
        assert [(r.outcome, r.http_status) for r in rows(engine)] == [("rejected", 408)]
