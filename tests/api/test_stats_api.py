"""/stats, /stats/daily and /stats/llm-cost against a known history, rollup and live alike."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, text, update

from base import clock
from db import stats
from db.duration_histogram import RELATIVE_RESOLUTION
from db.models import BitbucketApiHistory, IssueProcessingHistory
from db.stats_rollup import rolled_through
from tasks.runtime import current_runtime
from tests.api.dataset import add_api_call, add_call, add_run, seed_known, today

pytestmark = pytest.mark.usefixtures("pinned_clock")


def _rolled(engine: Engine) -> list[date]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT day FROM stats_daily ORDER BY day")).scalars())


class TestOverallStatsAreExactOnAKnownHistory:
    def test_counts_rates_percentiles_cost_and_cache_hits(
        self, client: TestClient, engine: Engine
    ) -> None:
        seed_known(engine)
        body = client.get("/stats").json()
        assert body["days"] is None
        assert body["runs"] == {"total": 11, "queued": 1, "processing": 1, "completed": 7,
                                "failed": 2, "success_rate": 0.7778}
        assert body["durations"] == {"measured_runs": 7, "avg_seconds": 35.929,
                                     "p50_seconds": 30.0, "p75_seconds": 50.0,
                                     "p90_seconds": 100.0, "p95_seconds": 100.0,
                                     "p99_seconds": 100.0}
        assert body["files_modified"] == 10
        assert body["llm"] == {
            "calls": 10, "cache_hits": 3, "cache_hit_rate": 0.3, "prompt_tokens": 8000,
            "completion_tokens": 2000, "cached_tokens": 1000, "total_tokens": 10000,
            "cost_usd": 0.066, "priced_calls": 8, "unpriced_calls": 2}
        assert body["bitbucket"] == {"calls": 6, "errors": 3, "error_rate": 0.5}

    def test_a_window_of_three_days_counts_only_today_and_the_two_before(
        self, client: TestClient, engine: Engine
    ) -> None:
        seed_known(engine)
        body = client.get("/stats", params={"days": 3}).json()
        assert body["since"] == (today() - timedelta(days=2)).isoformat()
        assert body["runs"]["total"] == 5 and body["runs"]["success_rate"] == 1.0
        assert (body["durations"]["p50_seconds"], body["durations"]["p95_seconds"]) == (50, 100)
        assert body["llm"]["calls"] == 4 and body["llm"]["cost_usd"] == 0.035
        assert body["llm"]["unpriced_calls"] == 1 and body["bitbucket"]["calls"] == 1

    def test_a_local_git_call_has_no_status_and_is_not_an_error_unless_it_failed(
        self, client: TestClient, engine: Engine
    ) -> None:
        run = add_run(engine, key="LOC-1", days_ago=1, status="completed", duration=1)
        with engine.begin() as conn:
            for error in (None, None, "git update-ref failed"):
                conn.execute(insert(BitbucketApiHistory).values(
                    history_id=run, created_at=clock.now(), api_method="POST",
                    endpoint="local:src", status_code=None, error_message=error))
        assert client.get("/stats").json()["bitbucket"] == {
            "calls": 3, "errors": 1, "error_rate": 0.3333}

    def test_an_empty_history_gives_zeros_and_nulls_not_made_up_rates(
        self, client: TestClient
    ) -> None:
        body = client.get("/stats").json()
        assert body["runs"]["total"] == 0 and body["runs"]["success_rate"] is None
        assert body["durations"]["p50_seconds"] is None
        assert body["llm"]["cost_usd"] is None and body["llm"]["cache_hit_rate"] is None

    def test_only_unpriced_calls_give_a_null_cost_never_zero_dollars(
        self, client: TestClient, engine: Engine
    ) -> None:
        from tests.api.dataset import add_call

        run = add_run(engine, key="MAT-1", days_ago=4, status="completed", duration=3)
        add_call(engine, run, days_ago=4, model="local-llama", call_type="code_diff", cost=None)
        llm = client.get("/stats").json()["llm"]
        assert llm["cost_usd"] is None and llm["unpriced_calls"] == 1 and llm["calls"] == 1


class TestDailyStats:
    def test_one_row_per_day_newest_first_with_empty_days(
        self, client: TestClient, engine: Engine
    ) -> None:
        seed_known(engine)
        items = client.get("/stats/daily", params={"days": 7}).json()["items"]
        assert [i["day"] for i in items] == [
            (today() - timedelta(days=n)).isoformat() for n in range(7)]
        by_age = {n: items[n] for n in range(7)}
        assert by_age[5] == {
            "day": by_age[5]["day"], "runs": 3, "completed": 2, "failed": 1, "active": 0,
            "success_rate": 0.6667, "avg_duration_seconds": 15.0,
            "p50_duration_seconds": 10.0, "p95_duration_seconds": 20.0, "files_modified": 3,
            "llm_calls": 4, "llm_cache_hits": 1, "llm_cost_usd": 0.03, "llm_unpriced_calls": 1}
        assert by_age[4]["runs"] == 0 and by_age[4]["llm_cost_usd"] is None
        assert by_age[3]["failed"] == 1 and by_age[3]["avg_duration_seconds"] == 35.0
        assert by_age[0]["active"] == 2 and by_age[0]["p95_duration_seconds"] == 50.0

    def test_the_default_window_is_thirty_days(self, client: TestClient) -> None:
        assert len(client.get("/stats/daily").json()["items"]) == 30


class TestLlmCostStats:
    def test_grouped_by_day_model_and_call_type_with_unpriced_apart(
        self, client: TestClient, engine: Engine
    ) -> None:
        seed_known(engine)
        items = client.get("/stats/llm-cost", params={"days": 6}).json()["items"]
        keyed = {(i["day"], i["model"], i["call_type"]): i for i in items}
        five = (today() - timedelta(days=5)).isoformat()
        assert keyed[(five, "gpt-4o", "code_diff")] | {} == {
            "day": five, "model": "gpt-4o", "call_type": "code_diff", "calls": 2,
            "cache_hits": 1, "cache_hit_rate": 0.5, "prompt_tokens": 1600,
            "completion_tokens": 400, "cached_tokens": 200, "total_tokens": 2000,
            "cost_usd": 0.02, "priced_calls": 2, "unpriced_calls": 0}
        llama = keyed[(five, "local-llama", "code_diff")]
        assert llama["cost_usd"] is None and llama["unpriced_calls"] == 1
        assert len(items) == 7
        assert [i["day"] for i in items] == sorted((i["day"] for i in items), reverse=True)


class TestTheRollup:
    def test_endpoints_roll_up_closed_days_once_and_agree_with_the_live_path(
        self, client: TestClient, engine: Engine
    ) -> None:
        seed_known(engine)
        rolled = [client.get("/stats").json(), client.get("/stats/daily?days=7").json(),
                  client.get("/stats/llm-cost?days=7").json()]
        days = _rolled(engine)
        assert days[0] == today() - timedelta(days=5)
        assert today() - timedelta(days=2) in days and today() not in days
        live = [stats.overview(engine, days=None, use_rollup=False).model_dump(mode="json"),
                stats.daily(engine, days=7, use_rollup=False).model_dump(mode="json"),
                stats.llm_cost(engine, days=7, use_rollup=False).model_dump(mode="json")]
        assert rolled == live
        assert stats.refresh_rollup(engine) == 0
        assert _rolled(engine) == days

    def test_a_day_with_a_run_still_active_is_not_rolled_up_until_it_ends(
        self, engine: Engine
    ) -> None:
        seed_known(engine)
        stuck = add_run(engine, key="MAT-99", days_ago=3, status="processing")
        stats.refresh_rollup(engine)
        assert _rolled(engine)[-1] == today() - timedelta(days=4)
        assert stats.overview(engine, days=None).runs.processing == 2
        with engine.begin() as conn:
            conn.execute(update(IssueProcessingHistory)
                         .where(IssueProcessingHistory.id == stuck)
                         .values(status="failed"))
        assert stats.refresh_rollup(engine) >= 2
        assert stats.overview(engine, days=None).runs.failed == 3

    def test_refresh_through_a_day_stops_there_and_resumes_later(self, engine: Engine) -> None:
        seed_known(engine)
        assert stats.refresh_rollup(engine, through=today() - timedelta(days=4)) == 2
        with engine.connect() as conn:
            assert rolled_through(conn) == today() - timedelta(days=4)
        assert stats.overview(engine, days=None).runs.total == 11
        assert stats.refresh_rollup(engine, through=today() - timedelta(days=2)) == 2


class TestPercentilesFromHistogramsMatchExactOnes:
    @pytest.mark.parametrize("seed", [1, 2, 3])
    def test_within_one_bucket_of_postgres_percentile_disc(
        self, engine: Engine, seed: int
    ) -> None:
        rng = random.Random(seed)
        with engine.begin() as conn:
            conn.execute(text("""
                INSERT INTO issue_processing_history (issue_key, status, created_at,
                    processing_duration_seconds)
                SELECT 'P-' || i, 'completed', :now - (i % 9) * interval '1 day',
                       (CAST(:d AS numeric[]))[i]
                FROM generate_series(1, :n) AS i"""),
                {"n": 400, "now": clock.now(), "d": [Decimal(f"{rng.lognormvariate(3, 1.2):.3f}")
                                 for _ in range(400)]})
            exact = conn.execute(text("""
                SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY processing_duration_seconds),
                       percentile_disc(0.95) WITHIN GROUP (ORDER BY processing_duration_seconds)
                FROM issue_processing_history""")).one()
        stats.refresh_rollup(engine)
        for use_rollup in (True, False):
            got = stats.overview(engine, days=None, use_rollup=use_rollup).durations
            for value, truth in ((got.p50_seconds, exact[0]), (got.p95_seconds, exact[1])):
                assert value is not None
                assert abs(value - float(truth)) <= float(truth) * RELATIVE_RESOLUTION


def _hours(engine: Engine) -> list[int]:
    """The UTC hours of today in the hourly rollup."""
    with engine.connect() as conn:
        return [h.astimezone(UTC).hour for h in conn.execute(text(
            "SELECT hour FROM stats_hourly WHERE hour >= :midnight ORDER BY hour"),
            {"midnight": datetime.combine(today(), time(), tzinfo=UTC)}).scalars()]


def _seed_today(engine: Engine) -> None:
    """A run two days ago (hours are rolled up only after a rolled-up day), then finished
    runs, LLM calls and git-host calls in four hours of today; 12:05 is after the last closed
    hour (the clock is pinned at 12:30, and an hour closes 10 minutes after its end)."""
    add_run(engine, key="HR-OLD", days_ago=2, status="completed", duration=8)
    runs = ((1, "completed", 12.5), (5, "failed", None), (11, "completed", 70),
            (12, "completed", 3))
    for n, (hour, status, duration) in enumerate(runs):
        run = add_run(engine, key=f"HR-{n}", days_ago=0, status=status, duration=duration,
                      files=n, hour=hour)
        add_call(engine, run, days_ago=0, model="gpt-4o", call_type="code_diff", cost="0.002",
                 hour=hour, minute=5)
        add_call(engine, run, days_ago=0, model="local-llama", call_type="code_diff", cost=None,
                 hour=hour, minute=6)
        add_api_call(engine, run, days_ago=0, status_code=500 if hour == 5 else 200)


def _figures(client: TestClient) -> list[Any]:
    return [client.get("/stats").json(), client.get("/stats", params={"days": 1}).json(),
            client.get("/stats/daily", params={"days": 3}).json(),
            client.get("/stats/llm-cost", params={"days": 3}).json()]


def _live(engine: Engine) -> list[Any]:
    return [stats.overview(engine, days=None, use_rollup=False).model_dump(mode="json"),
            stats.overview(engine, days=1, use_rollup=False).model_dump(mode="json"),
            stats.daily(engine, days=3, use_rollup=False).model_dump(mode="json"),
            stats.llm_cost(engine, days=3, use_rollup=False).model_dump(mode="json")]


class TestTheHourlyRollupOfToday:
    def test_closed_hours_are_rolled_up_and_agree_with_the_live_path(
        self, client: TestClient, engine: Engine
    ) -> None:
        seed_known(engine)
        with engine.begin() as conn:  # today's active runs of the known set would stop it
            conn.execute(update(IssueProcessingHistory)
                         .where(IssueProcessingHistory.status.in_(("queued", "processing")))
                         .values(status="failed"))
        _seed_today(engine)
        rolled = _figures(client)
        assert _hours(engine) == list(range(12))
        assert rolled == _live(engine)
        assert rolled[1]["runs"]["total"] == 7 and rolled[1]["llm"]["calls"] == 10
        assert rolled[1]["durations"]["p50_seconds"] == 12.5 and rolled[1]["bitbucket"] == {
            "calls": 5, "errors": 1, "error_rate": 0.2}

    def test_an_hour_closes_ten_minutes_after_its_end(
        self, client: TestClient, engine: Engine
    ) -> None:
        _seed_today(engine)
        client.get("/stats")
        with clock.frozen_at(datetime.combine(today(), time(13, 9), tzinfo=UTC)):
            client.get("/stats/daily")
            assert _hours(engine) == list(range(12))
        with clock.frozen_at(datetime.combine(today(), time(13, 10), tzinfo=UTC)):
            assert client.get("/stats", params={"days": 1}).json()["runs"]["total"] == 4
            assert _hours(engine) == list(range(13))
            assert _figures(client) == _live(engine)  # the 12:00 row continues the 11:00 one

    def test_a_run_still_active_stops_the_hours_at_the_hour_it_was_created(
        self, client: TestClient, engine: Engine
    ) -> None:
        _seed_today(engine)
        stuck = add_run(engine, key="HR-9", days_ago=0, status="processing", hour=5)
        assert client.get("/stats").json()["runs"]["processing"] == 1
        assert _hours(engine) == list(range(5))
        with engine.begin() as conn:
            conn.execute(update(IssueProcessingHistory)
                         .where(IssueProcessingHistory.id == stuck).values(status="failed"))
        assert client.get("/stats").json()["runs"]["failed"] == 2
        assert _hours(engine) == list(range(12))

    def test_the_day_replaces_its_hours_once_it_closes(
        self, client: TestClient, engine: Engine
    ) -> None:
        _seed_today(engine)
        before = client.get("/stats").json()
        day = today()
        with clock.frozen_at(datetime.combine(day + timedelta(days=1), time(0, 10),
                                              tzinfo=UTC)):
            assert client.get("/stats").json() == before
            assert day in _rolled(engine)
            with engine.connect() as conn:
                assert conn.execute(text("SELECT count(*) FROM stats_hourly")).scalar() == 0

    def test_hourly_rows_that_do_not_follow_the_days_are_ignored_then_replaced(
        self, client: TestClient, engine: Engine
    ) -> None:
        seed_known(engine)
        _seed_today(engine)
        with engine.begin() as conn:
            conn.execute(update(IssueProcessingHistory)
                         .where(IssueProcessingHistory.status.in_(("queued", "processing")))
                         .values(status="failed"))
        expected = _figures(client)
        with engine.begin() as conn:  # a rebuild: the days go, today's hours stay
            conn.execute(text("TRUNCATE stats_daily, stats_llm_daily"))
        assert stats.overview(engine, days=None).model_dump(mode="json") == expected[0]
        assert _figures(client) == expected
        assert _hours(engine) == list(range(12))


class TestWindowsOverTheRollupMatchTheLivePath:
    @pytest.mark.parametrize("seed", [4, 5])
    def test_percentiles_of_any_window_are_those_of_the_rows(
        self, engine: Engine, seed: int
    ) -> None:
        rng = random.Random(seed)
        with engine.begin() as conn:
            conn.execute(text("""
                INSERT INTO issue_processing_history (issue_key, status, created_at,
                    processing_duration_seconds)
                SELECT 'W-' || i, 'completed', :now - (i % 12) * interval '1 day'
                       - (i % 7) * interval '1 hour', (CAST(:d AS numeric[]))[i]
                FROM generate_series(1, :n) AS i"""),
                {"n": 600, "now": clock.now(), "d": [Decimal(f"{rng.lognormvariate(3, 1.2):.3f}")
                                 for _ in range(600)]})
        stats.refresh_rollup(engine)
        for days in (None, 1, 2, 5, 11, 30):
            rolled = stats.overview(engine, days=days).model_dump(mode="json")
            assert rolled == stats.overview(engine, days=days, use_rollup=False).model_dump(
                mode="json"), days

    def test_a_database_in_another_time_zone_cuts_the_same_utc_hours_and_days(
        self, client: TestClient, engine: Engine
    ) -> None:
        with engine.connect() as conn:
            database = conn.execute(text("SELECT current_database()")).scalar_one()
        with engine.begin() as conn:  # its sessions see the early UTC hours as yesterday
            conn.execute(text(f'ALTER DATABASE "{database}" SET timezone = '
                              "'America/Los_Angeles'"))
        for pooled in (engine, current_runtime().engine):
            pooled.dispose()  # new sessions take the database's time zone
        try:
            _seed_today(engine)
            with clock.frozen_at(datetime.combine(today(), time(6, 30), tzinfo=UTC)):
                rolled = _figures(client)  # hours 0-5 closed
                assert _hours(engine) == list(range(6))
                assert rolled == _live(engine)
                assert rolled[2]["items"][0]["runs"] == 4
        finally:
            with engine.begin() as conn:
                conn.execute(text(f'ALTER DATABASE "{database}" RESET timezone'))
            for pooled in (engine, current_runtime().engine):
                pooled.dispose()
