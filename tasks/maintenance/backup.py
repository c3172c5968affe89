"""Tasks of the backup flow: tools check, dump, verify-and-publish, test restore, prune."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from prefect import Task, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State, TaskRun
from sqlalchemy import text

from base import clock
from db import backup, backup_catalog
from db.pg_client import (
    BackupError,
    PgClient,
    check_client_versions,
    find_client_binaries,
    server_major_version,
)
from db.restore_check import RestoreCheck, exported_snapshot, restore_and_compare
from tasks.maintenance.common import engine


@dataclass
class DumpResult:
    partial: Path
    sha256: str
    size_bytes: int
    seconds: float
    row_counts: dict[str, int] | None


def _pg_dump_failed(task: Task[Any, Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Retry when pg_dump itself failed (busy or unreachable server), not on local errors."""
    try:
        state.result()
    except BackupError:
        return True
    except Exception:
        return False
    return False


@task(name="check-backup-tools", cache_policy=NO_CACHE)
def backup_client_task() -> tuple[PgClient, str]:
    """Client programs no older than the server, and the server's version string."""
    eng = engine()
    binaries = find_client_binaries()
    check_client_versions(binaries, server_major=server_major_version(eng))
    with eng.connect() as conn:
        version = str(conn.execute(text("SHOW server_version")).scalar_one())
    get_run_logger().info("pg_dump from %s, server PostgreSQL %s", binaries.bindir, version)
    return PgClient(binaries, eng.url), version


@task(name="dump-database", retries=2, retry_delay_seconds=30,
      retry_condition_fn=_pg_dump_failed, cache_policy=NO_CACHE)
def dump_task(client: PgClient, *, target: Path, with_counts: bool) -> DumpResult:
    """`pg_dump -Fc` to `<target>.partial`; row counts from the same snapshot if asked."""
    started = time.monotonic()
    counts = None
    if with_counts:
        with exported_snapshot(engine()) as (snapshot, counts):
            partial = backup.dump_to_partial(client, target=target, snapshot=snapshot)
    else:
        partial = backup.dump_to_partial(client, target=target)
    return DumpResult(partial, backup.file_sha256(partial), partial.stat().st_size,
                      round(time.monotonic() - started, 3), counts)


@task(name="verify-backup", cache_policy=NO_CACHE)
def verify_task(
    client: PgClient, dump: DumpResult, *, kind: str, server_version: str, now: datetime
) -> tuple[int, Path]:
    """Record the dump, verify it, publish it; a failed check leaves an unverified row only."""
    eng = engine()
    final = dump.partial.with_name(dump.partial.name.removesuffix(".partial"))
    backup_id = backup_catalog.record_dump(
        eng, path=final, kind=kind, size_bytes=dump.size_bytes, sha256=dump.sha256,
        server_version=server_version, now=now,
    )
    try:
        backup.verify_dump(client, dump.partial, sha256=dump.sha256)
    except BackupError:
        dump.partial.unlink(missing_ok=True)
        backup_catalog.mark(eng, backup_id, deleted_at=clock.now())
        raise
    backup.publish(dump.partial, sha256=dump.sha256)
    backup_catalog.mark(eng, backup_id, verified_at=clock.now())
    get_run_logger().info("verified %s (%d bytes, sha256 %s)", final.name, dump.size_bytes,
                          dump.sha256[:12])
    return backup_id, final


@task(name="test-restore", cache_policy=NO_CACHE)
def restore_task(
    client: PgClient, *, backup_id: int, dump: Path, expected: dict[str, int]
) -> RestoreCheck:
    check = restore_and_compare(client, engine(), dump=dump, expected=expected)
    if check.mismatches:
        raise BackupError(f"test restore of {dump.name}: row counts differ {check.mismatches}")
    backup_catalog.mark(engine(), backup_id, restore_tested_at=clock.now())
    get_run_logger().info("test restore: %d tables, %d rows, counts equal", check.tables,
                          check.rows)
    return check


@task(name="prune-backups", cache_policy=NO_CACHE)
def prune_task(*, after_verified: int, keep_daily: int, keep_weekly: int) -> list[str]:
    removed = backup_catalog.prune(engine(), after_verified=after_verified,
                                   keep_daily=keep_daily, keep_weekly=keep_weekly)
    get_run_logger().info("pruned %d old dump(s)", len(removed))
    return removed
