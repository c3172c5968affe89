"""While PostgreSQL is down, paid LLM calls are kept in the local spool, not dropped (once it
is back, the spooled rows are written with the time they were made), and a retry of the same
request is answered from this process's copy instead of paying the model again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Engine

from db import migrate
from db.embedded import EmbeddedPostgres
from db.llm_cache import PostgresResponseCache
from db.models import IssueProcessingHistory, LlmCallHistory
from db.recorder import HistoryRecorder
from db.spool import Spool
from integrations.llm.schemas import Kind
from standins.openai_server import OpenAIStandin
from tests.conftest import throwaway_postgres
from tests.integrations.test_llm_client import SPEC, client_for, messages_for


@pytest.fixture
def own_server() -> Iterator[EmbeddedPostgres]:
    """A PostgreSQL of this test's own, so it can be stopped mid-run."""
    with throwaway_postgres("sdb-test-outage-") as server:
        yield server


def run_row(engine: Engine) -> int:
    with engine.begin() as conn:
        return int(conn.execute(text(
            "INSERT INTO issue_processing_history (issue_key, status) "
            "VALUES ('MAT-1', 'processing') RETURNING id")).scalar_one())


@pytest.fixture
def scripted(llm: OpenAIStandin) -> OpenAIStandin:
    llm.script(Kind.ISSUE_SPEC.value.schema_name, SPEC)
    return llm


class TestAPostgresOutage:
    def test_paid_calls_are_spooled_then_written_when_the_database_is_back(
        self, own_server: EmbeddedPostgres, scripted: OpenAIStandin, tmp_path: Path
    ) -> None:
        engine = create_engine(own_server.url(), pool_pre_ping=True)
        migrate.upgrade(engine)
        history_id = run_row(engine)
        spool = Spool(tmp_path / "spool")
        recorder = HistoryRecorder(engine, history_id=history_id, spool=spool)
        own_server.stop()
        results = [client_for(scripted, recorder).complete(Kind.ISSUE_SPEC,
                                                           messages_for(Kind.ISSUE_SPEC, str(n)))
                   for n in range(3)]
        assert all(r.data for r in results)  # the answers are used; only the rows wait
        assert spool.pending() == 3 and len(recorder.failures) == 3
        assert all("kept in" in failure for failure in recorder.failures)
        assert spool.replay(engine) == 0  # still down: nothing is lost either
        own_server.start()
        try:
            assert spool.replay(engine) == 3 and spool.pending() == 0
            with engine.connect() as conn:
                calls = conn.execute(select(LlmCallHistory.history_id, LlmCallHistory.model,
                                            LlmCallHistory.estimated_cost,
                                            LlmCallHistory.created_at)).all()
                run = conn.execute(select(IssueProcessingHistory.created_at)).scalar_one()
        finally:
            engine.dispose()
        assert [(c.history_id, c.model) for c in calls] == [(history_id, "gpt-4o")] * 3
        assert all(c.estimated_cost is not None and c.created_at >= run for c in calls)

    def test_a_retry_while_the_database_is_away_does_not_pay_the_model_again(
        self, own_server: EmbeddedPostgres, scripted: OpenAIStandin, tmp_path: Path
    ) -> None:
        engine = create_engine(own_server.url(), pool_pre_ping=True)
        migrate.upgrade(engine)
        recorder = HistoryRecorder(engine, history_id=run_row(engine),
                                   spool=Spool(tmp_path / "spool"))
        cache = PostgresResponseCache(engine, ttl=timedelta(hours=1))
        own_server.stop()  # the answer is paid for, but its cache row cannot be written
        try:
            first = client_for(scripted, recorder, cache=cache).complete(
                Kind.ISSUE_SPEC, messages_for(Kind.ISSUE_SPEC))
            retried = client_for(scripted, recorder, cache=PostgresResponseCache(
                engine, ttl=timedelta(hours=1))).complete(Kind.ISSUE_SPEC,
                                                          messages_for(Kind.ISSUE_SPEC))
        finally:
            engine.dispose()
        assert retried.data == first.data and retried.cache_hit
        assert len([r for r in scripted.requests if r.path.endswith("/chat/completions")]) == 1
