"""The hard LLM budgets as the LLM client meets them: each call reserves its worst case in the
PostgreSQL ledger (`db/llm_budget.py`) and books what it cost when the answer arrives (then
the same-day cost alert may fire).

Once a run has been refused, its other calls in this process are refused at once too: a run
that hits its cap stops calling the model, even if a smaller call would still fit.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from decimal import Decimal

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from base import clock
from base.errors import BudgetExceeded
from base.settings import Settings
from db import llm_budget
from tasks.cost_alert import alert_if_crossed

logger = logging.getLogger(__name__)

# (database, history id) -> the refusal that stopped the run
_stopped: dict[tuple[str, int], str] = {}
_stopped_lock = threading.Lock()
_REMEMBERED_STOPS = 10_000


def configured_caps(settings: Settings) -> llm_budget.Caps:
    """The caps of the environment (`sdb-agent budget set` may override them at run time)."""
    def usd(value: float | None) -> Decimal | None:
        return None if value is None else Decimal(str(value))
    return llm_budget.Caps(per_run=usd(settings.llm_budget_per_run_usd),
                           per_day=usd(settings.llm_budget_per_day_usd))


def budget_in_force(settings: Settings, engine: Engine) -> bool:
    """A cap is set, in the environment or at run time."""
    return llm_budget.current_caps(engine, configured_caps(settings)).any


def _run_key(engine: Engine, history_id: int) -> tuple[str, int]:
    return engine.url.render_as_string(hide_password=True), history_id


def stop_run(engine: Engine, history_id: int, refusal: str) -> None:
    """Refuse every later call of this run in this process."""
    with _stopped_lock:
        if len(_stopped) >= _REMEMBERED_STOPS:
            _stopped.pop(next(iter(_stopped)))
        _stopped.setdefault(_run_key(engine, history_id), refusal)


class LedgerGuard:
    """The `SpendGuard` of one run's LLM client."""

    def __init__(self, settings: Settings, engine: Engine, history_id: int) -> None:
        self.settings, self.engine, self.history_id = settings, engine, history_id

    def reserve(self, worst_case: Decimal) -> Callable[[Decimal], None]:
        stopped = _stopped.get(_run_key(self.engine, self.history_id))
        if stopped is not None:
            raise BudgetExceeded(stopped)
        try:
            reservation = llm_budget.reserve(
                self.engine, history_id=self.history_id, amount=worst_case, day=clock.today(),
                configured=configured_caps(self.settings))
        except BudgetExceeded as exc:
            stop_run(self.engine, self.history_id, str(exc))
            raise

        def book(cost: Decimal) -> None:
            try:
                settled = llm_budget.settle(self.engine, reservation, cost)
            except SQLAlchemyError as exc:  # the answer is paid for: never lose it for this
                logger.warning("could not book an LLM call's cost in the budget ledger (its "
                               "reservation is given back when the run ends): %s",
                               str(exc).splitlines()[0])
                return
            alert_if_crossed(self.settings, self.engine, day=settled.day,
                             spent_before=settled.spent_before, spent_after=settled.spent_after)
        return book
