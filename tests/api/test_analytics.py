"""The analytics routes against the seed's own SQL run directly on a known history.

The seed's queries are kept as written except where noted: NOW() becomes the pinned clock
(`:now`), or, where our window is whole UTC days, weeks or hours while the seed's runs from
"now minus an interval", the seed's window start becomes ours (`:since`). They run with the
session time zone at UTC, since DATE_TRUNC and EXTRACT on a timestamptz follow it and our
figures are UTC by definition. Each route is also compared with the same query run on live
rows only, so the rollup and the live path are both held to the seed.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import Engine, Row, text

from base import clock
from db import analytics_calls, analytics_files, analytics_runs, stats
from tests.api.analytics_dataset import LONG, seed_history
from tests.api.conftest import build_app
from tests.api.dataset import add_run, today
from tests.conftest import ConfiguredRuntime

pytestmark = pytest.mark.usefixtures("pinned_clock")

SEED_WEEKLY = """
SELECT DATE_TRUNC('week', created_at) as week, COUNT(*) as total,
    COUNT(*) FILTER (WHERE status = 'completed') as success,
    ROUND(100.0 * COUNT(*) FILTER (WHERE status = 'completed') / COUNT(*), 2) as success_rate
FROM issue_processing_history
WHERE created_at >= :since  -- seed: NOW() - INTERVAL '3 months'
GROUP BY DATE_TRUNC('week', created_at) ORDER BY week DESC"""
SEED_TOP_FILES = """
SELECT file_path, COUNT(*) as modification_count, COUNT(DISTINCT history_id) as unique_issues,
    MAX(created_at) as last_modified
FROM file_modification_history GROUP BY file_path ORDER BY modification_count DESC LIMIT {limit}"""
# With a window, a record counts on its run's day: the seed's query over those runs' records.
SEED_TOP_FILES_OF_RUNS = """
SELECT file_path, COUNT(*) as modification_count, COUNT(DISTINCT history_id) as unique_issues,
    MAX(f.created_at) as last_modified
FROM file_modification_history f JOIN issue_processing_history r ON r.id = f.history_id
WHERE r.created_at >= :since GROUP BY file_path ORDER BY modification_count DESC LIMIT 10"""
SEED_LLM_BY_MODEL = """
SELECT model, call_type, COUNT(*) as total_calls,
    COUNT(*) FILTER (WHERE cache_hit = true) as cache_hits,
    ROUND(100.0 * COUNT(*) FILTER (WHERE cache_hit = true) / COUNT(*), 2) as cache_hit_rate,
    SUM(total_tokens) as total_tokens, ROUND(SUM(estimated_cost), 2) as total_cost,
    ROUND(AVG(estimated_cost), 4) as avg_cost_per_call
FROM llm_call_history
WHERE created_at >= :since  -- seed: NOW() - INTERVAL '30 days'
GROUP BY model, call_type ORDER BY total_cost DESC"""
SEED_HOURLY = """
SELECT EXTRACT(HOUR FROM created_at) as hour, COUNT(*) as issue_count,
    ROUND(AVG(processing_duration_seconds), 2) as avg_duration
FROM issue_processing_history
WHERE created_at >= :since  -- seed: NOW() - INTERVAL '7 days'
    AND status = 'completed'
GROUP BY EXTRACT(HOUR FROM created_at) ORDER BY hour"""
SEED_FAILURES = """
SELECT SUBSTRING(error_message, 1, 100) as error_preview, COUNT(*) as occurrence_count,
    MAX(created_at) as last_occurred
FROM issue_processing_history
WHERE status = 'failed'
    AND created_at >= :since  -- seed: NOW() - INTERVAL '30 days'
GROUP BY SUBSTRING(error_message, 1, 100) ORDER BY occurrence_count DESC LIMIT 20"""
SEED_GIT_HOURLY = """
SELECT DATE_TRUNC('hour', created_at) as hour, api_method, COUNT(*) as call_count,
    ROUND(AVG(duration_seconds), 3) as avg_duration,
    COUNT(*) FILTER (WHERE status_code >= 400) as error_count
