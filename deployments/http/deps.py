"""Dependencies shared by the routes: the one way to the database and to Prefect, and read-API
auth."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Query, Request, status
from sqlalchemy import Engine

from base.projects import PROJECT_KEY_PATTERN, REPOSITORY_PATTERN
from base.settings import Settings
from deployments.http.handoff_loop import HandoffLoop
from tasks.runtime import current_runtime

EngineSource = Callable[[], Engine]


async def settings_dep() -> Settings:
    """Async: it does no I/O, and a plain function would cost each request a trip through the
    thread pool."""
    return current_runtime().settings


def engine_dep() -> Engine:
    return current_runtime().engine


async def engine_source_dep() -> EngineSource:
    """`engine_dep` itself, for routes that reach the database only in worker threads (the
    webhooks): the engine is resolved there, since it may connect, and the request saves the
    trip through the thread pool that resolving it as a plain dependency costs."""
    return engine_dep


async def handoff_loop_dep(request: Request) -> HandoffLoop:
    """The app's one hand-off loop (to wake after a commit), made in its lifespan; async, as
    a plain function dependency would cost the webhook a trip through the thread pool."""
    loop: HandoffLoop = request.app.state.handoff_loop
    return loop


SettingsDep = Annotated[Settings, Depends(settings_dep)]
EngineDep = Annotated[Engine, Depends(engine_dep)]
EngineSourceDep = Annotated[EngineSource, Depends(engine_source_dep)]
HandoffLoopDep = Annotated[HandoffLoop, Depends(handoff_loop_dep)]


def require_api_token(settings: SettingsDep,
                      authorization: Annotated[str | None, Header()] = None) -> None:
    """With `API_TOKEN` set, the read API wants `Authorization: Bearer <API_TOKEN>` (the scheme
    in any case, as RFC 9110 says)."""
    if settings.api_token is None:
        return
    scheme, _, given = (authorization or "").strip().partition(" ")
    expected = settings.api_token.get_secret_value().encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode("utf-8", "surrogateescape"), expected):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing or wrong bearer token",
                            headers={"WWW-Authenticate": "Bearer"})


ReadAuth = Depends(require_api_token)


# The filters by route (PROJECTS_FILE) of /history, /stats and /stats/daily: typed, so a bad
# value is a 422 and never reaches the database
ProjectParam = Annotated[str | None, Query(
    min_length=1, max_length=50, pattern=PROJECT_KEY_PATTERN,
    description="only runs of this Jira project (its key, e.g. MAT)")]
RepositoryParam = Annotated[str | None, Query(
    min_length=1, max_length=300, pattern=REPOSITORY_PATTERN,
    description="only runs that went to this repository (workspace/repository, or a local path)")]
