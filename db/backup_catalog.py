"""`backup` rows: record a dump, mark it verified or restore-tested, prune by the rules.

Pruning refuses to run unless the dump it follows is verified, so a failed night never
costs an older good backup.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, insert, select, update

from base import clock
from db.backup import remove_dump
from db.backup_retention import DumpInfo, dumps_to_delete
from db.models import Backup
from db.pg_client import BackupError


def record_dump(
    engine: Engine, *, path: Path, kind: str, size_bytes: int, sha256: str, server_version: str,
    now: datetime,
) -> int:
    with engine.begin() as conn:
        return int(conn.execute(
            insert(Backup).values(
                file_path=str(path), kind=kind, size_bytes=size_bytes, sha256=sha256,
                server_version=server_version, created_at=now,
            ).returning(Backup.id)
        ).scalar_one())


def mark(engine: Engine, backup_id: int, **values: object) -> None:
    """Set timestamps or the path on one row (e.g. `verified_at=...`)."""
    with engine.begin() as conn:
        conn.execute(update(Backup).where(Backup.id == backup_id).values(**values))


def prune(
    engine: Engine, *, after_verified: int, keep_daily: int, keep_weekly: int
) -> list[str]:
    """Delete dumps outside the retention sets; the paths removed."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(Backup.id, Backup.file_path, Backup.created_at, Backup.verified_at)
            .where(Backup.deleted_at.is_(None))
        ).all()
    by_id = {row.id: row for row in rows}
    if after_verified not in by_id or by_id[after_verified].verified_at is None:
        raise BackupError(f"backup {after_verified} is not verified; nothing pruned")
    doomed = dumps_to_delete(
        (DumpInfo(r.id, r.created_at, r.verified_at is not None) for r in rows),
        keep_daily=keep_daily, keep_weekly=keep_weekly,
    )
    removed = []
    for backup_id in sorted(doomed):
        path = Path(by_id[backup_id].file_path)
        remove_dump(path)
        mark(engine, backup_id, deleted_at=clock.now())
        removed.append(str(path))
    return removed
