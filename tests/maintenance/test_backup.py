"""Backups with the real pg_dump and pg_restore: verified, checksummed, test-restored, pruned."""

from __future__ import annotations

import hashlib
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, Row, select, text

from db.backup import dump_to_partial, file_sha256, verify_dump
from db.backup_retention import DumpInfo, dumps_to_delete
from db.embedded import EmbeddedPostgres
from db.models import Backup, MaintenanceRun
from db.pg_binaries import PgBinaries
from db.pg_client import BackupError, PgClient, check_client_versions
from flows.maintenance import backup_database
from tests.conftest import ConfiguredRuntime
from tests.maintenance.history import add_call, add_issue

NOW = datetime(2026, 11, 18, 3, 0, tzinfo=UTC)  # a Wednesday


def client_for(pg_server: EmbeddedPostgres, engine: Engine) -> PgClient:
    return PgClient(pg_server.binaries, engine.url)


def backups(engine: Engine) -> list[Row[Any]]:
    """The backup rows, oldest first: Core rows whose attributes are the table's columns."""
    with engine.connect() as conn:
        return list(conn.execute(select(Backup).order_by(Backup.id)).all())


class TestABackupRun:
    def test_it_leaves_a_verified_dump_with_its_checksum_and_a_restore_proof(
        self, maintenance_env: Path, engine: Engine
    ) -> None:
        issue = add_issue(engine, "MAT-7", at=NOW - timedelta(hours=2))
        add_call(engine, issue, at=NOW - timedelta(hours=1))

        figures = backup_database(test_restore=True, kind="manual", now=NOW)

        dump = Path(figures["file"])
        assert dump.parent == maintenance_env.resolve() and dump.exists()
        assert not list(maintenance_env.glob("*.partial"))
        assert dump.read_bytes()[:5] == b"PGDMP"
        expected = f"{hashlib.sha256(dump.read_bytes()).hexdigest()}  {dump.name}\n"
        assert Path(f"{dump}.sha256").read_text() == expected
        [row] = backups(engine)
        assert (row.file_path, row.kind, row.sha256) == (str(dump), "manual", figures["sha256"])
        assert row.verified_at is not None and row.restore_tested_at is not None
        assert figures["restore_rows"] >= 2
        with engine.connect() as conn:
            run = conn.execute(select(MaintenanceRun)).one()
            scratch = conn.execute(text(
                "SELECT count(*) FROM pg_database WHERE datname LIKE 'sdb_restore_check_%'"
            )).scalar_one()
        assert (run.flow_name, run.status, run.figures["verified"]) == (
            "backup-database", "succeeded", True)
        assert scratch == 0

    def test_a_failed_dump_prunes_nothing_and_leaves_no_file(
        self, maintenance_env: Path, engine: Engine, runtime: ConfiguredRuntime,
        tmp_path: Path,
    ) -> None:
        runtime.set(BACKUP_KEEP_DAILY="1", BACKUP_KEEP_WEEKLY="0")
        for days in (3, 2, 1):
            backup_database(now=NOW - timedelta(days=days))
        kept = sorted(maintenance_env.iterdir())
        not_a_dir = tmp_path / "not-a-directory"
        not_a_dir.write_text("a file where the backup directory should be")
        runtime.set(BACKUP_DIR=str(not_a_dir / "backups"))

        with pytest.raises(Exception, match="[Nn]ot a directory|exists"):
            backup_database(now=NOW)

        assert sorted(maintenance_env.iterdir()) == kept
        with engine.connect() as conn:
            statuses = conn.execute(select(MaintenanceRun.status).order_by(MaintenanceRun.id))
            assert list(statuses.scalars()) == ["succeeded"] * 3 + ["failed"]


def seeded_dump(pg_server: EmbeddedPostgres, engine: Engine,
                tmp_path: Path) -> tuple[PgClient, Path]:
    """An issue with 200 LLM calls, dumped to a `.partial` file not yet verified."""
    issue = add_issue(engine, "MAT-9", at=NOW)
    for minute in range(200):
        add_call(engine, issue, at=NOW + timedelta(minutes=minute))
    client = client_for(pg_server, engine)
    return client, dump_to_partial(client, target=tmp_path / "db.dump")


