"""Retention drops old months, strips old contents, deletes old rows, and spares the rest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, insert, select, text

from db.models import (
    FileModificationHistory,
    IssueProcessingHistory,
    LlmCallHistory,
    LlmResponseCache,
    MaintenanceRun,
    WebhookDelivery,
)
from db.partitions import Month, create_month_partition, list_month_partitions
from flows.maintenance import cleanup_retention
from tests.maintenance.history import add_call, add_file, add_issue, count

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
OLD = datetime(2025, 9, 10, tzinfo=UTC)


def seed(engine: Engine) -> dict[str, int]:
    with engine.begin() as conn:
        for month in (Month(2025, 9), Month(2025, 10), Month(2025, 11), Month(2026, 10)):
            for table in ("llm_call_history", "file_modification_history"):
                create_month_partition(conn, table, month)
        conn.execute(insert(WebhookDelivery), [
            {"delivery_id": "old", "received_at": NOW - timedelta(days=100),
             "outcome": "accepted", "http_status": 202},
            {"delivery_id": "new", "received_at": NOW - timedelta(days=10),
             "outcome": "accepted", "http_status": 202},
            {"delivery_id": "old but queued", "received_at": NOW - timedelta(days=100),
             "outcome": "queued", "http_status": 202},  # a run still to start
        ])
        conn.execute(insert(LlmResponseCache), [
            {"cache_key": key, "model": "m", "call_type": "code_diff", "response": {},
             "expires_at": NOW + delta}
            for key, delta in (("expired", timedelta(hours=-1)), ("fresh", timedelta(days=3)))
        ])
    ids = {
        "old_done": add_issue(engine, "OLD-1", at=OLD),
        "old_active": add_issue(engine, "OLD-2", at=OLD, status="processing"),
        "kept_month": add_issue(engine, "MID-1", at=datetime(2025, 11, 20, tzinfo=UTC)),
        "recent": add_issue(engine, "NEW-1", at=NOW - timedelta(days=7)),
    }
    for _ in range(300):
        add_call(engine, ids["old_done"], at=OLD)
    add_call(engine, ids["kept_month"], at=datetime(2025, 11, 20, tzinfo=UTC))
    ids["stale_file"] = add_file(engine, ids["kept_month"], at=datetime(2026, 10, 1, tzinfo=UTC))
    ids["active_file"] = add_file(engine, ids["old_active"], at=datetime(2026, 10, 1, tzinfo=UTC))
    ids["recent_file"] = add_file(engine, ids["recent"], at=NOW - timedelta(days=7))
    return ids


def content_of(engine: Engine, file_id: int) -> str | None:
    with engine.connect() as conn:
        return conn.execute(select(FileModificationHistory.original_content)
                            .where(FileModificationHistory.id == file_id)).scalar_one()


class TestCleanupRetention:
    def test_old_data_goes_and_younger_or_active_data_stays(
        self, maintenance_env: Path, engine: Engine
    ) -> None:
        ids = seed(engine)

        figures = cleanup_retention(now=NOW)

        with engine.connect() as conn:
            calls = list_month_partitions(conn, "llm_call_history")
        assert "llm_call_history_y2025m09" not in calls
        assert "llm_call_history_y2025m10" not in calls
        assert "llm_call_history_y2025m11" in calls
        assert "llm_call_history_y2025m09" in figures["dropped_partitions"]
        assert count(engine, LlmCallHistory) == 1
        remaining = {r for (r,) in _all(engine, IssueProcessingHistory.issue_key)}
        assert remaining == {"OLD-2", "MID-1", "NEW-1"}
        assert content_of(engine, ids["stale_file"]) is None
        assert content_of(engine, ids["active_file"]) is not None
        assert content_of(engine, ids["recent_file"]) is not None
        assert {r for (r,) in _all(engine, WebhookDelivery.delivery_id)} == {
            "new", "old but queued"}
        assert {r for (r,) in _all(engine, LlmResponseCache.cache_key)} == {"fresh"}
        assert figures["rows"]["file contents stripped"] == 1
        assert figures["rows"]["issue_processing_history"] == 1
        assert figures["bytes_freed"] > 0
        assert figures["bytes_before"] - figures["bytes_after"] == figures["bytes_freed"]

    def test_a_second_run_finds_nothing_more_to_do(
        self, maintenance_env: Path, engine: Engine
    ) -> None:
        seed(engine)
        cleanup_retention(now=NOW)
        again = cleanup_retention(now=NOW)
        assert again["dropped_partitions"] == [] and sum(again["rows"].values()) == 0
        with engine.connect() as conn:
            statuses = conn.execute(text("SELECT status FROM maintenance_run")).scalars().all()
        assert statuses == ["succeeded", "succeeded"]
        assert count(engine, MaintenanceRun) == 2


def _all(engine: Engine, column: object) -> list[tuple[object]]:
    with engine.connect() as conn:
        return list(conn.execute(select(column)).all())  # type: ignore[call-overload]
