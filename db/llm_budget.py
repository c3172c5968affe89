"""The LLM ledger that keeps the hard budgets across runs, processes and workers.

Before a call, its worst-case cost is reserved: one transaction raises the day's row and the
run's row by that amount, each with a conditional UPDATE that only succeeds while spent plus
reserved plus the new amount stays within the cap. PostgreSQL's row lock serialises those
updates, so concurrent calls can never reserve past a cap together. When the answer arrives
the reservation is settled: the unused part goes back and the actual cost is booked. The rows
are always locked in the same order (day, then run), so two reservations cannot deadlock.

A reservation whose process died is given back when its run ends, fails or is reaped
(`give_back`, called inside those transitions). Caps set at run time (`set_cap`) win over the
environment and are read in the reservation's own transaction: a change applies to the next
call of every active run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    delete,
    func,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import InstrumentedAttribute

from base.errors import BudgetExceeded
from db.models import IssueProcessingHistory as Run
from db.models import LlmBudgetCap, LlmBudgetDay, LlmBudgetReservation

CapName = Literal["per_run", "per_day"]
CAP_SETTINGS: dict[CapName, str] = {"per_run": "LLM_BUDGET_PER_RUN_USD",
                                    "per_day": "LLM_BUDGET_PER_DAY_USD"}


@dataclass(frozen=True)
class Caps:
    """The caps in force; None is no cap."""

    per_run: Decimal | None
    per_day: Decimal | None

    @property
    def any(self) -> bool:
        return self.per_run is not None or self.per_day is not None


@dataclass(frozen=True)
class Reservation:
    id: int
    day: date
    history_id: int
    amount: Decimal


@dataclass(frozen=True)
class Settled:
    """The day's spend before and after a call was booked (what an alert compares)."""

    day: date
    spent_before: Decimal
    spent_after: Decimal


@dataclass(frozen=True)
class DayLedger:
    day: date
    reserved: Decimal
    spent: Decimal
    calls: int
    refusals: int


def usd(value: Decimal) -> str:
    """An amount as people read it in a budget message: $0.0123."""
    return f"${value.quantize(Decimal('0.0001'))}"


def _overrides(conn: Connection) -> dict[str, Decimal | None]:
    return {row.name: row.usd for row in conn.execute(select(LlmBudgetCap.name, LlmBudgetCap.usd))}


def caps_in_force(conn: Connection, configured: Caps) -> Caps:
    """The run-time caps where set (a stored NULL lifts the cap), else the configured ones."""
    stored = _overrides(conn)
    return Caps(per_run=stored.get("per_run", configured.per_run),
                per_day=stored.get("per_day", configured.per_day))


def current_caps(engine: Engine, configured: Caps) -> Caps:
    with engine.connect() as conn:
        return caps_in_force(conn, configured)


def stored_caps(engine: Engine) -> dict[str, Decimal | None]:
    """The caps set at run time, by name (absent: the environment's value applies)."""
    with engine.connect() as conn:
        return _overrides(conn)


def set_cap(engine: Engine, name: CapName, amount: Decimal | None) -> None:
    """Set a cap for every process from the next call on; None lifts it."""
    if amount is not None and amount <= 0:
        raise ValueError(f"{CAP_SETTINGS[name]} must be more than 0, not {amount}")
    with engine.begin() as conn:
        conn.execute(insert(LlmBudgetCap).values(name=name, usd=amount).on_conflict_do_update(
            index_elements=[LlmBudgetCap.name], set_={"usd": amount, "updated_at": func.now()}))


def clear_cap(engine: Engine, name: CapName) -> None:
    """Forget the run-time cap: the environment's value applies again."""
    with engine.begin() as conn:
        conn.execute(delete(LlmBudgetCap).where(LlmBudgetCap.name == name))


def _ensure_day(conn: Connection, day: date) -> None:
    conn.execute(insert(LlmBudgetDay).values(day=day).on_conflict_do_nothing())


def reserve(engine: Engine, *, history_id: int, amount: Decimal, day: date,
            configured: Caps) -> Reservation:
    """Reserve `amount` for one call, or raise `BudgetExceeded` naming the cap, what is spent
    and what the call needs (the refusal is counted on the day's row)."""
    with engine.begin() as conn:
        caps = caps_in_force(conn, configured)
        _ensure_day(conn, day)
        day_row = conn.execute(
            update(LlmBudgetDay)
            .where(LlmBudgetDay.day == day, _fits(LlmBudgetDay.spent_usd,
                                                  LlmBudgetDay.reserved_usd, amount, caps.per_day))
            .values(reserved_usd=LlmBudgetDay.reserved_usd + amount, updated_at=func.now())
            .returning(LlmBudgetDay.day)).first()
        refusal = None if day_row is not None else _day_refusal(conn, day, amount, caps)
        if refusal is None:
            run_row = conn.execute(
                update(Run)
                .where(Run.id == history_id,
                       _fits(Run.llm_spent_usd, Run.llm_reserved_usd, amount, caps.per_run))
                .values(llm_reserved_usd=Run.llm_reserved_usd + amount)
                .returning(Run.id)).first()
            if run_row is None:
                refusal = _run_refusal(conn, history_id, amount, caps)
        if refusal is None:
            reservation_id = conn.execute(
                insert(LlmBudgetReservation)
                .values(day=day, history_id=history_id, amount_usd=amount)
                .returning(LlmBudgetReservation.id)).scalar_one()
            return Reservation(reservation_id, day, history_id, amount)
        conn.rollback()
    with engine.begin() as conn:
        _ensure_day(conn, day)
        conn.execute(update(LlmBudgetDay).where(LlmBudgetDay.day == day)
                     .values(refusals=LlmBudgetDay.refusals + 1))
    raise BudgetExceeded(refusal)


