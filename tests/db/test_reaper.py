"""The stale-run reaper judges liveness by the run's heartbeat, not by its age alone."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, insert, select

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
