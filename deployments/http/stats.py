"""Read API of aggregate figures; each call rolls up any newly closed days or hours (cheap)."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from db import stats, stats_routes
from deployments.http.deps import EngineDep, ProjectParam, ReadAuth, RepositoryParam

router = APIRouter(tags=["stats"], dependencies=[ReadAuth])
log = logging.getLogger(__name__)

Days = Query(ge=1, le=365, description="UTC days: today and the days - 1 before it")


def refresh_rollup(engine: Engine) -> None:
    """A failed rollup only costs speed: the live path covers days not rolled up."""
    try:
        stats.refresh_rollup(engine)
    except SQLAlchemyError as exc:
        log.warning("stats rollup refresh failed, serving live figures: %s",
                    str(exc).splitlines()[0])


# These read the rollup's state in their own snapshot and roll up only when it misses a closed
# day or hour, so no separate check runs first. They are async only so that FastAPI validates
# the answer on the event loop instead of handing it to a second worker thread.
@router.get("/stats", response_model=stats.Overview)
async def overview(engine: EngineDep, days: Annotated[int | None, Days] = None,
                   project: ProjectParam = None,
                   repository: RepositoryParam = None) -> stats.Overview:
    """Totals over all history or the last `days` UTC days, optionally of one route."""
    route = _route(project, repository)
    return await run_in_threadpool(
        lambda: stats.overview(engine, days=days, refresh=refresh_rollup, route=route))


@router.get("/stats/daily", response_model=stats.Daily)
async def daily(engine: EngineDep, days: Annotated[int, Days] = 30,
                project: ProjectParam = None,
                repository: RepositoryParam = None) -> stats.Daily:
    """Per UTC day: runs, outcomes, durations and LLM cost, newest first."""
    route = _route(project, repository)
    return await run_in_threadpool(
        lambda: stats.daily(engine, days=days, refresh=refresh_rollup, route=route))


@router.get("/stats/by-route", response_model=stats_routes.ByRoute)
def by_route(engine: EngineDep, days: Annotated[int | None, Days] = None,
             project: ProjectParam = None,
             repository: RepositoryParam = None) -> stats_routes.ByRoute:
    """Runs, outcomes and LLM cost per Jira project and repository, most runs first."""
    since = stats.first_day(days, None)
    return stats_routes.by_route(engine, days=days, since=since,
                                 route=stats.RouteFilter(project, repository))


def _route(project: str | None, repository: str | None) -> stats.RouteFilter | None:
    """None when no filter is asked: the figures come from the rollup."""
    return stats.RouteFilter(project, repository) if project or repository else None


@router.get("/stats/llm-cost", response_model=stats.LlmCost)
async def llm_cost(engine: EngineDep, days: Annotated[int, Days] = 30) -> stats.LlmCost:
    """LLM calls, tokens and cost per UTC day, model and call type."""
    return await run_in_threadpool(
        lambda: stats.llm_cost(engine, days=days, refresh=refresh_rollup))
