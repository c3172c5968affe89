"""Liveness (no dependencies) and readiness: the database at the schema head decides it; the
Prefect API and the webhook backlog are reported beside it.

Neither Prefect nor a backlog makes the app unready. Accepting a delivery needs only the
database: it is queued there and the hand-off loop starts its run when Prefect answers. A
replica taken out of service for either would turn away deliveries it could keep, and with
every replica out, Jira's retries would fail too, for the length of the outage.
"""

from __future__ import annotations

import httpx
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from base import clock
from base.errors import SdbAgentError
from db import migrate, webhook_outbox
from deployments.http.deps import engine_dep

router = APIRouter(tags=["health"])
PREFECT_TIMEOUT_SECONDS = 3.0
BACKLOG_STALE_SECONDS = 300.0


class Check(BaseModel):
    ok: bool
    detail: str
    required: bool = Field(default=True, description="whether `ready` depends on it")


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, Check]


class Liveness(BaseModel):
    status: str


@router.get("/healthz", response_model=Liveness)
def healthz() -> Liveness:
    """The process is up and answering; checks nothing else."""
    return Liveness(status="ok")


def _first_line(exc: BaseException) -> str:
    text_ = str(getattr(exc, "orig", None) or exc).strip()
    return text_.splitlines()[0] if text_ else type(exc).__name__


def check_database() -> Check:
    """SELECT 1, then the schema must be at this code's head (success is cached per engine)."""
    try:
        engine = engine_dep()
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        migrate.require_current_schema(engine)
    except (SdbAgentError, SQLAlchemyError) as exc:
        return Check(ok=False, detail=_first_line(exc))
    return Check(ok=True, detail=f"reachable, schema at {migrate.head_revision()}")


def check_prefect() -> Check:
    """GET {PREFECT_API_URL}/health when a Prefect API is configured."""
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if not url:
        return Check(ok=True, detail="not configured (PREFECT_API_URL unset)", required=False)
    try:
        response = httpx.get(f"{str(url).rstrip('/')}/health", timeout=PREFECT_TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        return Check(ok=False, detail=f"Prefect API: {type(exc).__name__}: {_first_line(exc)}",
                     required=False)
    if response.status_code != 200:
        return Check(ok=False, detail=f"Prefect API /health answered {response.status_code}",
                     required=False)
    return Check(ok=True, detail="Prefect API healthy", required=False)


def check_backlog() -> Check:
    """Webhook deliveries accepted and not handed to Prefect yet, and the oldest one's wait;
    not ok once that wait passes BACKLOG_STALE_SECONDS (the loop is not keeping up)."""
    try:
        backlog = webhook_outbox.backlog(engine_dep())
    except (SdbAgentError, SQLAlchemyError) as exc:
        return Check(ok=False, detail=f"unknown: {_first_line(exc)}", required=False)
    if backlog.oldest_received_at is None:
        return Check(ok=True, detail="0 deliveries waiting for their hand-off", required=False)
    age = max(0.0, (clock.now() - backlog.oldest_received_at).total_seconds())
    last = f", last error: {backlog.oldest_error}" if backlog.oldest_error else ""
    return Check(ok=age < BACKLOG_STALE_SECONDS, required=False, detail=(
        f"{backlog.waiting} deliveries waiting for their hand-off; the oldest for {age:.0f} s "
        f"({backlog.oldest_attempts} attempts{last})"))


@router.get("/readyz", response_model=Readiness,
            responses={503: {"model": Readiness, "description": "the database is down or behind"}})
def readyz() -> JSONResponse:
    """Ready when the database answers at the schema head; Prefect and the backlog are shown."""
    checks = {"database": check_database(), "prefect": check_prefect(),
              "webhook_backlog": check_backlog()}
    report = Readiness(ready=all(c.ok for c in checks.values() if c.required), checks=checks)
    return JSONResponse(report.model_dump(), status_code=200 if report.ready else 503)
