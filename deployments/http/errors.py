"""A history database that is down or overloaded is the service being unavailable (503, which
callers and load balancers retry), not a bug in the request or in the app (500)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError

from base.errors import DatabaseError

logger = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = "10"


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """DatabaseError texts are ours (password masked); a driver's text is not shown."""
    detail = str(exc) if isinstance(exc, DatabaseError) else "history database unavailable"
    logger.warning("%s %s: %s (%s)", request.method, request.url.path, detail,
                   type(exc).__name__)
    return JSONResponse({"detail": detail}, status_code=503,
                        headers={"Retry-After": RETRY_AFTER_SECONDS})


def register_error_handlers(app: FastAPI) -> None:
    for error in (DatabaseError, OperationalError, InterfaceError):
        app.add_exception_handler(error, _database_unavailable)
