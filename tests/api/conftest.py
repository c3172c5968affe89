"""The real HTTP app over the real ASGI stack, on this test's own migrated database."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import URL


def build_app() -> FastAPI:
    """The product's app. Until the webhook module lands, the read routers alone."""
    if importlib.util.find_spec("deployments.http.webhook") is not None:
        from deployments.http.app import create_app

        return create_app()
    from deployments.http import health, history, stats

    app = FastAPI(title="sdb-agent")
    for module in (history, stats, health):
        app.include_router(module.router)
    return app


@pytest.fixture
def client(configured_env: URL, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.delenv("API_TOKEN", raising=False)
    with TestClient(build_app()) as test_client:
        yield test_client
