"""`webhook_delivery` rows: one per request; the delivery id makes Jira's retries duplicates."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from db.models import WebhookDelivery


@dataclass(frozen=True)
class Delivery:
    id: int
    outcome: str
    flow_run_id: uuid.UUID | None
    first: bool


def record(engine: Engine, *, outcome: str, http_status: int, reason: str | None,
           delivery_id: str | None = None, event_type: str | None = None,
           issue_key: str | None = None, body_sha256: str | None = None,
           flow_run_id: uuid.UUID | None = None) -> int:
    """A delivery that needs no dedupe (refused, ignored, or a repeat), recorded as is."""
    with engine.begin() as conn:
        return int(conn.execute(insert(WebhookDelivery).values(
            delivery_id=delivery_id, outcome=outcome, http_status=http_status,
            reason=reason, event_type=event_type, issue_key=issue_key,
            body_sha256=body_sha256, flow_run_id=flow_run_id,
        ).returning(WebhookDelivery.id)).scalar_one())


def claim(engine: Engine, *, delivery_id: str, event_type: str, issue_key: str,
          body_sha256: str) -> Delivery:
    """The delivery's row: inserted now (`first`), or the one an earlier attempt left."""
    with engine.begin() as conn:
        inserted = conn.execute(
            pg_insert(WebhookDelivery).values(
                delivery_id=delivery_id, outcome="accepted", http_status=202,
                event_type=event_type, issue_key=issue_key, body_sha256=body_sha256)
            .on_conflict_do_nothing(index_elements=["delivery_id"])
            .returning(WebhookDelivery.id)).scalar_one_or_none()
        if inserted is not None:
            return Delivery(int(inserted), "accepted", None, True)
        row = conn.execute(select(
            WebhookDelivery.id, WebhookDelivery.outcome, WebhookDelivery.flow_run_id,
        ).where(WebhookDelivery.delivery_id == delivery_id)).one()
        return Delivery(row.id, row.outcome, row.flow_run_id, False)


def settle(engine: Engine, row_id: int, *, outcome: str, http_status: int,
           flow_run_id: uuid.UUID | None, reason: str | None) -> None:
    with engine.begin() as conn:
        conn.execute(update(WebhookDelivery).where(WebhookDelivery.id == row_id).values(
            outcome=outcome, http_status=http_status, flow_run_id=flow_run_id, reason=reason))
