"""Property-based API testing from the app's own OpenAPI document (Schemathesis): whatever a
client sends to any route, the answer is never a server error."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from base.settings import load_settings
from tasks.runtime import Runtime, using_runtime
from tests.api.conftest import build_app
from tests.conftest import ConfiguredRuntime

if TYPE_CHECKING:  # schemathesis defines this alias for type checkers only
    from schemathesis.specs.openapi.schemas import OpenApiCase


def _load_schema() -> schemathesis.BaseSchema:
    """The schema as the app serves it (its routes need no database to describe themselves),
    read without starting the app: at collection its lifespan's hand-off loop would reach for
    the default database and start an embedded PostgreSQL in the checkout."""
    app = build_app()
    runtime = Runtime(load_settings())
    try:
        with using_runtime(runtime):
            served = TestClient(app).get("/openapi.json")  # outside `with`: no lifespan
    finally:
        runtime.close()
    served.raise_for_status()
    loaded = schemathesis.openapi.from_dict(served.json())
    loaded.app = app  # the calls go to the app in process, as `from_asgi` arranges
    loaded.location = "/openapi.json"
    return loaded


schema = _load_schema()


@pytest.fixture
def fuzz_env(runtime: ConfiguredRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("API_TOKEN", raising=False)
    runtime.set(API_TOKEN=None, JIRA_WEBHOOK_SECRET="fuzz-secret")


@schema.parametrize()
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_no_input_to_any_route_is_a_server_error(fuzz_env: None, case: OpenApiCase) -> None:
    case.call_and_validate(checks=[not_a_server_error])
