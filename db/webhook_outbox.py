"""The outbox side of `webhook_delivery`: queued rows claimed by a hand-off loop, and what
the hand-off made of them.

A claim takes due rows that no other replica holds (`FOR UPDATE SKIP LOCKED`) and leases
them by moving `handoff_due_at` forward, so no transaction stays open while Prefect is
called. A loop that dies mid-hand-off leaves its rows to whoever claims them when the lease
ends; Prefect's idempotency key makes that second hand-off find the same flow run. Every
write is conditional on the row still being `queued`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Integer, Interval, bindparam, func, select, update

from db.models import WebhookDelivery

QUEUED = WebhookDelivery.outcome == "queued"


@dataclass(frozen=True)
class Entry:
    """One claimed row: the run to create, and how many attempts came before."""

    id: int
    delivery_id: str | None
    deployment: str
    parameters: dict[str, Any]
    tags: list[str]
    idempotency_key: str
    attempts: int


@dataclass(frozen=True)
class Backlog:
    """Deliveries accepted and not handed off yet; the oldest one's receipt and last error."""

    waiting: int
    oldest_received_at: datetime | None
    oldest_attempts: int
    oldest_error: str | None


# Built once (see db/webhook_deliveries.py): the loop shares the webhook's process and CPU.
_DUE = (select(WebhookDelivery.id).where(QUEUED, WebhookDelivery.handoff_due_at <= func.now())
        .order_by(WebhookDelivery.handoff_due_at, WebhookDelivery.id)
        .limit(bindparam("limit", type_=Integer)).with_for_update(skip_locked=True))
_CLAIM = (update(WebhookDelivery).where(WebhookDelivery.id.in_(_DUE.scalar_subquery()))
          .values(handoff_due_at=func.now() + bindparam("lease", type_=Interval))
          .returning(WebhookDelivery.id, WebhookDelivery.delivery_id, WebhookDelivery.deployment,
                     WebhookDelivery.run_parameters, WebhookDelivery.run_tags,
                     WebhookDelivery.idempotency_key, WebhookDelivery.handoff_attempts))
_HANDED_OFF = (update(WebhookDelivery).where(WebhookDelivery.id == bindparam("row_id"), QUEUED)
               .values(outcome="accepted", flow_run_id=bindparam("run_id"),
                       handed_off_at=func.now(), handoff_due_at=None,
                       handoff_attempts=WebhookDelivery.handoff_attempts + 1))
_FAILED = (update(WebhookDelivery).where(WebhookDelivery.id == bindparam("row_id"), QUEUED)
           .values(handoff_error=bindparam("error"),
                   handoff_due_at=func.now() + bindparam("retry_in", type_=Interval),
                   handoff_attempts=WebhookDelivery.handoff_attempts + 1))


def claim_due(engine: Engine, *, limit: int, lease: timedelta) -> list[Entry]:
    """Up to `limit` due rows, oldest due first, leased to the caller for `lease`."""
    with engine.begin() as conn:
        rows = conn.execute(_CLAIM, {"limit": limit, "lease": lease}).all()
    return sorted((Entry(r.id, r.delivery_id, r.deployment or "", r.run_parameters or {},
                         list(r.run_tags or []), r.idempotency_key or "", r.handoff_attempts)
                   for r in rows), key=lambda entry: entry.id)


def record_handed_off(engine: Engine, runs: dict[int, uuid.UUID]) -> None:
    """Rows whose flow run Prefect created (or already had under the key): `accepted`. The
    last failed attempt's error stays, as a record of what the hand-off went through."""
    if runs:
        with engine.begin() as conn:
            conn.execute(_HANDED_OFF, [{"row_id": row_id, "run_id": run_id}
                                       for row_id, run_id in runs.items()])


def record_failed(engine: Engine, failures: dict[int, tuple[str, timedelta]]) -> None:
    """Rows whose attempt failed: the error (one line, ours) and when to try again."""
    if failures:
        with engine.begin() as conn:
            conn.execute(_FAILED, [{"row_id": row_id, "error": error, "retry_in": retry_in}
                                   for row_id, (error, retry_in) in failures.items()])


def release(engine: Engine, row_ids: list[int]) -> None:
    """Leased rows given back unfinished (the loop is stopping): due again at once."""
    if not row_ids:
        return
    with engine.begin() as conn:
        conn.execute(update(WebhookDelivery).where(WebhookDelivery.id.in_(row_ids), QUEUED)
                     .values(handoff_due_at=func.now()))


def backlog(engine: Engine) -> Backlog:
    with engine.connect() as conn:
        waiting = conn.execute(
            select(func.count()).select_from(WebhookDelivery).where(QUEUED)).scalar_one()
        oldest = conn.execute(
            select(WebhookDelivery.received_at, WebhookDelivery.handoff_attempts,
                   WebhookDelivery.handoff_error)
            .where(QUEUED).order_by(WebhookDelivery.received_at).limit(1)).first()
    if oldest is None:
        return Backlog(int(waiting), None, 0, None)
    return Backlog(int(waiting), oldest.received_at, oldest.handoff_attempts,
                   oldest.handoff_error)
