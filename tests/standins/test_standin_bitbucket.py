"""The Bitbucket emulator answers like Bitbucket Cloud and stores commits byte for byte."""

from __future__ import annotations

import subprocess

import requests

from standins.bitbucket import BitbucketEmulator


def repo_url(bitbucket: BitbucketEmulator) -> str:
    return f"{bitbucket.base_url}/repositories/acme/shop"


def commit(
    session: requests.Session, bitbucket: BitbucketEmulator, files: dict[str, bytes], **fields: str
) -> requests.Response:
    parts = {path: (path, data) for path, data in files.items()}
    data = {"message": "Change", "author": "Bot <bot@example.com>", **fields}
    return session.post(f"{repo_url(bitbucket)}/src", data=data, files=parts)


class TestAuthentication:
    def test_a_request_without_credentials_is_refused_with_bitbucket_error_json(
        self, bitbucket: BitbucketEmulator
    ) -> None:
        response = requests.get(repo_url(bitbucket))
        assert response.status_code == 401
        assert response.json()["type"] == "error"
        assert response.json()["error"]["message"]

    def test_a_wrong_bearer_token_is_refused(self, bitbucket: BitbucketEmulator) -> None:
        response = requests.get(repo_url(bitbucket), headers={"Authorization": "Bearer nope"})
        assert response.status_code == 401

    def test_username_and_api_token_are_accepted_as_basic_auth(
        self, bitbucket: BitbucketEmulator
    ) -> None:
        response = requests.get(repo_url(bitbucket), auth=("bot@example.com", "bot-secret"))
        assert response.status_code == 200


class TestRepositoryAndBranches:
    def test_the_repository_names_its_head_branch_as_main_branch(
        self, bitbucket: BitbucketEmulator, bb_session: requests.Session
    ) -> None:
        response = bb_session.get(repo_url(bitbucket))
        assert response.json()["full_name"] == "acme/shop"
        assert response.json()["mainbranch"] == {"type": "branch", "name": "main"}

    def test_every_access_token_answer_carries_rate_limit_headers(
        self, bitbucket: BitbucketEmulator, bb_session: requests.Session
    ) -> None:
        headers = bb_session.get(repo_url(bitbucket)).headers
        assert headers["X-RateLimit-Limit"] == "1000"
        assert headers["X-RateLimit-Resource"] == "api"
        assert headers["X-RateLimit-NearLimit"] == "false"

    def test_an_api_token_answer_carries_none(self, bitbucket: BitbucketEmulator) -> None:
        headers = requests.get(repo_url(bitbucket), auth=("bot@example.com", "bot-secret")).headers
        assert not {h for h in headers if h.lower().startswith("x-ratelimit")}

    def test_near_the_limit_it_says_so(
        self, bitbucket: BitbucketEmulator, bb_session: requests.Session
    ) -> None:
        bitbucket.rate_limit = 10
        near = [bb_session.get(repo_url(bitbucket)).headers["X-RateLimit-NearLimit"]
                for _ in range(10)]
        assert near == ["false"] * 8 + ["true"] * 2

    def test_the_window_rolls_a_request_at_a_time(
        self, bitbucket: BitbucketEmulator, bb_session: requests.Session
    ) -> None:
        now = [0.0]
        bitbucket.clock, bitbucket.rate_limit = lambda: now[0], 2
        statuses = []
        for at in (0.0, 1800.0, 3599.0, 3600.0, 3601.0, 5399.0, 5400.0):
            now[0] = at
            statuses.append(bb_session.get(repo_url(bitbucket)).status_code)
        assert statuses == [200, 200, 429, 200, 429, 429, 200]

    def test_past_the_rate_limit_it_answers_429_without_retry_after(
        self, bitbucket: BitbucketEmulator, bb_session: requests.Session
    ) -> None:
        bitbucket.rate_limit = 2
        statuses = [bb_session.get(repo_url(bitbucket)) for _ in range(3)]
        assert [r.status_code for r in statuses] == [200, 200, 429]
        assert "Retry-After" not in statuses[2].headers

    def test_a_branch_with_a_slash_is_created_and_read_back(
        self, bitbucket: BitbucketEmulator, bb_session: requests.Session
    ) -> None:
        tip = bitbucket.branch_tip("main")
        body = {"name": "feature/x", "target": {"hash": tip}}
        created = bb_session.post(f"{repo_url(bitbucket)}/refs/branches", json=body)
        assert created.status_code == 201
        fetched = bb_session.get(f"{repo_url(bitbucket)}/refs/branches/feature/x")
        assert fetched.json()["target"]["hash"] == tip
        assert fetched.json()["links"]["html"]["href"].endswith("/branch/feature/x")

    def test_creating_an_existing_branch_is_refused_in_the_documented_error_shape(
        self, bitbucket: BitbucketEmulator, bb_session: requests.Session
    ) -> None:
        body = {"name": "main", "target": {"hash": bitbucket.branch_tip("main")}}
        response = bb_session.post(f"{repo_url(bitbucket)}/refs/branches", json=body)
        assert response.status_code == 400  # undocumented: the client must not rely on it
        assert response.json()["type"] == "error"
        assert set(response.json()["error"]) <= {"message", "detail", "data"}

    def test_unknown_targets_and_invalid_names_are_400(
        self, bitbucket: BitbucketEmulator, bb_session: requests.Session
    ) -> None:
        url = f"{repo_url(bitbucket)}/refs/branches"
        unknown = bb_session.post(url, json={"name": "x", "target": {"hash": "ab" * 20}})
        invalid = bb_session.post(
            url, json={"name": "bad..name", "target": {"hash": bitbucket.branch_tip("main")}}
        )
        assert (unknown.status_code, invalid.status_code) == (400, 400)

    def test_an_unknown_branch_is_404(
        self, bitbucket: BitbucketEmulator, bb_session: requests.Session
    ) -> None:
        assert bb_session.get(f"{repo_url(bitbucket)}/refs/branches/nope").status_code == 404


