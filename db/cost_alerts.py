"""Same-day cost alerts as rows: the unique (day, threshold) key lets exactly one process, of
any number crossing the threshold at once, claim the alert and send it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Engine, update
from sqlalchemy.dialects.postgresql import insert

from db.models import CostAlert


def claim(engine: Engine, *, day: date, threshold: Decimal, spent: Decimal) -> int | None:
    """The new alert's id, or None when this day's alert at this threshold already exists."""
    with engine.begin() as conn:
        return conn.execute(
            insert(CostAlert).values(day=day, threshold_usd=threshold, spent_usd=spent)
            .on_conflict_do_nothing(index_elements=[CostAlert.day, CostAlert.threshold_usd])
            .returning(CostAlert.id)).scalar()


def record_outcome(engine: Engine, alert_id: int, *, channels: list[str],
                   errors: list[str]) -> None:
    """Where the alert went, and why a channel failed (one line each)."""
    with engine.begin() as conn:
        conn.execute(update(CostAlert).where(CostAlert.id == alert_id).values(
            channels=", ".join(channels) or None,
            error_message="; ".join(errors)[:2000] or None))
