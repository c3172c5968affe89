"""Read API of the seed's analytics queries, served from the rollup plus live rows like /stats."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from db import analytics_calls, analytics_files, analytics_runs
from deployments.http.deps import EngineDep, ReadAuth
from deployments.http.stats import Days, refresh_rollup

router = APIRouter(tags=["stats"], dependencies=[ReadAuth])

Weeks = Query(ge=1, le=520, description="ISO weeks from Monday (UTC): this one and weeks - 1 "
              "before it")
Hours = Query(ge=1, le=720, description="UTC hours: this one and hours - 1 before it")
Limit = Query(ge=1, le=100, description="How many rows, most first")


@router.get("/stats/weekly", response_model=analytics_runs.Weekly)
def weekly(engine: EngineDep, weeks: Annotated[int, Weeks] = 12) -> analytics_runs.Weekly:
    """Runs, completed runs and success rate per ISO week, newest first."""
    refresh_rollup(engine)
    return analytics_runs.weekly(engine, weeks=weeks)


@router.get("/stats/top-files", response_model=analytics_files.TopFiles)
def top_files(engine: EngineDep, limit: Annotated[int, Limit] = 10,
              days: Annotated[int | None, Days] = None) -> analytics_files.TopFiles:
    """The most often modified repository paths, over all history or the last `days`."""
    refresh_rollup(engine)
    return analytics_files.top_files(engine, limit=limit, days=days)


@router.get("/stats/llm-cost/by-model", response_model=analytics_calls.LlmByModel)
def llm_cost_by_model(engine: EngineDep,
                      days: Annotated[int, Days] = 30) -> analytics_calls.LlmByModel:
    """LLM calls, cache hits, tokens and cost per model and call type, costliest first."""
    refresh_rollup(engine)
    return analytics_calls.llm_by_model(engine, days=days)


@router.get("/stats/hourly", response_model=analytics_runs.Hourly)
def hourly(engine: EngineDep, days: Annotated[int, Days] = 7) -> analytics_runs.Hourly:
    """Completed runs and their mean duration per UTC hour of the day."""
    refresh_rollup(engine)
    return analytics_runs.hourly(engine, days=days)


@router.get("/stats/failures", response_model=analytics_runs.Failures)
def failures(engine: EngineDep, days: Annotated[int, Days] = 30,
             limit: Annotated[int, Limit] = 20) -> analytics_runs.Failures:
    """The commonest errors of failed runs (first 100 characters), most frequent first."""
    refresh_rollup(engine)
    return analytics_runs.failures(engine, days=days, limit=limit)


@router.get("/stats/git-host/hourly", response_model=analytics_calls.GitHostHourly)
def git_host_hourly(engine: EngineDep,
                    hours: Annotated[int, Hours] = 24) -> analytics_calls.GitHostHourly:
    """Git-host calls, mean duration and errors per UTC hour and method, newest first."""
    refresh_rollup(engine)
    return analytics_calls.git_host_hourly(engine, hours=hours)
