"""Prove a dump restores: into a scratch database, `--exit-on-error`, same row counts.

The source counts are taken inside the snapshot that `pg_dump` itself uses (exported with
`pg_export_snapshot()`), so a busy database still compares exactly. The scratch database
is dropped whatever happens. It needs the CREATEDB privilege on an external server.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.pool import NullPool

from db.pg_client import BackupError, PgClient, failure_reason


@dataclass
class RestoreCheck:
    tables: int
    rows: int
    mismatches: dict[str, tuple[int, int]] = field(default_factory=dict)


def table_row_counts(conn: Connection) -> dict[str, int]:
    """Exact row counts of every ordinary table (partitions included) in `public`."""
    names = conn.execute(text(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1"
    )).scalars().all()
    return {name: int(conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one())
            for name in names}


@contextmanager
def exported_snapshot(engine: Engine) -> Iterator[tuple[str, dict[str, int]]]:
    """A snapshot id for `pg_dump --snapshot` and the row counts as of that snapshot."""
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot = str(conn.execute(text("SELECT pg_export_snapshot()")).scalar_one())
            yield snapshot, table_row_counts(conn)


def restore_and_compare(
    client: PgClient, engine: Engine, *, dump: Path, expected: dict[str, int]
) -> RestoreCheck:
    """Restore into a scratch database, compare counts with `expected`, drop the scratch."""
    scratch = f"sdb_restore_check_{uuid.uuid4().hex[:12]}"
    admin = engine.execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{scratch}"'))
    try:
        result = client.run(
            "pg_restore", "--exit-on-error", "--no-owner", "--no-privileges",
            f"--dbname={scratch}", str(dump), database=scratch,
        )
        if result.returncode != 0:
            raise BackupError(f"test restore of {dump.name} failed: {failure_reason(result)}")
        scratch_engine = create_engine(engine.url.set(database=scratch), poolclass=NullPool)
        try:
            with scratch_engine.connect() as conn:
                restored = table_row_counts(conn)
        finally:
            scratch_engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
    check = RestoreCheck(tables=len(expected), rows=sum(expected.values()))
    for table, count in expected.items():
        if restored.get(table) != count:
            check.mismatches[table] = (count, restored.get(table, -1))
    return check
