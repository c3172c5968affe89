"""The LLM ledger on a real PostgreSQL: reservations keep the caps under concurrency, settling
books the actual cost, and a run's end gives back what its calls still held."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text

from base.errors import BudgetExceeded
from db import issue_runs, llm_budget
from db.llm_budget import Caps
from db.models import RunStatus

DAY = date(2026, 12, 2)
NO_CAPS = Caps(per_run=None, per_day=None)


def new_run(engine: Engine, key: str = "MAT-1") -> int:
    claim = issue_runs.claim(engine, issue_key=key, summary="s", issue_data={}, spec_hash="h",
                             flow_run_id=None, force=False, lease=timedelta(minutes=5),
                             flow_run_ended=lambda _: None)
    return claim.history_id


def test_a_settled_call_books_its_cost_and_gives_back_its_reservation(engine: Engine) -> None:
    run = new_run(engine)
    held = llm_budget.reserve(engine, history_id=run, amount=Decimal("0.01"), day=DAY,
                              configured=Caps(None, Decimal("1")))
    assert llm_budget.day_ledger(engine, DAY).reserved == Decimal("0.01")
    settled = llm_budget.settle(engine, held, Decimal("0.002"))
    ledger = llm_budget.day_ledger(engine, DAY)
    assert (ledger.reserved, ledger.spent, ledger.calls) == (Decimal(0), Decimal("0.002"), 1)
    assert (settled.spent_before, settled.spent_after) == (Decimal(0), Decimal("0.002"))
    row = text("SELECT llm_reserved_usd, llm_spent_usd FROM issue_processing_history "
               "WHERE id = :id")
    with engine.connect() as conn:
        assert tuple(conn.execute(row, {"id": run}).one()) == (0, Decimal("0.002"))


def test_a_call_past_the_daily_cap_is_refused_with_the_cap_the_spend_and_the_need(
        engine: Engine) -> None:
    run = new_run(engine)
    caps = Caps(per_run=None, per_day=Decimal("0.05"))
    held = llm_budget.reserve(engine, history_id=run, amount=Decimal("0.04"), day=DAY,
                              configured=caps)
    llm_budget.settle(engine, held, Decimal("0.03"))
    with pytest.raises(BudgetExceeded) as refused:
        llm_budget.reserve(engine, history_id=run, amount=Decimal("0.03"), day=DAY,
                           configured=caps)
    message = str(refused.value)
    assert message.startswith("budget: LLM_BUDGET_PER_DAY_USD is $0.0500")
    assert "spent $0.0300" in message and "needs up to $0.0300" in message
    ledger = llm_budget.day_ledger(engine, DAY)
    assert (ledger.reserved, ledger.spent, ledger.refusals) == (Decimal(0), Decimal("0.03"), 1)
    # the next day has its own budget
    llm_budget.reserve(engine, history_id=run, amount=Decimal("0.03"), day=DAY + timedelta(1),
                       configured=caps)


def test_the_per_run_cap_counts_only_that_run(engine: Engine) -> None:
    first, second = new_run(engine, "MAT-1"), new_run(engine, "MAT-2")
    caps = Caps(per_run=Decimal("0.01"), per_day=None)
    llm_budget.reserve(engine, history_id=first, amount=Decimal("0.008"), day=DAY,
                       configured=caps)
    with pytest.raises(BudgetExceeded, match=r"^budget: LLM_BUDGET_PER_RUN_USD is \$0.0100"):
        llm_budget.reserve(engine, history_id=first, amount=Decimal("0.004"), day=DAY,
                           configured=caps)
    llm_budget.reserve(engine, history_id=second, amount=Decimal("0.008"), day=DAY,
                       configured=caps)
    # the refused reservation left nothing behind on the day's row
    assert llm_budget.day_ledger(engine, DAY).reserved == Decimal("0.016")


def test_concurrent_reservations_never_take_the_day_past_its_cap(engine: Engine) -> None:
    runs = [new_run(engine, f"MAT-{i}") for i in range(8)]
    caps = Caps(per_run=None, per_day=Decimal("0.100"))
    granted: list[llm_budget.Reservation] = []
    refused: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(len(runs))

    def spend(run: int) -> None:
        start.wait()
        for _ in range(10):
            try:
                held = llm_budget.reserve(engine, history_id=run, amount=Decimal("0.003"),
                                          day=DAY, configured=caps)
            except BudgetExceeded as exc:
                with lock:
                    refused.append(str(exc))
                continue
            with lock:
                granted.append(held)
            llm_budget.settle(engine, held, Decimal("0.002"))

    threads = [threading.Thread(target=spend, args=(run,)) for run in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ledger = llm_budget.day_ledger(engine, DAY)
    assert refused and granted  # the cap bit, and it let about half through
    assert ledger.spent <= Decimal("0.100") and ledger.reserved == 0
    assert ledger.spent == Decimal("0.002") * len(granted)
    assert ledger.refusals == len(refused) == 80 - len(granted)


def test_a_cap_set_at_run_time_wins_and_applies_to_the_next_call(engine: Engine) -> None:
    run = new_run(engine)
    configured = Caps(per_run=None, per_day=Decimal("1"))
    llm_budget.reserve(engine, history_id=run, amount=Decimal("0.01"), day=DAY,
                       configured=configured)
    llm_budget.set_cap(engine, "per_day", Decimal("0.015"))
    with pytest.raises(BudgetExceeded, match=r"is \$0.0150"):
        llm_budget.reserve(engine, history_id=run, amount=Decimal("0.01"), day=DAY,
                           configured=configured)
    llm_budget.set_cap(engine, "per_day", None)  # lifted, even though the environment sets one
    assert llm_budget.current_caps(engine, configured).per_day is None
    llm_budget.clear_cap(engine, "per_day")
    assert llm_budget.current_caps(engine, configured).per_day == Decimal("1")
    with pytest.raises(ValueError, match="more than 0"):
        llm_budget.set_cap(engine, "per_run", Decimal("-1"))


@pytest.mark.parametrize("end", ["finished", "reaped"])
def test_a_run_that_ends_gives_back_what_its_calls_still_held(engine: Engine, end: str) -> None:
    run = new_run(engine)
    llm_budget.reserve(engine, history_id=run, amount=Decimal("0.02"), day=DAY,
                       configured=NO_CAPS)
    if end == "finished":
        issue_runs.finish(engine, history_id=run, status=RunStatus.FAILED,
                          modified_files_count=0, result_data={}, error_message="x",
                          pr_url=None, branch_name=None)
    else:
        issue_runs.reap(engine, older_than=timedelta(seconds=-1), flow_run_ended=lambda _: None)
    assert llm_budget.day_ledger(engine, DAY).reserved == 0
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM llm_budget_reservation")).scalar() == 0
