"""The figures behind /stats, /stats/daily and /stats/llm-cost, from the rollup plus live rows.

Definitions (the README repeats them): days are UTC days and a run counts on the day it was
created; a window of `days` is today and the `days - 1` days before it. The success rate is
completed / (completed + failed): runs still queued or processing are not judged yet. Durations
are those of completed runs; p50 to p99 are nearest-rank percentiles read from the duration
histograms (`db/duration_histogram.py`). Cost sums priced calls only: unpriced calls (NULL cost,
not a cache hit) are counted apart and never as $0, and a cost is null when no call was priced.
A git-host call is an error when it failed (no response, an error recorded) or got a status of
400 or more; the local git host has no status, so its successful calls are not errors.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import Engine

from base import clock
from db.stats_figures import DayFigures, LlmSums, RouteFilter
from db.stats_refresh import refresh_rollup
from db.stats_rollup import Refresh, day_figures, iter_days, llm_groups, totals

__all__ = ["RouteFilter", "daily", "first_day", "llm_cost", "overview", "refresh_rollup"]


class RunCounts(BaseModel):
    total: int
    queued: int
    processing: int
    completed: int
    failed: int
    success_rate: float | None


class Durations(BaseModel):
    measured_runs: int
    avg_seconds: float | None
    p50_seconds: float | None
    p75_seconds: float | None
    p90_seconds: float | None
    p95_seconds: float | None
    p99_seconds: float | None


class LlmTotals(BaseModel):
    calls: int
    cache_hits: int
    cache_hit_rate: float | None
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    total_tokens: int
    cost_usd: float | None
    priced_calls: int
    unpriced_calls: int


class BitbucketTotals(BaseModel):
    calls: int
    errors: int
    error_rate: float | None


class Overview(BaseModel):
    days: int | None
    since: date | None
    runs: RunCounts
    durations: Durations
    files_modified: int
    llm: LlmTotals
    bitbucket: BitbucketTotals


class DailyRow(BaseModel):
    day: date
    runs: int
    completed: int
    failed: int
    active: int
    success_rate: float | None
    avg_duration_seconds: float | None
    p50_duration_seconds: float | None
    p95_duration_seconds: float | None
    files_modified: int
    llm_calls: int
    llm_cache_hits: int
    llm_cost_usd: float | None
    llm_unpriced_calls: int


class Daily(BaseModel):
    days: int
    items: list[DailyRow]


class LlmCostRow(LlmTotals):
    day: date
    model: str
    call_type: str


class LlmCost(BaseModel):
    days: int
    items: list[LlmCostRow]


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _usd(cost: Decimal, priced_calls: int) -> float | None:
    return float(round(cost, 6)) if priced_calls else None


def first_day(days: int | None, today: date | None) -> date | None:
    if days is None:
        return None
    return (today or clock.today()) - timedelta(days=days - 1)


def _llm_totals(x: LlmSums) -> LlmTotals:
    return LlmTotals(
        calls=x.calls, cache_hits=x.cache_hits, cache_hit_rate=_rate(x.cache_hits, x.calls),
        prompt_tokens=x.prompt_tokens, completion_tokens=x.completion_tokens,
        cached_tokens=x.cached_tokens, total_tokens=x.total_tokens,
        cost_usd=_usd(x.cost, x.priced_calls), priced_calls=x.priced_calls,
        unpriced_calls=x.unpriced_calls)


def _mean(total: Decimal, count: int) -> float | None:
    return round(float(total) / count, 3) if count else None


def overview(engine: Engine, *, days: int | None, today: date | None = None,
             use_rollup: bool = True, refresh: Refresh | None = None,
             route: RouteFilter | None = None) -> Overview:
    """Totals over all history, or over the last `days` UTC days (`refresh`: how to roll up
    the closed days or hours the rollup misses, if it does, before reading), of one route's
    runs with `route`."""
    since = first_day(days, today)
    d, llm = totals(engine, since=since, use_rollup=use_rollup, refresh=refresh, route=route)
    h = d.durations
    return Overview(
        days=days, since=since,
        runs=RunCounts(total=d.runs, queued=d.queued, processing=d.processing,
                       completed=d.completed, failed=d.failed,
                       success_rate=_rate(d.completed, d.completed + d.failed)),
        durations=Durations(
            measured_runs=h.n, avg_seconds=_mean(d.duration_sum, h.n),
            p50_seconds=h.percentile(0.5), p75_seconds=h.percentile(0.75),
            p90_seconds=h.percentile(0.9), p95_seconds=h.percentile(0.95),
            p99_seconds=h.percentile(0.99)),
        files_modified=d.files_modified,
        llm=_llm_totals(llm),
        bitbucket=BitbucketTotals(calls=d.bitbucket_calls, errors=d.bitbucket_errors,
                                  error_rate=_rate(d.bitbucket_errors, d.bitbucket_calls)))


def _daily_row(d: DayFigures) -> DailyRow:
    return DailyRow(
        day=d.day, runs=d.queued + d.processing + d.completed + d.failed,
        completed=d.completed, failed=d.failed, active=d.queued + d.processing,
        success_rate=_rate(d.completed, d.completed + d.failed),
        avg_duration_seconds=_mean(d.duration_sum, d.duration_count),
        p50_duration_seconds=d.p50_seconds, p95_duration_seconds=d.p95_seconds,
        files_modified=d.files_modified, llm_calls=d.llm.calls,
        llm_cache_hits=d.llm.cache_hits, llm_cost_usd=_usd(d.llm.cost, d.llm.priced_calls),
        llm_unpriced_calls=d.llm.unpriced_calls)


def daily(engine: Engine, *, days: int, today: date | None = None,
          use_rollup: bool = True, refresh: Refresh | None = None,
          route: RouteFilter | None = None) -> Daily:
    """One row per UTC day of the window, newest first, days without runs included."""
    today = today or clock.today()
    since = first_day(days, today)
    assert since is not None
    figures = day_figures(engine, since=since, use_rollup=use_rollup, refresh=refresh,
                          route=route)
    return Daily(days=days, items=[_daily_row(figures.get(day) or DayFigures(day))
                                   for day in iter_days(since, today)])


def llm_cost(engine: Engine, *, days: int, today: date | None = None,
             use_rollup: bool = True, refresh: Refresh | None = None) -> LlmCost:
    """LLM calls per UTC day, model and call type; newest day first, then costliest."""
    since = first_day(days, today)
    items = [
        LlmCostRow(
            day=g.day, model=g.model, call_type=g.call_type, calls=g.calls,
            cache_hits=g.cache_hits, cache_hit_rate=_rate(g.cache_hits, g.calls),
            prompt_tokens=g.prompt_tokens, completion_tokens=g.completion_tokens,
            cached_tokens=g.cached_tokens, total_tokens=g.total_tokens,
            cost_usd=_usd(g.cost, g.priced_calls), priced_calls=g.priced_calls,
            unpriced_calls=g.unpriced_calls)
        for g in llm_groups(engine, since=since, use_rollup=use_rollup, refresh=refresh)
    ]
    items.sort(key=lambda x: (-x.day.toordinal(), -(x.cost_usd or 0), x.model, x.call_type))
    return LlmCost(days=days, items=items)
