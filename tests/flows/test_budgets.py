"""Spend control in whole runs: the estimate before the edits, a run refused before spending,
a run stopped midway by a cap lowered while it runs, and cache hits that cost nothing."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest

from base.errors import BudgetExceeded
from cli.result_text import describe_result
from db import llm_budget
from tests.flows.agent import Agent, canned
from tests.flows.test_process_issue import artifacts_of
from tests.flows.test_process_issue_failures import BAD_EDIT, prefect_view


def ledger(agent: Agent) -> tuple[Decimal, int]:
    """Spent and calls over every day of the ledger (a run may cross a UTC midnight)."""
    row = agent.rows("SELECT coalesce(sum(spent_usd), 0) AS spent, "
                     "coalesce(sum(calls), 0) AS calls FROM llm_budget_day")[0]
    return Decimal(row.spent), int(row.calls)


class TestEstimate:
    def test_the_estimate_is_stored_shown_and_set_beside_the_actual_cost(
            self, agent: Agent) -> None:
        agent.script_canned()
        result = agent.run()
        run = agent.runs()[-1]
        assert result["outcome"] == "completed"
        assert run.cost_estimate_method.startswith("tiktoken cl100k_base (offline")
        actual = Decimal(result["cost_usd"])
        # a whole completion allowance per call: the first attempt bounds what was spent
        assert actual < run.cost_estimate_usd < run.cost_estimate_worst_usd
        assert result["cost_estimate_usd"] == str(run.cost_estimate_usd)
        assert any(line.startswith("estimate before the edits: $")
                   for line in describe_result(result))
        summary = artifacts_of(str(run.flow_run_id))["summary-mat-101"].data
        assert "**Estimate before the edits:**" in summary and run.cost_estimate_method in summary
        # the ledger booked exactly what history recorded
        assert run.llm_spent_usd == actual and run.llm_reserved_usd == 0
        assert ledger(agent)[0] == actual


class TestHardBudgets:
    @pytest.mark.parametrize(("cap", "refusal"), [
        ("LLM_BUDGET_PER_RUN_USD", "budget: LLM_BUDGET_PER_RUN_USD is $0.0001; this run has "
                                   "spent $0.0000 and its estimate is $"),
        ("LLM_BUDGET_PER_DAY_USD", "budget: LLM_BUDGET_PER_DAY_USD is $0.0001; "),
    ])
    def test_a_run_whose_estimate_does_not_fit_is_refused_before_any_call(
            self, agent: Agent, cap: str, refusal: str) -> None:
        agent.configure(**{cap: "0.0001"})
        agent.script_canned()
        result = agent.run()
        run = agent.runs()[-1]
        assert (result["outcome"], run.status) == ("failed", "failed")
        assert run.error_message.startswith(refusal)
        assert agent.llm_requests() == []  # nothing was spent
        state, _ = prefect_view(str(run.flow_run_id))
        assert (state.type.value, state.message) == ("FAILED", run.error_message)
        assert agent.bitbucket.pull_requests == {}
        assert f"error: {run.error_message}" in describe_result(result)

    def test_a_cap_lowered_while_the_run_edits_stops_it_at_its_next_call(
            self, agent: Agent) -> None:
        agent.llm.script("issue_spec", canned()["issue_spec"])
        agent.llm.script("file_edits", BAD_EDIT)  # every file would try three times
        agent.llm.latency = 0.3

        def lower_the_cap_once_the_edits_call() -> None:
            deadline = time.monotonic() + 60
            while not agent.llm_requests("file_edits") and time.monotonic() < deadline:
                time.sleep(0.01)
            llm_budget.set_cap(agent.engine, "per_run", Decimal("0.0001"))

        lowering = threading.Thread(target=lower_the_cap_once_the_edits_call)
        lowering.start()
        result = agent.run()
        lowering.join()
        run = agent.runs()[-1]
        assert (result["outcome"], run.status) == ("failed", "failed")
        assert run.error_message.startswith("budget: LLM_BUDGET_PER_RUN_USD is $0.0001; this "
                                            "run has spent $")
        assert "and the next LLM call needs up to $" in run.error_message
        # the first attempts were under way; no second attempt was paid for
        assert len(agent.llm_requests("file_edits")) <= 3
        state, tasks = prefect_view(str(run.flow_run_id))
        assert (state.type.value, state.message) == ("FAILED", run.error_message)
        assert any(t.type.value == "FAILED" and (t.message or "").find("budget:") >= 0
                   for name, t in tasks.items() if name.startswith("edit "))
        assert run.llm_reserved_usd == 0 and agent.bitbucket.pull_requests == {}

    def test_cache_hits_cost_nothing_under_a_budget(self, agent: Agent) -> None:
        agent.configure(LLM_BUDGET_PER_DAY_USD="5")
        agent.script_canned()
        first = agent.run()
        spent = ledger(agent)
        again = agent.run(force=True)
        assert first["outcome"] == again["outcome"] == "completed"
        assert again["cache_hits"] == again["llm_calls"] == 4
        assert ledger(agent) == spent
        assert agent.runs()[-1].llm_spent_usd == 0
        # with a budget in force every answer is capped at the allowance it reserved
        assert {body.get("max_completion_tokens") for body in agent.llm_requests()} == {8192}

    def test_budget_exceeded_is_not_an_integration_error(self) -> None:
        """The file's retry loop must not swallow it as one file's failure."""
        from base.errors import IntegrationError
        assert not issubclass(BudgetExceeded, IntegrationError)
