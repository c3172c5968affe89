"""The Bitbucket client's git-host operations against the git-backed emulator, over HTTP and
in process (its handler called directly): both ways must give the same results."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import pytest
import requests

from base.errors import Conflict, NotFound, PathRefused, PermanentError
from db.recorder import HistoryRecorder
from integrations.bitbucket import SRC_META, BitbucketClient
from integrations.git_host import BranchRef, PullRequest
from standins.bitbucket import BitbucketEmulator
from standins.faults import Status
from tests.integrations.bitbucket_support import WAYS, client_by, git_blob, multipart_parts
from tests.integrations.conftest import BB_TOKEN, SEED_FILES, api_rows


def bitbucket_error(message: str) -> dict[str, object]:
    return {"type": "error", "error": {"message": message}}

AUTHOR = "SDB Agent <sdb-agent@example.com>"
CP949_CRLF = "// \ud2f0\ud0c0\ub284 \ud569\uae08\r\n{ \"Ti-6Al-4V\", 4.43 },\r\n".encode("cp949")
FILES = {
    "src/MaterialDB.cpp": CP949_CRLF,
    "src/lone_cr.txt": b"old mac\rline\r\n\r\n",
    "assets/table.bin": bytes(range(256)),
    "docs/specs/MAT-1.md": "# MAT-1\n\n\ud55c\uae00 spec\n".encode(),
}


@pytest.fixture(params=WAYS)
def client(request: pytest.FixtureRequest, bitbucket: BitbucketEmulator,
           recorder: HistoryRecorder) -> BitbucketClient:
    return client_by(request.param, bitbucket, recorder)


def requests_to(bitbucket: BitbucketEmulator, method: str, fragment: str) -> list[Any]:
    return [r for r in bitbucket.requests if r.method == method and r.path.endswith(fragment)]


class TestBitbucketBranches:
    def test_the_default_branch_is_the_main_branch_at_its_tip(
        self, bitbucket: BitbucketEmulator, client: BitbucketClient
    ) -> None:
        assert client.default_branch() == BranchRef("main", bitbucket.branch_tip("main") or "")

    def test_a_missing_branch_is_none_and_an_existing_one_has_its_tip(
        self, bitbucket: BitbucketEmulator, client: BitbucketClient, recorder: HistoryRecorder
    ) -> None:
        assert client.get_branch("sdb/MAT-1") is None
        assert client.get_branch("main") == BranchRef("main", bitbucket.branch_tip("main") or "")
        missing, found = api_rows(recorder)
        assert (missing.status_code, found.status_code) == (404, 200)
        assert "Branch not found" in missing.error_message and found.error_message is None

    def test_creating_a_branch_starts_it_at_the_given_commit(
        self, bitbucket: BitbucketEmulator, client: BitbucketClient
    ) -> None:
        tip = bitbucket.branch_tip("main") or ""
        assert client.create_branch("sdb/MAT-1", from_commit=tip) == BranchRef("sdb/MAT-1", tip)
        assert bitbucket.branch_tip("sdb/MAT-1") == tip

    def test_creating_an_existing_branch_returns_it_where_it_is_without_a_post(
        self, bitbucket: BitbucketEmulator, client: BitbucketClient, recorder: HistoryRecorder
    ) -> None:
        first_tip = bitbucket.branch_tip("main") or ""
        client.create_branch("sdb/MAT-1", from_commit=first_tip)
        newer = client.commit_files(branch="main", parent=first_tip, files={"a.txt": b"a"},
                                    message="Elsewhere", author=AUTHOR)
        posts = len(requests_to(bitbucket, "POST", "/refs/branches"))

        again = client.create_branch("sdb/MAT-1", from_commit=newer)

        assert again == BranchRef("sdb/MAT-1", first_tip)
        assert bitbucket.branch_tip("sdb/MAT-1") == first_tip
        assert len(requests_to(bitbucket, "POST", "/refs/branches")) == posts
        *_, looked_up = api_rows(recorder)
        assert (looked_up.api_method, looked_up.status_code) == ("GET", 200)

    # Undocumented answers to a create (the OpenAPI definition lists 201/403/404): their
    # wording says nothing the client relies on.
    ODD_ANSWERS = [Status(400, body=bitbucket_error("Something unexpected")),
                   Status(409, body=bitbucket_error("Conflict")), Status(422)]

    @pytest.mark.parametrize("answer", ODD_ANSWERS, ids=["400", "409", "422"])
    def test_a_failed_create_of_a_branch_made_meanwhile_at_the_same_commit_is_fine(
        self, answer: Status, bitbucket: BitbucketEmulator, client: BitbucketClient
    ) -> None:
        tip = bitbucket.branch_tip("main") or ""
        bitbucket.git.create_branch("sdb/MAT-1", tip)  # by a concurrent rerun
        bitbucket.faults.add("GET /refs/branches/sdb", Status(404))  # before it existed
        bitbucket.faults.add("POST /refs/branches", answer)

        assert client.create_branch("sdb/MAT-1", from_commit=tip) == BranchRef("sdb/MAT-1", tip)

    def test_a_failed_create_of_a_branch_made_meanwhile_elsewhere_is_a_conflict(
        self, bitbucket: BitbucketEmulator, client: BitbucketClient
    ) -> None:
        tip = bitbucket.branch_tip("main") or ""
        other = bitbucket.git.commit("main", {"b.txt": b"b"}, "Other", AUTHOR, tip, tip)
        bitbucket.git.create_branch("sdb/MAT-1", other)
        bitbucket.faults.add("GET /refs/branches/sdb", Status(404))

        with pytest.raises(Conflict, match=f"created at {other[:12]} by someone else"):
            client.create_branch("sdb/MAT-1", from_commit=tip)

    def test_a_failed_create_of_no_branch_says_what_bitbucket_said(
        self, bitbucket: BitbucketEmulator, client: BitbucketClient
    ) -> None:
        bitbucket.faults.add("POST /refs/branches", Status(403, body={"type": "error", "error": {
            "message": "Forbidden", "detail": "The token lacks repository:write"}}))
        with pytest.raises(PermanentError, match="403: Forbidden: The token lacks repository"):
            client.create_branch("sdb/MAT-1", from_commit=bitbucket.branch_tip("main") or "")
        assert bitbucket.branch_tip("sdb/MAT-1") is None

    @pytest.mark.parametrize("name", ["sdb/MAT-1#2", "sdb/50%", "sdb/MAT-%41"])
    def test_a_branch_whose_name_has_url_characters_is_found_again(
        self, name: str, bitbucket: BitbucketEmulator, client: BitbucketClient
    ) -> None:
        tip = bitbucket.branch_tip("main") or ""
        assert client.create_branch(name, from_commit=tip) == BranchRef(name, tip)
        assert client.get_branch(name) == BranchRef(name, tip)
        assert client.create_branch(name, from_commit=tip) == BranchRef(name, tip)


class TestBitbucketFiles:
    @pytest.mark.parametrize("ref", ["main", "commit"])
    def test_a_file_is_read_as_its_exact_bytes(
        self, ref: str, bitbucket: BitbucketEmulator, client: BitbucketClient
    ) -> None:
        at = bitbucket.branch_tip("main") or "" if ref == "commit" else "main"
        assert client.read_file(at, "src/MaterialDB.cpp") == SEED_FILES["src/MaterialDB.cpp"]

    def test_a_missing_file_is_none(
        self, client: BitbucketClient, recorder: HistoryRecorder
    ) -> None:
        assert client.read_file("main", "src/Missing.cpp") is None
        file, commit = api_rows(recorder)
        prefix = "/repositories/{workspace}/{repo_slug}"
        assert (file.status_code, file.endpoint) == (404, prefix + SRC_META)
        assert (commit.status_code, commit.endpoint) == (200, prefix + "/src/{commit}/?format=meta")

    def test_a_missing_commit_is_not_found_rather_than_a_missing_file(
        self, client: BitbucketClient
    ) -> None:
        with pytest.raises(NotFound, match="no commit or branch '0000000000"):
            client.read_file("0" * 40, "README.md")

    @pytest.mark.parametrize("path", ["docs/50% off #1.txt", "docs/why?.txt", "docs/100%25.txt",
                                      "docs/a b.txt", "src/\uc790\ub8cc.h"])
    def test_a_file_whose_name_has_url_characters_is_committed_and_read_back(
        self, path: str, bitbucket: BitbucketEmulator, client: BitbucketClient
    ) -> None:
        oid = client.commit_files(branch="main", parent=bitbucket.branch_tip("main") or "",
                                  files={path: CP949_CRLF}, message="m", author=AUTHOR)
        assert git_blob(bitbucket, oid, path) == CP949_CRLF
        assert client.read_file("main", path) == CP949_CRLF
        assert client.read_file(oid, path) == CP949_CRLF

    def test_one_multipart_post_carries_every_file_as_a_raw_file_part(
        self, bitbucket: BitbucketEmulator, client: BitbucketClient
    ) -> None:
        parent = bitbucket.branch_tip("main") or ""
        client.create_branch("sdb/MAT-1", from_commit=parent)

        oid = client.commit_files(branch="sdb/MAT-1", parent=parent, files=FILES,
                                  message="MAT-1: add Ti-6Al-4V", author=AUTHOR)

        [post] = requests_to(bitbucket, "POST", "/src")
        assert post.headers["content-type"].startswith("multipart/form-data")
        parts = multipart_parts(post.headers["content-type"], post.body)
        uploaded = {name: (filename, data) for name, filename, data in parts if filename}
        assert uploaded == {path: (path.rsplit("/", 1)[-1], data) for path, data in FILES.items()}
        fields = {name: data.decode() for name, filename, data in parts if filename is None}
        assert fields == {"message": "MAT-1: add Ti-6Al-4V", "branch": "sdb/MAT-1",
                          "parents": parent, "author": AUTHOR}
        assert oid == bitbucket.branch_tip("sdb/MAT-1")

    def test_the_commit_stores_every_byte_untouched_on_top_of_the_parent(
        self, bitbucket: BitbucketEmulator, client: BitbucketClient
    ) -> None:
        parent = bitbucket.branch_tip("main") or ""
        oid = client.commit_files(branch="main", parent=parent, files=FILES, message="MAT-1",
                                  author=AUTHOR)
        for path, data in FILES.items():
            assert git_blob(bitbucket, oid, path) == data, path
        assert git_blob(bitbucket, oid, "README.md") == SEED_FILES["README.md"]
        [commit] = bitbucket.commits_on("main", since=parent)
        assert (commit.hash, commit.parents, commit.author) == (oid, [parent], AUTHOR)
        assert client.read_file(oid, "src/MaterialDB.cpp") == CP949_CRLF

    def test_a_moved_tip_is_reread_and_the_commit_lands_on_the_new_tip(
        self, bitbucket: BitbucketEmulator, client: BitbucketClient, recorder: HistoryRecorder
    ) -> None:
        old = bitbucket.branch_tip("main") or ""
        moved = bitbucket.git.commit("main", {"other.txt": b"someone else\n"}, "Concurrent",
                                     "Human <h@example.com>", old, old)

        oid = client.commit_files(branch="main", parent=old, files={"src/MaterialDB.cpp":
                                  CP949_CRLF}, message="MAT-1", author=AUTHOR)

        assert bitbucket.commits_on("main", since=moved)[0].parents == [moved]
        assert git_blob(bitbucket, oid, "other.txt") == b"someone else\n"
        assert git_blob(bitbucket, oid, "src/MaterialDB.cpp") == CP949_CRLF
        posts = requests_to(bitbucket, "POST", "/src")
        assert [multipart_parts(p.headers["content-type"], p.body)[2][2] for p in posts] == [
            old.encode(), moved.encode()]  # the "parents" field of each attempt
        assert [(r.api_method, r.status_code) for r in api_rows(recorder)
                if "format=meta" not in r.endpoint] == [("POST", 409), ("GET", 200), ("POST", 201)]

    def test_a_409_on_an_unmoved_branch_is_a_conflict_not_a_loop(
        self, bitbucket: BitbucketEmulator, client: BitbucketClient
    ) -> None:
        bitbucket.faults.add("POST /src", Status(409))
        with pytest.raises(Conflict):
            client.commit_files(branch="main", parent=bitbucket.branch_tip("main") or "",
                                files={"a.txt": b"a"}, message="m", author=AUTHOR)
        assert len(requests_to(bitbucket, "POST", "/src")) == 1

    @pytest.mark.parametrize("path", ["../escape.txt", "/etc/passwd", "src/../../x", ".git/config",
                                      "a\\b.txt", "", "nul\x00.txt"])
    def test_a_path_that_could_leave_the_repository_is_refused_before_any_request(
        self, path: str, bitbucket: BitbucketEmulator, client: BitbucketClient
    ) -> None:
        with pytest.raises(PathRefused):
            client.read_file("main", path)
        with pytest.raises(PathRefused):
            client.commit_files(branch="main", parent=bitbucket.branch_tip("main") or "",
                                files={"ok.txt": b"ok", path: b"x"}, message="m", author=AUTHOR)
        assert bitbucket.requests == []


def ensure_pull_request(client: BitbucketClient, branch: str, title: str) -> PullRequest:
    """What the flow does: reuse the open pull request of the branch, else open one."""
    found = client.find_open_pull_request(branch, "main")
    if found is not None:
        return client.update_pull_request(found, title=title, description="Updated")
    return client.create_pull_request(branch=branch, destination="main", title=title,
                                      description="Opened")


class TestBitbucketPullRequests:
    @pytest.fixture
    def branch(self, bitbucket: BitbucketEmulator, client: BitbucketClient) -> str:
        client.create_branch("sdb/MAT-1", from_commit=bitbucket.branch_tip("main") or "")
        return "sdb/MAT-1"

    def test_opening_one_returns_its_id_url_and_branches(
        self, bitbucket: BitbucketEmulator, client: BitbucketClient, branch: str
    ) -> None:
        assert client.find_open_pull_request(branch, "main") is None
        pr = client.create_pull_request(branch=branch, destination="main", title="MAT-1",
                                        description="Adds Ti-6Al-4V")
        assert pr == PullRequest("1", "https://bitbucket.example/acme/shop/pull-requests/1",
                                 "MAT-1", "Adds Ti-6Al-4V", branch, "main")
        assert bitbucket.pull_requests[1].close_source_branch is True
        assert client.find_open_pull_request(branch, "main") == pr

    def test_updating_one_changes_its_title_and_description(
        self, bitbucket: BitbucketEmulator, client: BitbucketClient, branch: str
    ) -> None:
        pr = client.create_pull_request(branch=branch, destination="main", title="Old",
                                        description="Old")
        updated = client.update_pull_request(pr, title="New", description="More")
        assert (updated.id, updated.title, updated.description) == (pr.id, "New", "More")
        assert bitbucket.pull_requests[1].title == "New"

    def test_a_second_run_finds_the_open_one_and_reuses_it(
        self, bitbucket: BitbucketEmulator, client: BitbucketClient, branch: str
    ) -> None:
        first = ensure_pull_request(client, branch, "MAT-1 (run 1)")
        second = ensure_pull_request(client, branch, "MAT-1 (run 2)")
        assert second.id == first.id and second.title == "MAT-1 (run 2)"
        assert len(requests_to(bitbucket, "POST", "/pullrequests")) == 1
        assert len(bitbucket.pull_requests) == 1

    def test_a_declined_one_is_not_found(
        self, bitbucket: BitbucketEmulator, client: BitbucketClient, branch: str
    ) -> None:
        client.create_pull_request(branch=branch, destination="main", title="t", description="")
        bitbucket.pull_requests[1].state = "DECLINED"
        assert client.find_open_pull_request(branch, "main") is None

    def test_the_search_asks_bitbucket_for_the_branch_and_open_state(
        self, bitbucket: BitbucketEmulator, client: BitbucketClient, branch: str
    ) -> None:
        client.find_open_pull_request(branch, "main")
        [search] = requests_to(bitbucket, "GET", "/pullrequests")
        query = unquote(search.query.replace("+", " "))
        assert ('q=source.branch.name="sdb/MAT-1" AND destination.branch.name="main"' in query
                and "state=OPEN" in query)

    def test_one_into_another_destination_is_not_reused(
        self, bitbucket: BitbucketEmulator, client: BitbucketClient, branch: str
    ) -> None:
        client.create_branch("release", from_commit=bitbucket.branch_tip("main") or "")
        client.create_pull_request(branch=branch, destination="release", title="by hand",
                                   description="")
        assert client.find_open_pull_request(branch, "main") is None
        into_main = ensure_pull_request(client, branch, "MAT-1")
        assert into_main.destination_branch == "main" and len(bitbucket.pull_requests) == 2
        assert bitbucket.pull_requests[1].title == "by hand"

    def test_quotes_in_a_branch_name_stay_inside_the_query_string(
        self, bitbucket: BitbucketEmulator, client: BitbucketClient
    ) -> None:
        odd = client.create_branch('sdb/say-"hi"', from_commit=bitbucket.branch_tip("main") or "")
        pr = client.create_pull_request(branch=odd.name, destination="main", title="t",
                                        description="")
        assert client.find_open_pull_request(odd.name, "main") == pr

    def test_the_match_is_found_on_a_later_page(
        self, bitbucket: BitbucketEmulator, client: BitbucketClient, branch: str
    ) -> None:
        for n in range(10):
            other = client.create_branch(f"sdb/OTHER-{n}", from_commit=bitbucket.branch_tip(
                "main") or "")
            client.create_pull_request(branch=other.name, destination="main", title=f"O{n}",
                                       description="")
        target = client.create_pull_request(branch=branch, destination="main", title="MAT-1",
                                            description="")
        # A server that lists pull requests without applying the BBQL filter: page 1 holds
        # only other branches and links to the emulator's real page 2.
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {BB_TOKEN}"
        repo_api = f"{bitbucket.base_url}/repositories/acme/shop"
        page_one = session.get(f"{repo_api}/pullrequests", params={"pagelen": 10}).json()
        assert branch not in {v["source"]["branch"]["name"] for v in page_one["values"]}
        bitbucket.faults.add("GET /pullrequests", Status(200, body=page_one))
        requests_before = len(bitbucket.requests)

        assert client.find_open_pull_request(branch, "main") == target

        followed = bitbucket.requests[requests_before:]
        assert [r.query for r in followed][1] == "pagelen=10&page=2"
