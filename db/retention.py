"""Retention: drop old call-history partitions, strip old file contents, delete old rows.

Whole months go by partition (detach, then drop: instant, no bloat). Everything else is
batched, one short transaction per batch under `lock_timeout` and `statement_timeout`, so
retention never holds a lock the agent is waiting for. Active (queued/processing) issues and
their rows are never touched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine, text

from db.models import ACTIVE_STATUSES, PARTITIONED_TABLES
from db.partitions import Month, default_partition_name, list_month_partitions

LOCK_TIMEOUT = "5s"
STATEMENT_TIMEOUT = "60s"
BATCH_SIZE = 5000
ACTIVE = ", ".join(f"'{status}'" for status in ACTIVE_STATUSES)
RETENTION_TABLES = (
    *PARTITIONED_TABLES, "issue_processing_history", "jira_api_history", "webhook_delivery",
    "llm_response_cache",
)


@dataclass
class RetentionResult:
    dropped_partitions: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    bytes_before: dict[str, int] = field(default_factory=dict)
    bytes_after: dict[str, int] = field(default_factory=dict)

    @property
    def bytes_freed(self) -> int:
        return sum(self.bytes_before.values()) - sum(self.bytes_after.values())


def table_bytes(engine: Engine, table: str) -> int:
    """pg_total_relation_size of a table, summed over its partitions when partitioned."""
    with engine.connect() as conn:
        return int(conn.execute(text(
            "SELECT COALESCE(sum(pg_total_relation_size(relid)), 0) "
            "FROM pg_partition_tree(to_regclass(:t))"
        ), {"t": table}).scalar_one())


def partition_month(name: str, table: str) -> Month | None:
    """The month of a `<table>_yYYYYmMM` partition; None for any other name."""
    match = re.fullmatch(rf"{re.escape(table)}_y(\d{{4}})m(\d{{2}})", name)
    return Month(int(match.group(1)), int(match.group(2))) if match else None


def drop_old_partitions(engine: Engine, *, keep_from: Month) -> list[str]:
    """Detach and drop every month partition before `keep_from`, one transaction each."""
    dropped = []
    for table in PARTITIONED_TABLES:
        with engine.connect() as conn:
            names = list_month_partitions(conn, table)
        for name in names:
            month = partition_month(name, table)
            if month is None or month >= keep_from:
                continue
            with engine.begin() as conn:
                conn.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
                conn.execute(text(f'ALTER TABLE "{table}" DETACH PARTITION "{name}"'))
                conn.execute(text(f'DROP TABLE "{name}"'))
            dropped.append(name)
    return dropped


def run_batches(engine: Engine, statement: str, params: dict[str, object]) -> int:
    """Repeat a `... LIMIT :batch` statement until it touches no row; rows touched."""
    total = 0
    while True:
        with engine.begin() as conn:
            conn.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
            conn.execute(text(f"SET LOCAL statement_timeout = '{STATEMENT_TIMEOUT}'"))
            count = conn.execute(text(statement), {**params, "batch": BATCH_SIZE}).rowcount
        total += count
        if count < BATCH_SIZE:
            return total


NOT_ACTIVE = f"NOT EXISTS (SELECT 1 FROM issue_processing_history i " \
    f"WHERE i.id = t.history_id AND i.status IN ({ACTIVE}))"

STRIP_CONTENT = f"""
UPDATE file_modification_history f SET original_content = NULL, modified_content = NULL
WHERE (f.id, f.created_at) IN (
    SELECT t.id, t.created_at FROM file_modification_history t
    WHERE t.created_at < :cutoff
      AND (t.original_content IS NOT NULL OR t.modified_content IS NOT NULL)
      AND {NOT_ACTIVE}
    LIMIT :batch)"""

DELETE_OLD_IN_DEFAULT = """
DELETE FROM "{default}" d WHERE (d.id, d.created_at) IN (
    SELECT t.id, t.created_at FROM "{default}" t WHERE t.created_at < :cutoff AND {not_active}
    LIMIT :batch)"""

DELETE_OLD_ISSUES = f"""
DELETE FROM issue_processing_history WHERE id IN (
    SELECT id FROM issue_processing_history
    WHERE created_at < :cutoff AND COALESCE(completed_at, created_at) < :cutoff
      AND status NOT IN ({ACTIVE})
    LIMIT :batch)"""

DELETE_OLD_WEBHOOKS = """
DELETE FROM webhook_delivery WHERE id IN (
    SELECT id FROM webhook_delivery WHERE received_at < :cutoff AND outcome <> 'queued'
    LIMIT :batch)"""  # a queued delivery is a run still to start, however old

DELETE_EXPIRED_CACHE = """
DELETE FROM llm_response_cache WHERE cache_key IN (
    SELECT cache_key FROM llm_response_cache WHERE expires_at < :now LIMIT :batch)"""


def apply_retention(
    engine: Engine, *, now: datetime, history_months: int, content_days: int, webhook_days: int
) -> RetentionResult:
    """Apply every retention rule as of `now` (UTC); figures for the report."""
    result = RetentionResult()
    for table in RETENTION_TABLES:
        result.bytes_before[table] = table_bytes(engine, table)
    keep_from = Month.of(now.date()).shift(-history_months)
    history_cutoff = datetime.combine(keep_from.first_day, datetime.min.time(), now.tzinfo)
    result.dropped_partitions = drop_old_partitions(engine, keep_from=keep_from)
    for table in PARTITIONED_TABLES:
        statement = DELETE_OLD_IN_DEFAULT.format(
            default=default_partition_name(table), not_active=NOT_ACTIVE
        )
        result.rows[f"{table} (default partition)"] = run_batches(
            engine, statement, {"cutoff": history_cutoff}
        )
    result.rows["file contents stripped"] = run_batches(
        engine, STRIP_CONTENT, {"cutoff": now - timedelta(days=content_days)}
    )
    result.rows["issue_processing_history"] = run_batches(
        engine, DELETE_OLD_ISSUES, {"cutoff": history_cutoff}
    )
    result.rows["webhook_delivery"] = run_batches(
        engine, DELETE_OLD_WEBHOOKS, {"cutoff": now - timedelta(days=webhook_days)}
    )
    result.rows["llm_response_cache"] = run_batches(engine, DELETE_EXPIRED_CACHE, {"now": now})
    vacuum(engine, RETENTION_TABLES)
    for table in RETENTION_TABLES:
        result.bytes_after[table] = table_bytes(engine, table)
    return result


def vacuum(engine: Engine, tables: tuple[str, ...]) -> None:
    """Plain VACUUM so freed space is reusable (and trailing pages returned) at once."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in tables:
            conn.execute(text(f'VACUUM (ANALYZE) "{table}"'))

