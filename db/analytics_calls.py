"""Outside calls over a window: LLM use per model and call type, git-host calls per hour.

LLM calls count on the UTC day they were made. Cost sums priced calls only (a cache hit is
priced at $0; an unpriced model's call has a NULL cost and is counted in `unpriced_calls`), is
null when no call was priced, and the mean cost per call is over priced calls, as the seed's
AVG(estimated_cost) is. A git-host call is an error when it failed (no response, an error
recorded) or got a status of 400 or more; the seed counts the status only, which misses the
calls that never got an answer.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import Engine, text

from base import clock
from db.analytics_rollup import GIT_BY_HOUR
from db.analytics_window import bounds, first_day, mean_seconds, rate, usd
from db.stats_figures import LLM_BY_DAY, midnight


class ModelRow(BaseModel):
    model: str
    call_type: str
    calls: int
    cache_hits: int
    cache_hit_rate: float | None
    total_tokens: int
    cost_usd: float | None
    priced_calls: int
    unpriced_calls: int
    avg_cost_per_call_usd: float | None


class LlmByModel(BaseModel):
    days: int
    since: date
    items: list[ModelRow]


class GitHourRow(BaseModel):
    hour: datetime
    method: str
    calls: int
    errors: int
    error_rate: float | None
    avg_duration_seconds: float | None


class GitHostHourly(BaseModel):
    hours: int
    since: datetime
    items: list[GitHourRow]


_BY_MODEL = text(f"""
WITH parts AS (
    SELECT model, call_type, calls, cache_hits, priced_calls, unpriced_calls, cost,
           total_tokens FROM stats_llm_daily WHERE day >= :start_day AND day < :live_day
    UNION ALL
    SELECT model, call_type, calls, cache_hits, priced_calls, unpriced_calls, cost,
           total_tokens FROM ({LLM_BY_DAY.text}) live
)
SELECT model, call_type, sum(calls) AS calls, sum(cache_hits) AS cache_hits,
       sum(priced_calls) AS priced_calls, sum(unpriced_calls) AS unpriced_calls,
       sum(cost) AS cost, sum(total_tokens) AS total_tokens
FROM parts GROUP BY model, call_type""")

_GIT_HOURLY = text(f"""
WITH parts AS (
    SELECT hour, api_method, calls, errors, duration_count, duration_sum FROM stats_git_hourly
    WHERE hour >= :start AND hour < :live_from
    UNION ALL {GIT_BY_HOUR}
)
SELECT hour, api_method, sum(calls)::bigint AS calls, sum(errors)::bigint AS errors,
       sum(duration_count)::bigint AS duration_count, sum(duration_sum) AS duration_sum
FROM parts GROUP BY hour, api_method ORDER BY hour DESC, calls DESC, api_method""")


def _mean_cost(cost: Decimal, priced_calls: int) -> float | None:
    return float(round(cost / priced_calls, 6)) if priced_calls else None


def llm_by_model(engine: Engine, *, days: int, use_rollup: bool = True) -> LlmByModel:
    """LLM calls, cache hits, tokens and cost per model and call type, costliest first."""
    since = first_day(days)
    with engine.connect() as conn:
        params = bounds(conn, start=midnight(since), use_rollup=use_rollup)
        live = {"since": params["lo"], "until": params["hi"]}  # LLM_BY_DAY's names
        rows = conn.execute(_BY_MODEL, {**params, **live}).all()
    items = [ModelRow(
        model=r.model, call_type=r.call_type, calls=int(r.calls), cache_hits=int(r.cache_hits),
        cache_hit_rate=rate(int(r.cache_hits), int(r.calls)), total_tokens=int(r.total_tokens),
        cost_usd=usd(r.cost, int(r.priced_calls)), priced_calls=int(r.priced_calls),
        unpriced_calls=int(r.unpriced_calls),
        avg_cost_per_call_usd=_mean_cost(r.cost, int(r.priced_calls))) for r in rows]
    items.sort(key=lambda x: (x.cost_usd is None, -(x.cost_usd or 0), x.model, x.call_type))
    return LlmByModel(days=days, since=since, items=items)


def git_host_hourly(engine: Engine, *, hours: int, use_rollup: bool = True) -> GitHostHourly:
    """Git-host calls per UTC hour and method over the current hour and the `hours - 1`
    before it: newest hour first, then the busiest method; hours without calls are left out."""
    since = clock.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours - 1)
    with engine.connect() as conn:
        params = bounds(conn, start=since, use_rollup=use_rollup)
        rows = conn.execute(_GIT_HOURLY, params).all()
    return GitHostHourly(hours=hours, since=since, items=[GitHourRow(
        hour=hour, method=method, calls=calls, errors=errors, error_rate=rate(errors, calls),
        avg_duration_seconds=mean_seconds(duration_sum, duration_count))
        for hour, method, calls, errors, duration_count, duration_sum in rows])
