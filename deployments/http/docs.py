"""/openapi.json and /docs behind the same token as the read API (the schema names every route
and parameter, so it is not for anonymous callers once `API_TOKEN` is set), with Swagger UI's
script and style served from the `fastapi-offline` package instead of a CDN, so the page works
on a machine without internet access."""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter, FastAPI, HTTPException
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response

from deployments.http.deps import ReadAuth

OPENAPI_URL = "/openapi.json"
ASSETS_URL = "/docs/assets"
_ASSETS = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css",
           "favicon.png": "image/png"}


def router(app: FastAPI) -> APIRouter:
    """The documentation routes of `app`, left out of its own schema."""
    routes = APIRouter(include_in_schema=False)

    @routes.get(OPENAPI_URL, dependencies=[ReadAuth])
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @routes.get("/docs", dependencies=[ReadAuth])
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=OPENAPI_URL, title=f"{app.title} API",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon.png")

    @routes.get(ASSETS_URL + "/{name}")
    def asset(name: str) -> Response:
        """Swagger UI's own files (public code, so no token: a browser cannot send one)."""
        if name not in _ASSETS:
            raise HTTPException(404, "no such asset")
        data = (files("fastapi_offline") / "static" / name).read_bytes()
        return Response(data, media_type=_ASSETS[name],
                        headers={"Cache-Control": "public, max-age=86400"})

    return routes
