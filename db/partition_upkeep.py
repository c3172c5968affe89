"""Keep monthly partitions ahead of time and the DEFAULT partition empty.

Rows in the DEFAULT partition mean a month was missing when they were written. PostgreSQL
refuses to create a partition while the default one holds rows of its range, so those rows
are moved in one transaction: copied to a temp table, deleted from the default partition,
the covering partition created, and the rows re-inserted through the parent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Connection, Engine, text

from db.models import PARTITIONED_TABLES
from db.partitions import Month, create_month_partition, default_partition_name

logger = logging.getLogger(__name__)
LOCK_TIMEOUT = "5s"


@dataclass
class PartitionUpkeep:
    """What one run did: partitions created, and rows found in (and moved out of) defaults."""

    created: list[str] = field(default_factory=list)
    moved_rows: dict[str, int] = field(default_factory=dict)
    analyzed: list[str] = field(default_factory=list)

    @property
    def alerts(self) -> list[str]:
        return [
            f"{rows} row(s) had landed in {default_partition_name(table)}; moved to their "
            "month partitions"
            for table, rows in self.moved_rows.items()
        ]


def wanted_months(*, today: date, premake: int) -> list[Month]:
    """This month and `premake` more."""
    current = Month.of(today)
    return [current.shift(offset) for offset in range(premake + 1)]


def stray_months(conn: Connection, table: str) -> dict[Month, int]:
    """Months (UTC) of the rows sitting in the table's DEFAULT partition, with counts."""
    rows = conn.execute(
        text(
            "SELECT EXTRACT(YEAR FROM created_at AT TIME ZONE 'UTC')::int AS y, "
            "EXTRACT(MONTH FROM created_at AT TIME ZONE 'UTC')::int AS m, count(*) AS n "
            f'FROM "{default_partition_name(table)}" GROUP BY 1, 2'
        )
    ).all()
    return {Month(row.y, row.m): int(row.n) for row in rows}


def move_into_new_partition(conn: Connection, table: str, month: Month) -> int:
    """Move the month's rows out of DEFAULT into a new partition; the caller's transaction."""
    default = default_partition_name(table)
    # UTC instants, whatever the session's time zone (`date AT TIME ZONE` would read the date
    # in the session's zone first: under Asia/Seoul that moved the bounds by 18 hours)
    bounds = {"lo": f"{month.first_day.isoformat()} 00:00+00",
              "hi": f"{month.shift(1).first_day.isoformat()} 00:00+00"}
    where = "created_at >= CAST(:lo AS timestamptz) AND created_at < CAST(:hi AS timestamptz)"
    conn.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    conn.execute(text(f'LOCK TABLE "{table}" IN ACCESS EXCLUSIVE MODE'))
    conn.execute(
        text(f'CREATE TEMP TABLE moving ON COMMIT DROP AS SELECT * FROM "{default}" WHERE {where}'),
        bounds,
    )
    moved = conn.execute(text(f'DELETE FROM "{default}" WHERE {where}'), bounds).rowcount
    create_month_partition(conn, table, month)
    conn.execute(text(f'INSERT INTO "{table}" SELECT * FROM moving'))
    conn.execute(text("DROP TABLE moving"))
    return int(moved)


def ensure_partitions(engine: Engine, *, today: date, premake: int) -> PartitionUpkeep:
    """Create the missing month partitions of every partitioned table; idempotent."""
    result = PartitionUpkeep()
    for table in PARTITIONED_TABLES:
        changed = False
        with engine.connect() as conn:
            strays = stray_months(conn, table)
        for month, count in sorted(strays.items()):
            logger.warning(
                "%s row(s) of %04d-%02d are in %s; moving them to a new partition",
                count, month.year, month.month, default_partition_name(table),
            )
            with engine.begin() as conn:
                moved = move_into_new_partition(conn, table, month)
            result.moved_rows[table] = result.moved_rows.get(table, 0) + moved
            result.created.append(month.partition_name(table))
            changed = True
        for month in wanted_months(today=today, premake=premake):
            with engine.begin() as conn:
                conn.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
                if create_month_partition(conn, table, month):
                    result.created.append(month.partition_name(table))
                    changed = True
        if changed:
            with engine.begin() as conn:
                conn.execute(text(f'ANALYZE "{table}"'))
            result.analyzed.append(table)
    return result
