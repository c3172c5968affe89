"""Prefect's view of an issue run's flow run, for the reaper and for a rerun's take-over.

A run killed hard (SIGKILL, OOM, lost machine) never reaches its failure hooks; without this,
its row would hold the issue's dedupe slot forever and block every later trigger.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import State
from prefect.exceptions import ObjectNotFound
from prefect.states import Crashed
from sqlalchemy import Engine

from db import issue_runs


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
    """Fail active runs whose flow run is over or that show no sign of life for `older_than`
    (the rule lives in `db/issue_runs.reap`; this adds Prefect's view of each run)."""
    examined, reaped = issue_runs.reap(engine, older_than=older_than, flow_run_ended=ended_state,
                                       on_abandoned=mark_crashed)
    return ReapResult(examined=examined, reaped=reaped)


def mark_crashed(flow_run_id: uuid.UUID, reason: str) -> None:
    """Show a silent run's flow run as CRASHED: a worker killed with its runs (SIGKILL, a lost
    machine) leaves them RUNNING in Prefect for ever, since nothing is left to report."""
    state = prefect_state(flow_run_id)
    if state is None or state.type.value in TERMINAL_STATES:
        return
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(flow_run_id, Crashed(message=f"sdb-agent {reason}"),
                                  force=True)
