"""Day aggregates of the history, and the `stats_daily`/`stats_llm_daily` rollup built from them.

The same day-grouped queries serve the rollup (closed days) and the live part of /stats (the
days after the rollup), so both paths count alike. A day is closed once it is over (with a
10-minute grace for transactions that began before midnight) and no run created on it is still
queued or processing: after that nothing in the schema changes its figures, so its rollup rows
are written once and never updated. Rolling up is idempotent and incremental: it starts after
the newest rolled-up day and stops before the first day that is not closed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import Connection, Engine, insert, text

from base import clock
from db.analytics_rollup import write_days as write_analytics_days
from db.duration_histogram import Histogram, bucket_sql
from db.models import StatsDaily, StatsLlmDaily

GRACE = timedelta(minutes=10)
CHUNK_DAYS = 31
_LOCK_KEY = 0x5DB57A75  # pg advisory lock: one rollup writer at a time
_DAY = "(created_at AT TIME ZONE 'UTC')::date"
_RANGE = "created_at >= :since AND created_at < :until"

RUNS_BY_DAY = text(f"""
SELECT {_DAY} AS day,
       count(*) FILTER (WHERE status = 'queued') AS queued,
       count(*) FILTER (WHERE status = 'processing') AS processing,
       count(*) FILTER (WHERE status = 'completed') AS completed,
       count(*) FILTER (WHERE status = 'failed') AS failed,
       coalesce(sum(modified_files_count) FILTER (WHERE status = 'completed'), 0)
           AS files_modified,
       coalesce(sum(processing_duration_seconds) FILTER (WHERE status = 'completed'), 0)
           AS duration_sum
FROM issue_processing_history WHERE {_RANGE} GROUP BY 1""")

DURATIONS_BY_DAY = text(f"""
SELECT {_DAY} AS day, {bucket_sql("processing_duration_seconds")} AS bucket,
       count(*) AS n, sum(processing_duration_seconds)::float8 AS total
FROM issue_processing_history
WHERE {_RANGE} AND status = 'completed' AND processing_duration_seconds IS NOT NULL
GROUP BY 1, 2""")

BITBUCKET_BY_DAY = text(f"""
SELECT {_DAY} AS day, count(*) AS calls,
       count(*) FILTER (WHERE status_code >= 400 OR error_message IS NOT NULL) AS errors
FROM bitbucket_api_history WHERE {_RANGE} GROUP BY 1""")

LLM_BY_DAY = text(f"""
SELECT {_DAY} AS day, model, call_type, count(*) AS calls,
       count(*) FILTER (WHERE cache_hit) AS cache_hits,
       count(estimated_cost) AS priced_calls,
       count(*) FILTER (WHERE estimated_cost IS NULL AND NOT cache_hit) AS unpriced_calls,
       coalesce(sum(estimated_cost), 0) AS cost,
       coalesce(sum(prompt_tokens), 0) AS prompt_tokens,
       coalesce(sum(completion_tokens), 0) AS completion_tokens,
       coalesce(sum(cached_tokens), 0) AS cached_tokens,
       coalesce(sum(total_tokens), 0) AS total_tokens
FROM llm_call_history WHERE {_RANGE} GROUP BY 1, 2, 3""")


@dataclass
class DayRuns:
    """Runs created on one UTC day, and that day's git-host calls."""

    day: date
    queued: int = 0
    processing: int = 0
    completed: int = 0
    failed: int = 0
    files_modified: int = 0
    durations: Histogram = field(default_factory=Histogram)
    duration_sum: Decimal = Decimal(0)
    bitbucket_calls: int = 0
    bitbucket_errors: int = 0

    @property
    def runs(self) -> int:
        return self.queued + self.processing + self.completed + self.failed


@dataclass(frozen=True)
class LlmGroup:
    """LLM calls of one UTC day, model and call type."""

    day: date
    model: str
    call_type: str
    calls: int
    cache_hits: int
    priced_calls: int
    unpriced_calls: int
    cost: Decimal
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    total_tokens: int


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _window(since: date | None, until: date | None) -> dict[str, datetime]:
    return {
        "since": midnight(since) if since else datetime(1, 1, 2, tzinfo=UTC),
        "until": midnight(until) if until else datetime(9999, 12, 30, tzinfo=UTC),
    }


