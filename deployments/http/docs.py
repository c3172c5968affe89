"""/openapi.json and /docs behind the same token as the read API: the schema names every route
and parameter, so it is not for anonymous callers once `API_TOKEN` is set."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from deployments.http.deps import ReadAuth

OPENAPI_URL = "/openapi.json"


def router(app: FastAPI) -> APIRouter:
    """The two documentation routes of `app`, left out of its own schema."""
    routes = APIRouter(dependencies=[ReadAuth], include_in_schema=False)

    @routes.get(OPENAPI_URL)
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @routes.get("/docs")
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=OPENAPI_URL, title=f"{app.title} API")

    return routes
