"""The Jira stand-in serves REST v3 issues to Basic-authenticated clients only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from integrations.standins.jira import JiraStandin

AUTH = ("dev@example.com", "jira-token")


@pytest.fixture
def jira() -> Iterator[JiraStandin]:
    with JiraStandin(*AUTH) as server:
        server.add_issue(
            {
                "key": "SHOP-7",
                "fields": {
                    "summary": "Fix totals",
                    "description": "First.\n\nSecond.",
                    "labels": ["sdb-agent"],
                },
            }
        )
        yield server


class TestIssues:
    def test_an_issue_comes_back_in_rest_v3_shape_with_an_adf_description(
        self, jira: JiraStandin
    ) -> None:
        issue = requests.get(f"{jira.base_url}/rest/api/3/issue/SHOP-7", auth=AUTH).json()
        assert issue["key"] == "SHOP-7" and issue["self"].startswith(jira.base_url)
        fields = issue["fields"]
        assert (fields["summary"], fields["labels"]) == ("Fix totals", ["sdb-agent"])
        assert fields["project"]["key"] == "SHOP" and fields["issuetype"]["name"] == "Task"
        paragraphs = fields["description"]["content"]
        assert [p["content"][0]["text"] for p in paragraphs] == ["First.", "Second."]

    def test_an_unknown_issue_is_a_404_with_jira_error_messages(self, jira: JiraStandin) -> None:
        response = requests.get(f"{jira.base_url}/rest/api/3/issue/SHOP-8", auth=AUTH)
        assert response.status_code == 404
        assert response.json() == {
            "errorMessages": ["Issue does not exist or you do not have permission to see it."],
            "errors": {},
        }

    def test_wrong_credentials_are_a_401(self, jira: JiraStandin) -> None:
        url = f"{jira.base_url}/rest/api/3/issue/SHOP-7"
        assert requests.get(url, auth=("dev@example.com", "wrong")).status_code == 401
        assert requests.get(url).status_code == 401
