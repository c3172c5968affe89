"""Benchmark the stats API on a throwaway PostgreSQL with a year of history.

Run from the repository root: ``python bench/bench_stats.py``. ``BENCH_ISSUES`` (default
1,000,000 issue runs), ``BENCH_CALLS`` (10,000,000 LLM calls), ``BENCH_API_CALLS`` (1,000,000
Bitbucket calls) and ``BENCH_FILES`` (2,000,000 file records over 200 paths) scale the seed,
spread over the last 360 days up to a minute ago. Reports the one-time rollup (every closed day,
then today's closed hours), then the latency of every stats and analytics route through the
real app over 50 requests (after one warm-up) beside the median of the seed's original
queries for the same figures, run directly. For `/stats` and `/stats/daily` each line gives p50
and p95 beside the target p95 <= 20 ms, and the ratio of the seed's median to our p50 beside
the target >= 20x, then `met` or `MISSED`; the other routes' target is p95 <= 50 ms. Today's
live part grows with the time of day (its closed hours are rolled up, the last hour or so is
read live), so runs at different hours of the UTC day differ a little.
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
FILES = int(os.environ.get("BENCH_FILES", str(2 * ISSUES)))
CALLS = int(os.environ.get("BENCH_CALLS", "10000000"))
API_CALLS = int(os.environ.get("BENCH_API_CALLS", "1000000"))
SPAN_SECONDS = 360 * 86400
REQUESTS = 50
SEED_RUNS = 5
P95_TARGET = 0.020  # /stats and /stats/daily: p95 through the app, in seconds
RATIO_TARGET = 20  # ... and the seed's query at least this many times their p50

SEED_ISSUES = """
INSERT INTO issue_processing_history (issue_key, issue_summary, status, created_at, started_at,
    completed_at, processing_duration_seconds, modified_files_count, error_message)
SELECT 'BENCH-' || i, 'bench issue ' || i, s.status, s.at, s.at,
       s.at + make_interval(secs => coalesce(s.d, 1)), s.d, i % 5,
       CASE WHEN s.status = 'failed' THEN 'Bitbucket answered 409 on ' || (i % 40)
            || ': the branch moved under the commit; ' || repeat('x', 80) END
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
       (ARRAY['GET', 'POST'])[1 + j % 2], '/repositories/{ws}/{repo}/src',
       CASE WHEN j % 50 = 0 THEN 429 WHEN j % 97 = 0 THEN NULL ELSE 200 END, 0.2
FROM generate_series(0, :n - 1) AS j"""
SEED_FILES = """
INSERT INTO file_modification_history (history_id, created_at, file_path, action, outcome,
    diff_count, hunk_count, diff_text)
SELECT r.id, r.created_at + interval '30 seconds', 'src/module_' || (j % 200) || '.cpp',
       'modified', 'applied', 2, 1, '-a\n+b\n'
