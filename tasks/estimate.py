"""The run's cost estimate, made before money is spent, and the check that it fits the budget.

Each planned call costs its counted prompt (`integrations/llm/tokens.py`) at the model's input
price plus a whole completion allowance (`LLM_MAX_COMPLETION_TOKENS`) at its output price. The
first-attempt figure is one call per target file; the worst case is `EDIT_ATTEMPTS` calls per
file, each retry's prompt longer by the answer it sends back and the error that met it. Cache
hits are not foreseen (they only make the run cheaper).

Two moments: before the spec is written (only when a budget is in force) the edit prompts
carry the issue's own text in place of the spec, so a run that cannot fit is refused before
any call; once the spec is known, the edits' very prompts are counted, the estimate is stored
on the run, and a run that no longer fits is refused before its first edit call. A run fits
when its first-attempt estimate is within the per-run cap and within what the day has left.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from prefect import task
from sqlalchemy import Engine

from base import clock
from base.errors import BudgetExceeded
from base.pricing import PriceTable
from base.settings import Settings
from base.targets import Target
from db import issue_runs, llm_budget
from integrations.jira import Issue
from integrations.llm.prompts import Message
from integrations.llm.schemas import Kind
from integrations.llm.tokens import count_prompt, method_for
from tasks.budget import configured_caps, stop_run
from tasks.context import run_context, task_logger
from tasks.edit_prompt import edit_prompt, new_file_prompt
from tasks.retry import BACKOFF, JITTER, database_hiccup
from tasks.spec import spec_prompt
from tasks.wiring import price_table

FEEDBACK_TOKENS = 400  # the engine's error beside the answer sent back, at most about this
PlannedCall = tuple[Kind, list[Message]]


@dataclass(frozen=True)
class CostEstimate:
    first_attempt: Decimal | None  # None: the model is unpriced
    worst_case: Decimal | None
    spent: Decimal  # already spent by the run (the spec), inside both figures
    prompt_tokens: int  # of the planned first-attempt calls
    calls: int
    attempts: int
    method: str

    def text(self) -> str:
        if self.first_attempt is None or self.worst_case is None:
            figures = "unpriced"
        else:
            figures = (f"${self.first_attempt:.4f} (worst case ${self.worst_case:.4f} with "
                       f"{self.attempts} attempts per file)")
        return (f"estimate {figures}: {self.calls} call(s), {self.prompt_tokens:,} prompt "
                f"tokens, counted with {self.method}")


def estimate(settings: Settings, prices: PriceTable, planned: list[PlannedCall], *,
             spent: Decimal = Decimal(0)) -> CostEstimate:
    """The estimate of `planned` calls, on top of what the run has `spent`."""
    allowance, attempts = settings.llm_max_completion_tokens, settings.edit_attempts
    prompts = [count_prompt(messages, kind.value.response_format) for kind, messages in planned]

    def cost(prompt: int) -> Decimal | None:
        return prices.cost(settings.llm_model, prompt=prompt, cached=0, completion=allowance)

    first = [cost(p) for p in prompts]
    worst = [cost(p + k * (allowance + FEEDBACK_TOKENS)) for p in prompts for k in range(attempts)]
    unpriced = any(c is None for c in first + worst)
    return CostEstimate(
        first_attempt=None if unpriced else spent + sum((c or Decimal(0) for c in first),
                                                        Decimal(0)),
        worst_case=None if unpriced else spent + sum((c or Decimal(0) for c in worst),
                                                     Decimal(0)),
        spent=spent, prompt_tokens=sum(prompts), calls=len(prompts), attempts=attempts,
        method=method_for(settings.llm_model))


def planned_edits(settings: Settings, targets: list[Target], originals: list[bytes | None],
                  spec: str, default_encoding: str | None) -> list[PlannedCall]:
    """The first edit call of every target the edits will send one for (a file over its
    max_bytes is refused without a call)."""
    planned: list[PlannedCall] = []
    for target, original in zip(targets, originals, strict=True):
        if original is None:
            planned.append((Kind.NEW_FILE, new_file_prompt(target, spec, [])))
        elif len(original) <= target.max_bytes:
            planned.append((Kind.FILE_EDITS, edit_prompt(
                target, original, spec, default_encoding, settings.prompt_token_budget, [])))
    return planned


def check_fits(settings: Settings, engine: Engine, history_id: int,
               run_estimate: CostEstimate) -> None:
    """Raise `BudgetExceeded` unless the first attempt fits the caps in force."""
    caps = llm_budget.current_caps(engine, configured_caps(settings))
    if not caps.any:
        return
    needed, usd = run_estimate.first_attempt, llm_budget.usd
    if needed is None:
        _refuse(engine, history_id, f"budget: LLM_MODEL {settings.llm_model} has no price, so "
                                    "a budget cannot be kept; price it in PRICING_FILE")
        return
    if caps.per_run is not None and needed > caps.per_run:
        _refuse(engine, history_id, f"budget: LLM_BUDGET_PER_RUN_USD is {usd(caps.per_run)}; "
                                    f"this run has spent {usd(run_estimate.spent)} and its "
                                    f"estimate is {usd(needed)}")
    if caps.per_day is not None:
        day = llm_budget.day_ledger(engine, clock.today())
        more = needed - run_estimate.spent
        if more > caps.per_day - day.spent - day.reserved:
            _refuse(engine, history_id, f"budget: LLM_BUDGET_PER_DAY_USD is {usd(caps.per_day)}; "
                                        f"{day.day} has spent {usd(day.spent)} (and "
                                        f"{usd(day.reserved)} is reserved), and this run needs "
                                        f"{usd(more)} more")


def check_before_spending(settings: Settings, engine: Engine, history_id: int, issue: Issue,
                          targets: list[Target], originals: list[bytes | None],
                          default_encoding: str | None) -> None:
    """Refuse a run that cannot fit the budget in force before its first call: the spec
    call, and the edits with the issue's own text standing in for the spec not yet written."""
    planning_spec = f"{issue.summary}\n\n{issue.description}"
    planned = [(Kind.ISSUE_SPEC, spec_prompt(issue)),
               *planned_edits(settings, targets, originals, planning_spec, default_encoding)]
    check_fits(settings, engine, history_id, estimate(settings, price_table(settings), planned))


def _refuse(engine: Engine, history_id: int, refusal: str) -> None:
    stop_run(engine, history_id, refusal)
    raise BudgetExceeded(refusal)


@task(retries=2, retry_delay_seconds=BACKOFF, retry_jitter_factor=JITTER,
      retry_condition_fn=database_hiccup, task_run_name="estimate cost")
def estimate_cost(history_id: int, spec: str, targets: list[Target],
                  originals: list[bytes | None], default_encoding: str | None,
                  enforce: bool) -> str:
    """With the spec written: count the edits' prompts, store the estimate, and (`enforce`:
    a budget was in force when the run began) refuse the edits if it does not fit. Returns
    the spec, which the edits then wait for. A cap set later is kept call by call."""
    run = run_context(history_id)
    spent = issue_runs.run_costs(run.engine, history_id).cost
    run_estimate = estimate(run.settings, price_table(run.settings),
                            planned_edits(run.settings, targets, originals, spec,
                                          default_encoding), spent=spent)
    issue_runs.record_estimate(run.engine, history_id, first_attempt=run_estimate.first_attempt,
                               worst_case=run_estimate.worst_case, method=run_estimate.method)
    task_logger().info("%s", run_estimate.text())
    if enforce:
        check_fits(run.settings, run.engine, history_id, run_estimate)
    return spec
