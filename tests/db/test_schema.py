"""The history schema, tested on real PostgreSQL: constraints, dedupe, partitions, views."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, insert, select, text
from sqlalchemy.exc import IntegrityError

from db.models import (
    BitbucketApiHistory,
    FileModificationHistory,
    IssueProcessingHistory,
    LlmCallHistory,
)
from db.partitions import Month, list_month_partitions


def add_issue(
    engine: Engine, key: str = "MAT-1", status: str = "processing", **values: object
) -> int:
    with engine.begin() as conn:
        return int(
            conn.execute(
                insert(IssueProcessingHistory)
                .values(issue_key=key, status=status, **values)
                .returning(IssueProcessingHistory.id)
            ).scalar_one()
        )


class TestConstraintsRejectBadRows:
    @pytest.mark.parametrize(
        ("model", "values"),
        [
            (IssueProcessingHistory, {"issue_key": "A-1", "status": "done"}),
            (
                IssueProcessingHistory,
                {"issue_key": "A-1", "status": "failed", "modified_files_count": -1},
            ),
        ],
    )
    def test_an_issue_row_with_a_bad_value_is_refused(
        self, engine: Engine, model: type, values: dict[str, object]
    ) -> None:
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(insert(model).values(**values))

    @pytest.mark.parametrize(
        ("model", "values"),
        [
            (FileModificationHistory, {"file_path": "a.cpp", "action": "renamed"}),
            (
                FileModificationHistory,
                {"file_path": "a.cpp", "action": "modified", "outcome": "maybe"},
            ),
            (LlmCallHistory, {"call_type": "chat", "model": "gpt-4o"}),
            (LlmCallHistory, {"call_type": "code_diff", "model": "gpt-4o", "estimated_cost": -1}),
            (BitbucketApiHistory, {"api_method": "PATCH", "endpoint": "/src"}),
        ],
    )
    def test_a_child_row_with_a_bad_value_is_refused(
        self, engine: Engine, model: type, values: dict[str, object]
    ) -> None:
        history_id = add_issue(engine)
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(insert(model).values(history_id=history_id, **values))

    def test_a_child_row_without_its_issue_is_refused(self, engine: Engine) -> None:
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(
                insert(LlmCallHistory).values(history_id=999, call_type="other", model="m")
            )

    def test_deleting_an_issue_cascades_to_its_partitioned_children(self, engine: Engine) -> None:
        history_id = add_issue(engine, status="completed")
        with engine.begin() as conn:
            conn.execute(
                insert(LlmCallHistory).values(history_id=history_id, call_type="other", model="m")
            )
            conn.execute(
                text("DELETE FROM issue_processing_history WHERE id = :id"), {"id": history_id}
            )
            assert conn.execute(text("SELECT count(*) FROM llm_call_history")).scalar_one() == 0


class TestDedupeIndex:
    def test_a_second_active_run_for_the_same_issue_is_refused(self, engine: Engine) -> None:
        add_issue(engine, status="processing")
        with pytest.raises(IntegrityError, match="uq_iph_active_issue"):
            add_issue(engine, status="queued")

    def test_finished_runs_do_not_block_a_new_one(self, engine: Engine) -> None:
        add_issue(engine, status="completed")
        add_issue(engine, status="failed")
        add_issue(engine, status="processing")
        add_issue(engine, key="MAT-2", status="processing")

    def test_fifty_concurrent_claims_leave_exactly_one_active_run(self, engine: Engine) -> None:
        barrier = threading.Barrier(50)
        outcomes: list[str] = []

        def claim() -> None:
            barrier.wait()
            try:
                add_issue(engine, key="RACE-1")
                outcomes.append("claimed")
            except IntegrityError:
                outcomes.append("refused")

        engine.pool.dispose()
        threads = [threading.Thread(target=claim) for _ in range(50)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert outcomes.count("claimed") == 1
        assert outcomes.count("refused") == 49


def month_partitions(engine: Engine, table: str) -> list[Month]:
    """The table's month partitions, oldest first, as the migration made them."""
    with engine.connect() as conn:
        names = list_month_partitions(conn, table)
    return [Month(int(name[-7:-3]), int(name[-2:])) for name in names]


def midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), UTC)


