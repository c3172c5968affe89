"""The Jira stand-in speaks as Jira Cloud (REST v3 with ADF and v2 with wiki strings, Basic
email:API token only) or as Jira Data Center (REST v2 only, Bearer personal access token)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from standins.jira import JiraStandin

AUTH = ("dev@example.com", "jira-token")
PAT = "dc-personal-access-token"


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


@pytest.fixture
def data_center() -> Iterator[JiraStandin]:
    with JiraStandin(personal_access_token=PAT) as server:
        server.add_issue({"key": "OPS-1", "fields": {"description": "h2. Steps\n* *one*"}})
        yield server


class TestCloudShapes:
    def test_v2_gives_the_description_as_a_wiki_string_with_v2_links(
        self, jira: JiraStandin
    ) -> None:
        issue = requests.get(f"{jira.base_url}/rest/api/2/issue/SHOP-7", auth=AUTH).json()
        assert issue["fields"]["description"] == "First.\n\nSecond."
        assert "/rest/api/2/issue/" in issue["self"]

    def test_an_adf_description_is_served_as_given_on_v3(self, jira: JiraStandin) -> None:
        adf = {"type": "doc", "version": 1, "content": [{"type": "rule"}]}
        jira.add_issue({"key": "SHOP-9", "fields": {"description": adf}})
        url = f"{jira.base_url}/rest/api/3/issue/SHOP-9"
        assert requests.get(url, auth=AUTH).json()["fields"]["description"] == adf

    def test_a_bearer_header_is_refused_on_cloud(self, jira: JiraStandin) -> None:
        response = requests.get(f"{jira.base_url}/rest/api/3/issue/SHOP-7",
                                headers={"Authorization": "Bearer jira-token"})
        assert response.status_code == 401


class TestDataCenter:
    def test_v2_serves_wiki_to_the_bearer_token(self, data_center: JiraStandin) -> None:
        response = requests.get(f"{data_center.base_url}/rest/api/2/issue/OPS-1",
                                headers={"Authorization": f"Bearer {PAT}"})
        assert response.status_code == 200
        assert response.json()["fields"]["description"] == "h2. Steps\n* *one*"

    def test_there_is_no_rest_v3(self, data_center: JiraStandin) -> None:
        response = requests.get(f"{data_center.base_url}/rest/api/3/issue/OPS-1",
                                headers={"Authorization": f"Bearer {PAT}"})
        assert response.status_code == 404

    @pytest.mark.parametrize("headers", [
        {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {PAT}"},
        {"Authorization": f"Token {PAT}"}, {},
    ], ids=["wrong token", "token as Basic", "other scheme", "none"])
    def test_anything_but_the_bearer_token_is_a_401(
        self, data_center: JiraStandin, headers: dict[str, str]
    ) -> None:
        url = f"{data_center.base_url}/rest/api/2/issue/OPS-1"
        assert requests.get(url, headers=headers).status_code == 401
        assert requests.get(url, auth=("dev", PAT)).status_code == 401

    def test_data_center_has_no_adf_to_load(self) -> None:
        with JiraStandin(personal_access_token=PAT) as server, pytest.raises(ValueError):
            server.add_issue({"key": "OPS-2", "fields": {"description": {"type": "doc"}}})

    def test_a_stand_in_needs_one_kind_of_credentials(self) -> None:
        with pytest.raises(ValueError):
            JiraStandin("dev@example.com")
