"""The FastAPI app: routers only; each route module holds its own endpoints."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prefect.settings import PREFECT_API_URL

from deployments.http import (
    analytics,
    bitbucket_webhook,
    docs,
    health,
    history,
    metrics,
    stats,
    webhook,
)
from deployments.http.deps import engine_dep
from deployments.http.errors import register_error_handlers
from deployments.http.handoff import REVISE_DEPLOYMENT, FlowRunHandoff
from deployments.http.handoff_loop import HandoffLoop
from tasks.runtime import current_runtime


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """One Prefect client per webhook's deployment while the app runs, made ready at start
    when a Prefect API is configured (without one there is nothing to hand off to), and the
    hand-off loop that uses them. The loop starts with whatever an earlier process left."""
    budget = current_runtime().settings.webhook_handoff_seconds
    handoffs = [FlowRunHandoff(budget), FlowRunHandoff(budget, deployment=REVISE_DEPLOYMENT)]
    if PREFECT_API_URL.value():
        for handoff in handoffs:
            await handoff.prepare()
    app.state.handoff_loop = HandoffLoop(handoffs, engine_dep)
    app.state.handoff_loop.start()
    try:
        yield
    finally:
        await app.state.handoff_loop.stop()
        for handoff in handoffs:
            await handoff.aclose()


def create_app() -> FastAPI:
    app = FastAPI(title="sdb-agent", version="0.1.0", lifespan=_lifespan,
                  description="Jira webhook, and the history of what the agent did and cost.",
                  docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(docs.router(app))
    app.include_router(webhook.router)
    app.include_router(bitbucket_webhook.router)
    app.include_router(history.router)
    app.include_router(stats.router)
    app.include_router(analytics.router)
    app.include_router(health.router)
    app.include_router(metrics.router)
    register_error_handlers(app)
    return app
