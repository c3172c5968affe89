"""The grouped queries behind the analytics routes, and the rollup rows written from them.

As in `db/stats_figures.py`, one query per figure serves both paths: the rollup writes its rows
for the closed days (`write_days`, called in the same transaction as the daily rollup, so every
rollup table ends on the same day), and the routes run it live over the rows after the rollup.
Each query takes the instants `:lo` (inclusive) and `:hi` (exclusive).

- Files: a file record counts on the day its run was created, like the run, so one run's
  records never split across days and distinct runs add up. A run's records are written after
  the run was created, so `f.created_at >= :lo` only skips partitions. `stats_file_total` sums
  the rolled-up days per path, so all history costs one row per path.
- Failures: failed runs per day of creation and per error preview (the first 100 characters,
  as the seed has it; NULL when the run recorded no error).
- Hours: completed runs by the UTC hour they were created, with the count and sum of their
  durations; git-host calls by UTC hour and method, an error being a failed call or a status
  of 400 or more (`db/stats.py`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, text

_RUNS_RANGE = "created_at >= :lo AND created_at < :hi"
_HOUR = "date_trunc('hour', created_at, 'UTC')"
PREVIEW_CHARS = 100

FILES_BY_DAY = """
SELECT (r.created_at AT TIME ZONE 'UTC')::date AS day, f.file_path,
       count(*) AS modifications, count(DISTINCT f.history_id) AS issues,
       max(f.created_at) AS last_modified
FROM file_modification_history f JOIN issue_processing_history r ON r.id = f.history_id
WHERE r.created_at >= :lo AND r.created_at < :hi AND f.created_at >= :lo
GROUP BY 1, 2"""

FAILURES_BY_DAY = f"""
SELECT (created_at AT TIME ZONE 'UTC')::date AS day,
       substring(error_message FROM 1 FOR {PREVIEW_CHARS}) AS error_preview,
       count(*) AS occurrences, max(created_at) AS last_seen
FROM issue_processing_history WHERE {_RUNS_RANGE} AND status = 'failed'
GROUP BY 1, 2"""

RUNS_BY_HOUR = f"""
SELECT {_HOUR} AS hour, count(*) AS completed,
       count(processing_duration_seconds) AS duration_count,
       coalesce(sum(processing_duration_seconds), 0) AS duration_sum
FROM issue_processing_history WHERE {_RUNS_RANGE} AND status = 'completed'
GROUP BY 1"""

GIT_BY_HOUR = f"""
SELECT {_HOUR} AS hour, api_method, count(*) AS calls,
       count(*) FILTER (WHERE status_code >= 400 OR error_message IS NOT NULL) AS errors,
       count(duration_seconds) AS duration_count,
       coalesce(sum(duration_seconds), 0) AS duration_sum
FROM bitbucket_api_history WHERE {_RUNS_RANGE}
GROUP BY 1, 2"""

_ROLLUPS = (  # table, its key (a day or an hour), its columns, the query
    ("stats_file_daily", "day", "day, file_path, modifications, issues, last_modified",
     FILES_BY_DAY),
    ("stats_failure_daily", "day", "day, error_preview, occurrences, last_seen",
     FAILURES_BY_DAY),
    ("stats_run_hourly", "hour", "hour, completed, duration_count, duration_sum", RUNS_BY_HOUR),
    ("stats_git_hourly", "hour", "hour, api_method, calls, errors, duration_count, duration_sum",
     GIT_BY_HOUR),
)

_FILE_TOTALS = """
INSERT INTO stats_file_total (file_path, modifications, issues, last_modified)
SELECT file_path, sum(modifications), sum(issues), max(last_modified)
FROM stats_file_daily WHERE day < :hi_day GROUP BY file_path"""
BULK = timedelta(days=7)


def write_days(conn: Connection, *, lo: datetime, hi: datetime) -> None:
    """Write the analytics rollup rows of the closed days in [lo, hi) (UTC midnights), and the
    per-path totals of every day before `hi`.

    Rows already there for those days are replaced, so emptying only the daily rollup's
    tables to rebuild it cannot count a day twice here. After a bulk write (the first rollup
    of a database with history) the tables are analysed at once: the planner would otherwise
    take a table of thousands of rows for an empty one until autovacuum looks at it."""
    bounds = {"lo": lo, "hi": hi, "lo_day": lo.date(), "hi_day": hi.date()}
    for table, key, columns, query in _ROLLUPS:
        low, high = (":lo_day", ":hi_day") if key == "day" else (":lo", ":hi")
        conn.execute(text(f"DELETE FROM {table} WHERE {key} >= {low} AND {key} < {high}"),
                     bounds)
        conn.execute(text(f"INSERT INTO {table} ({columns}) {query}"), bounds)
    conn.execute(text("DELETE FROM stats_file_total"))
    conn.execute(text(_FILE_TOTALS), bounds)
    if hi - lo >= BULK:
        tables = ", ".join(table for table, *_ in _ROLLUPS)
        conn.execute(text(f"ANALYZE {tables}, stats_file_total"))
