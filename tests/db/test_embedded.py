"""The embedded PostgreSQL: private, loopback-only, restartable, and safe as root."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from base.errors import DatabaseError
from db.embedded import EmbeddedPostgres, port_is_free


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

    def test_a_throwaway_cluster_does_not_flush_to_disk(self, pg_server: EmbeddedPostgres) -> None:
        assert not pg_server.durable and EmbeddedPostgres(pg_server.root.parent / "x").durable
        engine = create_engine(pg_server.url("postgres"))
        with engine.connect() as conn:
            flushes = [conn.execute(text(f"SHOW {name}")).scalar_one()
                       for name in ("fsync", "synchronous_commit", "full_page_writes")]
        engine.dispose()
        assert flushes == ["off", "off", "off"]

    def test_starting_a_running_server_again_returns_the_same_address(
        self, pg_server: EmbeddedPostgres
    ) -> None:
        assert pg_server.start() == pg_server.url()

    def test_a_port_whose_last_connections_linger_in_time_wait_is_still_free(self) -> None:
        """After a stop, the server's closed connections sit in TIME_WAIT; PostgreSQL can bind
        there (SO_REUSEADDR), so a restart must keep its port, not move to a new one."""
        listener = socket.create_server(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        served, _ = listener.accept()
        served.close()  # the server side closes first: it is the one left in TIME_WAIT
        client.recv(1)
        client.close()
        listener.close()
        assert port_is_free(port)

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
