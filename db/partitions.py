"""Monthly range partitions for the append-only history tables.

Each table has a DEFAULT partition so a history write never fails for want of a partition;
the daily `create-partitions` flow keeps months ahead, and moves stray rows out of the
default partition before creating the partition that covers them (PostgreSQL refuses to
create a partition while the default one holds rows in its range). The price of the default
partition is that `DETACH ... CONCURRENTLY` is not allowed; retention detaches and drops old
partitions under a short `lock_timeout` instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, text


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    def shift(self, months: int) -> Month:
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def partition_name(self, table: str) -> str:
        return f"{table}_y{self.year:04d}m{self.month:02d}"


def default_partition_name(table: str) -> str:
    return f"{table}_default"


def create_month_partition(conn: Connection, table: str, month: Month) -> bool:
    """Create the month's partition if missing; True when it was created."""
    name = month.partition_name(table)
    exists = conn.execute(text("SELECT to_regclass(:n) IS NOT NULL"), {"n": name}).scalar_one()
    if exists:
        return False
    conn.execute(
        text(
            f'CREATE TABLE "{name}" PARTITION OF "{table}" '
            f"FOR VALUES FROM ('{month.first_day.isoformat()} 00:00+00') "
            f"TO ('{month.shift(1).first_day.isoformat()} 00:00+00')"
        )
    )
    return True


def list_month_partitions(conn: Connection, table: str) -> list[str]:
    """Names of the table's partitions, oldest first (the default partition excluded)."""
    rows = conn.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(:t) ORDER BY c.relname"
        ),
        {"t": table},
    ).scalars()
    return [name for name in rows if name != default_partition_name(table)]
