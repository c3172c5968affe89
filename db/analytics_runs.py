"""Issue runs over time: per ISO week, per hour of the day, and why they failed.

Runs count on the UTC day (and hour) they were created. The success rate is the README's,
completed / (completed + failed), not the seed's completed / total: a run still queued or
processing is not judged yet, so a week that is still running does not look worse than it is.
`failed` is given beside `total` so either rate can be read off a row.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import Engine, text

from base import clock
from db.analytics_rollup import FAILURES_BY_DAY, RUNS_BY_HOUR
from db.analytics_window import bounds, first_day, mean_seconds, rate
from db.stats_figures import RUNS_BY_DAY, midnight


class WeekRow(BaseModel):
    week: date
    total: int
    completed: int
    failed: int
    success_rate: float | None


class Weekly(BaseModel):
    weeks: int
    since: date
    items: list[WeekRow]


class HourRow(BaseModel):
    hour: int
    completed: int
    avg_duration_seconds: float | None


class Hourly(BaseModel):
    days: int
    since: date
    items: list[HourRow]


class FailureRow(BaseModel):
    error_preview: str | None
    occurrences: int
    last_seen: datetime


class Failures(BaseModel):
    days: int
    since: date
    items: list[FailureRow]


_WEEKLY = text(f"""
WITH days AS (
    SELECT day, queued + processing AS active, completed, failed FROM stats_daily
    WHERE day >= :start_day AND day < :live_day
    UNION ALL
    SELECT day, queued + processing, completed, failed FROM ({RUNS_BY_DAY.text}) live
)
SELECT day - (extract(isodow FROM day)::int - 1) AS week, sum(active) AS active,
       sum(completed) AS completed, sum(failed) AS failed
FROM days GROUP BY 1""")

_HOURLY = text(f"""
WITH hours AS (
    SELECT hour, completed, duration_count, duration_sum FROM stats_run_hourly
    WHERE hour >= :start AND hour < :live_from
    UNION ALL {RUNS_BY_HOUR}
)
SELECT extract(hour FROM hour AT TIME ZONE 'UTC')::int AS hour_of_day,
       sum(completed) AS completed, sum(duration_count) AS duration_count,
       sum(duration_sum) AS duration_sum
FROM hours GROUP BY 1""")

_FAILURES = text(f"""
WITH parts AS (
    SELECT error_preview, occurrences, last_seen FROM stats_failure_daily
    WHERE day >= :start_day AND day < :live_day
    UNION ALL
    SELECT error_preview, occurrences, last_seen FROM ({FAILURES_BY_DAY}) live
)
SELECT error_preview, sum(occurrences) AS occurrences, max(last_seen) AS last_seen
FROM parts GROUP BY error_preview
ORDER BY occurrences DESC, last_seen DESC, error_preview LIMIT :limit""")


def weekly(engine: Engine, *, weeks: int, use_rollup: bool = True) -> Weekly:
    """The current ISO week (from Monday, UTC) and the `weeks - 1` before it, newest first,
    weeks without runs included."""
    today = clock.today()
    monday = today - timedelta(days=today.weekday())
    since = monday - timedelta(weeks=weeks - 1)
    with engine.connect() as conn:
        params = bounds(conn, start=midnight(since), use_rollup=use_rollup)
        live = {"since": params["lo"], "until": params["hi"]}  # RUNS_BY_DAY's names
        rows = {r.week: r for r in conn.execute(_WEEKLY, {**params, **live})}
    items = []
    for n in range(weeks):
        week = monday - timedelta(weeks=n)
        r = rows.get(week)
        completed, failed = (int(r.completed), int(r.failed)) if r else (0, 0)
        items.append(WeekRow(week=week, total=int(r.active) + completed + failed if r else 0,
                             completed=completed, failed=failed,
                             success_rate=rate(completed, completed + failed)))
    return Weekly(weeks=weeks, since=since, items=items)


def hourly(engine: Engine, *, days: int, use_rollup: bool = True) -> Hourly:
    """Completed runs and their mean duration per UTC hour of the day (0-23, every hour)."""
    since = first_day(days)
    with engine.connect() as conn:
        params = bounds(conn, start=midnight(since), use_rollup=use_rollup)
        rows = {r.hour_of_day: r for r in conn.execute(_HOURLY, params)}
    items = []
    for hour in range(24):
        r = rows.get(hour)
        items.append(HourRow(
            hour=hour, completed=int(r.completed) if r else 0,
            avg_duration_seconds=mean_seconds(r.duration_sum, int(r.duration_count))
            if r else None))
    return Hourly(days=days, since=since, items=items)


def failures(engine: Engine, *, days: int, limit: int, use_rollup: bool = True) -> Failures:
    """The commonest errors of failed runs (first 100 characters), most frequent first."""
    since = first_day(days)
    with engine.connect() as conn:
        params = bounds(conn, start=midnight(since), use_rollup=use_rollup)
        rows = conn.execute(_FAILURES, {**params, "limit": limit}).all()
    return Failures(days=days, since=since, items=[
        FailureRow(error_preview=r.error_preview, occurrences=int(r.occurrences),
                   last_seen=r.last_seen) for r in rows])
