"""Dependencies shared by the routes: the one way to the database and to Prefect, and read-API
auth."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request, status
from sqlalchemy import Engine

from base.settings import Settings
from deployments.http.handoff import FlowRunHandoff
from tasks.runtime import current_runtime


def settings_dep() -> Settings:
    return current_runtime().settings


def engine_dep() -> Engine:
    return current_runtime().engine


def handoff_dep(request: Request) -> FlowRunHandoff:
    """The app's one hand-off to Prefect, made in its lifespan."""
    handoff: FlowRunHandoff = request.app.state.handoff
    return handoff


SettingsDep = Annotated[Settings, Depends(settings_dep)]
EngineDep = Annotated[Engine, Depends(engine_dep)]
HandoffDep = Annotated[FlowRunHandoff, Depends(handoff_dep)]


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
