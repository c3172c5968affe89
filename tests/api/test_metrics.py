"""GET /metrics on a known history, read back with the Prometheus client's own parser."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, insert

from db import llm_budget
from db.models import WebhookDelivery
from tests.api.conftest import build_app
from tests.api.dataset import add_api_call, add_call, add_run, today
from tests.conftest import ConfiguredRuntime

pytestmark = pytest.mark.usefixtures("pinned_clock")


def samples(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = client.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(answer.text) for s in family.samples}


def seed(engine: Engine) -> None:
    done = add_run(engine, key="MAT-1", days_ago=3, status="completed", duration=4.0)
    add_run(engine, key="MAT-2", days_ago=0, status="completed", duration=40.0)
    failed = add_run(engine, key="MAT-3", days_ago=0, status="failed", duration=2.0)
    add_run(engine, key="MAT-4", days_ago=0, status="processing")
    add_call(engine, done, days_ago=3, model="gpt-4o-mini", call_type="code_diff", cost="0.25")
    add_call(engine, failed, days_ago=0, model="gpt-4o-mini", call_type="code_diff",
             cost="0.5", tokens=(100, 50, 10))
    add_call(engine, failed, days_ago=0, model="gpt-4o-mini", call_type="code_diff", cost="0",
             cache_hit=True, tokens=(0, 0, 0))
    add_call(engine, failed, days_ago=0, model="local-llama", call_type="spec_conversion",
             cost=None)
    for code in (200, 201, 404, 503, None):
        add_api_call(engine, failed, days_ago=0, status_code=code)
    add_api_call(engine, failed, days_ago=2, status_code=500)  # not today
    with engine.begin() as conn:
        for outcome in ("accepted", "accepted", "duplicate", "rejected"):
            conn.execute(insert(WebhookDelivery).values(outcome=outcome, http_status=202))
    held = llm_budget.reserve(engine, history_id=failed, amount=Decimal("0.2"), day=today(),
                              configured=llm_budget.Caps(None, None))
    llm_budget.settle(engine, held, Decimal("0.05"))
    llm_budget.reserve(engine, history_id=failed, amount=Decimal("0.3"), day=today(),
                       configured=llm_budget.Caps(None, None))


def test_the_scrape_says_what_history_says(client: TestClient, engine: Engine) -> None:
    seed(engine)
    got = samples(client)
    assert got[("sdb_agent_runs", (("status", "completed"),))] == 2
    assert got[("sdb_agent_runs", (("status", "failed"),))] == 1
    assert got[("sdb_agent_runs", (("status", "processing"),))] == 1
    assert got[("sdb_agent_run_duration_seconds_count", ())] == 2
    assert got[("sdb_agent_run_duration_seconds_sum", ())] == 44.0
    assert got[("sdb_agent_run_duration_seconds_bucket", (("le", "10.0"),))] == 1
    assert got[("sdb_agent_run_duration_seconds_bucket", (("le", "+Inf"),))] == 2
    mini = (("call_type", "code_diff"), ("model", "gpt-4o-mini"))
    assert got[("sdb_agent_llm_calls_total", mini)] == 3
    assert got[("sdb_agent_llm_cache_hits_total", mini)] == 1
    assert got[("sdb_agent_llm_cost_usd_total", mini)] == 0.75
    assert got[("sdb_agent_llm_tokens_total", (*mini[:1], ("kind", "prompt"), mini[1]))] == 180
    llama = (("call_type", "spec_conversion"), ("model", "local-llama"))
    assert got[("sdb_agent_llm_unpriced_calls_total", llama)] == 1
    assert got[("sdb_agent_webhook_deliveries_total", (("outcome", "accepted"),))] == 2
    git = {dict(k[1])["status_class"]: v for k, v in got.items()
           if k[0] == "sdb_agent_git_host_calls_today"}
    assert git == {"2xx": 2, "4xx": 1, "5xx": 1, "error": 1}
    assert got[("sdb_agent_llm_budget_spent_today_usd", ())] == 0.05
    assert got[("sdb_agent_llm_budget_reserved_today_usd", ())] == 0.3


def test_the_scrape_wants_the_api_token(runtime: ConfiguredRuntime) -> None:
    runtime.set(API_TOKEN="scrape-token")
    with TestClient(build_app()) as client:
        assert client.get("/metrics").status_code == 401
        ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-token"})
        assert ok.status_code == 200 and "sdb_agent_runs" in ok.text


def test_a_run_of_yesterday_is_still_counted_after_the_rollup(client: TestClient,
                                                               engine: Engine) -> None:
    add_run(engine, key="MAT-9", days_ago=1, status="completed", duration=3.0)
    first = samples(client)  # this scrape rolls yesterday up
    assert samples(client) == first
    assert first[("sdb_agent_runs", (("status", "completed"),))] == 1