def aggregate_runs(conn: Connection, *, since: date | None,
                   until: date | None = None) -> dict[date, DayRuns]:
    """Day figures of runs created in [since, until) and git-host calls made then."""
    params = _window(since, until)
    days: dict[date, DayRuns] = {}

    def of(day: date) -> DayRuns:
        return days.setdefault(day, DayRuns(day))

    for row in conn.execute(RUNS_BY_DAY, params):
        agg = of(row.day)
        agg.queued, agg.processing = row.queued, row.processing
        agg.completed, agg.failed = row.completed, row.failed
        agg.files_modified = int(row.files_modified)
        agg.duration_sum = row.duration_sum
    for row in conn.execute(DURATIONS_BY_DAY, params):
        agg = of(row.day)
        agg.durations.put(row.bucket, row.n, row.total)
    for row in conn.execute(BITBUCKET_BY_DAY, params):
        agg = of(row.day)
        agg.bitbucket_calls, agg.bitbucket_errors = row.calls, row.errors
    return days


def aggregate_llm(conn: Connection, *, since: date | None,
                  until: date | None = None) -> list[LlmGroup]:
    """LLM calls made in [since, until), per day, model and call type."""
    rows = conn.execute(LLM_BY_DAY, _window(since, until)).mappings()
    return [LlmGroup(**row) for row in rows]


def closed_through(conn: Connection) -> date | None:
    """The newest day that can be rolled up now, or None when no day is closed.

    "Now" is the product's clock, not the database server's: a day closes GRACE after its
    UTC midnight, and never while a run created on it (or earlier) is still active."""
    first_active = conn.execute(text("""
        SELECT (min(created_at) AT TIME ZONE 'UTC')::date FROM issue_processing_history
        WHERE status IN ('queued', 'processing')""")).scalar()
    last = (clock.now() - GRACE).date() - timedelta(days=1)
    if first_active is not None:
        last = min(last, first_active - timedelta(days=1))
    return last


def rolled_through(conn: Connection) -> date | None:
    """The newest rolled-up day (the rollup is contiguous), or None when it is empty."""
    return conn.execute(text("SELECT max(day) FROM stats_daily")).scalar()


def _first_day(conn: Connection) -> date | None:
    return conn.execute(text("""
        SELECT (least((SELECT min(created_at) FROM issue_processing_history),
                      (SELECT min(created_at) FROM llm_call_history),
                      (SELECT min(created_at) FROM bitbucket_api_history))
                AT TIME ZONE 'UTC')::date""")).scalar()


def refresh_rollup(engine: Engine, *, through: date | None = None, wait: bool = False) -> int:
    """Roll up every closed day not rolled up yet (up to `through`); returns days added.

    Cheap when nothing is missing (two indexed look-ups). Another process already rolling up
    makes this return 0 at once unless `wait`: the live path covers those days meanwhile."""
    added = 0
    while True:
        with engine.begin() as conn:
            lock = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
            got = conn.execute(text(f"SELECT {lock}(:k)"), {"k": _LOCK_KEY}).scalar()
            if got is False:
                return added
            last = closed_through(conn)
            if through is not None and last is not None:
                last = min(last, through)
            done = rolled_through(conn)
            start = done + timedelta(days=1) if done else _first_day(conn)
            if start is None or last is None or start > last:
                return added
            end = min(last, start + timedelta(days=CHUNK_DAYS - 1))
            _write_days(conn, start, end)
            added += (end - start).days + 1


def _write_days(conn: Connection, start: date, end: date) -> None:
    """Insert rollup rows for every day in [start, end], empty days included."""
    until = end + timedelta(days=1)
    runs = aggregate_runs(conn, since=start, until=until)
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    conn.execute(insert(StatsDaily), [_daily_row(runs.get(day) or DayRuns(day)) for day in days])
    groups = aggregate_llm(conn, since=start, until=until)
    if groups:
        conn.execute(insert(StatsLlmDaily), [vars(group) for group in groups])
    write_analytics_days(conn, lo=midnight(start), hi=midnight(until))


def _daily_row(agg: DayRuns) -> dict[str, object]:
    return {
        "day": agg.day, "queued": agg.queued, "processing": agg.processing,
        "completed": agg.completed, "failed": agg.failed,
        "files_modified": agg.files_modified, "duration_count": agg.durations.n,
        "duration_sum": agg.duration_sum, "duration_hist": agg.durations.counts,
        "duration_hist_sum": agg.durations.sums, "bitbucket_calls": agg.bitbucket_calls,
        "bitbucket_errors": agg.bitbucket_errors,
    }


_ROLLED = "day >= coalesce(CAST(:since AS date), '-infinity') AND day <= :through"


def rolled_runs(conn: Connection, *, since: date | None, through: date) -> dict[date, DayRuns]:
    """The rollup's day figures in [since, through] (from the first when `since` is None)."""
    rows = conn.execute(text(f"SELECT * FROM stats_daily WHERE {_ROLLED}"),
                        {"since": since, "through": through}).mappings()
    out: dict[date, DayRuns] = {}
    for row in rows:
        out[row["day"]] = DayRuns(
            row["day"], row["queued"], row["processing"], row["completed"], row["failed"],
            int(row["files_modified"]),
            Histogram.from_arrays(row["duration_hist"], row["duration_hist_sum"]),
            row["duration_sum"], row["bitbucket_calls"], row["bitbucket_errors"])
    return out


