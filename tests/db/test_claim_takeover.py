"""A claim takes over at once from an active run whose Prefect flow run is already over (its
process was killed), without waiting for the lease or the reaper."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import State
from prefect.states import Crashed, Running
from sqlalchemy import Engine, select

from db import issue_runs
from db.models import IssueProcessingHistory as Run
from tasks.reaper import ended_state

LEASE = timedelta(minutes=5)  # far longer than the test: only Prefect's state can free the slot


@flow(name="claim-takeover-probe")
def probe() -> None:
    """Never run: its flow runs stand for a run killed under `serve`."""


def flow_run_in(state: State) -> uuid.UUID:
    with get_client(sync_client=True) as client:
        return uuid.UUID(str(client.create_flow_run(probe, state=state).id))


def claim(engine: Engine, flow_run_id: uuid.UUID) -> issue_runs.Claim:
    return issue_runs.claim(engine, issue_key="MAT-9", summary="Ti", issue_data={},
                            spec_hash="h", flow_run_id=flow_run_id, force=False, lease=LEASE,
                            flow_run_ended=ended_state)


class TestTakingOverARunWhoseFlowRunIsOver:
    @pytest.mark.parametrize("state", [Crashed, Running], ids=["crashed", "running"])
    def test_only_an_ended_flow_run_gives_up_its_slot(
        self, engine: Engine, prefect_api: str, state: type
    ) -> None:
        first = claim(engine, flow_run_in(state()))
        assert first.outcome == "claimed"
        second = claim(engine, flow_run_in(Running()))
        with engine.connect() as conn:
            old = conn.execute(select(Run.status, Run.error_message)
                               .where(Run.id == first.history_id)).one()
        if state is Crashed:
            assert second.outcome == "claimed" and second.history_id != first.history_id
            assert old.status == "failed" and "ended CRASHED" in (old.error_message or "")
        else:
            assert (second.outcome, second.history_id) == ("already_processing",
                                                           first.history_id)
            assert old.status == "processing"
