"""`sdb-agent budget ...`: the caps in force, where they come from, and today's ledger."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from base import clock
from cli.app import app
from db import issue_runs, llm_budget
from tests.conftest import ConfiguredRuntime

runner = CliRunner()


def budget(*args: str, code: int = 0) -> str:
    done = runner.invoke(app, ["budget", *args])
    assert done.exit_code == code, done.output
    return done.output


def test_show_names_each_cap_its_source_and_today(runtime: ConfiguredRuntime,
                                                  engine: Engine) -> None:
    runtime.set(LLM_BUDGET_PER_DAY_USD="2.5")
    run = issue_runs.claim(engine, issue_key="MAT-1", summary="s", issue_data={},
                           spec_hash="h", flow_run_id=None, force=False,
                           lease=timedelta(minutes=5), flow_run_ended=lambda _: None).history_id
    held = llm_budget.reserve(engine, history_id=run, amount=Decimal("0.01"), day=clock.today(),
                              configured=llm_budget.Caps(None, None))
    llm_budget.settle(engine, held, Decimal("0.0042"))
    out = budget("show")
    assert "LLM_BUDGET_PER_RUN_USD: none (environment)" in out
    assert "LLM_BUDGET_PER_DAY_USD: $2.5000 (environment)" in out
    assert f"{clock.today()} (UTC): spent $0.0042 in 1 call(s), $0.0000 reserved" in out


def test_set_wins_over_the_environment_until_cleared(runtime: ConfiguredRuntime,
                                                     engine: Engine) -> None:
    runtime.set(LLM_BUDGET_PER_DAY_USD="2.5")
    assert "LLM_BUDGET_PER_DAY_USD: $0.7500 (set at run time)" in budget("set", "per-day", "0.75")
    assert "LLM_BUDGET_PER_DAY_USD: $0.7500 (set at run time)" in budget("show")
    budget("set", "per-run", "none")
    assert "LLM_BUDGET_PER_RUN_USD: none (set at run time)" in budget("show")
    budget("clear", "per-day")
    assert "LLM_BUDGET_PER_DAY_USD: $2.5000 (environment)" in budget("show")


@pytest.mark.parametrize(("args", "says"), [
    (["set", "per-day", "--", "-3"], "a cap is more than 0"),
    (["set", "per-day", "0"], "a cap is more than 0"),
    (["set", "per-day", "ten"], "is not an amount in USD"),
    (["set", "per-week", "1"], "expected per-run or per-day"),
    (["set", "per-day", "NaN"], "a cap is more than 0"),
])
def test_a_bad_cap_is_a_usage_error(runtime: ConfiguredRuntime, args: list[str],
                                    says: str) -> None:
    assert says in budget(*args, code=2)


def test_a_cap_for_an_unpriced_model_is_refused(runtime: ConfiguredRuntime) -> None:
    runtime.set(LLM_MODEL="local-llama")
    assert "LLM_MODEL local-llama has no price" in budget("set", "per-run", "1", code=2)
