"""The Bitbucket client's retry layer, failures, auth and history rows, over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine

from base.errors import ConfigError, InvalidResponse, NotFound, PermanentError, TransientError
from base.settings import Settings
from db.recorder import HistoryRecorder
from integrations.bitbucket import BitbucketClient
from integrations.bitbucket_http import MAX_JSON_BYTES, BearerAuth
from integrations.http_retry import RateLimited
from standins.bitbucket import BitbucketEmulator
from standins.faults import Delay, Malformed, Oversized, Reset, Status
from tasks.wiring import build_git_host
from tests.integrations.bitbucket_support import FakeTime, client_for
from tests.integrations.conftest import BB_API_TOKEN, BB_TOKEN, BB_USER, SEED_FILES, api_rows

BRANCH_ENDPOINT = "/repositories/{workspace}/{repo_slug}/refs/branches/{name}"
RATE_LIMIT = {"X-RateLimit-Limit": "1000", "X-RateLimit-Resource": "api",
              "X-RateLimit-NearLimit": "false"}
SCOPES = "Your credentials lack one or more required privilege scopes."


def bitbucket_error(message: str) -> dict[str, object]:
    return {"type": "error", "error": {"message": message}}


class TestBitbucketRetries:
    # (fault, the status recorded for the failed attempt, words in its error)
    TRANSIENT = [
        (Status(500), 500, "Something went wrong"),
        (Status(502), 502, "Bad gateway"),
        (Status(503), 503, "Service unavailable"),
        (Status(504), 504, "HTTP 504"),
        (Reset(), None, "ConnectionError on GET /refs/branches/{name}"),
        (Delay(0.8), None, "ReadTimeout on GET /refs/branches/{name}"),
    ]

    @pytest.mark.parametrize(("fault", "status", "words"), TRANSIENT,
                             ids=["500", "502", "503", "504", "reset", "read-timeout"])
    def test_a_transient_failure_is_retried_and_the_second_attempt_succeeds(
        self, fault: Any, status: int | None, words: str, bitbucket: BitbucketEmulator,
        recorder: HistoryRecorder
    ) -> None:
        sleeps: list[float] = []
        client = client_for(bitbucket, recorder, sleeps=sleeps, timeout=(2.0, 0.3))
        bitbucket.faults.add("GET /refs/branches", fault)

        assert client.get_branch("main") is not None

        assert len(bitbucket.requests) == 2
        failed, succeeded = api_rows(recorder)
        assert (failed.attempt, failed.status_code, succeeded.attempt, succeeded.status_code) == (
            1, status, 2, 200)
        assert words in failed.error_message and succeeded.error_message is None
        assert failed.endpoint == succeeded.endpoint == BRANCH_ENDPOINT
        assert len(sleeps) == 1 and 0.005 <= sleeps[0] <= 0.01

    def test_a_429_with_retry_after_waits_that_long(
        self, bitbucket: BitbucketEmulator, recorder: HistoryRecorder
    ) -> None:
        sleeps: list[float] = []
        bitbucket.faults.add("*", Status(429, retry_after=7))
        client_for(bitbucket, recorder, sleeps=sleeps).default_branch()
        assert sleeps == [7.0]
        limited, *_ = api_rows(recorder)
        assert (limited.status_code, limited.attempt) == (429, 1)
        assert limited.rate_limit == {**RATE_LIMIT, "Retry-After": "7"}
        assert "Rate limit" in limited.error_message

    def test_a_429_without_a_short_retry_after_is_rate_limited_at_once(
        self, bitbucket: BitbucketEmulator, recorder: HistoryRecorder
    ) -> None:
        sleeps: list[float] = []
        bitbucket.faults.add("*", Status(429))
        with pytest.raises(RateLimited, match="rate limit of 1000 requests per rolling hour"):
            client_for(bitbucket, recorder, sleeps=sleeps).get_branch("main")
        assert sleeps == [] and len(bitbucket.requests) == 1
        [row] = api_rows(recorder)
        assert (row.status_code, row.rate_limit) == (429, RATE_LIMIT)

    def test_a_retry_after_beyond_the_cap_is_left_to_a_later_retry(
        self, bitbucket: BitbucketEmulator, recorder: HistoryRecorder
    ) -> None:
        sleeps: list[float] = []
        bitbucket.faults.add("*", Status(429, retry_after=86_400))
        with pytest.raises(RateLimited):
            client_for(bitbucket, recorder, sleeps=sleeps).default_branch()
        assert sleeps == []

    def test_a_rate_limited_failure_is_transient(self) -> None:
        assert issubclass(RateLimited, TransientError)

    @pytest.mark.parametrize(("fault", "status"), [(Status(503), 503), (Reset(), None)],
                             ids=["503", "reset"])
    def test_exhausted_retries_are_a_transient_error(
        self, fault: Any, status: int | None, bitbucket: BitbucketEmulator,
        recorder: HistoryRecorder
    ) -> None:
        sleeps: list[float] = []
        bitbucket.faults.add("*", fault, times=3)
        with pytest.raises(TransientError, match="after 3 attempts") as raised:
            client_for(bitbucket, recorder, sleeps=sleeps).get_branch("main")
        assert not isinstance(raised.value, RateLimited)
        assert len(bitbucket.requests) == 3 and len(sleeps) == 2
        assert [(r.attempt, r.status_code) for r in api_rows(recorder)] == [
            (1, status), (2, status), (3, status)]

    @pytest.mark.parametrize(("code", "error"), [(400, PermanentError), (403, PermanentError),
                                                 (404, NotFound), (422, PermanentError)])
    def test_another_4xx_fails_fast_with_bitbucket_s_message(
        self, code: int, error: type[Exception], bitbucket: BitbucketEmulator,
        recorder: HistoryRecorder
    ) -> None:
        bitbucket.faults.add("*", Status(code, body=bitbucket_error(SCOPES)))
        with pytest.raises(error, match=f"answered {code}: {SCOPES}") as raised:
            client_for(bitbucket, recorder).default_branch()
        assert not isinstance(raised.value, TransientError)
        assert len(bitbucket.requests) == 1
        [row] = api_rows(recorder)
        assert (row.status_code, row.error_message, row.attempt) == (code, SCOPES, 1)
        assert row.endpoint == "/repositories/{workspace}/{repo_slug}"


class TestBitbucketBadBodies:
    def test_a_body_that_is_not_json_is_an_invalid_response_and_not_retried(
        self, bitbucket: BitbucketEmulator, recorder: HistoryRecorder
    ) -> None:
        bitbucket.faults.add("*", Malformed())
        with pytest.raises(InvalidResponse, match="non-JSON"):
            client_for(bitbucket, recorder).default_branch()
        assert len(bitbucket.requests) == 1
        assert [r.status_code for r in api_rows(recorder)] == [200]

    def test_a_json_body_over_the_cap_is_refused(
        self, bitbucket: BitbucketEmulator, recorder: HistoryRecorder
    ) -> None:
        bitbucket.faults.add("*", Oversized(MAX_JSON_BYTES + 100_000))
        with pytest.raises(InvalidResponse, match="over"):
            client_for(bitbucket, recorder).default_branch()
        [row] = api_rows(recorder)
        assert row.status_code == 200 and "over" in row.error_message

    def test_a_file_over_the_size_limit_is_refused(
        self, bitbucket: BitbucketEmulator, recorder: HistoryRecorder
    ) -> None:
        client = client_for(bitbucket, recorder, max_file_bytes=4096)
        assert client.read_file("main", "README.md") == SEED_FILES["README.md"]
        main = bitbucket.branch_tip("main")
        bitbucket.git.commit("main", {"big.txt": b"x" * 5000}, "Big", "A <a@example.com>",
                             main, main)
        with pytest.raises(InvalidResponse, match="over 4096 bytes"):
            client.read_file("main", "big.txt")

    def test_an_answer_without_the_expected_fields_is_an_invalid_response(
        self, bitbucket: BitbucketEmulator, recorder: HistoryRecorder
    ) -> None:
        bitbucket.faults.add("*", Status(200, body={"type": "repository"}))
        with pytest.raises(InvalidResponse, match="mainbranch.name"):
            client_for(bitbucket, recorder).default_branch()


class TestBitbucketAuthentication:
    @pytest.mark.parametrize("auth", [BearerAuth(BB_TOKEN), (BB_USER, BB_API_TOKEN)],
                             ids=["bearer-access-token", "basic-api-token"])
    def test_both_auth_styles_are_accepted(
        self, auth: Any, bitbucket: BitbucketEmulator, recorder: HistoryRecorder
    ) -> None:
        client = client_for(bitbucket, recorder, auth=auth)
        assert client.default_branch().name == "main"
        scheme = "Bearer" if isinstance(auth, BearerAuth) else "Basic"
        assert all(r.headers["authorization"].startswith(scheme) for r in bitbucket.requests)

    @pytest.mark.parametrize("auth", [BearerAuth("wrong"), (BB_USER, "wrong"),
                                      ("someone", BB_API_TOKEN)],
                             ids=["bearer", "basic-token", "basic-user"])
    def test_wrong_credentials_are_a_permanent_error_after_one_request(
        self, auth: Any, bitbucket: BitbucketEmulator, recorder: HistoryRecorder
    ) -> None:
        with pytest.raises(PermanentError, match="answered 401: Access token or credentials"):
            client_for(bitbucket, recorder, auth=auth).default_branch()
        assert len(bitbucket.requests) == 1
        [row] = api_rows(recorder)
        assert row.status_code == 401

    @pytest.mark.parametrize("credentials", [
        {"bitbucket_access_token": BB_TOKEN},
        {"bitbucket_email": BB_USER, "bitbucket_api_token": BB_API_TOKEN},
        {"bitbucket_username": BB_USER, "bitbucket_api_token": BB_API_TOKEN}],
        ids=["access-token", "email-and-api-token", "older-name-of-the-email"])
    def test_the_factory_builds_a_working_client_from_settings(
        self, credentials: dict[str, Any], bitbucket: BitbucketEmulator,
        recorder: HistoryRecorder
    ) -> None:
        settings = Settings(_env_file=None, git_provider="bitbucket",  # type: ignore[call-arg]
                            bitbucket_api_url=bitbucket.base_url, bitbucket_workspace="acme",
                            bitbucket_repository="shop", **credentials)
        host = build_git_host(settings, recorder)
        assert isinstance(host, BitbucketClient)
        assert host.read_file("main", "README.md") == SEED_FILES["README.md"]


    def test_a_bitbucket_username_with_an_api_token_is_refused_before_any_request(
        self, bitbucket: BitbucketEmulator, recorder: HistoryRecorder
    ) -> None:
        settings = Settings(_env_file=None, git_provider="bitbucket",  # type: ignore[call-arg]
                            bitbucket_api_url=bitbucket.base_url, bitbucket_workspace="acme",
                            bitbucket_repository="shop", bitbucket_username="bot",
                            bitbucket_api_token=SecretStr(BB_API_TOKEN))
        with pytest.raises(ConfigError, match="BITBUCKET_EMAIL is 'bot'.*account email"):
            build_git_host(settings, recorder)
        assert bitbucket.requests == []

    def test_the_emulator_refuses_an_api_token_with_a_username_as_bitbucket_does(
        self, bitbucket: BitbucketEmulator, recorder: HistoryRecorder
    ) -> None:
        with pytest.raises(PermanentError, match="answered 401"):
            client_for(bitbucket, recorder, auth=("bot", BB_API_TOKEN)).default_branch()


class TestBitbucketPacing:
    def test_near_the_limit_requests_are_spaced_at_the_hourly_pace(
        self, bitbucket: BitbucketEmulator, recorder: HistoryRecorder
    ) -> None:
        bitbucket.rate_limit = 20  # NearLimit from the 17th answer on (under a fifth left)
        time = FakeTime()
        client = client_for(bitbucket, recorder, time=time)
        for _ in range(16):
            client.get_branch("main")
        assert time.sleeps == []

        for _ in range(4):
            client.get_branch("main")

        assert time.sleeps == [pytest.approx(3600 / 20)] * 3
        assert [r.rate_limit["X-RateLimit-NearLimit"] for r in api_rows(recorder)][15:] == [
            "false", "true", "true", "true", "true"]

    def test_without_rate_limit_headers_nothing_is_paced(
        self, bitbucket: BitbucketEmulator, recorder: HistoryRecorder
    ) -> None:
        bitbucket.rate_limit = 5
        time = FakeTime()
        client = client_for(bitbucket, recorder, time=time, auth=(BB_USER, BB_API_TOKEN))
        for _ in range(5):
            client.get_branch("main")
        assert time.sleeps == []


class TestBitbucketHistoryRows:
    def test_a_whole_run_records_templates_real_statuses_and_rate_limits(
        self, bitbucket: BitbucketEmulator, recorder: HistoryRecorder
    ) -> None:
        client = client_for(bitbucket, recorder)
        main = client.default_branch()
        client.create_branch("sdb/MAT-7", from_commit=main.commit)
        client.read_file("sdb/MAT-7", "src/Missing.cpp")
        client.commit_files(branch="sdb/MAT-7", parent=main.commit, files={"a.txt": b"a"},
                            message="m", author="A <a@example.com>")
        assert client.find_open_pull_request("sdb/MAT-7", "main") is None
        pr = client.create_pull_request(branch="sdb/MAT-7", destination="main", title="t",
                                        description="d")
        client.update_pull_request(pr, title="t2", description="d2")

        prefix = "/repositories/{workspace}/{repo_slug}"
        assert [(r.api_method, r.endpoint, r.status_code) for r in api_rows(recorder)] == [
            ("GET", prefix, 200),
            ("GET", prefix + "/refs/branches/{name}", 200),
            ("GET", prefix + "/refs/branches/{name}", 404),
            ("POST", prefix + "/refs/branches", 201),
            ("GET", prefix + "/src/{commit}/{path}?format=meta", 404),
            ("GET", prefix + "/src/{commit}/?format=meta", 200),
            ("GET", prefix + "/src/{commit}/{path}?format=meta", 404),
            ("GET", prefix + "/src/{commit}/?format=meta", 200),
            ("POST", prefix + "/src", 201),
            ("GET", prefix + "/pullrequests", 200),
            ("POST", prefix + "/pullrequests", 201),
            ("PUT", prefix + "/pullrequests/{id}", 200),
        ]
        for row in api_rows(recorder):
            assert row.attempt == 1 and row.duration_seconds is not None
            assert row.rate_limit == RATE_LIMIT
            text = f"{row.endpoint} {row.error_message}"
            for leaked in ("acme", "shop", "MAT-7", "Missing.cpp", "q=", "OPEN", BB_TOKEN):
                assert leaked not in row.endpoint, (leaked, text)
        assert recorder.failures == []


class TestBitbucketRecordingNeverBreaksTheCall:
    def test_a_history_write_that_fails_leaves_the_commit_intact(
        self, bitbucket: BitbucketEmulator, db: Engine
    ) -> None:
        recorder = HistoryRecorder(db, history_id=999_999)
        client = client_for(bitbucket, recorder)
        main = client.default_branch()
        oid = client.commit_files(branch="main", parent=main.commit, files={"a.txt": b"a"},
                                  message="m", author="A <a@example.com>")
        assert bitbucket.branch_tip("main") == oid
        assert len(recorder.failures) == len(bitbucket.requests) == 5
        assert all("ForeignKeyViolation" in failure for failure in recorder.failures)
