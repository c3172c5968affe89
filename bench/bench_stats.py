"""Benchmark the stats API on a throwaway PostgreSQL with a year of history.

Run from the repository root: ``python bench/bench_stats.py``. ``BENCH_ISSUES`` (default
1,000,000 issue runs), ``BENCH_CALLS`` (10,000,000 LLM calls) and ``BENCH_API_CALLS``
(1,000,000 Bitbucket calls) scale the seed, spread over the last 360 days. Reports the one-time
rollup, then the p50/p95 latency of /stats and /stats/daily through the real app (target p95
<= 50 ms) against the median of the seed's original queries for the same endpoints.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import Connection, Engine, create_engine, text  # noqa: E402

from db import migrate  # noqa: E402
from db.embedded import EmbeddedPostgres  # noqa: E402
from db.models import PARTITIONED_TABLES  # noqa: E402
from db.partitions import Month, create_month_partition  # noqa: E402
from deployments.http.app import create_app  # noqa: E402

ISSUES = int(os.environ.get("BENCH_ISSUES", "1000000"))
CALLS = int(os.environ.get("BENCH_CALLS", "10000000"))
API_CALLS = int(os.environ.get("BENCH_API_CALLS", "1000000"))
SPAN_SECONDS = 360 * 86400
REQUESTS = 50
SEED_RUNS = 5

SEED_ISSUES = """
INSERT INTO issue_processing_history (issue_key, issue_summary, status, created_at, started_at,
    completed_at, processing_duration_seconds, modified_files_count)
SELECT 'BENCH-' || i, 'bench issue ' || i, s.status, s.at, s.at,
       s.at + make_interval(secs => coalesce(s.d, 1)), s.d, i % 5
FROM generate_series(1, :n) AS i,
LATERAL (SELECT now() - interval '1 minute' - i * (:span / :n) * interval '1 second' AS at,
                CASE WHEN i % 100 < 87 THEN 'completed' ELSE 'failed' END AS status,
                CASE WHEN i % 100 < 87 THEN round(exp(2 + 2.5 * random())::numeric, 3)
                     WHEN i % 2 = 0 THEN round((60 * random())::numeric, 3) END AS d) s"""
SEED_CALLS = """
INSERT INTO llm_call_history (history_id, created_at, call_type, model, prompt_tokens,
    completion_tokens, total_tokens, cached_tokens, estimated_cost, cache_hit, duration_seconds)
SELECT 1 + (j::bigint * :issues / :n),
       now() - interval '1 minute' - (j + 1) * (:span / :n) * interval '1 second',
       (ARRAY['spec_conversion', 'code_diff', 'new_file'])[1 + j % 3],
       (ARRAY['gpt-4o', 'gpt-4o-mini', 'o4-mini', 'local-llama'])[1 + (j / 3) % 4],
       900, 100, 1000, CASE WHEN j % 5 = 0 THEN 900 ELSE 0 END,
       CASE WHEN j % 5 = 0 THEN 0 WHEN (j / 3) % 4 = 3 THEN NULL ELSE 0.000300 END,
       j % 5 = 0, 1.5
FROM generate_series(0, :n - 1) AS j"""
SEED_API_CALLS = """
INSERT INTO bitbucket_api_history (history_id, created_at, api_method, endpoint, status_code,
    duration_seconds)
SELECT 1 + (j::bigint * :issues / :n),
       now() - interval '1 minute' - (j + 1) * (:span / :n) * interval '1 second',
       'GET', '/repositories/{ws}/{repo}/src',
       CASE WHEN j % 50 = 0 THEN 429 WHEN j % 97 = 0 THEN NULL ELSE 200 END, 0.2
