"""Liveness (no dependencies) and readiness (database at the schema head, Prefect API)."""

from __future__ import annotations

import httpx
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from base.errors import SdbAgentError
from db import migrate
from deployments.http.deps import engine_dep

router = APIRouter(tags=["health"])
PREFECT_TIMEOUT_SECONDS = 3.0


class Check(BaseModel):
    ok: bool
    detail: str


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
        return Check(ok=True, detail="not configured (PREFECT_API_URL unset)")
    try:
        response = httpx.get(f"{str(url).rstrip('/')}/health", timeout=PREFECT_TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        return Check(ok=False, detail=f"Prefect API: {type(exc).__name__}: {_first_line(exc)}")
    if response.status_code != 200:
        return Check(ok=False, detail=f"Prefect API /health answered {response.status_code}")
    return Check(ok=True, detail="Prefect API healthy")


@router.get("/readyz", response_model=Readiness,
            responses={503: {"model": Readiness, "description": "a dependency is down"}})
def readyz() -> JSONResponse:
    """Ready when the database is reachable at the schema head and Prefect answers."""
    checks = {"database": check_database(), "prefect": check_prefect()}
    report = Readiness(ready=all(c.ok for c in checks.values()), checks=checks)
    return JSONResponse(report.model_dump(), status_code=200 if report.ready else 503)
