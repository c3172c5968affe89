"""What a process-issue run returns (the data of its Prefect state, and `result_data` in
history): one typed shape that the flow builds and the CLI, the demo and the tests read."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal, NotRequired, TypedDict

from db.issue_runs import RunCosts

Outcome = Literal["completed", "failed", "refused", "rejected", "already_completed",
                  "already_processing"]


class PullRequestInfo(TypedDict):
    id: str
    url: str
    title: str


class RunResult(TypedDict):
    """Keys beyond `outcome` and `history_id` depend on how far the run got."""

    outcome: Outcome
    history_id: int
    reason: NotRequired[str]  # refused: why nothing was attempted
    error: NotRequired[str]  # failed: why nothing was committed
    pr_url: NotRequired[str | None]  # already_completed: the PR that run made
    spec_markdown: NotRequired[str]
    spec_file: NotRequired[str]
    branch: NotRequired[str | None]
    base_commit: NotRequired[str]
    files: NotRequired[list[dict[str, Any]]]  # `FileOutcome.for_history()` per target
    commit: NotRequired[str | None]
    commit_reused: NotRequired[bool]
    pr: NotRequired[PullRequestInfo]
    cost_usd: NotRequired[str]
    unpriced_calls: NotRequired[int]
    tokens: NotRequired[int]
    llm_calls: NotRequired[int]
    cache_hits: NotRequired[int]
    cost_estimate_usd: NotRequired[str | None]  # first attempt, made before the edits
    cost_estimate_worst_usd: NotRequired[str | None]
    cost_estimate_method: NotRequired[str | None]
    flow_run_id: NotRequired[str]


def add_costs(result: RunResult, costs: RunCosts) -> RunResult:
    """The run's LLM figures: the same keys for every outcome that reached the model."""
    result["cost_usd"], result["unpriced_calls"] = str(costs.cost), costs.unpriced_calls
    result["tokens"], result["llm_calls"] = costs.tokens, costs.calls
    result["cache_hits"] = costs.cache_hits
    if costs.estimate_method is not None:
        result["cost_estimate_usd"] = _text(costs.estimate)
        result["cost_estimate_worst_usd"] = _text(costs.estimate_worst)
        result["cost_estimate_method"] = costs.estimate_method
    return result


def _text(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount)
