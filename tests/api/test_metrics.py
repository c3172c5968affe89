"""GET /metrics on a known history, read back with the Prometheus client's own parser."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, insert

from db import llm_budget
from db.models import WebhookDelivery
from tests.api.conftest import build_app
from tests.api.dataset import add_api_call, add_call, add_run, at, today
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
        for days_ago, outcome in ((0, "accepted"), (0, "accepted"), (0, "duplicate"),
                                  (0, "rejected"), (1, "accepted")):
            conn.execute(insert(WebhookDelivery).values(
                outcome=outcome, http_status=202, received_at=at(days_ago)))
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
    deliveries = {dict(k[1])["outcome"]: v for k, v in got.items()
                  if k[0] == "sdb_agent_webhook_deliveries_today"}
    assert deliveries == {"accepted": 2, "duplicate": 1, "rejected": 1}
    assert got[("sdb_agent_webhook_backlog", ())] == 0
    assert got[("sdb_agent_webhook_backlog_oldest_seconds", ())] == 0
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


def test_the_webhook_backlog_counts_queued_deliveries_and_the_oldest_ones_wait(
        client: TestClient, engine: Engine, pinned_clock: datetime) -> None:
    not_due = datetime(2100, 1, 1, tzinfo=UTC)  # the app's own loop leaves them be
    with engine.begin() as conn:
        for seconds_ago, outcome in ((90, "queued"), (30, "queued"), (600, "accepted")):
            conn.execute(insert(WebhookDelivery).values(
                outcome=outcome, http_status=202, handoff_due_at=not_due,
                received_at=pinned_clock - timedelta(seconds=seconds_ago)))
    got = samples(client)
    assert got[("sdb_agent_webhook_backlog", ())] == 2
    assert got[("sdb_agent_webhook_backlog_oldest_seconds", ())] == 90
    assert got[("sdb_agent_webhook_deliveries_today", (("outcome", "queued"),))] == 2


def test_an_empty_history_scrapes_as_zeros_with_the_types_prometheus_expects(
        client: TestClient) -> None:
    answer = client.get("/metrics")
    families = {f.name: f for f in text_string_to_metric_families(answer.text)}
    assert families["sdb_agent_llm_budget_spent_today_usd"].samples[0].value == 0
    assert families["sdb_agent_llm_budget_reserved_today_usd"].samples[0].value == 0
    assert {name: families[name].type for name in (
        "sdb_agent_runs", "sdb_agent_run_duration_seconds", "sdb_agent_llm_calls",
        "sdb_agent_webhook_deliveries_today", "sdb_agent_git_host_calls_today")} == {
        "sdb_agent_runs": "gauge", "sdb_agent_run_duration_seconds": "histogram",
        "sdb_agent_llm_calls": "counter", "sdb_agent_webhook_deliveries_today": "gauge",
        "sdb_agent_git_host_calls_today": "gauge"}
    histogram = {s.name: s.value for s in families["sdb_agent_run_duration_seconds"].samples
                 if s.labels.get("le") in (None, "+Inf")}
    assert histogram == {"sdb_agent_run_duration_seconds_bucket": 0,
                         "sdb_agent_run_duration_seconds_count": 0,
                         "sdb_agent_run_duration_seconds_sum": 0}


def test_the_duration_buckets_are_cumulative_up_to_the_count(client: TestClient,
                                                              engine: Engine) -> None:
    for i, seconds in enumerate((0.05, 0.5, 3.0, 30.0, 300.0, 3000.0, 200_000.0)):
        add_run(engine, key=f"MAT-{i}", days_ago=i % 3, status="completed", duration=seconds)
    [family] = [f for f in text_string_to_metric_families(client.get("/metrics").text)
                if f.name == "sdb_agent_run_duration_seconds"]
    buckets = [(s.labels["le"], s.value) for s in family.samples if s.name.endswith("_bucket")]
    counts = [n for _, n in buckets]
    assert counts == sorted(counts) and buckets[-1] == ("+Inf", 7)
    assert dict(buckets)["0.1"] == 1 and dict(buckets)["100000.0"] == 6
    assert [float(le) for le, _ in buckets[:-1]] == sorted(float(le) for le, _ in buckets[:-1])


def test_an_unreachable_database_is_503_with_retry_after(
        runtime: ConfiguredRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("API_TOKEN", raising=False)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    runtime.set(DATABASE_URL=f"postgresql://x:pw@127.0.0.1:{port}/z", API_TOKEN=None)
    with TestClient(build_app(), raise_server_exceptions=False) as client:
        answer = client.get("/metrics")
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "10"
    assert ":pw@" not in answer.text