class TestSourceFiles:
    def test_raw_file_bytes_come_back_unchanged(
        self, bitbucket: BitbucketEmulator, bb_session: requests.Session
    ) -> None:
        response = bb_session.get(f"{repo_url(bitbucket)}/src/main/src/app.py")
        assert response.content == b"print('hello')\r\n"

    def test_unknown_paths_and_refs_are_404(
        self, bitbucket: BitbucketEmulator, bb_session: requests.Session
    ) -> None:
        missing_path = bb_session.get(f"{repo_url(bitbucket)}/src/main/nope.txt")
        missing_ref = bb_session.get(f"{repo_url(bitbucket)}/src/nope/README.md")
        assert (missing_path.status_code, missing_ref.status_code) == (404, 404)

    def test_a_multipart_commit_stores_exact_bytes(
        self, bitbucket: BitbucketEmulator, bb_session: requests.Session
    ) -> None:
        files = {
            "src/korean.txt": b"\xb6\xcb \xc7\xd1\xb1\xdb\r\n",
            "src/app.py": b"line one\r\nline two\r\n\r\n",
            "assets/blob.bin": bytes(range(1, 256)) + b"\r",
        }
        parent = bitbucket.branch_tip("main") or ""
        response = commit(bb_session, bitbucket, files, branch="main", parents=parent)
        assert response.status_code == 201
        oid = response.headers["Location"].rsplit("/", 1)[1]
        assert bitbucket.branch_tip("main") == oid
        for path, data in files.items():
            shown = subprocess.run(
                ["git", "-C", str(bitbucket.git.path), "cat-file", "blob", f"{oid}:{path}"],
                capture_output=True,
                check=True,
            )
            assert shown.stdout == data
        assert bitbucket.file_at("main", "README.md") == b"# Demo\n"
        [new] = bitbucket.commits_on("main", since=parent)
        assert (new.author, new.message) == ("Bot <bot@example.com>", "Change")

    def test_the_location_of_a_new_commit_describes_it(
        self, bitbucket: BitbucketEmulator, bb_session: requests.Session
    ) -> None:
        location = commit(bb_session, bitbucket, {"a.txt": b"a"}).headers["Location"]
        described = bb_session.get(location).json()
        assert described["hash"] == bitbucket.branch_tip("main")
        assert described["author"]["raw"] == "Bot <bot@example.com>"

    def test_a_commit_to_a_new_branch_starts_it_from_the_given_parent(
        self, bitbucket: BitbucketEmulator, bb_session: requests.Session
    ) -> None:
        parent = bitbucket.branch_tip("main") or ""
        response = commit(
            bb_session, bitbucket, {"a.txt": b"a"}, branch="feature/y", parents=parent
        )
        assert response.status_code == 201
        assert bitbucket.commits_on("feature/y", since=parent)[0].parents == [parent]

    def test_a_stale_parent_is_a_409_saying_the_branch_moved(
        self, bitbucket: BitbucketEmulator, bb_session: requests.Session
    ) -> None:
        stale = bitbucket.branch_tip("main") or ""
        commit(bb_session, bitbucket, {"a.txt": b"1"}, branch="main", parents=stale)
        response = commit(bb_session, bitbucket, {"a.txt": b"2"}, branch="main", parents=stale)
        assert response.status_code == 409
        assert "moved" in response.json()["error"]["message"]

    def test_paths_escaping_the_repository_are_400(
        self, bitbucket: BitbucketEmulator, bb_session: requests.Session
    ) -> None:
        for path in ("../evil.txt", "a/./b", "a//b"):
            response = commit(bb_session, bitbucket, {path: b"x"}, branch="main")
            assert response.status_code == 400, path

    def test_a_leading_slash_is_the_repository_root(
        self, bitbucket: BitbucketEmulator, bb_session: requests.Session
    ) -> None:
        response = commit(bb_session, bitbucket, {"/etc/passwd": b"x"}, branch="main")
        assert response.status_code == 201
        assert bitbucket.file_at("main", "etc/passwd") == b"x"
