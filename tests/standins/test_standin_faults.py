"""Every fault kind reaches a client the way a real network or service failure would."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import openai
import pytest
import requests

from standins.bitbucket import BitbucketEmulator
from standins.faults import (
    Delay,
    FaultPlan,
    Malformed,
    Oversized,
    Reset,
    Status,
    Truncated,
)
from standins.jira import JiraStandin
from standins.openai_server import OpenAIStandin


@pytest.fixture
def repo(bitbucket: BitbucketEmulator) -> str:
    return f"{bitbucket.base_url}/repositories/acme/shop"


@pytest.fixture
def llm() -> Iterator[OpenAIStandin]:
    with OpenAIStandin() as server:
        server.script("new_file", {"content": "x"})
        yield server


def ask(base_url: str, timeout: float = 5) -> object:
    client = openai.OpenAI(base_url=base_url, api_key="k", max_retries=0, timeout=timeout)
    return client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "x"}],
        response_format={"type": "json_schema", "json_schema": {"name": "new_file", "schema": {}}},
    )


class TestFaultPlan:
    def test_a_method_and_path_fragment_matches_only_that_method(self) -> None:
        plan = FaultPlan()
        plan.add("POST /src", Reset())
        assert plan.take("GET", "/2.0/repositories/a/b/src/main/x") is None
        assert plan.take("POST", "/2.0/repositories/a/b/src") == Reset()
        assert plan.take("POST", "/2.0/repositories/a/b/src") is None

    def test_a_fault_is_served_as_many_times_as_asked(self) -> None:
        plan = FaultPlan()
        plan.add("*", Status(503), times=2)
        served = [plan.take("GET", "/x") for _ in range(3)]
        assert served == [Status(503), Status(503), None] and plan.pending == 0

    def test_llm_only_faults_are_refused_by_other_services(self) -> None:
        with pytest.raises(TypeError):
            FaultPlan().add("*", Truncated())


class TestHttpFaults:
    def test_a_503_uses_the_service_error_shape(
        self, bitbucket: BitbucketEmulator, bb_session: requests.Session, repo: str
    ) -> None:
        bitbucket.faults.add("GET /refs/branches", Status(503))
        response = bb_session.get(f"{repo}/refs/branches/main")
        assert response.status_code == 503 and response.json()["type"] == "error"
        assert response.headers["X-RateLimit-Limit"] == "1000"
        assert bb_session.get(f"{repo}/refs/branches/main").status_code == 200

    def test_a_429_may_carry_retry_after(self) -> None:
        with JiraStandin("a@b.c", "t") as jira:
            jira.faults.add("*", Status(429, retry_after=1.5))
            jira.faults.add("*", Status(429))
            url = f"{jira.base_url}/rest/api/3/issue/X-1"
            first, second = requests.get(url), requests.get(url)
        assert first.headers["Retry-After"] == "1.5" and "errorMessages" in first.json()
        assert second.status_code == 429 and "Retry-After" not in second.headers

    def test_a_reset_is_a_connection_error(
        self,
        bitbucket: BitbucketEmulator,
        bb_session: requests.Session,
        repo: str,
        llm: OpenAIStandin,
    ) -> None:
        bitbucket.faults.add("POST /src", Reset())
        with pytest.raises(requests.ConnectionError):
            bb_session.post(f"{repo}/src", files={"a.txt": ("a.txt", b"a")})
        llm.faults.add("*", Reset())
        with pytest.raises(openai.APIConnectionError):
            ask(llm.base_url)

    def test_a_delay_past_the_client_timeout_is_a_timeout(
        self,
        bitbucket: BitbucketEmulator,
        bb_session: requests.Session,
        repo: str,
        llm: OpenAIStandin,
    ) -> None:
        bitbucket.faults.add("*", Delay(0.6))
        with pytest.raises(requests.Timeout):
            bb_session.get(repo, timeout=0.2)
        llm.faults.add("*", Delay(0.6))
        with pytest.raises(openai.APITimeoutError):
            ask(llm.base_url, timeout=0.2)

    def test_a_malformed_body_fails_to_decode(
        self, bitbucket: BitbucketEmulator, bb_session: requests.Session, repo: str
    ) -> None:
        bitbucket.faults.add("*", Malformed())
        response = bb_session.get(repo)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/json"
        with pytest.raises(json.JSONDecodeError):
            json.loads(response.content)

    def test_an_oversized_body_is_valid_json_of_the_asked_size(
        self, bitbucket: BitbucketEmulator, bb_session: requests.Session, repo: str
    ) -> None:
        bitbucket.faults.add("*", Oversized(3_000_000))
        response = bb_session.get(repo)
        assert len(response.content) == 3_000_000
        assert isinstance(response.json(), dict)

    def test_latency_slows_every_answer_and_requests_are_recorded(self, llm: OpenAIStandin) -> None:
        llm.latency = 0.1
        started = time.monotonic()
        ask(llm.base_url)
        assert time.monotonic() - started >= 0.1
        [request] = llm.requests
        assert request.method == "POST" and request.path == "/v1/chat/completions"
        assert request.headers["authorization"] == "Bearer k"
        assert request.json()["model"] == "gpt-4o"
