"""`sdb-agent worker` refuses, with one line, to poll for runs it could not do."""

from __future__ import annotations

import os
import subprocess
import sys
import time
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


def test_it_becomes_prefects_process_worker_with_the_settings_limit_and_its_own_python(
    database_url: URL, tmp_path: Path
) -> None:
    """Read off the process once it has replaced itself: the command Prefect's worker runs
    with, and the PATH under which prefect.yaml's `python -m ...` finds this environment."""
    process = subprocess.Popen([CLI, "worker", "--no-preload"], env={
        **os.environ, "SDB_DATA_DIR": str(tmp_path), "MAX_CONCURRENT_RUNS": "3",
        "PREFECT_API_URL": "http://127.0.0.1:9/api",  # nothing listens: it is not needed here
        "DATABASE_URL": database_url.render_as_string(hide_password=False)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proc = Path(f"/proc/{process.pid}")
    try:
        deadline = time.monotonic() + 60
        while b"\0worker\0start\0" not in (command := (proc / "cmdline").read_bytes()):
            assert process.poll() is None and time.monotonic() < deadline, command
            time.sleep(0.01)
        environ = dict(line.split(b"=", 1) for line in
                       (proc / "environ").read_bytes().split(b"\0") if b"=" in line)
    finally:
        process.kill()
        process.wait(timeout=30)
    args = command.split(b"\0")[:-1]  # a console script: the interpreter, then its path
    assert args[args.index(b"worker") - 1].endswith(b"/prefect")
    assert args[args.index(b"worker"):] == [b"worker", b"start", b"--pool", b"sdb-agent",
                                            b"--type", b"process", b"--limit", b"3"]
    assert environ[b"PATH"].split(b":")[0] == str(Path(sys.executable).parent).encode()
    assert b"SDB_WARM_ENGINE_SOCKET" not in environ  # --no-preload: a new interpreter per run
