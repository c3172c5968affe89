"""The FastAPI app: routers only; each route module holds its own endpoints."""

from __future__ import annotations

from fastapi import FastAPI

from deployments.http import health, history, stats, webhook


def create_app() -> FastAPI:
    app = FastAPI(title="sdb-agent", version="0.1.0",
                  description="Jira webhook, and the history of what the agent did and cost.")
    app.include_router(webhook.router)
    app.include_router(history.router)
    app.include_router(stats.router)
    app.include_router(health.router)
    return app
