"""A real Prefect API server for one test process, started early and waited for late.

Prefect's `prefect_test_harness` starts its server and blocks until it answers: 25-40 s of
imports and SQLite migrations before the first test that needs Prefect can run. Here the
server process starts as soon as collection shows that some test will need it, the tests
before that one run meanwhile, and only the fixture waits for `/api/health`. The server is
the one the harness runs (Prefect's ASGI app under uvicorn, UI off, a throwaway SQLite file).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HEALTH_POLL_SECONDS = 0.1


class PrefectTestServer:
    """One Prefect server subprocess on a free loopback port, with its own SQLite database."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="sdb-test-prefect-server-"))
        self.port = _free_port()
        self.api_url = f"http://127.0.0.1:{self.port}/api"
        self._log = (self.root / "server.log").open("wb")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory",
             "prefect.server.api.server:create_app", "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "error", "--lifespan", "on"],
            env={**os.environ,
                 "PREFECT_SERVER_DATABASE_CONNECTION_URL":
                     f"sqlite+aiosqlite:///{self.root / 'prefect.db'}",
                 "PREFECT_UI_ENABLED": "0",
                 "PREFECT_SERVER_ANALYTICS_ENABLED": "0",
                 "PREFECT__SERVER_EPHEMERAL": "1",
                 "PREFECT__SERVER_FINAL": "1"},
            stdout=self._log, stderr=subprocess.STDOUT)

    def wait_until_healthy(self, timeout_seconds: float) -> str:
        """The API URL once the server answers; its output in the error when it never does."""
        deadline = time.monotonic() + timeout_seconds
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    raise RuntimeError(f"the Prefect test server exited with "
                                       f"{self._process.returncode}: {self._output()}")
                try:
                    if client.get(f"{self.api_url}/health").status_code == 200:
                        return self.api_url
                except httpx.TransportError:
                    pass
                time.sleep(HEALTH_POLL_SECONDS)
        raise RuntimeError(f"the Prefect test server did not answer within "
                           f"{timeout_seconds:g} s: {self._output()}")

    def stop(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._log.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def _output(self) -> str:
        self._log.flush()
        return (self.root / "server.log").read_text(errors="replace")[-4000:]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
