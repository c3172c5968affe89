"""Migrations round-trip, match the models, repeat safely and refuse unknown revisions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import URL

from base import clock
from base.errors import DatabaseError
from db import migrate
from db.models import PARTITIONED_TABLES
from db.partitions import list_month_partitions

EXPECTED_TABLES = {
    "issue_processing_history",
    "file_modification_history",
    "llm_call_history",
    "bitbucket_api_history",
    "llm_response_cache",
    "webhook_delivery",
    "maintenance_run",
    "backup",
}


@pytest.fixture
def empty_engine(empty_database_url: URL) -> Engine:
    return create_engine(empty_database_url)


class TestMigrations:
    def test_upgrade_then_downgrade_round_trips_on_an_empty_database(
        self, empty_engine: Engine
    ) -> None:
        migrate.upgrade(empty_engine)
        assert EXPECTED_TABLES <= set(inspect(empty_engine).get_table_names())
        assert {"v_recent_issues", "v_processing_stats", "v_llm_cost_daily"} <= set(
            inspect(empty_engine).get_view_names()
        )
        migrate.downgrade(empty_engine, "base")
        leftovers = set(inspect(empty_engine).get_table_names()) - {"alembic_version"}
        assert leftovers == set()
        assert inspect(empty_engine).get_view_names() == []
        migrate.upgrade(empty_engine)
        assert migrate.current_revision(empty_engine) == migrate.head_revision()

    @pytest.mark.parametrize(("instant", "months"), [
        (datetime(2027, 12, 31, 23, 59, 59, tzinfo=UTC),
         ["y2027m12", "y2028m01", "y2028m02", "y2028m03"]),
        (datetime(2028, 2, 29, 11, 0, tzinfo=UTC),
         ["y2028m02", "y2028m03", "y2028m04", "y2028m05"]),
    ])
    def test_the_first_migration_creates_the_current_utc_month_and_three_more(
        self, empty_engine: Engine, instant: datetime, months: list[str]
    ) -> None:
        with clock.frozen_at(instant):
            migrate.upgrade(empty_engine)
        with empty_engine.connect() as conn:
            for table in PARTITIONED_TABLES:
                assert list_month_partitions(conn, table) == [f"{table}_{m}" for m in months]

    def test_alembic_check_finds_no_drift_between_models_and_migrations(
        self, engine: Engine
    ) -> None:
        config = migrate.alembic_config()
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.check(config)

    def test_applying_migrations_twice_is_a_no_op(self, engine: Engine) -> None:
        before = inspect(engine).get_table_names()
        migrate.upgrade(engine)
        assert inspect(engine).get_table_names() == before
        assert migrate.current_revision(engine) == migrate.head_revision()

    def test_a_database_from_a_newer_release_is_refused_with_a_clear_message(
        self, engine: Engine
    ) -> None:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = 'f00dfeed'"))
        with pytest.raises(DatabaseError, match="f00dfeed.*upgrade sdb-agent"):
            migrate.upgrade(engine)
        with pytest.raises(DatabaseError, match="does not know"):
            migrate.require_current_schema(engine)

    def test_an_unmigrated_database_is_reported_as_needing_an_upgrade(
        self, empty_engine: Engine
    ) -> None:
        with pytest.raises(DatabaseError, match="sdb-agent db upgrade"):
            migrate.require_current_schema(empty_engine)
