"""The real HTTP app over the real ASGI stack, on this test's own migrated database."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import ConfiguredRuntime


def build_app() -> FastAPI:
    """A new app, for a test that runs one beside the `client` fixture's or configures it."""
    from deployments.http.app import create_app

    return create_app()


@cache
def _shared_app() -> FastAPI:
    """The `client` fixture's app, one per test process as in production: its state lives in
    its lifespan, and each test's client runs a lifespan of its own, one at a time. (A new app
    per test rebuilds FastAPI's per-route models on its first requests: a tenth of a cheap API
    test's time, by py-spy.)"""
    return build_app()


@pytest.fixture
def client(runtime: ConfiguredRuntime, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.delenv("API_TOKEN", raising=False)
    runtime.set(API_TOKEN=None)
    with TestClient(_shared_app()) as test_client:
        yield test_client