class TestPartitions:
    def test_a_row_lands_in_the_partition_of_its_month(self, engine: Engine) -> None:
        history_id = add_issue(engine)
        month = month_partitions(engine, "llm_call_history")[0]
        at = midnight(month.first_day) + timedelta(days=14, hours=13)
        with engine.begin() as conn:
            conn.execute(
                insert(LlmCallHistory).values(
                    history_id=history_id, call_type="other", model="m", created_at=at
                )
            )
            partition = conn.execute(
                text("SELECT tableoid::regclass::text FROM llm_call_history")
            ).scalar_one()
        assert partition == month.partition_name("llm_call_history")

    def test_four_consecutive_months_exist_and_later_rows_fall_into_the_default_partition(
        self, engine: Engine
    ) -> None:
        history_id = add_issue(engine)
        months = month_partitions(engine, "bitbucket_api_history")
        assert months == [months[0].shift(n) for n in range(4)]
        beyond = midnight(months[-1].shift(1).first_day)
        with engine.begin() as conn:
            for created_at in (beyond - timedelta(seconds=1), beyond):
                conn.execute(
                    insert(BitbucketApiHistory).values(
                        history_id=history_id,
                        api_method="GET",
                        endpoint="/x",
                        created_at=created_at,
                    )
                )
            partitions = (
                conn.execute(
                    text(
                        "SELECT tableoid::regclass::text FROM bitbucket_api_history "
                        "ORDER BY created_at"
                    )
                )
                .scalars()
                .all()
            )
        assert partitions == [
            months[-1].partition_name("bitbucket_api_history"),
            "bitbucket_api_history_default",
        ]

    def test_month_boundaries_are_utc_whatever_the_session_time_zone(self, engine: Engine) -> None:
        history_id = add_issue(engine)
        start = month_partitions(engine, "file_modification_history")[1]
        first_instant = midnight(start.first_day)
        with engine.begin() as conn:
            conn.execute(text("SET TIME ZONE 'Asia/Seoul'"))
            conn.execute(
                insert(FileModificationHistory).values(
                    history_id=history_id,
                    file_path="a.cpp",
                    action="modified",
                    created_at=first_instant,
                )
            )
            partition = conn.execute(
                text("SELECT tableoid::regclass::text FROM file_modification_history")
            ).scalar_one()
            stored = conn.execute(select(FileModificationHistory.created_at)).scalar_one()
        assert partition == start.partition_name("file_modification_history")
        assert stored == first_instant and stored.utcoffset() is not None


class TestViews:
    def test_recent_issues_counts_files_and_calls_without_multiplying(self, engine: Engine) -> None:
        history_id = add_issue(engine, status="completed", modified_files_count=3)
        with engine.begin() as conn:
            for path in ("a.cpp", "b.cpp", "c.py"):
                conn.execute(
                    insert(FileModificationHistory).values(
                        history_id=history_id, file_path=path, action="modified"
                    )
                )
            for cost in ("0.100000", "0.200000"):
                conn.execute(
                    insert(LlmCallHistory).values(
                        history_id=history_id,
                        call_type="code_diff",
                        model="gpt-4o",
                        estimated_cost=Decimal(cost),
                    )
                )
            row = conn.execute(
                text("SELECT file_count, llm_call_count, total_llm_cost FROM v_recent_issues")
            ).one()
        assert (row.file_count, row.llm_call_count, row.total_llm_cost) == (3, 2, Decimal("0.3"))

    def test_processing_stats_give_the_known_numbers(self, engine: Engine) -> None:
        for key, status, seconds, files in [
            ("A-1", "completed", 10, 2),
            ("A-2", "completed", 20, 1),
            ("A-3", "failed", 5, 0),
            ("A-4", "processing", None, 0),
        ]:
            add_issue(
                engine,
                key=key,
                status=status,
                processing_duration_seconds=seconds,
                modified_files_count=files,
            )
        with engine.begin() as conn:
            row = conn.execute(text("SELECT * FROM v_processing_stats")).one()
        assert (row.total_issues, row.completed, row.failed, row.processing) == (4, 2, 1, 1)
        assert row.success_rate == Decimal("50.00")
        assert row.avg_duration == Decimal("15.00")
        assert row.total_files_modified == 3

    def test_llm_cost_daily_counts_cache_hits_and_unpriced_calls_apart(
        self, engine: Engine
    ) -> None:
        history_id = add_issue(engine)
        calls = [
            ("0.010000", False, 100),
            ("0", True, 50),
            (None, False, 70),
            ("0.030000", False, 30),
        ]
        with engine.begin() as conn:
            for cost, hit, tokens in calls:
                conn.execute(
                    insert(LlmCallHistory).values(
                        history_id=history_id,
                        call_type="spec_conversion",
                        model="m",
                        estimated_cost=None if cost is None else Decimal(cost),
                        cache_hit=hit,
                        total_tokens=tokens,
                    )
                )
            row = conn.execute(text("SELECT * FROM v_llm_cost_daily")).one()
        assert (row.total_calls, row.cache_hits, row.total_tokens) == (4, 1, 250)
        assert row.cache_hit_rate == Decimal("25.00")
        assert row.total_cost == Decimal("0.040000")
        assert row.unpriced_calls == 1