def rolled_llm(conn: Connection, *, since: date | None, through: date) -> list[LlmGroup]:
    rows = conn.execute(text(f"SELECT * FROM stats_llm_daily WHERE {_ROLLED}"),
                        {"since": since, "through": through}).mappings()
    return [LlmGroup(**row) for row in rows]


_SUM_RUNS = text(f"""
SELECT coalesce(sum(queued), 0) AS queued, coalesce(sum(processing), 0) AS processing,
       coalesce(sum(completed), 0) AS completed, coalesce(sum(failed), 0) AS failed,
       coalesce(sum(files_modified), 0) AS files_modified,
       coalesce(sum(duration_sum), 0) AS duration_sum,
       coalesce(sum(bitbucket_calls), 0) AS bitbucket_calls,
       coalesce(sum(bitbucket_errors), 0) AS bitbucket_errors
FROM stats_daily WHERE {_ROLLED}""")
_SUM_HIST = text(f"""
SELECT u.ord - 1 AS bucket, sum(u.n) AS n, sum(u.total) AS total
FROM stats_daily, unnest(duration_hist, duration_hist_sum) WITH ORDINALITY AS u(n, total, ord)
WHERE {_ROLLED} AND u.n > 0 GROUP BY u.ord""")
_SUM_LLM = text(f"""
SELECT model, call_type, sum(calls) AS calls, sum(cache_hits) AS cache_hits,
       sum(priced_calls) AS priced_calls, sum(unpriced_calls) AS unpriced_calls,
       sum(cost) AS cost, sum(prompt_tokens) AS prompt_tokens,
       sum(completion_tokens) AS completion_tokens, sum(cached_tokens) AS cached_tokens,
       sum(total_tokens) AS total_tokens
FROM stats_llm_daily WHERE {_ROLLED} GROUP BY model, call_type""")


def rolled_sum(conn: Connection, *, since: date | None,
               through: date) -> tuple[DayRuns, list[LlmGroup]]:
    """The rollup's days in [since, through] summed in the database, as one pseudo-day."""
    params = {"since": since, "through": through}
    row = conn.execute(_SUM_RUNS, params).one()
    runs = DayRuns(through, int(row.queued), int(row.processing), int(row.completed),
                   int(row.failed), int(row.files_modified), Histogram(), row.duration_sum,
                   int(row.bitbucket_calls), int(row.bitbucket_errors))
    for bucket, n, total in conn.execute(_SUM_HIST, params):
        runs.durations.put(bucket, int(n), float(total))
    llm = [LlmGroup(through, r.model, r.call_type, int(r.calls), int(r.cache_hits),
                    int(r.priced_calls), int(r.unpriced_calls), r.cost, int(r.prompt_tokens),
                    int(r.completion_tokens), int(r.cached_tokens), int(r.total_tokens))
           for r in conn.execute(_SUM_LLM, params)]
    return runs, llm


def total_figures(engine: Engine, *, since: date | None,
                  use_rollup: bool = True) -> tuple[list[DayRuns], list[LlmGroup]]:
    """Figures from `since` on to be summed: the rollup's sum, then each live day."""
    with engine.connect() as conn:
        done = rolled_through(conn) if use_rollup else None
        if done is None or (since is not None and since > done):
            live_from = since
            runs: list[DayRuns] = []
            llm: list[LlmGroup] = []
        else:
            live_from = done + timedelta(days=1)
            rolled_runs_, llm = rolled_sum(conn, since=since, through=done)
            runs = [rolled_runs_]
        runs += aggregate_runs(conn, since=live_from).values()
        llm += aggregate_llm(conn, since=live_from)
    return runs, llm


def day_figures(engine: Engine, *, since: date | None,
                use_rollup: bool = True) -> tuple[dict[date, DayRuns], list[LlmGroup]]:
    """Per-day figures from `since` on: rolled-up days from the rollup, later days live."""
    with engine.connect() as conn:
        done = rolled_through(conn) if use_rollup else None
        if done is None:
            return aggregate_runs(conn, since=since), aggregate_llm(conn, since=since)
        live_from = done + timedelta(days=1)
        if since is not None and since > live_from:
            live_from = since
        runs = rolled_runs(conn, since=since, through=done)
        runs.update(aggregate_runs(conn, since=live_from))
        llm = rolled_llm(conn, since=since, through=done) + aggregate_llm(conn, since=live_from)
    return runs, llm


def iter_days(first: date, last: date) -> Iterable[date]:
    """Days from `last` back to `first`, newest first."""
    day = last
    while day >= first:
        yield day
        day -= timedelta(days=1)
