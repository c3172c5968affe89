"""What both webhooks do with a delivery that passed every check: one transaction writes it
as an outbox row (the run to start) or finds the earlier delivery of its id, then the answer.
Prefect is not called here: the hand-off loop, woken after the commit, does that."""

from __future__ import annotations

import logging
from typing import Any

from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.concurrency import run_in_threadpool

from base.errors import DatabaseError
from base.prefect_ui import flow_run_url
from db import webhook_deliveries as deliveries
from db.webhook_deliveries import Earlier, RunRequest
from deployments.http.deps import EngineSource
from deployments.http.handoff_loop import HandoffLoop
from deployments.http.webhook_body import answer

logger = logging.getLogger(__name__)
NOT_STORED = "the database did not take the delivery; nothing was accepted, retry later"


async def accept(engine: EngineSource, loop: HandoffLoop, run: RunRequest,
                 facts: dict[str, Any], *, webhook: str) -> JSONResponse:
    """202 "queued" once the row is committed; 200 "duplicate" for a delivery id seen before;
    503 when the row could not be written, so the sender retries."""
    delivery_id = facts["delivery_id"]
    try:
        earlier = await run_in_threadpool(lambda: deliveries.accept(
            engine(), delivery_id=delivery_id, event_type=facts["event_type"] or "",
            issue_key=facts["issue_key"], body_sha256=facts["body_sha256"], run=run))
    except (DatabaseError, OperationalError, InterfaceError) as exc:
        logger.warning("%s webhook %s: %s (%s)", webhook, delivery_id, NOT_STORED,
                       type(exc).__name__)
        return answer(503, status="unavailable", reason=NOT_STORED, delivery_id=delivery_id)
    if earlier is not None:
        return _duplicate(delivery_id, earlier)
    loop.wake()
    logger.info("%s webhook %s %s: queued for %s", webhook, delivery_id, facts["issue_key"],
                run.deployment)
    return answer(202, status="queued", delivery_id=delivery_id,
                  reason="stored; its flow run starts shortly")


def _duplicate(delivery_id: str, earlier: Earlier) -> JSONResponse:
    if earlier.flow_run_id is not None:
        return answer(200, status="duplicate", delivery_id=delivery_id,
                      reason=f"redelivery of {delivery_id}: handed off",
                      flow_run_id=str(earlier.flow_run_id),
                      flow_run_url=flow_run_url(earlier.flow_run_id))
    last = f"; last attempt: {earlier.handoff_error}" if earlier.handoff_error else ""
    return answer(200, status="duplicate", delivery_id=delivery_id,
                  reason=f"redelivery of {delivery_id}: waiting for its hand-off{last}")
