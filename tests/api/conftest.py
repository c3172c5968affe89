"""The real HTTP app over the real ASGI stack, on this test's own migrated database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import ConfiguredRuntime


def build_app() -> FastAPI:
    from deployments.http.app import create_app

    return create_app()


@pytest.fixture
def client(runtime: ConfiguredRuntime, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.delenv("API_TOKEN", raising=False)
    runtime.set(API_TOKEN=None)
    with TestClient(build_app()) as test_client:
        yield test_client
