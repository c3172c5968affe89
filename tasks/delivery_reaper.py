"""Give every accepted webhook delivery a history row, even when its flow run never made one.

A delivery is `accepted` once the hand-off loop has created its flow run (before that it is
`queued`, waiting in the outbox, and has no run to judge). The flow opens the history row when
it claims the issue. A run that crashes before that (its worker could not enter the checkout,
its process was killed while pending, Jira could not be read) leaves the delivery `accepted`
and nothing in `/history`. Once such a run has ended, the reaper writes the row as `failed`,
with the run's end state and message. A run whose process died before the claim (its worker
killed with it) never ends by itself: Prefect shows it PENDING or RUNNING for ever. Once it
has been so for longer than runs may be active, the reaper marks it CRASHED, then writes the
row. The look-back counts from the hand-off, so a delivery that waited long in the outbox is
still seen.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, Exists, exists, func, select

from base import clock
from db import issue_runs
from db.models import IssueProcessingHistory, WebhookDelivery
from tasks.reaper import mark_crashed, prefect_state

logger = logging.getLogger(__name__)
LOOK_BACK = timedelta(days=7)  # older deliveries were settled by earlier reaper runs
# A COMPLETED run without a row answered "already completed" or "already processing".
UNFINISHED_ENDS = frozenset({"FAILED", "CRASHED", "CANCELLED"})


@dataclass(frozen=True)
class RunEnd:
    state: str
    message: str


def run_end(flow_run_id: uuid.UUID, *, silent_for: timedelta) -> RunEnd | None:
    """How the flow run ended, None while it may still run; Prefect not knowing it is an end,
    and so is a run started (PENDING or RUNNING) longer than `silent_for` ago that never
    claimed its issue: it is marked CRASHED first, so that Prefect shows what history does.
    A SCHEDULED run is only waiting for a worker."""
    state = prefect_state(flow_run_id)
    if state is None:
        return RunEnd("UNKNOWN", "Prefect has no such flow run")
    if (state.is_pending() or state.is_running()) and state.timestamp < clock.now() - silent_for:
        reason = (f"found the run {state.type.value} for over {_minutes(silent_for)} minutes "
                  "without a claim: its process is gone")
        mark_crashed(flow_run_id, reason)
        return RunEnd("CRASHED", f"sdb-agent {reason}")
    if not state.is_final():
        return None
    return RunEnd(state.type.value, state.message or state.name or "")


def _minutes(span: timedelta) -> int:
    return round(span.total_seconds() / 60)


def _has_history(flow_run_id: Any) -> Exists:
    return exists().where(IssueProcessingHistory.flow_run_id == flow_run_id)


def settle_unrecorded_deliveries(engine: Engine, *, silent_for: timedelta) -> list[int]:
    """History ids written for accepted deliveries whose flow run ended without one (or was
    started longer than `silent_for` ago and never claimed its issue)."""
    now = clock.now()
    with engine.connect() as conn:
        pending = conn.execute(
            select(WebhookDelivery.flow_run_id, WebhookDelivery.issue_key)
            .where(WebhookDelivery.outcome == "accepted",
                   WebhookDelivery.flow_run_id.is_not(None),
                   WebhookDelivery.issue_key.is_not(None),
                   func.coalesce(WebhookDelivery.handed_off_at,
                                 WebhookDelivery.received_at) >= now - LOOK_BACK,
                   ~_has_history(WebhookDelivery.flow_run_id))
            .distinct()).all()
    written = []
    for flow_run_id, issue_key in pending:
        assert flow_run_id is not None and issue_key is not None  # the query says so
        end = run_end(flow_run_id, silent_for=silent_for)
        if end is None or end.state not in UNFINISHED_ENDS | {"UNKNOWN"}:
            continue
        reason = (f"the Prefect flow run ended {end.state} before it started the issue: "
                  f"{end.message}".rstrip(": "))
        history_id = issue_runs.record_unstarted(engine, issue_key=issue_key,
                                                 flow_run_id=flow_run_id, reason=reason)
        if history_id is not None:  # else the flow wrote its row meanwhile
            written.append(history_id)
            logger.warning("history %s for %s: %s", history_id, issue_key, reason)
    return written
