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

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import Engine

from base import clock
from db.duration_histogram import merged
from db.stats_rollup import (
    DayRuns,
    LlmGroup,
    day_figures,
    iter_days,
    refresh_rollup,
    total_figures,
)

__all__ = ["daily", "llm_cost", "overview", "refresh_rollup"]


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


def _first_day(days: int | None, today: date | None) -> date | None:
    if days is None:
        return None
    return (today or clock.today()) - timedelta(days=days - 1)


def _llm_totals(groups: Iterable[LlmGroup]) -> LlmTotals:
    g = list(groups)
    calls, hits = sum(x.calls for x in g), sum(x.cache_hits for x in g)
    priced = sum(x.priced_calls for x in g)
    return LlmTotals(
        calls=calls, cache_hits=hits, cache_hit_rate=_rate(hits, calls),
        prompt_tokens=sum(x.prompt_tokens for x in g),
        completion_tokens=sum(x.completion_tokens for x in g),
        cached_tokens=sum(x.cached_tokens for x in g),
        total_tokens=sum(x.total_tokens for x in g),
        cost_usd=_usd(sum((x.cost for x in g), Decimal(0)), priced),
        priced_calls=priced, unpriced_calls=sum(x.unpriced_calls for x in g))


def overview(engine: Engine, *, days: int | None, today: date | None = None,
             use_rollup: bool = True) -> Overview:
    """Totals over all history, or over the last `days` UTC days."""
    since = _first_day(days, today)
    d, llm = total_figures(engine, since=since, use_rollup=use_rollup)
    completed, failed = sum(x.completed for x in d), sum(x.failed for x in d)
    durations = merged(x.durations for x in d)
    duration_sum = sum((x.duration_sum for x in d), Decimal(0))
    bb_calls, bb_errors = sum(x.bitbucket_calls for x in d), sum(x.bitbucket_errors for x in d)
    return Overview(
        days=days, since=since,
        runs=RunCounts(total=sum(x.runs for x in d), queued=sum(x.queued for x in d),
                       processing=sum(x.processing for x in d), completed=completed,
                       failed=failed, success_rate=_rate(completed, completed + failed)),
        durations=Durations(
            measured_runs=durations.n,
            avg_seconds=round(float(duration_sum) / durations.n, 3) if durations.n else None,
            p50_seconds=durations.percentile(0.5), p75_seconds=durations.percentile(0.75),
            p90_seconds=durations.percentile(0.9), p95_seconds=durations.percentile(0.95),
            p99_seconds=durations.percentile(0.99)),
        files_modified=sum(x.files_modified for x in d),
        llm=_llm_totals(llm),
        bitbucket=BitbucketTotals(calls=bb_calls, errors=bb_errors,
                                  error_rate=_rate(bb_errors, bb_calls)))


def daily(engine: Engine, *, days: int, today: date | None = None,
          use_rollup: bool = True) -> Daily:
    """One row per UTC day of the window, newest first, days without runs included."""
    today = today or clock.today()
    since = _first_day(days, today)
    assert since is not None
    runs_by_day, llm = day_figures(engine, since=since, use_rollup=use_rollup)
    llm_by_day: dict[date, list[LlmGroup]] = {}
    for group in llm:
        llm_by_day.setdefault(group.day, []).append(group)
    items = []
    for day in iter_days(since, today):
        r = runs_by_day.get(day) or DayRuns(day)
        t = _llm_totals(llm_by_day.get(day, []))
        n = r.durations.n
        items.append(DailyRow(
            day=day, runs=r.runs, completed=r.completed, failed=r.failed,
            active=r.queued + r.processing,
            success_rate=_rate(r.completed, r.completed + r.failed),
            avg_duration_seconds=round(float(r.duration_sum) / n, 3) if n else None,
            p50_duration_seconds=r.durations.percentile(0.5),
            p95_duration_seconds=r.durations.percentile(0.95),
            files_modified=r.files_modified, llm_calls=t.calls, llm_cache_hits=t.cache_hits,
            llm_cost_usd=t.cost_usd, llm_unpriced_calls=t.unpriced_calls))
    return Daily(days=days, items=items)


def llm_cost(engine: Engine, *, days: int, today: date | None = None,
             use_rollup: bool = True) -> LlmCost:
    """LLM calls per UTC day, model and call type; newest day first, then costliest."""
    since = _first_day(days, today)
    _, groups = day_figures(engine, since=since, use_rollup=use_rollup)
    items = [
        LlmCostRow(
            day=g.day, model=g.model, call_type=g.call_type, calls=g.calls,
            cache_hits=g.cache_hits, cache_hit_rate=_rate(g.cache_hits, g.calls),
            prompt_tokens=g.prompt_tokens, completion_tokens=g.completion_tokens,
            cached_tokens=g.cached_tokens, total_tokens=g.total_tokens,
            cost_usd=_usd(g.cost, g.priced_calls), priced_calls=g.priced_calls,
            unpriced_calls=g.unpriced_calls)
        for g in groups
    ]
    items.sort(key=lambda x: (-x.day.toordinal(), -(x.cost_usd or 0), x.model, x.call_type))
    return LlmCost(days=days, items=items)