FROM bitbucket_api_history
WHERE created_at >= :since  -- seed: NOW() - INTERVAL '24 hours'
GROUP BY DATE_TRUNC('hour', created_at), api_method ORDER BY hour DESC, call_count DESC"""
SEED_PERCENTILES = """
SELECT
    PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY processing_duration_seconds) as p50,
    PERCENTILE_CONT(0.75) WITHIN GROUP (ORDER BY processing_duration_seconds) as p75,
    PERCENTILE_CONT(0.90) WITHIN GROUP (ORDER BY processing_duration_seconds) as p90,
    PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY processing_duration_seconds) as p95,
    PERCENTILE_CONT(0.99) WITHIN GROUP (ORDER BY processing_duration_seconds) as p99
FROM issue_processing_history
WHERE status = 'completed'
    AND created_at >= :now - INTERVAL '30 days'"""


def seed_sql(engine: Engine, sql: str, **params: object) -> list[Row[Any]]:
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL TIME ZONE 'UTC'"))
        return list(conn.execute(text(sql), params))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def near(ours: float, seed: Decimal, *, seed_places: int, our_places: int) -> bool:
    """Equal but for rounding: the seed rounds to `seed_places`, we to `our_places`."""
    return abs(ours - float(seed)) <= 0.5 * 10.0**-seed_places + 0.5 * 10.0**-our_places + 1e-12


def midnight(days_ago: int) -> datetime:
    return datetime.combine(today() - timedelta(days=days_ago), time(), tzinfo=UTC)


def both_paths(client: TestClient, url: str, live: Callable[[], BaseModel]) -> dict[str, Any]:
    """The route's answer (rollup and today's rows), checked equal to live rows alone."""
    response = client.get(url)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body == live().model_dump(mode="json")
    return body


@pytest.fixture
def history(engine: Engine) -> dict[str, int]:
    return seed_history(engine)


class TestWeekly:
    def test_counts_equal_the_seeds_and_the_rate_leaves_unjudged_runs_out(
        self, client: TestClient, engine: Engine, history: dict[str, int]
    ) -> None:
        body = both_paths(client, "/stats/weekly?weeks=12",
                          lambda: analytics_runs.weekly(engine, weeks=12, use_rollup=False))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM stats_daily")).scalar_one() > 0
        items = body["items"]
        monday = today() - timedelta(days=today().weekday())
        assert [i["week"] for i in items] == [
            (monday - timedelta(weeks=n)).isoformat() for n in range(12)]
        assert body["since"] == items[-1]["week"]
        seed = seed_sql(engine, SEED_WEEKLY, since=datetime.combine(
            monday - timedelta(weeks=11), time(), tzinfo=UTC))
        ours = {i["week"]: i for i in items if i["total"]}
        assert list(ours) == [row.week.date().isoformat() for row in seed]
        for row in seed:
            week = ours[row.week.date().isoformat()]
            assert (week["total"], week["completed"]) == (row.total, row.success)
            # the seed's rate is completed / total; ours leaves queued and processing out
            assert near(100 * week["completed"] / week["total"], row.success_rate,
                        seed_places=2, our_places=15)
            assert week["success_rate"] == round(
                week["completed"] / (week["completed"] + week["failed"]), 4)
        this_week = items[0]
        assert (this_week["total"], this_week["completed"], this_week["failed"]) == (13, 8, 3)
        assert this_week["success_rate"] == 0.7273

    def test_a_week_without_runs_is_listed_with_no_rate(self, client: TestClient) -> None:
        items = client.get("/stats/weekly?weeks=1").json()["items"]
        assert items == [{"week": items[0]["week"], "total": 0, "completed": 0, "failed": 0,
                          "success_rate": None}]


class TestTopFiles:
    def test_all_history_equals_the_seeds_query(
        self, client: TestClient, engine: Engine, history: dict[str, int]
    ) -> None:
        for limit in (3, 10):
            body = both_paths(client, f"/stats/top-files?limit={limit}", partial(
                analytics_files.top_files, engine, limit=limit, days=None, use_rollup=False))
            seed = seed_sql(engine, SEED_TOP_FILES.format(limit=limit))
            assert [(i["file_path"], i["modifications"], i["unique_issues"],
                     datetime.fromisoformat(i["last_modified"])) for i in body["items"]] == [
                (r.file_path, r.modification_count, r.unique_issues, r.last_modified)
                for r in seed]
        assert [i["file_path"] for i in body["items"]] == [
            "src/b.py", "src/MaterialDB.cpp", "src/c.h", "src/d.cpp"]

    def test_a_window_counts_the_records_of_the_runs_created_in_it(
        self, client: TestClient, engine: Engine, history: dict[str, int]
    ) -> None:
        body = both_paths(client, "/stats/top-files?days=9",
                          lambda: analytics_files.top_files(engine, limit=10, days=9,
                                                            use_rollup=False))
        seed = seed_sql(engine, SEED_TOP_FILES_OF_RUNS, since=midnight(8))
        assert [(i["file_path"], i["modifications"], i["unique_issues"])
                for i in body["items"]] == [
            (r.file_path, r.modification_count, r.unique_issues) for r in seed]
        # src/c.h was modified 8 days ago, by a run created 9 days ago: outside the window
        assert [i["file_path"] for i in body["items"]] == ["src/b.py", "src/MaterialDB.cpp"]


class TestLlmCostByModel:
    def test_equals_the_seeds_query_with_unpriced_cost_null_not_zero(
        self, client: TestClient, engine: Engine, history: dict[str, int]
    ) -> None:
        body = both_paths(client, "/stats/llm-cost/by-model?days=30",
                          lambda: analytics_calls.llm_by_model(engine, days=30,
                                                               use_rollup=False))
        seed = {(r.model, r.call_type): r
                for r in seed_sql(engine, SEED_LLM_BY_MODEL, since=midnight(29))}
        items = body["items"]
        assert {(i["model"], i["call_type"]) for i in items} == set(seed)
        for i in items:
            row = seed[(i["model"], i["call_type"])]
            assert (i["calls"], i["cache_hits"], i["total_tokens"]) == (
                row.total_calls, row.cache_hits, row.total_tokens)
            assert near(100 * i["cache_hit_rate"], row.cache_hit_rate, seed_places=2,
                        our_places=2)
            if row.total_cost is None:
                assert i["cost_usd"] is None and i["avg_cost_per_call_usd"] is None
            else:
                assert near(i["cost_usd"], row.total_cost, seed_places=2, our_places=6)
                assert near(i["avg_cost_per_call_usd"], row.avg_cost_per_call, seed_places=4,
                            our_places=6)
        assert items[0] == {
            "model": "gpt-4o", "call_type": "code_diff", "calls": 3, "cache_hits": 1,
            "cache_hit_rate": 0.3333, "total_tokens": 3000, "cost_usd": 0.05,
            "priced_calls": 3, "unpriced_calls": 0, "avg_cost_per_call_usd": 0.016667}
        assert items[-1]["model"] == "local-llama" and items[-1]["cost_usd"] is None


class TestHourly:
    def test_equals_the_seeds_query_and_lists_every_hour(
        self, client: TestClient, engine: Engine, history: dict[str, int]
    ) -> None:
        body = both_paths(client, "/stats/hourly?days=7",
                          lambda: analytics_runs.hourly(engine, days=7, use_rollup=False))
        assert [i["hour"] for i in body["items"]] == list(range(24))
        seed = seed_sql(engine, SEED_HOURLY, since=midnight(6))
        ours = [i for i in body["items"] if i["completed"]]
        assert [(i["hour"], i["completed"]) for i in ours] == [
            (int(r.hour), r.issue_count) for r in seed]
        for i, r in zip(ours, seed, strict=True):
            if r.avg_duration is None:
                assert i["avg_duration_seconds"] is None
            else:
                assert near(i["avg_duration_seconds"], r.avg_duration, seed_places=2,
                            our_places=3)
        assert body["items"][10] == {"hour": 10, "completed": 6, "avg_duration_seconds": 33.583}
        assert body["items"][23] == {"hour": 23, "completed": 1, "avg_duration_seconds": None}


class TestFailures:
    def test_equals_the_seeds_query_with_long_errors_cut_at_100_characters(
        self, client: TestClient, engine: Engine, history: dict[str, int]
    ) -> None:
        body = both_paths(client, "/stats/failures?days=30&limit=20",
                          lambda: analytics_runs.failures(engine, days=30, limit=20,
                                                          use_rollup=False))
        seed = seed_sql(engine, SEED_FAILURES, since=midnight(29))
        items = body["items"]
        assert sorted((i["error_preview"] or "", i["occurrences"],
                       datetime.fromisoformat(i["last_seen"])) for i in items) == sorted(
            (r.error_preview or "", r.occurrence_count, r.last_occurred) for r in seed)
        # equal counts: the most recent first
        assert [(i["error_preview"], i["occurrences"]) for i in items] == [
            ("boom", 2), (LONG, 2), (None, 1), ("timeout: the LLM took too long", 1)]

    def test_limit_keeps_the_commonest(
        self, client: TestClient, history: dict[str, int]
    ) -> None:
        items = client.get("/stats/failures?limit=1").json()["items"]
        assert [i["error_preview"] for i in items] == ["boom"]


class TestGitHostHourly:
    @pytest.mark.parametrize("hours", [24, 720])
    def test_equals_the_seeds_query_over_whole_hours(
        self, client: TestClient, engine: Engine, history: dict[str, int], hours: int
    ) -> None:
        body = both_paths(client, f"/stats/git-host/hourly?hours={hours}",
                          lambda: analytics_calls.git_host_hourly(engine, hours=hours,
                                                                  use_rollup=False))
        since = datetime.fromisoformat(body["since"])
        assert since == clock.now().replace(minute=0, second=0, microsecond=0) - timedelta(
            hours=hours - 1)
        seed = seed_sql(engine, SEED_GIT_HOURLY, since=since)
        assert [(datetime.fromisoformat(i["hour"]), i["method"], i["calls"])
                for i in body["items"]] == [(r.hour, r.api_method, r.call_count) for r in seed]
        failed = {(r.hour, r.api_method): r.n for r in seed_sql(engine, """
            SELECT DATE_TRUNC('hour', created_at) AS hour, api_method, count(*) AS n
            FROM bitbucket_api_history WHERE created_at >= :since AND status_code IS NULL
                AND error_message IS NOT NULL GROUP BY 1, 2""", since=since)}
        for i, r in zip(body["items"], seed, strict=True):
            # an error is a status >= 400 (the seed's) or a call that got no answer at all
            assert i["errors"] == r.error_count + failed.get((r.hour, r.api_method), 0)
            assert i["avg_duration_seconds"] == (
                None if r.avg_duration is None else float(r.avg_duration))
        if hours == 24:
            assert [(i["method"], i["calls"], i["errors"]) for i in body["items"]] == [
                ("GET", 1, 1), ("GET", 2, 0), ("POST", 1, 1), ("GET", 1, 0), ("GET", 2, 1),
                ("POST", 1, 0)]


class TestPercentiles:
    def test_equal_the_seeds_percentile_cont_where_nearest_rank_coincides(
        self, client: TestClient, engine: Engine
    ) -> None:
        """With 101 durations, PERCENTILE_CONT's position 1 + p * 100 is a whole rank and is
        the nearest rank ceil(p * 101) for p = 0.5, 0.75, 0.9, 0.95 and 0.99; and each duration
        lies mid-bucket in a histogram bucket of its own, so the histogram's figure is exact.
        Elsewhere the two differ by interpolation between neighbours, which no bucket bounds."""
        for k in range(101):
            seconds = round(0.1 * 10 ** ((k + 0.5) / 20), 3)
            add_run(engine, key=f"P-{k}", days_ago=k % 5, status="completed", duration=seconds)
        # all runs are inside both windows: the seed's last 30 days and our 30 UTC days
        (row,) = seed_sql(engine, SEED_PERCENTILES, now=clock.now())
        body = client.get("/stats?days=30").json()["durations"]
        live = stats.overview(engine, days=30, use_rollup=False).durations
        assert body == live.model_dump()
        for name in ("p50", "p75", "p90", "p95", "p99"):
            assert body[f"{name}_seconds"] == float(getattr(row, name)), name
        assert body["measured_runs"] == 101


class TestBadInput:
    @pytest.mark.parametrize("url", [
        "/stats/weekly?weeks=0", "/stats/weekly?weeks=521", "/stats/weekly?weeks=abc",
        "/stats/top-files?limit=100000", "/stats/top-files?limit=0", "/stats/top-files?days=366",
        "/stats/llm-cost/by-model?days=0", "/stats/hourly?days=x", "/stats/failures?limit=101",
        "/stats/git-host/hourly?hours=721", "/stats/git-host/hourly?hours=1.5"])
    def test_out_of_range_or_not_a_number_is_422_naming_the_parameter(
        self, client: TestClient, url: str
    ) -> None:
        response = client.get(url)
        assert response.status_code == 422, url
        (problem,) = response.json()["detail"]
        assert problem["loc"][0] == "query" and problem["loc"][1] in url

    @pytest.mark.parametrize("url", [
        "/stats/weekly?weeks=520", "/stats/top-files?limit=100&days=365",
        "/stats/git-host/hourly?hours=720", "/stats/failures?days=365&limit=100"])
    def test_the_edges_are_accepted(self, client: TestClient, url: str) -> None:
        assert client.get(url).status_code == 200, url


ROUTES = ("/stats/weekly", "/stats/top-files", "/stats/llm-cost/by-model", "/stats/hourly",
          "/stats/failures", "/stats/git-host/hourly")


class TestTheService:
    def test_emptying_the_daily_rollup_to_rebuild_it_counts_no_day_twice(
        self, client: TestClient, engine: Engine, history: dict[str, int]
    ) -> None:
        first = [client.get(route).json() for route in ROUTES]
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE stats_daily, stats_llm_daily"))
        assert [client.get(route).json() for route in ROUTES] == first

    @pytest.mark.parametrize("route", ROUTES)
    def test_an_unreachable_database_is_503_with_retry_after(
        self, runtime: ConfiguredRuntime, monkeypatch: pytest.MonkeyPatch, route: str
    ) -> None:
        monkeypatch.delenv("API_TOKEN", raising=False)
        runtime.set(DATABASE_URL=f"postgresql://x:pw@127.0.0.1:{closed_port()}/z",
                    API_TOKEN=None)
        with TestClient(build_app(), raise_server_exceptions=False) as client:
            response = client.get(route)
        assert response.status_code == 503 and response.headers["Retry-After"] == "10"
        assert ":pw@" not in response.text

    def test_with_api_token_set_the_routes_want_the_bearer_token(
        self, runtime: ConfiguredRuntime, client: TestClient
    ) -> None:
        runtime.set(API_TOKEN="s3cret-token")
        for route in ROUTES:
            assert client.get(route).status_code == 401, route
            assert client.get(route, headers={"Authorization": "Bearer s3cret-token"}
                              ).status_code == 200, route

    def test_the_openapi_document_describes_every_route_and_its_bounds(
        self, client: TestClient
    ) -> None:
        paths = client.get("/openapi.json").json()["paths"]
        for route in ROUTES:
            assert "\n" not in paths[route]["get"]["description"], route
        hours = paths["/stats/git-host/hourly"]["get"]["parameters"][0]["schema"]
        assert (hours["minimum"], hours["maximum"]) == (1, 720)
