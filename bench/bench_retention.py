"""Benchmark retention and backup on a throwaway PostgreSQL.

Run from the repository root: ``python bench/bench_retention.py`` (``BENCH_ROWS`` scales the
seed, default 10,000,000 call rows over 12 monthly partitions). Compares dropping a month
partition with a batched DELETE of a month of the same size (targets: drop <= 1 s, ratio >=
100x), then reports backup throughput and the cost of verification over pg_dump alone.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from db import migrate  # noqa: E402
from db.backup import dump_to_partial, file_sha256, verify_dump  # noqa: E402
from db.embedded import EmbeddedPostgres  # noqa: E402
from db.partitions import Month, create_month_partition  # noqa: E402
from db.pg_client import PgClient  # noqa: E402
from db.retention import drop_old_partitions, run_batches  # noqa: E402

ROWS = int(os.environ.get("BENCH_ROWS", "10000000"))
FIRST = Month(2025, 1)
MONTHS = [FIRST.shift(i) for i in range(12)]
SEED = """
INSERT INTO llm_call_history (history_id, created_at, call_type, model, prompt_tokens,
    completion_tokens, total_tokens, estimated_cost, cache_hit)
SELECT 1, TIMESTAMPTZ '2025-01-01 00:00+00' + (i * (365.0 * 86400 / :rows)) * INTERVAL '1 s',
       'code_diff', 'gpt-4o-mini', 900, 100, 1000, 0.000300, i % 10 = 0
FROM generate_series(0, :rows - 1) AS i"""
BATCH_DELETE = """
DELETE FROM llm_call_history WHERE (id, created_at) IN (
    SELECT id, created_at FROM llm_call_history
    WHERE created_at >= :lo AND created_at < :hi LIMIT :batch)"""


def timed(action: object) -> float:
    started = time.perf_counter()
    action()  # type: ignore[operator]
    return time.perf_counter() - started


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="sdb-bench-"))
    server = EmbeddedPostgres(root)
    try:
        engine = create_engine(server.start())
        migrate.upgrade(engine)
        with engine.begin() as conn:
            for month in MONTHS:
                create_month_partition(conn, "llm_call_history", month)
            conn.execute(text("INSERT INTO issue_processing_history (id, issue_key, status) "
                              "VALUES (1, 'BENCH-1', 'completed')"))
        print(f"seeding {ROWS:,} call rows over 12 months ...", flush=True)
        seconds = timed(lambda: _seed(engine))
        print(f"seeded in {seconds:.1f} s")
        with engine.connect() as conn:
            per_month = conn.execute(text(
                "SELECT count(*) FROM llm_call_history_y2025m12")).scalar_one()

        lo, hi = MONTHS[11].first_day.isoformat(), MONTHS[11].shift(1).first_day.isoformat()
        delete_s = timed(lambda: run_batches(
            engine, BATCH_DELETE, {"lo": f"{lo} 00:00+00", "hi": f"{hi} 00:00+00"}))
        drops = []
        for keep_from in MONTHS[1:4]:  # drops January, then February, then March
            drops.append(timed(lambda k=keep_from: drop_old_partitions(engine, keep_from=k)))
        drop_s = statistics.median(drops)
        print(f"retention of one month (December, {per_month:,} rows, deleted in batches; "
              "January to March dropped):")
        print(f"  partition detach+drop: median {drop_s * 1000:.1f} ms over {len(drops)} months")
        print(f"  batched DELETE (5000/batch): {delete_s:.2f} s")
        print(f"  ratio: {delete_s / drop_s:,.0f}x (target: drop <= 1 s, ratio >= 100x)")

        client = PgClient(server.binaries, engine.url)
        dumps, verifies, size = [], [], 0
        for run in range(3):
            target = root / f"bench-{run}.dump"
            dumps.append(timed(lambda t=target: dump_to_partial(client, target=t)))
            partial = target.with_name(target.name + ".partial")
            size = partial.stat().st_size
            verifies.append(timed(lambda p=partial: verify_dump(client, p, sha256=file_sha256(p))))
            partial.unlink()
        with engine.connect() as conn:
            db_bytes = conn.execute(
                text("SELECT pg_database_size(current_database())")).scalar_one()
        dump_s, verify_s = statistics.median(dumps), statistics.median(verifies)
        print(f"backup of a {db_bytes / 1e6:,.0f} MB database -> {size / 1e6:,.1f} MB dump "
              f"(medians of 3):")
        print(f"  pg_dump -Fc: {dump_s:.2f} s = {db_bytes / 1e6 / dump_s:,.1f} MB/s of database, "
              f"{size / 1e6 / dump_s:,.1f} MB/s written")
        print(f"  verification (sha256 + pg_restore --list + full read): {verify_s:.2f} s "
              f"= {100 * verify_s / dump_s:.0f}% over pg_dump alone")
        engine.dispose()
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def _seed(engine: object) -> None:
    with engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(text(SEED), {"rows": ROWS})
        conn.execute(text("ANALYZE llm_call_history"))


if __name__ == "__main__":
    main()
