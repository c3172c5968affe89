"""The local Prefect server that `serve`, `process` and the demo start when no Prefect API is
configured: where it keeps its state, and that stopping it really stops it."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from db.embedded import EmbeddedPostgres
from db.pg_binaries import binaries_with_extension
from deployments import local_prefect
from deployments.local_prefect import LocalPrefectServer
from tests.conftest import ConfiguredRuntime


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class TestStopping:
    def test_a_server_that_ignores_sigterm_is_killed_and_reaped(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(local_prefect, "STOP_SECONDS", 0.5)
        stubborn = subprocess.Popen(
            [sys.executable, "-c", "import signal, time; "
             "signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); "
             "time.sleep(120)"], stdout=subprocess.PIPE, start_new_session=True)
        assert stubborn.stdout is not None and stubborn.stdout.readline() == b"ready\n"
        server = LocalPrefectServer(tmp_path)
        server.home.mkdir(parents=True)
        server.pid_file.write_text(str(stubborn.pid))
        assert server.stop() is True
        assert not _alive(stubborn.pid)  # only SIGKILL can have ended it
        assert not server.pid_file.exists()

    def test_stopping_when_nothing_runs_says_so(self, tmp_path: Path) -> None:
        assert LocalPrefectServer(tmp_path).stop() is False


@pytest.fixture
def prefect_database() -> Iterator[str]:
    """A throwaway PostgreSQL database for Prefect's state (its schema needs pg_trgm)."""
    binaries = binaries_with_extension("pg_trgm")
    if binaries is None:
        pytest.skip("no PostgreSQL build with the pg_trgm extension on this machine")
    root = Path(tempfile.mkdtemp(prefix="sdb-test-prefect-pg-"))
    root.chmod(0o755)
    server = EmbeddedPostgres(root, binaries=binaries, durable=False)
    server.start()
    try:
        server.ensure_database("prefect")
        yield server.url("prefect").set(drivername="postgresql+asyncpg").render_as_string(
            hide_password=False)
    finally:
        server.stop()


class TestStateInPostgreSQL:
    def test_local_prefect_database_url_puts_the_servers_state_in_postgresql(
        self, prefect_database: str, tmp_path: Path, runtime: ConfiguredRuntime
    ) -> None:
        from deployments.local_prefect import local_prefect_server

        runtime.set(LOCAL_PREFECT_DATABASE_URL=prefect_database, SDB_DATA_DIR=str(tmp_path))
        server = local_prefect_server(runtime.settings)
        try:
            url = server.ensure()
            assert url.startswith("http://127.0.0.1:")
        finally:
            server.stop()
        engine = create_engine(prefect_database.replace("+asyncpg", "+psycopg2"))
        with engine.connect() as conn:
            tables = conn.execute(text(
                "SELECT count(*) FROM pg_tables WHERE tablename IN ('flow_run', 'deployment')"
            )).scalar_one()
        engine.dispose()
        assert tables == 2
        assert not (server.home / "prefect.db").exists()
