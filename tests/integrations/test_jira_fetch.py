"""`fetch_issue` against the Jira stand-in as Cloud (REST v3, Basic) and as Data Center
(REST v2, Bearer personal access token), over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from base.errors import InvalidResponse, NotFound, PermanentError, TransientError
from integrations.jira import Issue, fetch_issue
from integrations.jira_site import JiraCloud, JiraDataCenter
from standins.faults import Delay, Malformed, Reset, Status
from standins.jira import JiraStandin

EMAIL, TOKEN, PAT = "bot@example.com", "jira-api-token", "NjM4OTE2-dc-personal-token"
ADF = {"type": "doc", "version": 1, "content": [
    {"type": "heading", "attrs": {"level": 2}, "content": [{"type": "text", "text": "Alloy"}]},
    {"type": "paragraph", "content": [
        {"type": "text", "text": "Add "}, {"type": "text", "text": "Ti-6Al-4V",
                                           "marks": [{"type": "code"}]},
        {"type": "text", "text": " (\ud2f0\ud0c0\ub284) to the table."}]},
    {"type": "bulletList", "content": [
        {"type": "listItem", "content": [{"type": "paragraph", "content": [
            {"type": "text", "text": "density 4.43"}]}]},
        {"type": "listItem", "content": [{"type": "paragraph", "content": [
            {"type": "text", "text": "grade 5"}]}]}]},
]}


@pytest.fixture
def jira() -> Iterator[JiraStandin]:
    with JiraStandin(EMAIL, TOKEN) as server:
        server.add_issue({"key": "MAT-1", "fields": {
            "summary": " New alloy ", "description": ADF, "labels": ["sdb"],
            "issuetype": {"name": "Story"}}})
        server.add_issue({"key": "MAT-2", "fields": {
            "summary": "Plain", "description": "First paragraph.\n\nSecond paragraph."}})
        yield server


def fetch(jira: JiraStandin, key: str = "MAT-1", api_token: str = TOKEN,
          timeout: float = 2.0) -> Issue:
    return fetch_issue(JiraCloud(jira.base_url, EMAIL, api_token), key, timeout=timeout)


@pytest.fixture
def data_center() -> Iterator[JiraStandin]:
    with JiraStandin(personal_access_token=PAT) as server:
        server.add_issue({"key": "OPS-7", "fields": {
            "summary": "Wiki", "issuetype": {"name": "Bug"},
            "description": "h2. Steps\n# Open *MaterialDB*\n# See -4.5- 4.43"}})
        yield server


class TestJiraFetchIssue:
    def test_an_issue_s_adf_description_becomes_readable_text(self, jira: JiraStandin) -> None:
        issue = fetch(jira)
        assert (issue.key, issue.summary, issue.issue_type, issue.labels, issue.project) == (
            "MAT-1", "New alloy", "Story", ("sdb",), "MAT")
        assert issue.description == (
            "## Alloy\n\nAdd `Ti-6Al-4V` (\ud2f0\ud0c0\ub284) to the table.\n\n"
            "- density 4.43\n- grade 5")
        assert issue.raw["fields"]["description"] == ADF

    def test_paragraphs_stay_apart(self, jira: JiraStandin) -> None:
        assert fetch(jira, "MAT-2").description == "First paragraph.\n\nSecond paragraph."

    def test_the_cloud_request_uses_rest_v3_and_basic_auth(self, jira: JiraStandin) -> None:
        fetch(jira)
        [request] = jira.requests
        assert request.path == "/rest/api/3/issue/MAT-1"
        assert request.headers["authorization"].startswith("Basic ")

    def test_a_missing_issue_is_not_found(self, jira: JiraStandin) -> None:
        with pytest.raises(NotFound, match="MAT-404"):
            fetch(jira, "MAT-404")

    def test_a_wrong_token_is_a_permanent_error_not_a_missing_issue(
        self, jira: JiraStandin
    ) -> None:
        with pytest.raises(PermanentError, match="answered 401") as raised:
            fetch(jira, api_token="wrong")
        assert not isinstance(raised.value, NotFound | TransientError)

    @pytest.mark.parametrize("fault", [Status(429, retry_after=5), Status(500), Status(503),
                                       Reset(), Delay(1.0)],
                             ids=["429", "500", "503", "reset", "timeout"])
    def test_a_passing_failure_is_transient(self, fault: Any, jira: JiraStandin) -> None:
        jira.faults.add("*", fault)
        with pytest.raises(TransientError):
            fetch(jira, timeout=0.3)
        assert len(jira.requests) == 1  # fetch_issue leaves retrying to its caller

    def test_a_body_that_is_not_json_is_an_invalid_response(self, jira: JiraStandin) -> None:
        jira.faults.add("*", Malformed())
        with pytest.raises(InvalidResponse, match="non-JSON"):
            fetch(jira)

    def test_a_json_answer_without_an_issue_key_is_an_invalid_response(
        self, jira: JiraStandin
    ) -> None:
        jira.faults.add("*", Status(200, body={"errorMessages": []}))
        with pytest.raises(InvalidResponse, match="issue key"):
            fetch(jira)

    @pytest.mark.parametrize("key", ["mat-1", "MAT-1/../../x", "MAT 1", ""])
    def test_a_malformed_key_is_refused_before_any_request(
        self, key: str, jira: JiraStandin
    ) -> None:
        with pytest.raises(PermanentError, match="malformed issue key"):
            fetch(jira, key)
        assert jira.requests == []


class TestJiraDataCenter:
    def test_an_issue_comes_from_rest_v2_with_a_bearer_token_and_its_wiki_is_converted(
        self, data_center: JiraStandin
    ) -> None:
        issue = fetch_issue(JiraDataCenter(data_center.base_url, PAT), "OPS-7", timeout=2.0)
        assert (issue.key, issue.summary, issue.issue_type) == ("OPS-7", "Wiki", "Bug")
        assert issue.description == "## Steps\n\n1. Open **MaterialDB**\n2. See ~~4.5~~ 4.43"
        [request] = data_center.requests
        assert request.path == "/rest/api/2/issue/OPS-7"
        assert request.headers["authorization"] == f"Bearer {PAT}"

    def test_a_wrong_token_is_a_permanent_error(self, data_center: JiraStandin) -> None:
        with pytest.raises(PermanentError, match="answered 401") as raised:
            fetch_issue(JiraDataCenter(data_center.base_url, "wrong"), "OPS-7", timeout=2.0)
        assert not isinstance(raised.value, NotFound | TransientError)

    def test_cloud_credentials_do_not_open_data_center(self, data_center: JiraStandin) -> None:
        with pytest.raises(PermanentError, match="answered"):
            fetch_issue(JiraCloud(data_center.base_url, EMAIL, PAT), "OPS-7", timeout=2.0)
