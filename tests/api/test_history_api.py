"""/history, /history/{id} and /files/{path}/history on a known history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.api.dataset import add_run, at, seed_known

pytestmark = pytest.mark.usefixtures("pinned_clock")


class TestTheRunList:
    def test_newest_first_with_children_counted_apart_so_nothing_multiplies(
        self, client: TestClient, engine: Engine
    ) -> None:
        known = seed_known(engine)
        body = client.get("/history").json()
        assert body["has_more"] is False and body["next_cursor"] is None
        keys = [i["issue_key"] for i in body["items"]]
        assert keys[-3:] == ["MAT-3", "MAT-2", "MAT-1"] and len(keys) == 11
        first = next(i for i in body["items"] if i["id"] == known.runs["r1"])
        assert (first["file_records"], first["llm_calls"]) == (2, 2)
        assert first["llm_cost_usd"] == 0.03 and first["llm_unpriced_calls"] == 0
        assert first["modified_files_count"] == 2 and first["duration_seconds"] == 10.0
        assert first["branch"] == "sdb/MAT-1" and first["summary"] == "summary of MAT-1"
        unpriced = next(i for i in body["items"] if i["id"] == known.runs["r7"])
        assert unpriced["llm_cost_usd"] == 0.03 and unpriced["llm_unpriced_calls"] == 1

    def test_filters_by_status_issue_key_and_a_utc_date_range(
        self, client: TestClient, engine: Engine
    ) -> None:
        seed_known(engine)
        failed = client.get("/history", params={"status": "failed"}).json()["items"]
        assert {i["issue_key"] for i in failed} == {"MAT-3", "MAT-6"}
        one = client.get("/history", params={"issue_key": "MAT-4"}).json()["items"]
        assert [i["issue_key"] for i in one] == ["MAT-4"]
        since = (at(3, 0)).date().isoformat()
        until = (at(2, 0)).date().isoformat()
        ranged = client.get("/history", params={"since": since, "until": until}).json()
        assert {i["issue_key"] for i in ranged["items"]} == {"MAT-4", "MAT-5", "MAT-6"}
        aware = client.get("/history", params={"since": at(3, 10).isoformat(),
                                               "until": at(3, 11).isoformat()}).json()
        assert len(aware["items"]) == 3

    def test_the_cursor_walks_every_run_once_even_with_equal_timestamps(
        self, client: TestClient, engine: Engine
    ) -> None:
        ids = {add_run(engine, key=f"MAT-{n}", days_ago=1, status="completed", duration=1)
               for n in range(7)}
        seen, cursor = [], None
        while True:
            params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
            page = client.get("/history", params=params).json()
            seen += [i["id"] for i in page["items"]]
            cursor = page["next_cursor"]
            if not page["has_more"]:
                break
        assert seen == sorted(ids, reverse=True)

    def test_out_of_range_or_malformed_parameters_are_422(self, client: TestClient) -> None:
        for params in ({"limit": 0}, {"limit": 1000}, {"status": "bogus"},
                       {"since": "yesterday"}, {"until": "2026-13-40"},
                       {"cursor": "not-a-cursor"}, {"issue_key": "K" * 51},
                       {"since": "2026-01-02", "until": "2026-01-01"}):
            response = client.get("/history", params=params)
            assert response.status_code == 422, params
            assert "detail" in response.json()


class TestOneRun:
    def test_the_run_with_files_calls_and_git_host_calls_without_contents_by_default(
        self, client: TestClient, engine: Engine
    ) -> None:
        known = seed_known(engine)
        body = client.get(f"/history/{known.runs['r1']}").json()
        assert body["issue_key"] == "MAT-1" and body["content_included"] is False
        assert [f["file_path"] for f in body["files"]] == ["src/MaterialDB.cpp", "src/b.py"]
        assert body["files"][0]["original_content"] is None
        assert body["files"][0]["diff_text"].startswith("--- a")
        assert [c["cost_usd"] for c in body["llm_calls"]] == [0.01, 0.02]
        assert body["llm"] == {"calls": 2, "cache_hits": 0, "total_tokens": 2000,
                               "cost_usd": 0.03, "unpriced_calls": 0}
        assert [b["status_code"] for b in body["bitbucket_calls"]] == [201, 200]

    def test_contents_come_with_include_content(
        self, client: TestClient, engine: Engine
    ) -> None:
        known = seed_known(engine)
        body = client.get(f"/history/{known.runs['r1']}",
                          params={"include_content": "true"}).json()
        assert body["content_included"] is True
        assert body["files"][0]["original_content"] == "원본"
        assert body["files"][0]["modified_content"] == "수정본"

    def test_unknown_ids_are_404_json_and_impossible_ones_422(self, client: TestClient) -> None:
        missing = client.get("/history/424242")
        assert missing.status_code == 404
        assert missing.json() == {"detail": "no run with id 424242"}
        for bad in ("0", "-1", "abc", str(2**31), "99999999999999999999"):
            assert client.get(f"/history/{bad}").status_code == 422, bad


class TestOneFilesHistory:
    def test_modifications_of_one_path_newest_first_with_their_run(
        self, client: TestClient, engine: Engine
    ) -> None:
        seed_known(engine)
        body = client.get("/files/src/MaterialDB.cpp/history").json()
        assert body["file_path"] == "src/MaterialDB.cpp"
        assert [i["issue_key"] for i in body["items"]] == ["MAT-9", "MAT-2", "MAT-1"]
        item = body["items"][0]
        assert item["run_status"] == "completed" and item["outcome"] == "applied"
        assert (item["original_encoding"], item["modified_encoding"]) == ("cp949", "cp949")
        assert item["diff_bytes"] == len(b"--- a\n+++ b\n-x\n+y\n")
        assert client.get("/files/src/MaterialDB.cpp/history?limit=1").json()["items"][0][
            "issue_key"] == "MAT-9"
        assert client.get("/files/nope.txt/history").json()["items"] == []

    def test_limit_is_bounded(self, client: TestClient) -> None:
        for limit in (0, 201):
            assert client.get(f"/files/a.cpp/history?limit={limit}").status_code == 422


def test_dates_without_a_zone_are_utc(client: TestClient, engine: Engine) -> None:
    run = add_run(engine, key="MAT-1", days_ago=1, status="completed", duration=1)
    naive = (at(1) - timedelta(minutes=1)).replace(tzinfo=None).isoformat()
    items = client.get("/history", params={"since": naive}).json()["items"]
    assert [i["id"] for i in items] == [run]
