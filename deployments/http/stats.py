"""Read API of aggregate figures; each call first rolls up any newly closed days (cheap)."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from db import stats
from deployments.http.deps import EngineDep, ReadAuth

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


@router.get("/stats", response_model=stats.Overview)
def overview(engine: EngineDep, days: Annotated[int | None, Days] = None) -> stats.Overview:
    """Totals over all history, or over the last `days` UTC days."""
    refresh_rollup(engine)
    return stats.overview(engine, days=days)


@router.get("/stats/daily", response_model=stats.Daily)
def daily(engine: EngineDep, days: Annotated[int, Days] = 30) -> stats.Daily:
    """Per UTC day: runs, outcomes, durations and LLM cost, newest first."""
    refresh_rollup(engine)
    return stats.daily(engine, days=days)


@router.get("/stats/llm-cost", response_model=stats.LlmCost)
def llm_cost(engine: EngineDep, days: Annotated[int, Days] = 30) -> stats.LlmCost:
    """LLM calls, tokens and cost per UTC day, model and call type."""
    refresh_rollup(engine)
    return stats.llm_cost(engine, days=days)
