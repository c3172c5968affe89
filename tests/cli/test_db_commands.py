"""`sdb-agent db ...` run as a real process: clear one-line errors, masked URLs, repeatable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from base.net import free_loopback_port
from db import migrate

CLI = str(Path(sys.executable).parent / "sdb-agent")


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def base_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["SDB_DATA_DIR"] = str(tmp_path / "data")
    return env



class TestBadDatabaseSettings:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("not a url", "DATABASE_URL: is not a URL"),
            ("mysql://u:p@h/db", "DATABASE_URL: must be a postgresql:// URL"),
            ("postgresql://u:p@h:5432", "DATABASE_URL: names no database"),
        ],
    )
    def test_a_malformed_url_stops_with_one_line_naming_the_variable(
        self, base_env: dict[str, str], value: str, expected: str
    ) -> None:
        result = run_cli("db", "current", env={**base_env, "DATABASE_URL": value})
        assert result.returncode == 1
        assert expected in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.stderr

    def test_an_unreachable_database_stops_with_one_line_and_no_password(
        self, base_env: dict[str, str]
    ) -> None:
        url = f"postgresql://agent:hunter2secret@127.0.0.1:{free_loopback_port()}/history"
        result = run_cli("db", "upgrade", env={**base_env, "DATABASE_URL": url})
        assert result.returncode == 1
        assert "cannot connect" in result.stderr and "check DATABASE_URL" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert "hunter2secret" not in result.stderr + result.stdout


class TestAgainstARealDatabase:
    def test_url_is_printed_with_the_password_masked(
        self, base_env: dict[str, str], database_url: URL
    ) -> None:
        raw = database_url.render_as_string(hide_password=False)
        result = run_cli("db", "url", env={**base_env, "DATABASE_URL": raw})
        assert result.returncode == 0, result.stderr
        assert "***" in result.stdout
        assert database_url.password is not None  # the test database has one
        assert database_url.password not in result.stdout

    def test_upgrading_twice_reports_that_nothing_changed(
        self, base_env: dict[str, str], database_url: URL
    ) -> None:
        env = {**base_env, "DATABASE_URL": database_url.render_as_string(hide_password=False)}
        result = run_cli("db", "upgrade", env=env)
        assert result.returncode == 0, result.stderr
        assert "already at" in result.stdout

    def test_a_database_from_a_newer_release_stops_with_one_line(
        self, base_env: dict[str, str], database_url: URL
    ) -> None:
        engine = create_engine(database_url)
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = 'abc123future'"))
        engine.dispose()
        env = {**base_env, "DATABASE_URL": database_url.render_as_string(hide_password=False)}
        result = run_cli("db", "current", env=env)
        assert result.returncode == 1
        assert "abc123future" in result.stderr and "upgrade sdb-agent" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1

    def test_downgrade_to_base_then_upgrade_round_trips(
        self, base_env: dict[str, str], database_url: URL
    ) -> None:
        env = {**base_env, "DATABASE_URL": database_url.render_as_string(hide_password=False)}
        assert "base (empty)" in run_cli("db", "downgrade", "base", env=env).stdout
        assert f"-> {migrate.head_revision()}" in run_cli("db", "upgrade", env=env).stdout