def _fits(spent: InstrumentedAttribute[Decimal], reserved: InstrumentedAttribute[Decimal],
          amount: Decimal, cap: Decimal | None) -> ColumnElement[bool]:
    """The condition that keeps a cap: spent + reserved + this call <= cap."""
    return true() if cap is None else (spent + reserved + amount <= cap)


def _day_refusal(conn: Connection, day: date, amount: Decimal, caps: Caps) -> str:
    row = conn.execute(select(LlmBudgetDay.spent_usd, LlmBudgetDay.reserved_usd)
                       .where(LlmBudgetDay.day == day)).one()
    assert caps.per_day is not None
    return _refusal("per_day", caps.per_day, f"{day} has spent", row.spent_usd,
                    f"{usd(row.reserved_usd)} is reserved by calls in flight", amount)


def _run_refusal(conn: Connection, history_id: int, amount: Decimal, caps: Caps) -> str:
    row = conn.execute(select(Run.llm_spent_usd, Run.llm_reserved_usd)
                       .where(Run.id == history_id)).one()
    assert caps.per_run is not None
    return _refusal("per_run", caps.per_run, "this run has spent", row.llm_spent_usd,
                    f"{usd(row.llm_reserved_usd)} is reserved by its calls in flight", amount)


def _refusal(name: CapName, cap: Decimal, who_spent: str, spent: Decimal, held: str,
             amount: Decimal) -> str:
    """The one-line refusal: the cap, what is spent (and held), what the call needs."""
    return (f"budget: {CAP_SETTINGS[name]} is {usd(cap)}; {who_spent} {usd(spent)} (and "
            f"{held}), and the next LLM call needs up to {usd(amount)}")


def settle(engine: Engine, reservation: Reservation, cost: Decimal) -> Settled:
    """Give back the reservation and book the call's actual cost, in one statement (it is on
    every call's path). A reservation already given back (its run was reaped meanwhile) only
    books the cost."""
    with engine.begin() as conn:
        spent_after = conn.execute(_SETTLE, {
            "id": reservation.id, "day": reservation.day, "run": reservation.history_id,
            "cost": cost}).scalar_one()
    return Settled(reservation.day, spent_after - cost, spent_after)


_SETTLE = text("""
WITH held AS (
    DELETE FROM llm_budget_reservation WHERE id = :id RETURNING amount_usd
), back AS (
    SELECT coalesce((SELECT amount_usd FROM held), 0) AS amount
), run AS (
    UPDATE issue_processing_history
    SET llm_reserved_usd = llm_reserved_usd - (SELECT amount FROM back),
        llm_spent_usd = llm_spent_usd + :cost
    WHERE id = :run
)
UPDATE llm_budget_day
SET reserved_usd = reserved_usd - (SELECT amount FROM back), spent_usd = spent_usd + :cost,
    calls = calls + 1, updated_at = now()
WHERE day = :day
RETURNING spent_usd""")


def give_back(conn: Connection, history_ids: list[int]) -> None:
    """Return what calls of these runs still hold (inside the transaction that ends them)."""
    if not history_ids:
        return
    held = conn.execute(delete(LlmBudgetReservation)
                        .where(LlmBudgetReservation.history_id.in_(history_ids))
                        .returning(LlmBudgetReservation.day, LlmBudgetReservation.history_id,
                                   LlmBudgetReservation.amount_usd)).all()
    for row in held:
        conn.execute(update(LlmBudgetDay).where(LlmBudgetDay.day == row.day)
                     .values(reserved_usd=LlmBudgetDay.reserved_usd - row.amount_usd))
    for history_id in history_ids:
        conn.execute(update(Run).where(Run.id == history_id).values(llm_reserved_usd=0))


def day_ledger(engine: Engine, day: date) -> DayLedger:
    """One day's ledger; a day without calls is all zero."""
    with engine.connect() as conn:
        row = conn.execute(select(LlmBudgetDay.reserved_usd, LlmBudgetDay.spent_usd,
                                  LlmBudgetDay.calls, LlmBudgetDay.refusals)
                           .where(LlmBudgetDay.day == day)).first()
    if row is None:
        return DayLedger(day, Decimal(0), Decimal(0), 0, 0)
    return DayLedger(day, row.reserved_usd, row.spent_usd, row.calls, row.refusals)
