"""The Bitbucket emulator's pull requests behave like Bitbucket Cloud's."""

from __future__ import annotations

import pytest
import requests

from standins.bitbucket import BitbucketEmulator


@pytest.fixture
def prs_url(bitbucket: BitbucketEmulator, bb_session: requests.Session) -> str:
    repo = f"{bitbucket.base_url}/repositories/acme/shop"
    for name in ("feature/a", "feature/b", "feature/c"):
        body = {"name": name, "target": {"hash": bitbucket.branch_tip("main")}}
        bb_session.post(f"{repo}/refs/branches", json=body).raise_for_status()
    return f"{repo}/pullrequests"


def open_pr(
    session: requests.Session, url: str, source: str, title: str = "Fix"
) -> requests.Response:
    body = {
        "title": title,
        "description": "Body",
        "source": {"branch": {"name": source}},
        "destination": {"branch": {"name": "main"}},
        "close_source_branch": True,
    }
    return session.post(url, json=body)


class TestPullRequests:
    def test_opening_one_returns_the_bitbucket_document(
        self, bitbucket: BitbucketEmulator, bb_session: requests.Session, prs_url: str
    ) -> None:
        response = open_pr(bb_session, prs_url, "feature/a")
        assert response.status_code == 201
        pr = response.json()
        assert (pr["type"], pr["id"], pr["state"]) == ("pullrequest", 1, "OPEN")
        assert pr["source"]["commit"]["hash"] == bitbucket.branch_tip("feature/a")
        assert pr["links"]["html"]["href"] == "https://bitbucket.example/acme/shop/pull-requests/1"
        assert bitbucket.pull_requests[1].close_source_branch is True

    def test_a_second_open_one_for_the_same_branches_is_a_400(
        self, bb_session: requests.Session, prs_url: str
    ) -> None:
        open_pr(bb_session, prs_url, "feature/a")
        again = open_pr(bb_session, prs_url, "feature/a")
        assert again.status_code == 400
        assert "already an open pull request" in again.json()["error"]["message"]

    def test_a_missing_title_or_source_branch_is_a_400(
        self, bb_session: requests.Session, prs_url: str
    ) -> None:
        assert open_pr(bb_session, prs_url, "feature/a", title="").status_code == 400
        assert open_pr(bb_session, prs_url, "feature/missing").status_code == 400

    def test_it_is_read_and_updated_by_id(self, bb_session: requests.Session, prs_url: str) -> None:
        open_pr(bb_session, prs_url, "feature/a")
        updated = bb_session.put(f"{prs_url}/1", json={"title": "New", "description": "More"})
        assert (updated.json()["title"], updated.json()["description"]) == ("New", "More")
        assert bb_session.get(f"{prs_url}/1").json()["title"] == "New"
        assert bb_session.get(f"{prs_url}/9").status_code == 404

    def test_a_bbql_search_by_source_branch_finds_only_open_ones(
        self, bitbucket: BitbucketEmulator, bb_session: requests.Session, prs_url: str
    ) -> None:
        open_pr(bb_session, prs_url, "feature/a")
        open_pr(bb_session, prs_url, "feature/b")
        bitbucket.pull_requests[1].state = "DECLINED"
        query = {"q": 'source.branch.name="feature/a"', "state": "OPEN"}
        assert bb_session.get(prs_url, params=query).json()["values"] == []
        query = {"q": 'source.branch.name="feature/b" AND state="OPEN"'}
        assert [pr["id"] for pr in bb_session.get(prs_url, params=query).json()["values"]] == [2]

    def test_pages_link_to_the_next_until_the_last(
        self, bb_session: requests.Session, prs_url: str
    ) -> None:
        for source in ("feature/a", "feature/b", "feature/c"):
            open_pr(bb_session, prs_url, source)
        first = bb_session.get(prs_url, params={"pagelen": 2}).json()
        assert (first["size"], first["page"], len(first["values"])) == (3, 1, 2)
        last = bb_session.get(first["next"]).json()
        assert [pr["id"] for pr in last["values"]] == [3]
        assert "next" not in last

    def test_an_invalid_query_is_a_400(self, bb_session: requests.Session, prs_url: str) -> None:
        response = bb_session.get(prs_url, params={"q": 'source.branch.name ~ "x"'})
        assert response.status_code == 400
