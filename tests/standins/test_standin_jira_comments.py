"""The Jira stand-in's comments, signed-in user and transitions, as Jira Cloud (v3 ADF, v2
wiki) and Jira Data Center (v2 wiki) answer them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from standins.faults import Status
from standins.jira import JiraStandin, Transition, adf_document

AUTH = ("dev@example.com", "jira-token")
PAT = "dc-personal-access-token"
DC = {"Authorization": f"Bearer {PAT}"}


@pytest.fixture
def jira() -> Iterator[JiraStandin]:
    with JiraStandin(*AUTH) as server:
        server.add_issue({"key": "SHOP-7", "fields": {"summary": "Fix totals"}})
        yield server


@pytest.fixture
def data_center() -> Iterator[JiraStandin]:
    with JiraStandin(personal_access_token=PAT) as server:
        server.add_issue({"key": "OPS-1"})
        yield server


def comment_url(server: JiraStandin, version: str = "3", key: str = "SHOP-7") -> str:
    return f"{server.base_url}/rest/api/{version}/issue/{key}/comment"


class TestCloudComments:
    def test_an_adf_comment_is_added_edited_and_listed_oldest_first(
        self, jira: JiraStandin
    ) -> None:
        added = requests.post(comment_url(jira), auth=AUTH,
                              json={"body": adf_document("Working on it.")})
        assert added.status_code == 201
        comment = added.json()
        assert comment["author"]["accountId"] and comment["author"]["displayName"] == "sdb-agent"
        assert comment["body"]["type"] == "doc" and comment["created"] == comment["updated"]
        requests.post(comment_url(jira), auth=AUTH, json={"body": adf_document("Second.")})
        edited = requests.put(f"{comment_url(jira)}/{comment['id']}", auth=AUTH,
                              json={"body": adf_document("Done.")})
        assert edited.status_code == 200 and edited.json()["id"] == comment["id"]
        page = requests.get(comment_url(jira), auth=AUTH).json()
        assert (page["startAt"], page["total"]) == (0, 2)
        assert [c["id"] for c in page["comments"]][0] == comment["id"]
        assert jira.comment_texts("SHOP-7") == ["Done.", "Second."]

    def test_the_issue_carries_its_comments_in_fields_comment(self, jira: JiraStandin) -> None:
        person = jira.person("Ana Reporter")
        jira.add_comment("SHOP-7", "Use the net price.", author=person)
        for version in ("2", "3"):
            issue = requests.get(f"{jira.base_url}/rest/api/{version}/issue/SHOP-7",
                                 auth=AUTH).json()
            block = issue["fields"]["comment"]
            assert (block["total"], block["maxResults"], block["startAt"]) == (1, 1, 0)
            only = block["comments"][0]
            assert only["author"] == person and {"id", "created", "updated"} <= set(only)
            body = only["body"]
            assert body == "Use the net price." if version == "2" else body["type"] == "doc"

    def test_v3_refuses_a_string_body_and_v2_on_cloud_refuses_adf(
        self, jira: JiraStandin
    ) -> None:
        assert requests.post(comment_url(jira), auth=AUTH,
                             json={"body": "plain"}).status_code == 400
        assert requests.post(comment_url(jira, "2"), auth=AUTH,
                             json={"body": adf_document("x")}).status_code == 400
        v2 = requests.post(comment_url(jira, "2"), auth=AUTH, json={"body": "wiki *text*"})
        assert v2.status_code == 201 and jira.comment_texts("SHOP-7") == ["wiki *text*"]

    @pytest.mark.parametrize("payload", [
        {"body": {"type": "doc", "version": 1, "content": []}}, {}, {"body": "x" * 32768},
    ], ids=["empty document", "no body", "over the text limit"])
    def test_empty_and_oversized_comments_are_a_400(
        self, jira: JiraStandin, payload: dict[str, object]
    ) -> None:
        version = "2" if isinstance(payload.get("body"), str) else "3"
        response = requests.post(comment_url(jira, version), auth=AUTH, json=payload)
        assert response.status_code == 400 and "comment" in response.json()["errors"]
        assert jira.comments("SHOP-7") == []

    def test_a_body_that_is_not_json_is_a_415(self, jira: JiraStandin) -> None:
        response = requests.post(comment_url(jira), auth=AUTH, data="body=x",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert response.status_code == 415

    def test_editing_a_comment_the_issue_does_not_have_is_a_404(self, jira: JiraStandin) -> None:
        jira.add_issue({"key": "SHOP-8"})
        other = jira.add_comment("SHOP-8", "elsewhere")
        response = requests.put(f"{comment_url(jira)}/{other['id']}", auth=AUTH,
                                json={"body": adf_document("x")})
        assert response.status_code == 404

    def test_comments_on_an_unknown_issue_are_a_404(self, jira: JiraStandin) -> None:
        response = requests.post(comment_url(jira, key="SHOP-99"), auth=AUTH,
                                 json={"body": adf_document("x")})
        assert response.status_code == 404

    def test_a_page_honours_start_at_and_max_results(self, jira: JiraStandin) -> None:
        for n in range(3):
            jira.add_comment("SHOP-7", f"c{n}")
        page = requests.get(comment_url(jira, "2"), auth=AUTH,
                            params={"startAt": 1, "maxResults": 1}).json()
        assert (page["startAt"], page["maxResults"], page["total"]) == (1, 1, 3)
        assert [c["body"] for c in page["comments"]] == ["c1"]

    def test_written_comments_can_be_watched(self, jira: JiraStandin) -> None:
        seen: list[tuple[str, str, str]] = []
        jira.watch_comments(lambda key, action, text: seen.append((key, action, text)))
        cid = requests.post(comment_url(jira), auth=AUTH,
                            json={"body": adf_document("Working.")}).json()["id"]
        requests.put(f"{comment_url(jira)}/{cid}", auth=AUTH, json={"body": adf_document("Done.")})
        assert seen == [("SHOP-7", "added", "Working."), ("SHOP-7", "edited", "Done.")]

    def test_comment_faults_come_from_the_fault_plan(self, jira: JiraStandin) -> None:
        jira.faults.add("POST /comment", Status(503))
        assert requests.post(comment_url(jira), auth=AUTH,
                             json={"body": adf_document("x")}).status_code == 503
        assert requests.get(f"{jira.base_url}/rest/api/3/issue/SHOP-7",
                            auth=AUTH).status_code == 200


class TestMyself:
    def test_cloud_names_the_user_by_account_id(self, jira: JiraStandin) -> None:
        me = requests.get(f"{jira.base_url}/rest/api/3/myself", auth=AUTH).json()
        assert me["accountId"] == jira.user["accountId"] and "name" not in me

    def test_data_center_names_the_user_by_name_and_key(self, data_center: JiraStandin) -> None:
        me = requests.get(f"{data_center.base_url}/rest/api/2/myself", headers=DC).json()
        assert me["name"] and me["key"] and "accountId" not in me


class TestDataCenterComments:
    def test_wiki_comments_are_added_and_edited_on_v2(self, data_center: JiraStandin) -> None:
        url = comment_url(data_center, "2", "OPS-1")
        added = requests.post(url, headers=DC, json={"body": "h3. Working"})
        assert added.status_code == 201 and added.json()["author"]["name"]
        cid = added.json()["id"]
        assert requests.put(f"{url}/{cid}", headers=DC,
                            json={"body": "h3. Done"}).status_code == 200
        assert data_center.comment_texts("OPS-1") == ["h3. Done"]
        assert requests.post(url, headers=DC,
                             json={"body": adf_document("x")}).status_code == 400


class TestTransitions:
    def url(self, server: JiraStandin) -> str:
        return f"{server.base_url}/rest/api/3/issue/SHOP-7/transitions"

    def test_the_status_offers_its_transitions_and_one_moves_the_issue(
        self, jira: JiraStandin
    ) -> None:
        offered = requests.get(self.url(jira), auth=AUTH).json()["transitions"]
        review = next(t for t in offered if t["name"] == "In Review")
        assert review["to"]["name"] == "In Review" and "To Do" not in {t["name"] for t in offered}
        moved = requests.post(self.url(jira), auth=AUTH, json={"transition": {"id": review["id"]}})
        assert (moved.status_code, moved.content) == (204, b"")
        assert jira.status_of("SHOP-7") == "In Review"

    def test_a_transition_the_status_does_not_offer_is_a_400(self, jira: JiraStandin) -> None:
        jira.set_transitions("To Do", Transition("5", "Start", "In Progress"))
        assert [t["name"] for t in requests.get(self.url(jira), auth=AUTH).json()
                ["transitions"]] == ["Start"]
        payloads: list[dict[str, object]] = [{"transition": {"id": "41"}}, {"transition": {}}, {}]
        for payload in payloads:
            assert requests.post(self.url(jira), auth=AUTH, json=payload).status_code == 400
        assert jira.status_of("SHOP-7") == "To Do"

    def test_data_center_transitions_on_v2(self, data_center: JiraStandin) -> None:
        url = f"{data_center.base_url}/rest/api/2/issue/OPS-1/transitions"
        assert requests.get(url, headers=DC).json()["transitions"]
        assert requests.post(url, headers=DC,
                             json={"transition": {"id": "41"}}).status_code == 204
        assert data_center.status_of("OPS-1") == "Done"
