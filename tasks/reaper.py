"""Fail `queued`/`processing` history rows whose Prefect run is over or that are too old.

A run killed hard (SIGKILL, OOM, lost machine) never reaches its failure hooks; without this,
its row would hold the issue's dedupe slot forever and block every later trigger.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import State
from prefect.exceptions import ObjectNotFound
from sqlalchemy import Engine, select, update

from base import clock
from db.models import ACTIVE_STATUSES, IssueProcessingHistory

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReapResult:
    examined: int
    reaped: list[int]
    settled_deliveries: list[int] = field(default_factory=list)  # history ids written


def prefect_state(flow_run_id: uuid.UUID) -> State | None:
    """The run's current state, or None if Prefect does not know the run."""
    with get_client(sync_client=True) as client:
        try:
            return client.read_flow_run(flow_run_id).state
        except ObjectNotFound:
            return None


def prefect_run_state(flow_run_id: uuid.UUID) -> str | None:
    """The run's state type (e.g. 'RUNNING', 'CRASHED'), or None if Prefect does not know it."""
    state = prefect_state(flow_run_id)
    return state.type.value if state else None


TERMINAL_STATES = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def ended_state(flow_run_id: uuid.UUID) -> str | None:
    """The end state of a flow run that is over (it can do no more work), else None."""
    state = prefect_run_state(flow_run_id)
    return state if state in TERMINAL_STATES else None


def reap_stale_runs(engine: Engine, *, older_than: timedelta) -> ReapResult:
    """Mark active rows failed when their flow run is terminal, or when their last heartbeat
    (else their start) is older than `older_than`; a long run that still beats is kept."""
    now = clock.now()
    with engine.connect() as conn:
        rows = conn.execute(select(
            IssueProcessingHistory.id, IssueProcessingHistory.flow_run_id,
            IssueProcessingHistory.created_at, IssueProcessingHistory.started_at,
            IssueProcessingHistory.heartbeat_at,
        ).where(IssueProcessingHistory.status.in_(ACTIVE_STATUSES))).all()
    reaped = []
    for row in rows:
        age = now - (row.heartbeat_at or row.started_at or row.created_at)
        state = prefect_run_state(row.flow_run_id) if row.flow_run_id else None
        if state in TERMINAL_STATES:
            reason = f"reaped: its Prefect flow run ended {state} without finishing the history"
        elif age > older_than:
            reason = f"reaped: no sign of life for {age} (limit {older_than})"
        else:
            continue
        with engine.begin() as conn:
            changed = conn.execute(
                update(IssueProcessingHistory)
                .where(IssueProcessingHistory.id == row.id,
                       IssueProcessingHistory.status.in_(ACTIVE_STATUSES))
                .values(status="failed", error_message=reason, completed_at=now)
            ).rowcount
        if changed:
            logger.warning("history %s %s", row.id, reason)
            reaped.append(row.id)
    return ReapResult(examined=len(rows), reaped=reaped)
