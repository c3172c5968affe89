"""Writing the stats rollup: closed days into `stats_daily`/`stats_llm_daily`, then the closed
hours after them into `stats_hourly`.

A day is closed once it is over (with a 10-minute grace for transactions that began before
midnight) and no run created on it is still queued or processing: after that nothing in the
schema changes its figures, so its rows are written once and never updated. An hour closes
the same way, 10 minutes after its end if no run created in it or before is still active.
Hourly rows cover only the days not rolled up yet (normally today), each holding its day's
figures from midnight through its hour, and go when their day is rolled up. Rolling up is
idempotent and incremental: it starts after the newest rolled-up day (or hour) and stops
before the first one that is not closed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection, Engine, insert, text

from base import clock
from db.analytics_rollup import write_days as write_analytics_days
from db.models import StatsDaily, StatsHourly, StatsLlmDaily
from db.stats_figures import (
    HOUR,
    LLM_FIELDS,
    DayFigures,
    DayRuns,
    LlmGroup,
    LlmSums,
    RollupState,
    aggregate,
    histograms_through,
    hour_figures,
    midnight,
)

GRACE = timedelta(minutes=10)
CHUNK_DAYS = 31
_LOCK_KEY = 0x5DB57A75  # pg advisory lock: one rollup writer at a time


def closed_through(state: RollupState) -> date:
    """The newest day that can be rolled up now (it may be before the first day of history).

    "Now" is the product's clock, not the database server's: a day closes GRACE after its
    UTC midnight, and never while a run created on it (or earlier) is still active."""
    last = (clock.now() - GRACE).date() - timedelta(days=1)
    if state.first_active is not None:
        last = min(last, state.first_active.astimezone(UTC).date() - timedelta(days=1))
    return last


def closed_hours_until(state: RollupState) -> datetime:
    """The end of the last hour that can be rolled up now (as `closed_through`, per hour)."""
    end = clock.now() - GRACE
    if state.first_active is not None:
        end = min(end, state.first_active)
    return end.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _hours_from(state: RollupState) -> datetime | None:
    if state.done is None:
        return None
    return state.hours_until or midnight(state.done + timedelta(days=1))


def behind(state: RollupState) -> bool:
    """Whether a closed day or hour is missing (always, with no day rolled up yet: only the
    locked path looks for the first day of history)."""
    hours_from = _hours_from(state)
    return (hours_from is None or state.done is None or state.done < closed_through(state)
            or hours_from < closed_hours_until(state))


def _first_day(conn: Connection) -> date | None:
    return conn.execute(text("""
        SELECT (least((SELECT min(created_at) FROM issue_processing_history),
                      (SELECT min(created_at) FROM llm_call_history),
                      (SELECT min(created_at) FROM bitbucket_api_history))
                AT TIME ZONE 'UTC')::date""")).scalar()


def refresh_rollup(engine: Engine, *, through: date | None = None, wait: bool = False) -> int:
    """Roll up every closed day not rolled up yet (up to `through`), then, unless `through`
    is given, the closed hours after them; returns the days added.

    Cheap when nothing is missing (one query of indexed look-ups). Another process already
    rolling up makes this return 0 at once unless `wait`: the live path covers those days and
    hours meanwhile."""
    if through is None and not wait:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            if not behind(RollupState.read(conn)):  # one statement: no transaction to open
                return 0
    added = 0
    while True:
        with engine.begin() as conn:
            lock = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
            got = conn.execute(text(f"SELECT {lock}(:k)"), {"k": _LOCK_KEY}).scalar()
            if got is False:
                return added
            state = RollupState.read(conn)
            last = closed_through(state)
            if through is not None:
                last = min(last, through)
            start = state.done + timedelta(days=1) if state.done else _first_day(conn)
            if start is None or start > last:
                if through is None:
                    _write_hours(conn, state)
                return added
            end = min(last, start + timedelta(days=CHUNK_DAYS - 1))
            _write_days(conn, start, end)
            added += (end - start).days + 1


def _write_days(conn: Connection, start: date, end: date) -> None:
    """Insert rollup rows for every day in [start, end], empty days included, and drop the
    hourly rows those days replace."""
    lo, hi = midnight(start), midnight(end + timedelta(days=1))
    runs, groups = aggregate(conn, lo=lo, hi=hi, per="day")
    llm = _llm_by_key(groups)
    cumulative, = histograms_through(conn, start - timedelta(days=1))
    rows = []
    for day in (start + timedelta(days=i) for i in range((end - start).days + 1)):
        agg, sums = runs.get(day) or DayRuns(day), llm.get(day, LlmSums())
        figures = DayFigures.of(agg, sums)
        cumulative.add(agg.durations)
        rows.append(_row(agg, sums, "day") | {
            "p50_seconds": figures.p50_seconds, "p95_seconds": figures.p95_seconds,
            "duration_cum": list(cumulative.counts), "duration_cum_sum": list(cumulative.sums)})
    conn.execute(insert(StatsDaily), rows)
    if groups:
        conn.execute(insert(StatsLlmDaily), [vars(group) for group in groups])
    conn.execute(text("DELETE FROM stats_hourly WHERE hour < :hi"), {"hi": hi})
    write_analytics_days(conn, lo=lo, hi=hi)


def _write_hours(conn: Connection, state: RollupState) -> None:
    """Insert a row for every closed hour after the rolled-up days and hours, holding its day's
    figures from midnight through that hour (so a read takes one row per day, not 24)."""
    lo, hi = _hours_from(state), closed_hours_until(state)
    if lo is None or lo >= hi:
        return
    if state.hours_until is None:  # rows left from before a rebuild: they start elsewhere
        conn.execute(text("DELETE FROM stats_hourly"))
    runs, groups = aggregate(conn, lo=lo, hi=hi, per="hour")
    llm = _llm_by_key(groups)
    so_far, llm_so_far = _day_so_far(conn, lo)
    rows = []
    for hour in (lo + i * HOUR for i in range((hi - lo) // HOUR)):
        if hour == midnight(hour.date()):
            so_far, llm_so_far = DayRuns(hour.date()), LlmSums()
        so_far.add(runs.get(hour) or DayRuns(hour))
        llm_so_far = LlmSums.of([llm_so_far, llm.get(hour, LlmSums())])
        rows.append(_row(so_far, llm_so_far, "hour") | {"hour": hour})
    conn.execute(insert(StatsHourly), rows)


def _day_so_far(conn: Connection, hour: datetime) -> tuple[DayRuns, LlmSums]:
    """The figures of `hour`'s day before it, from the hourly row of the hour before."""
    row = conn.execute(text("SELECT * FROM stats_hourly WHERE hour = :hour"),
                       {"hour": hour - HOUR}).one_or_none()
    return hour_figures(row) if row else (DayRuns(hour.date()), LlmSums())


def _llm_by_key(groups: list[LlmGroup]) -> dict[date, LlmSums]:
    by_key: dict[date, list[LlmGroup]] = {}
    for group in groups:
        by_key.setdefault(group.day, []).append(group)
    return {key: LlmSums.of(g) for key, g in by_key.items()}


def _row(agg: DayRuns, llm: LlmSums, key: str) -> dict[str, object]:
    return {
        key: agg.day, "queued": agg.queued, "processing": agg.processing,
        "completed": agg.completed, "failed": agg.failed,
        "files_modified": agg.files_modified, "duration_count": agg.durations.n,
        "duration_sum": agg.duration_sum, "duration_hist": list(agg.durations.counts),
        "duration_hist_sum": list(agg.durations.sums), "bitbucket_calls": agg.bitbucket_calls,
        "bitbucket_errors": agg.bitbucket_errors,
        **{f"llm_{name}": getattr(llm, name) for name in LLM_FIELDS},
    }
