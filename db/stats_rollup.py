"""The figures of a window of days, read from the stats rollup plus live rows.

A window's figures come from three parts, read in one snapshot: the rolled-up days in it (one
narrow `stats_daily` row each, or their sums for a total), the rolled-up hours of the days
after them (`stats_hourly`, normally today's: one row per day, its last hour's, holds the
day so far), then the rows after the last rolled-up hour,
aggregated live by the rollup's own queries (normally the last hour or so). So a request reads
tens of rows and plans a few small queries, whatever the size of the history. Per model and
call type there is no hourly rollup: those figures read live rows from the first day not
rolled up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Row, text

from base import clock
from db.duration_histogram import Histogram
from db.stats_figures import (
    LLM_BY_DAY,
    LLM_FIELDS,
    DayFigures,
    DayRuns,
    LlmGroup,
    LlmSums,
    RollupState,
    RouteFilter,
    aggregate,
    histograms_through,
    hour_figures,
    midnight,
)
from db.stats_refresh import behind

# LlmGroup and midnight are re-exported for the callers that read totals from here
__all__ = ["LlmGroup", "day_figures", "iter_days", "llm_groups", "midnight", "rolled_through",
           "total_figures", "totals"]

EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
Refresh = Callable[[Engine], object]
T = TypeVar("T")
_LLM_COLUMNS = ", ".join(f"llm_{name}" for name in LLM_FIELDS)
_IN_DAYS = "day >= :first_day AND day <= :through"
_CLOSED_DAYS = text(f"""
SELECT day, queued, processing, completed, failed, files_modified, duration_count, duration_sum,
       p50_seconds, p95_seconds, {_LLM_COLUMNS}
FROM stats_daily WHERE {_IN_DAYS}""")
_CLOSED_SUMS = text(f"""
SELECT {", ".join(f"coalesce(sum({c}), 0) AS {c}" for c in (
    "queued", "processing", "completed", "failed", "files_modified", "duration_sum",
    "bitbucket_calls", "bitbucket_errors", *(f"llm_{name}" for name in LLM_FIELDS)))}
FROM stats_daily WHERE {_IN_DAYS}""")
_HOURS = text("""
SELECT DISTINCT ON ((hour AT TIME ZONE 'UTC')::date) * FROM stats_hourly
WHERE hour >= :lo AND hour < :hi ORDER BY (hour AT TIME ZONE 'UTC')::date, hour DESC""")
_LLM_GROUPS = text(f"""
WITH parts AS (
    SELECT day, model, call_type, {", ".join(LLM_FIELDS)} FROM stats_llm_daily
    WHERE {_IN_DAYS}
    UNION ALL
    SELECT * FROM ({LLM_BY_DAY.text}) live
)
SELECT day, model, call_type, {", ".join(f"sum({c}) AS {c}" for c in LLM_FIELDS)}
FROM parts GROUP BY day, model, call_type""")


def rolled_through(conn: Connection) -> date | None:
    """The newest rolled-up day (the rollup is contiguous), or None when it is empty."""
    return conn.execute(text("SELECT max(day) FROM stats_daily")).scalar()


def _snapshot(engine: Engine) -> Connection:
    """One snapshot for the rollup state and the rows read after it: a concurrent rollup that
    replaces hourly rows by their day cannot make a part vanish or count twice."""
    return engine.connect().execution_options(isolation_level="REPEATABLE READ")


def _read(engine: Engine, use_rollup: bool, refresh: Refresh | None,
          read: Callable[[Connection, RollupState], T]) -> T:
    """`read` in one snapshot, after the rollup's state. With `refresh`, a state that misses a
    closed day or hour is rolled up first and read again; usually the state's one statement
    tells that nothing is missing, so the check costs no connection of its own."""
    with _snapshot(engine) as conn:
        state = RollupState.read(conn) if use_rollup else RollupState(None)
        if refresh is None or not use_rollup or not behind(state):
            return read(conn, state)
    refresh(engine)
    with _snapshot(engine) as conn:
        return read(conn, RollupState.read(conn))


def _horizon() -> datetime:
    """Where live rows end: after tomorrow (a day of slack for clocks), so the planner reads
    only this month's partitions instead of every one made ahead."""
    return midnight(clock.today() + timedelta(days=2))


def _after_days(state: RollupState, since: date | None) -> datetime:
    start = midnight(since) if since else EARLIEST
    return max(start, midnight(state.done + timedelta(days=1))) if state.done else start


def _sums(r: Row[Any], prefix: str = "") -> list[Any]:
    """The LLM figures of a row, counts as integers (a sum of bigints comes back numeric)."""
    return [getattr(r, prefix + name) if name == "cost" else int(getattr(r, prefix + name))
            for name in LLM_FIELDS]


def _llm(r: Row[Any]) -> LlmSums:
    return LlmSums(*_sums(r, "llm_"))


def _histogram_of(conn: Connection, since: date | None, through: date) -> Histogram:
    """The rolled-up days' durations from `since` through `through`: the running sum through
    `through` less the one through the day before `since`."""
    if since is not None and since > through:
        return Histogram()
    if since is None:
        return histograms_through(conn, through)[0]
    total, before = histograms_through(conn, through, since - timedelta(days=1))
    return Histogram([a - b for a, b in zip(total.counts, before.counts, strict=True)],
                     [a - b for a, b in zip(total.sums, before.sums, strict=True)])