FROM generate_series(0, :n - 1) AS j"""

# The seed's /stats (nine queries) and /stats/daily (its view, with the endpoint's days).
SEED_STATS = [
    "SELECT count(*) FROM issue_processing_history",
    "SELECT count(*) FROM issue_processing_history WHERE status = 'completed'",
    "SELECT count(*) FROM issue_processing_history WHERE status = 'failed'",
    "SELECT count(*) FROM issue_processing_history WHERE status = 'processing'",
    "SELECT avg(processing_duration_seconds) FROM issue_processing_history "
    "WHERE status = 'completed'",
    "SELECT sum(estimated_cost) FROM llm_call_history",
    "SELECT count(*) FROM llm_call_history",
    "SELECT count(*) FROM llm_call_history WHERE cache_hit = true",
]
SEED_DAILY = ("SELECT * FROM v_processing_stats WHERE date >= CURRENT_DATE - :days "
              "ORDER BY date DESC")


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def seed(engine: Engine) -> None:
    today = datetime.now(UTC).date()
    with engine.begin() as conn:
        for table in PARTITIONED_TABLES:
            for back in range(13):
                create_month_partition(conn, table, Month.of(today).shift(-back))
    steps: list[tuple[str, str, dict[str, int]]] = [
        ("issue runs", SEED_ISSUES, {"n": ISSUES}),
        ("LLM calls", SEED_CALLS, {"n": CALLS, "issues": ISSUES}),
        ("Bitbucket calls", SEED_API_CALLS, {"n": API_CALLS, "issues": ISSUES})]
    for name, sql, params in steps:
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL synchronous_commit = off"))

            def seed_step(c: Connection = conn, s: str = sql, p: dict[str, int] = params) -> object:
                return c.execute(text(s), {"span": SPAN_SECONDS, **p})

            seconds = timed(seed_step)
        print(f"  {name}: {params['n']:,} rows in {seconds:.1f} s", flush=True)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def seed_medians(engine: Engine, days: int) -> tuple[float, float]:
    def stats() -> None:
        with engine.connect() as conn:
            for sql in SEED_STATS:
                conn.execute(text(sql)).all()

    def daily() -> None:
        with engine.connect() as conn:
            conn.execute(text(SEED_DAILY), {"days": days}).all()

    stats()
    return (statistics.median(timed(stats) for _ in range(SEED_RUNS)),
            statistics.median(timed(daily) for _ in range(SEED_RUNS)))


def latencies(client: TestClient, url: str) -> list[float]:
    out = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = client.get(url)
        out.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text
    return out


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]


def main() -> None:
    d = tempfile.mkdtemp(prefix="sdb-bench-stats-")
    Path(d).chmod(0o755)
    server = EmbeddedPostgres(Path(d))
    try:
        url = server.start()
        engine = create_engine(url)
        migrate.upgrade(engine)
        print(f"seeding {ISSUES:,} issue runs, {CALLS:,} LLM calls and {API_CALLS:,} "
              "Bitbucket calls over 360 days ...", flush=True)
        print(f"seeded in {timed(lambda: seed(engine)):.1f} s (with VACUUM ANALYZE)", flush=True)

        from base.settings import Settings
        from tasks.runtime import Runtime, install_runtime

        os.environ.pop("API_TOKEN", None)
        install_runtime(Runtime(Settings.from_values({
            "DATABASE_URL": url.render_as_string(hide_password=False),
            "SDB_DATA_DIR": str(Path(d) / "data")}), engine=engine))
        days = 30
        with TestClient(create_app()) as client:
            rollup = timed(lambda: client.get("/stats"))
            with engine.connect() as conn:
                rolled = conn.execute(text("SELECT count(*) FROM stats_daily")).scalar_one()
            print(f"one-time rollup ({rolled} closed days) inside the first /stats: "
                  f"{rollup:.2f} s")
            ours = {path: latencies(client, path) for path in
                    ("/stats", f"/stats/daily?days={days}", "/stats?days=30",
                     "/stats/llm-cost?days=30")}
        seed_stats, seed_daily = seed_medians(engine, days)
        print(f"latency through the app over {REQUESTS} requests each (target p95 <= 50 ms):")
        for path, values in ours.items():
            print(f"  {path:<24} p50 {statistics.median(values) * 1000:7.1f} ms   "
                  f"p95 {p95(values) * 1000:7.1f} ms")
        print(f"seed's original queries, run directly (median of {SEED_RUNS}):")
        for name, seed_s, path in (("/stats", seed_stats, "/stats"),
                                   ("/stats/daily", seed_daily, f"/stats/daily?days={days}")):
            mine = statistics.median(ours[path])
            print(f"  {name:<13} seed {seed_s * 1000:8.1f} ms   ours {mine * 1000:6.1f} ms   "
                  f"ratio {seed_s / mine:6.1f}x")
        engine.dispose()
    finally:
        server.stop()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