class TestVerification:
    @pytest.mark.parametrize("damage", ["flip-header", "flip-middle", "truncate"])
    def test_a_damaged_dump_fails_verification(
        self, pg_server: EmbeddedPostgres, engine: Engine, tmp_path: Path, damage: str
    ) -> None:
        client, partial = seeded_dump(pg_server, engine, tmp_path)
        sha256 = file_sha256(partial)
        verify_dump(client, partial, sha256=sha256)
        data = bytearray(partial.read_bytes())
        if damage == "flip-header":
            data[0:5] = b"XXXXX"
        elif damage == "flip-middle":
            middle = len(data) * 3 // 4
            data[middle:middle + 64] = bytes(b ^ 0xFF for b in data[middle:middle + 64])
        else:
            data = data[: len(data) * 2 // 3]
        partial.write_bytes(bytes(data))
        with pytest.raises(BackupError):
            verify_dump(client, partial, sha256=sha256)

    def test_a_truncated_dump_fails_even_with_a_matching_checksum(
        self, pg_server: EmbeddedPostgres, engine: Engine, tmp_path: Path
    ) -> None:
        client, partial = seeded_dump(pg_server, engine, tmp_path)
        partial.write_bytes(partial.read_bytes()[:-2000])
        with pytest.raises(BackupError, match="does not read back: pg_restore: "):
            verify_dump(client, partial, sha256=file_sha256(partial))

    def test_a_dump_that_fails_verification_is_recorded_unverified_and_removed(
        self, maintenance_env: Path, pg_server: EmbeddedPostgres, engine: Engine
    ) -> None:
        from tasks.maintenance.backup import DumpResult, verify_task

        client = client_for(pg_server, engine)
        partial = dump_to_partial(client, target=maintenance_env / "db.dump")
        partial.write_bytes(partial.read_bytes()[:100])
        dump = DumpResult(partial, file_sha256(partial), 100, 0.1, None)
        with pytest.raises(BackupError):
            verify_task.fn(client, dump, kind="daily", server_version="16", now=NOW)
        [row] = backups(engine)
        assert row.verified_at is None and row.deleted_at is not None
        assert list(maintenance_env.iterdir()) == []


class TestRetentionRules:
    def dumps(self, *days_ago: int, unverified: tuple[int, ...] = ()) -> list[DumpInfo]:
        return [DumpInfo(i, NOW - timedelta(days=d), i not in unverified)
                for i, d in enumerate(days_ago)]

    def test_the_newest_of_each_recent_day_and_week_is_kept(self) -> None:
        # ids 0..8 taken 0,0,1,2,3,8,15,22,60 days ago; NOW is a Wednesday
        dumps = self.dumps(0, 0, 1, 2, 3, 8, 15, 22, 60)
        doomed = dumps_to_delete(dumps, keep_daily=3, keep_weekly=3)
        # daily: ids 0 (today's newest), 2, 3; weekly (ISO weeks): 0 this week, 4 (Sunday,
        # newer than 5 in the same week) and 6; id 1 is an older dump of today
        assert doomed == {1, 5, 7, 8}

    def test_the_last_verified_dump_is_never_deleted(self) -> None:
        dumps = self.dumps(40, 30, 0, unverified=(2,))
        assert 1 not in dumps_to_delete(dumps, keep_daily=1, keep_weekly=0)
        assert dumps_to_delete(dumps, keep_daily=1, keep_weekly=0) == {0}

    def test_unverified_dumps_are_never_candidates(self) -> None:
        assert dumps_to_delete(self.dumps(5, unverified=(0,)), keep_daily=1, keep_weekly=0) == set()


class TestClientVersionCheck:
    def test_an_older_pg_dump_is_refused_with_what_to_install(self, tmp_path: Path) -> None:
        for program in ("pg_dump", "pg_restore"):
            script = tmp_path / program
            script.write_text(f"#!/bin/sh\necho '{program} (PostgreSQL) 14.11'\n")
            script.chmod(script.stat().st_mode | stat.S_IEXEC)
        with pytest.raises(BackupError) as error:
            check_client_versions(PgBinaries(tmp_path), server_major=16)
        assert str(error.value) == (
            f"{tmp_path / 'pg_dump'} is PostgreSQL 14, older than the server (PostgreSQL 16); "
            "pg_dump must be version 16 or newer: install postgresql-client-16 or set SDB_PG_BIN"
        )

    def test_the_bundled_tools_pass(self, pg_server: EmbeddedPostgres) -> None:
        check_client_versions(pg_server.binaries, server_major=16)

    def test_the_password_goes_in_the_environment_not_the_command_line(
        self, pg_server: EmbeddedPostgres, engine: Engine
    ) -> None:
        client = client_for(pg_server, engine)
        assert client.env()["PGPASSWORD"] == pg_server.password
        result = client.run("pg_dump", "--schema-only", "--table=backup")
        assert result.returncode == 0
        assert pg_server.password not in " ".join(map(str, result.args))
        assert os.environ.get("PGPASSWORD") != pg_server.password