def _hours(conn: Connection, lo: datetime, hi: datetime) -> dict[date, tuple[DayRuns, LlmSums]]:
    """Each day's figures through its last rolled-up hour in [lo, hi): that hour's row."""
    return {runs.day: (runs, llm)
            for runs, llm in map(hour_figures, conn.execute(_HOURS, {"lo": lo, "hi": hi}))}


def _open_days(conn: Connection, state: RollupState, since: date | None, *,
               git_host: bool = True, route: RouteFilter | None = None
               ) -> dict[date, tuple[DayRuns, LlmSums]]:
    """Per day after the rolled-up days: their rolled-up hours plus the live rows after
    (git-host calls unless not `git_host`: /stats/daily shows none)."""
    lo = _after_days(state, since)
    live_from = max(lo, state.hours_until or lo)
    out = _hours(conn, lo, live_from) if live_from > lo else {}
    live, groups = aggregate(conn, lo=live_from, hi=_horizon(), per="day", git_host=git_host,
                             route=route)
    llm: dict[date, list[LlmGroup]] = {}
    for group in groups:
        llm.setdefault(group.day, []).append(group)
    for day in live.keys() | llm.keys():
        runs, sums = out.get(day) or (DayRuns(day), LlmSums())
        runs.add(live.get(day) or DayRuns(day))
        out[day] = runs, LlmSums.of([sums, *llm.get(day, [])])
    return out


def totals(engine: Engine, *, since: date | None, use_rollup: bool = True,
           refresh: Refresh | None = None,
           route: RouteFilter | None = None) -> tuple[DayRuns, LlmSums]:
    """Runs (as one pseudo-day, dated today) and LLM calls from `since` on, summed. The
    rollup keeps every route together: a route's figures are read from the rows."""
    return _read(engine, use_rollup and route is None, refresh,
                 lambda conn, state: _totals(conn, state, since, route))


def _totals(conn: Connection, state: RollupState, since: date | None,
            route: RouteFilter | None = None) -> tuple[DayRuns, LlmSums]:
    runs, llm = DayRuns(clock.today()), [LlmSums()]
    if state.done is not None:
        days = {"first_day": since or EARLIEST.date(), "through": state.done}
        r = conn.execute(_CLOSED_SUMS, days).one()
        runs = DayRuns(runs.day, int(r.queued), int(r.processing), int(r.completed),
                       int(r.failed), int(r.files_modified),
                       _histogram_of(conn, since, state.done), r.duration_sum,
                       int(r.bitbucket_calls), int(r.bitbucket_errors))
        llm = [_llm(r)]
    for day_runs, day_llm in _open_days(conn, state, since, route=route).values():
        runs.add(day_runs)
        llm.append(day_llm)
    return runs, LlmSums.of(llm)


def total_figures(engine: Engine, *, since: date | None,
                  use_rollup: bool = True) -> tuple[list[DayRuns], list[LlmGroup]]:
    """As `totals`, with LLM calls per model and call type (each dated today)."""
    runs, _ = totals(engine, since=since, use_rollup=use_rollup)
    by_model: dict[tuple[str, str], list[LlmGroup]] = {}
    for g in llm_groups(engine, since=since, use_rollup=use_rollup):
        by_model.setdefault((g.model, g.call_type), []).append(g)
    return [runs], [LlmGroup(runs.day, model, call_type, *vars(LlmSums.of(g)).values())
                    for (model, call_type), g in by_model.items()]


def day_figures(engine: Engine, *, since: date, use_rollup: bool = True,
                refresh: Refresh | None = None,
                route: RouteFilter | None = None) -> dict[date, DayFigures]:
    """Each day from `since` on that has any figure: closed days as rolled up, later days
    from their rolled-up hours and live rows (a route's: all from its rows)."""
    return _read(engine, use_rollup and route is None, refresh,
                 lambda conn, state: _days(conn, state, since, route))


def _days(conn: Connection, state: RollupState, since: date,
          route: RouteFilter | None = None) -> dict[date, DayFigures]:
    out = {}
    if state.done is not None and since <= state.done:
        for r in conn.execute(_CLOSED_DAYS, {"first_day": since, "through": state.done}):
            out[r.day] = DayFigures(
                r.day, r.queued, r.processing, r.completed, r.failed, r.files_modified,
                r.duration_count, r.duration_sum, r.p50_seconds, r.p95_seconds,
                LlmSums(*r[10:]))  # the llm_* columns, in LlmSums' order
    out.update((day, DayFigures.of(runs, llm))
               for day, (runs, llm) in _open_days(conn, state, since, git_host=False,
                                                   route=route).items())
    return out


def llm_groups(engine: Engine, *, since: date | None, use_rollup: bool = True,
               refresh: Refresh | None = None) -> list[LlmGroup]:
    """LLM calls per UTC day, model and call type from `since` on."""
    def read(conn: Connection, state: RollupState) -> list[LlmGroup]:
        rows = conn.execute(_LLM_GROUPS, {
            "first_day": since or EARLIEST.date(), "through": state.done,
            "since": _after_days(state, since), "until": _horizon()})
        return [LlmGroup(r.day, r.model, r.call_type, *_sums(r)) for r in rows]

    return _read(engine, use_rollup, refresh, read)


def iter_days(first: date, last: date) -> Iterable[date]:
    """Days from `last` back to `first`, newest first."""
    day = last
    while day >= first:
        yield day
        day -= timedelta(days=1)
