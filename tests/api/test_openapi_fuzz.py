"""Property-based API testing from the app's own OpenAPI document (Schemathesis): whatever a
client sends to any route, the answer is never a server error."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from base.settings import load_settings
from tasks.runtime import Runtime, using_runtime
from tests.api.conftest import build_app
from tests.conftest import ConfiguredRuntime

if TYPE_CHECKING:  # schemathesis defines this alias for type checkers only
    from schemathesis.specs.openapi.schemas import OpenApiCase


def _load_schema() -> schemathesis.BaseSchema:
    """The schema as the app serves it (its routes need no database to describe themselves)."""
    runtime = Runtime(load_settings())
    try:
        with using_runtime(runtime):
            return schemathesis.openapi.from_asgi("/openapi.json", build_app())
    finally:
        runtime.close()


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
