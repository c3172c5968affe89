"""Partitions are kept ahead, across year ends, and stray default-partition rows are moved."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, create_engine, text

from db.models import PARTITIONED_TABLES, LlmCallHistory
from db.partition_upkeep import ensure_partitions
from db.partitions import list_month_partitions
from tests.maintenance.history import add_call, add_issue, count


def partitions(engine: Engine, table: str) -> list[str]:
    with engine.connect() as conn:
        return list_month_partitions(conn, table)


def in_default(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f'SELECT count(*) FROM "{table}_default"')).scalar_one())


def drop_month_partitions(engine: Engine) -> None:
    """Forget the months the migration made from the real clock, so only the run under test
    decides which partitions exist."""
    with engine.begin() as conn:
        for table in PARTITIONED_TABLES:
            for name in list_month_partitions(conn, table):
                conn.execute(text(f'DROP TABLE "{name}"'))


class TestPartitionsAreKeptAhead:
    def test_a_run_in_november_creates_months_into_the_next_year(self, engine: Engine) -> None:
        drop_month_partitions(engine)
        result = ensure_partitions(engine, today=date(2026, 11, 15), premake=3)
        for table in PARTITIONED_TABLES:
            names = partitions(engine, table)
            assert names == [f"{table}_{month}"
                             for month in ("y2026m11", "y2026m12", "y2027m01", "y2027m02")]
        assert set(result.analyzed) <= set(PARTITIONED_TABLES)

    def test_a_run_on_a_leap_day_creates_its_month_and_the_next_ones(
        self, engine: Engine
    ) -> None:
        drop_month_partitions(engine)
        result = ensure_partitions(engine, today=date(2028, 2, 29), premake=2)
        assert partitions(engine, "llm_call_history") == [
            f"llm_call_history_{m}" for m in ("y2028m02", "y2028m03", "y2028m04")]
        assert len(result.created) == 3 * len(PARTITIONED_TABLES)

    def test_a_second_run_creates_nothing(self, engine: Engine) -> None:
        ensure_partitions(engine, today=date(2027, 6, 1), premake=3)
        again = ensure_partitions(engine, today=date(2027, 6, 1), premake=3)
        assert (again.created, again.moved_rows, again.analyzed) == ([], {}, [])


@pytest.fixture(params=["UTC", "Asia/Seoul", "America/St_Johns"])
def session_zone_engine(engine: Engine, request: pytest.FixtureRequest) -> Iterator[Engine]:
    """The test's database seen by sessions in another time zone (PostgreSQL's own setting
    follows the server's TZ, so a server started in Seoul has Seoul sessions)."""
    zoned = create_engine(engine.url, connect_args={"options": f"-c timezone={request.param}"})
    yield zoned
    zoned.dispose()


class TestRowsInTheDefaultPartition:
    def test_they_are_moved_into_their_new_month_and_reported(
        self, session_zone_engine: Engine
    ) -> None:
        engine = session_zone_engine
        drop_month_partitions(engine)
        issue = add_issue(engine, "MAT-1", at=datetime(2026, 11, 1, tzinfo=UTC))
        stray = [add_call(engine, issue, at=datetime(2030, 5, d, 12, tzinfo=UTC))
                 for d in (1, 15, 31)]
        far = add_call(engine, issue, at=datetime(2031, 9, 2, tzinfo=UTC))
        assert in_default(engine, "llm_call_history") == 4

        result = ensure_partitions(engine, today=date(2030, 4, 20), premake=1)

        assert in_default(engine, "llm_call_history") == 0
        assert result.moved_rows == {"llm_call_history": 4}
        assert "llm_call_history_y2030m05" in result.created
        assert "llm_call_history_y2031m09" in result.created
        assert "4 row(s) had landed in llm_call_history_default" in result.alerts[0]
        with engine.connect() as conn:
            ids = conn.execute(text(
                "SELECT id FROM llm_call_history_y2030m05 ORDER BY id")).scalars().all()
        assert ids == stray
        assert count(engine, LlmCallHistory, LlmCallHistory.id == far) == 1
        assert "llm_call_history" in result.analyzed
