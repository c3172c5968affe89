"""The stale-run reaper judges liveness by the run's heartbeat, not by its age alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, insert, select, update

from base import clock
from db.models import IssueProcessingHistory as Run
from tasks.reaper import reap_stale_runs


def add_run(engine: Engine, key: str, *, started_ago: timedelta,
            beat_ago: timedelta | None) -> int:
    now = clock.now()
    with engine.begin() as conn:
        return int(conn.execute(insert(Run).values(
            issue_key=key, status="processing", started_at=now - started_ago,
            heartbeat_at=None if beat_ago is None else now - beat_ago,
        ).returning(Run.id)).scalar_one())


class TestReaper:
    def test_a_long_run_that_still_beats_is_kept_and_a_silent_one_is_failed(
        self, engine: Engine
    ) -> None:
        alive = add_run(engine, "A-1", started_ago=timedelta(hours=2),
                        beat_ago=timedelta(seconds=10))
        silent = add_run(engine, "A-2", started_ago=timedelta(hours=2), beat_ago=None)
        stale = add_run(engine, "A-3", started_ago=timedelta(hours=2),
                        beat_ago=timedelta(hours=1, minutes=5))
        result = reap_stale_runs(engine, older_than=timedelta(hours=1))
        assert sorted(result.reaped) == sorted([silent, stale])
        with engine.connect() as conn:
            statuses = dict(conn.execute(select(Run.id, Run.status)).all())
        assert statuses == {alive: "processing", silent: "failed", stale: "failed"}


@pytest.mark.usefixtures("prefect_api")
def test_a_silent_run_that_prefect_still_shows_running_is_marked_crashed_there(
    engine: Engine,
) -> None:
    """A worker killed with its runs leaves them RUNNING in Prefect; the reaper says what
    happened, and a run that ended on its own is left as it is."""
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.states import Completed, Running

    @flow(name="reaper-probe")
    def probe() -> None:
        """Never run: only its flow runs are made."""

    with get_client(sync_client=True) as client:
        killed, finished = (client.create_flow_run(probe, state=Running()) for _ in range(2))
        client.set_flow_run_state(finished.id, Completed(), force=True)
    ids = {}
    for name, run in (("K-1", killed), ("K-2", finished)):
        ids[name] = add_run(engine, name, started_ago=timedelta(hours=2),
                            beat_ago=timedelta(hours=1, minutes=5))
        with engine.begin() as conn:
            conn.execute(update(Run).where(Run.id == ids[name]).values(flow_run_id=run.id))
    result = reap_stale_runs(engine, older_than=timedelta(hours=1))
    assert sorted(result.reaped) == sorted(ids.values())
    with get_client(sync_client=True) as client:
        crashed = client.read_flow_run(killed.id).state
        left = client.read_flow_run(finished.id).state
    assert crashed is not None and crashed.type.value == "CRASHED"
    assert (crashed.message or "").startswith("sdb-agent reaped: no sign of life for ")
    assert left is not None and left.type.value == "COMPLETED"
