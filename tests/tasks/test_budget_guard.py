"""The LLM client with the run's budget guard, against the OpenAI stand-in and a real
PostgreSQL: concurrent runs never spend past the daily cap, cache hits reserve nothing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text

from base import clock
from base.errors import BudgetExceeded
from db import issue_runs, llm_budget
from integrations.llm.client import LlmOutputError
from integrations.llm.schemas import Kind
from standins.openai_server import OpenAIStandin
from tasks.context import run_context
from tests.conftest import ConfiguredRuntime

LONG_SPEC = {"spec_markdown": "Add Ti-6Al-4V with density 4.43 g/cm3. " * 24}  # ~240 tokens


@pytest.fixture
def llm(runtime: ConfiguredRuntime) -> Iterator[OpenAIStandin]:
    with OpenAIStandin(latency=0.02) as standin:
        standin.script("issue_spec", LONG_SPEC)
        runtime.set(OPENAI_BASE_URL=standin.base_url, OPENAI_API_KEY="sk-test",
                    LLM_MAX_RETRIES="0", LLM_MAX_COMPLETION_TOKENS="256")
        yield standin


def whole_ledger(engine: Engine) -> llm_budget.DayLedger:
    """The ledger summed over its days (the calls may cross a UTC midnight)."""
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT coalesce(sum(reserved_usd), 0), coalesce(sum(spent_usd), 0), "
            "coalesce(sum(calls), 0), coalesce(sum(refusals), 0) FROM llm_budget_day")).one()
    return llm_budget.DayLedger(clock.today(), Decimal(row[0]), Decimal(row[1]), int(row[2]),
                                int(row[3]))


def new_run(engine: Engine, key: str) -> int:
    return issue_runs.claim(engine, issue_key=key, summary="s", issue_data={}, spec_hash="h",
                            flow_run_id=None, force=False, lease=timedelta(minutes=5),
                            flow_run_ended=lambda _: None).history_id


def ask(history_id: int, n: int) -> None:
    run = run_context(history_id)
    run.llm(run.recorder()).complete(Kind.ISSUE_SPEC, [
        {"role": "user", "content": f"Issue {history_id}-{n}: add titanium to the table"}])


def test_eight_concurrent_runs_never_spend_past_the_daily_cap(
        runtime: ConfiguredRuntime, engine: Engine, llm: OpenAIStandin) -> None:
    cap = Decimal("0.006")  # about half of what 8 runs x 10 calls cost
    runtime.set(LLM_BUDGET_PER_DAY_USD=str(cap), COST_ALERT_USD="0.003")
    runs = [new_run(engine, f"MAT-{i}") for i in range(8)]
    refused: list[str] = []
    start = threading.Barrier(len(runs))

    def spend(history_id: int) -> None:
        start.wait()
        for n in range(10):
            try:
                ask(history_id, n)
            except BudgetExceeded as exc:
                refused.append(str(exc))
                return
            except LlmOutputError:
                continue  # cut off at the allowance: paid for and booked all the same

    threads = [threading.Thread(target=spend, args=(run,)) for run in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with engine.connect() as conn:
        recorded = conn.execute(text(
            "SELECT coalesce(sum(estimated_cost), 0) AS cost, count(*) AS calls "
            "FROM llm_call_history")).one()
    ledger = whole_ledger(engine)
    assert refused and all(r.startswith("budget: LLM_BUDGET_PER_DAY_USD") for r in refused)
    assert recorded.cost <= cap and ledger.spent == recorded.cost
    assert recorded.calls == ledger.calls >= 20  # the cap let about half through, not a few
    assert ledger.reserved == 0
    with engine.connect() as conn:  # the spend crossed COST_ALERT_USD once: one alert
        crossed = conn.execute(text("SELECT spent_usd, error_message FROM cost_alert")).all()
    assert len(crossed) == 1 and crossed[0].spent_usd >= Decimal("0.003")
    assert crossed[0].error_message.startswith("no channel")
    # every answer was capped at the allowance that its reservation counted
    assert {r.json()["max_completion_tokens"] for r in llm.requests} == {256}


def test_a_cache_hit_reserves_and_books_nothing(
        runtime: ConfiguredRuntime, engine: Engine, llm: OpenAIStandin) -> None:
    runtime.set(LLM_BUDGET_PER_DAY_USD="1")
    run = new_run(engine, "MAT-1")
    ask(run, 1)
    before = whole_ledger(engine)
    ask(run, 1)  # the same prompt: answered from the cache
    after = whole_ledger(engine)
    assert len(llm.requests) == 1 and before.calls == 1
    assert (after.spent, after.calls, after.reserved) == (before.spent, 1, Decimal(0))


def test_a_refused_run_makes_no_further_call(
        runtime: ConfiguredRuntime, engine: Engine, llm: OpenAIStandin) -> None:
    runtime.set(LLM_BUDGET_PER_RUN_USD="0.0003")
    run = new_run(engine, "MAT-1")
    ask(run, 1)
    with pytest.raises(BudgetExceeded, match="^budget: LLM_BUDGET_PER_RUN_USD is"):
        for n in range(2, 10):
            ask(run, n)
    made = len(llm.requests)
    llm_budget.set_cap(engine, "per_run", Decimal("5"))  # even a raised cap: the run stopped
    with pytest.raises(BudgetExceeded):
        ask(run, 99)
    assert len(llm.requests) == made