FROM generate_series(0, :n - 1) AS j
JOIN issue_processing_history r ON r.id = 1 + (j::bigint * :issues / :n)"""

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
# The seed's seven analytics queries as written, each keyed by the route serving its figures.
SEED_ANALYTICS = {
    "/stats/weekly?weeks=12": """
        SELECT DATE_TRUNC('week', created_at) as week, COUNT(*) as total,
            COUNT(*) FILTER (WHERE status = 'completed') as success,
            ROUND(100.0 * COUNT(*) FILTER (WHERE status = 'completed') / COUNT(*), 2)
                as success_rate
        FROM issue_processing_history WHERE created_at >= NOW() - INTERVAL '3 months'
        GROUP BY DATE_TRUNC('week', created_at) ORDER BY week DESC""",
    "/stats/top-files?limit=10": """
        SELECT file_path, COUNT(*) as modification_count,
            COUNT(DISTINCT history_id) as unique_issues, MAX(created_at) as last_modified
        FROM file_modification_history GROUP BY file_path
        ORDER BY modification_count DESC LIMIT 10""",
    "/stats/llm-cost/by-model?days=30": """
        SELECT model, call_type, COUNT(*) as total_calls,
            COUNT(*) FILTER (WHERE cache_hit = true) as cache_hits,
            ROUND(100.0 * COUNT(*) FILTER (WHERE cache_hit = true) / COUNT(*), 2)
                as cache_hit_rate,
            SUM(total_tokens) as total_tokens, ROUND(SUM(estimated_cost), 2) as total_cost,
            ROUND(AVG(estimated_cost), 4) as avg_cost_per_call
        FROM llm_call_history WHERE created_at >= NOW() - INTERVAL '30 days'
        GROUP BY model, call_type ORDER BY total_cost DESC""",
    "/stats/hourly?days=7": """
        SELECT EXTRACT(HOUR FROM created_at) as hour, COUNT(*) as issue_count,
            ROUND(AVG(processing_duration_seconds), 2) as avg_duration
        FROM issue_processing_history
        WHERE created_at >= NOW() - INTERVAL '7 days' AND status = 'completed'
        GROUP BY EXTRACT(HOUR FROM created_at) ORDER BY hour""",
    "/stats/failures?days=30&limit=20": """
        SELECT SUBSTRING(error_message, 1, 100) as error_preview,
            COUNT(*) as occurrence_count, MAX(created_at) as last_occurred
        FROM issue_processing_history
        WHERE status = 'failed' AND created_at >= NOW() - INTERVAL '30 days'
        GROUP BY SUBSTRING(error_message, 1, 100) ORDER BY occurrence_count DESC LIMIT 20""",
    "/stats/git-host/hourly?hours=24": """
        SELECT DATE_TRUNC('hour', created_at) as hour, api_method, COUNT(*) as call_count,
            ROUND(AVG(duration_seconds), 3) as avg_duration,
            COUNT(*) FILTER (WHERE status_code >= 400) as error_count
        FROM bitbucket_api_history WHERE created_at >= NOW() - INTERVAL '24 hours'
        GROUP BY DATE_TRUNC('hour', created_at), api_method
        ORDER BY hour DESC, call_count DESC""",
    "/stats?days=30": """
        SELECT
            PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY processing_duration_seconds) as p50,
            PERCENTILE_CONT(0.75) WITHIN GROUP (ORDER BY processing_duration_seconds) as p75,
            PERCENTILE_CONT(0.90) WITHIN GROUP (ORDER BY processing_duration_seconds) as p90,
            PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY processing_duration_seconds) as p95,
            PERCENTILE_CONT(0.99) WITHIN GROUP (ORDER BY processing_duration_seconds) as p99
        FROM issue_processing_history
        WHERE status = 'completed' AND created_at >= NOW() - INTERVAL '30 days'""",
}
# The widest windows the analytics routes take (no seed query has them).
WIDEST = ("/stats/weekly?weeks=520", "/stats/top-files?limit=100&days=365",
          "/stats/llm-cost/by-model?days=365", "/stats/hourly?days=365",
          "/stats/failures?days=365&limit=100", "/stats/git-host/hourly?hours=720")


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
        ("Bitbucket calls", SEED_API_CALLS, {"n": API_CALLS, "issues": ISSUES}),
        ("file records", SEED_FILES, {"n": FILES, "issues": ISSUES})]
    for name, sql, params in steps:
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL synchronous_commit = off"))

            def seed_step(c: Connection = conn, s: str = sql, p: dict[str, int] = params) -> object:
                return c.execute(text(s), {"span": SPAN_SECONDS, **p})

            seconds = timed(seed_step)
        print(f"  {name}: {params['n']:,} rows in {seconds:.1f} s", flush=True)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
        # flush the seed's writes now: otherwise their writeback shares the disk and CPUs
        # with whatever is measured first (our routes), and not with the seed's queries after
        conn.execute(text("CHECKPOINT"))


def median_of(action: Callable[[], object]) -> float:
    """The median time of `action` after one warm-up run."""
    action()
    return statistics.median(timed(action) for _ in range(SEED_RUNS))


def seed_medians(engine: Engine, days: int) -> dict[str, float]:
    """The seed's queries run directly, keyed by the route that serves the same figures."""
    def run(sqls: list[str], params: dict[str, int] | None = None) -> Callable[[], None]:
        def action() -> None:
            with engine.connect() as conn:
                for sql in sqls:
                    conn.execute(text(sql), params or {}).all()
        return action

    out = {"/stats": median_of(run(SEED_STATS)),
           f"/stats/daily?days={days}": median_of(run([SEED_DAILY], {"days": days}))}
    out.update({path: median_of(run([sql])) for path, sql in SEED_ANALYTICS.items()})
    return out


def latencies(client: TestClient, url: str) -> list[float]:
    """REQUESTS timings of `url` after one warm-up request (as the seed's queries get one)."""
    assert client.get(url).status_code == 200
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
        print(f"seeding {ISSUES:,} issue runs, {CALLS:,} LLM calls, {API_CALLS:,} "
              f"Bitbucket calls and {FILES:,} file records over 360 days ...", flush=True)
        print(f"seeded in {timed(lambda: seed(engine)):.1f} s (with VACUUM ANALYZE and CHECKPOINT)",
              flush=True)

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
                hours = conn.execute(text("SELECT count(*) FROM stats_hourly")).scalar_one()
            print(f"one-time rollup ({rolled} closed days, {hours} closed hours of today) "
                  f"inside the first /stats: {rollup:.2f} s")
            paths = ("/stats", f"/stats/daily?days={days}", "/stats/llm-cost?days=30",
                     *SEED_ANALYTICS, *WIDEST)
            ours = {path: latencies(client, path) for path in paths}
        seed_s = seed_medians(engine, days)
        core = ("/stats", f"/stats/daily?days={days}")
        print(f"/stats and /stats/daily through the app over {REQUESTS} requests each, beside "
              f"the seed's queries for the same figures run directly (median of {SEED_RUNS}); "
              f"ratio = the seed's median / our p50:")
        for path in core:
            values, seed_median = ours.pop(path), seed_s[path]
            mine, tail = statistics.median(values), p95(values)
            ratio = seed_median / mine
            met = tail <= P95_TARGET and ratio >= RATIO_TARGET
            print(f"  {path:<22} p50 {mine * 1000:5.1f} ms  p95 {tail * 1000:5.1f} ms "
                  f"(target <= {P95_TARGET * 1000:.0f} ms)  seed {seed_median * 1000:7.1f} ms  "
                  f"ratio {ratio:6.1f}x (target >= {RATIO_TARGET:.0f}x)  "
                  f"{'met' if met else 'MISSED'}", flush=True)
        print("the other stats and analytics routes (target p95 <= 50 ms):")
        for path, values in ours.items():
            mine = statistics.median(values)
            line = (f"  {path:<38} p50 {mine * 1000:6.1f} ms  "
                    f"p95 {p95(values) * 1000:6.1f} ms")
            if path in seed_s:
                line += (f"   seed {seed_s[path] * 1000:8.1f} ms  "
                         f"ratio {seed_s[path] / mine:6.1f}x")
            print(line, flush=True)
        engine.dispose()
    finally:
        server.stop()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
