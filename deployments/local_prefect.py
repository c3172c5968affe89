"""A local Prefect server in the data directory, for when no `PREFECT_API_URL` is configured.

Prefect's ephemeral mode loses task-run records and has no UI, so the demo, `process` and
`serve` use a real server: started once in the background (state in `.data/prefect/`, log in
`server.log`), reused while it answers, stopped with `sdb-agent local-prefect stop`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import prefect.context
import requests
from prefect.context import refresh_global_settings_context
from prefect.settings import PREFECT_API_URL

from base.errors import SdbAgentError
from base.net import free_loopback_port
from base.settings import Settings

STARTUP_SECONDS = 90
STOP_SECONDS = 10


def configured_api_url() -> str | None:
    value = PREFECT_API_URL.value()
    return str(value) if value else None


def _healthy(api_url: str) -> bool:
    try:
        return requests.get(f"{api_url}/health", timeout=2).status_code == 200
    except requests.RequestException:
        return False



class LocalPrefectServer:
    """`database_url` (postgresql+asyncpg://...) keeps Prefect's state in PostgreSQL (it needs
    the pg_trgm extension) instead of SQLite, whose single writer stalls concurrent calls."""

    def __init__(self, data_dir: Path, *, database_url: str | None = None) -> None:
        self.home = (data_dir / "prefect").resolve()
        self.database_url = database_url
        self.url_file = self.home / "api_url"
        self.pid_file = self.home / "server.pid"

    def running_url(self) -> str | None:
        if self.url_file.exists():
            url = self.url_file.read_text().strip()
            if _healthy(url):
                return url
        return None

    def ensure(self) -> str:
        """The API URL of the running local server, starting it if needed."""
        url = self.running_url()
        if url:
            return url
        self.home.mkdir(parents=True, exist_ok=True)
        port = free_loopback_port()
        url = f"http://127.0.0.1:{port}/api"
        env = {**os.environ, "PREFECT_HOME": str(self.home), "PREFECT_API_URL": "",
               "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
               "PREFECT_SERVER_API_HOST": "127.0.0.1", "PREFECT_SERVER_API_PORT": str(port),
               "PREFECT_UI_API_URL": url}
        if self.database_url:
            env["PREFECT_API_DATABASE_CONNECTION_URL"] = self.database_url
        with open(self.home / "server.log", "ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "prefect", "server", "start"], env=env, stdout=log,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        self.pid_file.write_text(str(process.pid))
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SdbAgentError(f"the local Prefect server exited; see {self.home}/server.log")
            if _healthy(url):
                self.url_file.write_text(url)
                return url
            time.sleep(0.5)
        self.stop()
        raise SdbAgentError(f"the local Prefect server did not start within {STARTUP_SECONDS} s; "
                            f"see {self.home}/server.log")

    def stop(self) -> bool:
        """Stop the server this data directory started and wait until it is gone; False if none
        was running. A server that ignores SIGTERM (its shutdown can hang while its database
        is away) is killed after STOP_SECONDS."""
        if not self.pid_file.exists():
            return False
        pid = int(self.pid_file.read_text())
        for signum in (signal.SIGTERM, signal.SIGKILL):
            _signal_group(pid, signum)
            deadline = time.monotonic() + STOP_SECONDS
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
        self.pid_file.unlink(missing_ok=True)
        self.url_file.unlink(missing_ok=True)
        return True


def _signal_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except ProcessLookupError:
        pass


def _alive(pid: int) -> bool:
    """Whether the process still runs; reaps it when it is our own child that has exited."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass  # started by another process: only its existence can be checked
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def prefect_api_url(settings: Settings) -> str:
    """`PREFECT_API_URL` if configured, else the local server in the data directory.

    The URL is made process-wide (environment and Prefect's global settings), because
    Prefect's background workers (events, logs, concurrency leases) run in threads that do
    not see a context-local setting; without it they would try to start a server of their own.
    """
    url = configured_api_url() or local_prefect_server(settings).ensure()
    os.environ["PREFECT_API_URL"] = url
    if prefect.context.GLOBAL_SETTINGS_CONTEXT.settings.api.url != url:
        refresh_global_settings_context()
    return url


def local_prefect_server(settings: Settings) -> LocalPrefectServer:
    """The data directory's local Prefect server, its state where LOCAL_PREFECT_DATABASE_URL
    says (SQLite when unset)."""
    database = settings.local_prefect_database_url
    return LocalPrefectServer(settings.data_dir, database_url=database.get_secret_value()
                              if database else None)
