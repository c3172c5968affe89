"""`webhook_delivery` rows: one per request; the delivery id makes Jira's retries duplicates.

An accepted delivery is written with the run it asks for (`queued`), in the one transaction
that decides whether it is new: that row is the acceptance, and `db/webhook_outbox.py` hands
it to Prefect later.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, insert, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from db.models import WebhookDelivery


@dataclass(frozen=True)
class RunRequest:
    """The flow run a delivery asks for, as the hand-off loop will create it."""

    deployment: str
    parameters: dict[str, Any]
    tags: list[str]
    idempotency_key: str


@dataclass(frozen=True)
class Earlier:
    """The row of the earlier delivery that a redelivery repeats."""

    flow_run_id: uuid.UUID | None
    handoff_error: str | None


def record(engine: Engine, *, outcome: str, http_status: int, reason: str | None,
           delivery_id: str | None = None, event_type: str | None = None,
           issue_key: str | None = None, body_sha256: str | None = None,
           flow_run_id: uuid.UUID | None = None) -> int:
    """A delivery that needs no dedupe (refused or ignored), recorded as is."""
    with engine.begin() as conn:
        return _insert(conn, outcome=outcome, http_status=http_status, reason=reason,
                       delivery_id=delivery_id, event_type=event_type, issue_key=issue_key,
                       body_sha256=body_sha256, flow_run_id=flow_run_id)


# Built once, executed with parameters: a statement built per call costs the webhook more CPU
# (SQLAlchemy's coercions and cache key) than PostgreSQL spends running it.
_QUEUE = (pg_insert(WebhookDelivery).values(
    delivery_id=bindparam("delivery_id"), outcome="queued", http_status=202,
    event_type=bindparam("event_type"), issue_key=bindparam("issue_key"),
    body_sha256=bindparam("body_sha256"), deployment=bindparam("deployment"),
    run_parameters=bindparam("run_parameters"), run_tags=bindparam("run_tags"),
    idempotency_key=bindparam("idempotency_key"), handoff_due_at=func.now())
    .on_conflict_do_nothing(index_elements=["delivery_id"]).returning(WebhookDelivery.id))
_EARLIER = (select(WebhookDelivery.flow_run_id, WebhookDelivery.handoff_error)
            .where(WebhookDelivery.delivery_id == bindparam("delivery_id")).cte("earlier"))
_DUPLICATE = (insert(WebhookDelivery).from_select(
    ["outcome", "http_status", "reason", "event_type", "issue_key", "body_sha256", "flow_run_id"],
    select(literal("duplicate"), literal(200), bindparam("reason"), bindparam("event_type"),
           bindparam("issue_key"), bindparam("body_sha256"), _EARLIER.c.flow_run_id))
    .returning(WebhookDelivery.flow_run_id, select(_EARLIER.c.handoff_error).scalar_subquery()))


def accept(engine: Engine, *, delivery_id: str | None, event_type: str, issue_key: str,
           body_sha256: str, run: RunRequest) -> Earlier | None:
    """None when the delivery is new and now queued for its hand-off; else the earlier
    delivery of the same id, and this one recorded as its `duplicate`. One transaction: a
    concurrent delivery of the id waits on the unique index, then finds this row."""
    values = {"delivery_id": delivery_id, "event_type": event_type, "issue_key": issue_key,
              "body_sha256": body_sha256}
    with engine.begin() as conn:
        queued = conn.execute(_QUEUE, {
            **values, "deployment": run.deployment, "run_parameters": run.parameters,
            "run_tags": run.tags, "idempotency_key": run.idempotency_key,
        }).scalar_one_or_none()
        if queued is not None:  # a NULL delivery id never conflicts
            return None
        # a statement of its own sees the row that the conflict waited for
        earlier = conn.execute(_DUPLICATE, {
            **values, "reason": f"redelivery of {delivery_id}"}).one_or_none()
    if earlier is None:  # the earlier row was deleted meanwhile (retention, after 90 days)
        return Earlier(None, None)
    return Earlier(earlier[0], earlier[1])


def _insert(conn: Connection, **values: Any) -> int:
    return int(conn.execute(insert(WebhookDelivery).values(**values)
                            .returning(WebhookDelivery.id)).scalar_one())
