"""The embedded PostgreSQL: private, loopback-only, restartable, and safe as root."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from db.embedded import EmbeddedPostgres
from sdb_agent.errors import DatabaseError


class TestEmbeddedPostgres:
    def test_the_password_file_is_readable_by_its_owner_only(
        self, pg_server: EmbeddedPostgres
    ) -> None:
        mode = (pg_server.root / "password").stat().st_mode
        assert stat.S_IMODE(mode) & 0o077 == 0

    def test_the_server_listens_on_loopback_only_and_demands_a_password(
        self, pg_server: EmbeddedPostgres
    ) -> None:
        engine = create_engine(pg_server.url("postgres"))
        with engine.connect() as conn:
            assert conn.execute(text("SHOW listen_addresses")).scalar_one() == "127.0.0.1"
            rules = (
                conn.execute(
                    text("SELECT DISTINCT auth_method FROM pg_hba_file_rules WHERE type = 'host'")
                )
                .scalars()
                .all()
            )
        engine.dispose()
        assert rules == ["scram-sha-256"]

    def test_starting_a_running_server_again_returns_the_same_address(
        self, pg_server: EmbeddedPostgres
    ) -> None:
        assert pg_server.start() == pg_server.url()

    @pytest.mark.skipif(os.geteuid() != 0, reason="only root must hand the cluster to another user")
    def test_as_root_an_unreachable_directory_is_refused_without_loosening_its_parents(
        self, tmp_path: Path
    ) -> None:
        parent = tmp_path / "private"
        parent.mkdir(mode=0o700)
        before = stat.S_IMODE(parent.stat().st_mode), stat.S_IMODE(tmp_path.stat().st_mode)
        with pytest.raises(DatabaseError, match="cannot reach"):
            EmbeddedPostgres(parent / "pg").start()
        after = stat.S_IMODE(parent.stat().st_mode), stat.S_IMODE(tmp_path.stat().st_mode)
        assert after == before
