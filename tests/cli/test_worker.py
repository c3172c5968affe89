"""`sdb-agent worker` refuses, with one line, to poll for runs it could not do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy.engine import URL

from db.migrate import head_revision

CLI = str(Path(sys.executable).parent / "sdb-agent")


def worker(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, "worker"], env={**os.environ, "SDB_DATA_DIR": str(tmp_path),
                                                "PREFECT_API_URL": "http://127.0.0.1:9/api",
                                                **env},
                          capture_output=True, text=True, timeout=120)


def test_a_database_at_another_schema_revision_is_refused_with_one_line(
    empty_database_url: URL, tmp_path: Path
) -> None:
    done = worker(tmp_path, DATABASE_URL=empty_database_url.render_as_string(
        hide_password=False))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"error: the database schema is at nothing, not {head_revision()}: "
        "run 'sdb-agent db upgrade'"]


def test_without_a_prefect_api_it_says_where_runs_come_from(
    database_url: URL, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    done = subprocess.run([CLI, "worker"], env={
        **env, "SDB_DATA_DIR": str(tmp_path),
        "DATABASE_URL": database_url.render_as_string(hide_password=False)},
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "error: PREFECT_API_URL is unset: a worker takes its runs from the Prefect server the "
        "deployments are on"]
