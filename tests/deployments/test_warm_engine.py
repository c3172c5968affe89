"""The warm engine's client stands in for the run it hands over: the run gets the client's
arguments, environment, directory and streams; the client exits as the run did; signals to the
client reach the run; a killed client takes its run down; and without a server the client is
the plain engine."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from deployments.warm_engine.protocol import SOCKET_ENV

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("warm_driver.py")


def wait_until(what: str, done: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def gone(pid: int) -> bool:
    """Ended and reaped (a zombie still has its /proc entry)."""
    return not Path(f"/proc/{pid}").exists()


@pytest.fixture
def driver(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    server = subprocess.Popen([sys.executable, str(DRIVER), str(tmp_path / "engine.sock")],
                              cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        wait_until("the server to listen", (tmp_path / "engine.sock").exists)
        yield server
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def socket_path(driver: subprocess.Popen[bytes], tmp_path: Path) -> Path:
    return tmp_path / "engine.sock"


def client(socket: Path | None, *argv: str, cwd: Path = ROOT) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != SOCKET_ENV}
    env |= {SOCKET_ENV: str(socket)} if socket else {}
    return subprocess.Popen([sys.executable, "-m", "deployments.warm_engine.client", *argv],
                            env={**env, "PROBE": "from the client", "PYTHONPATH": str(ROOT)},
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=cwd)


def test_the_run_has_the_clients_arguments_environment_directory_and_streams(
    socket_path: Path, tmp_path: Path
) -> None:
    process = client(socket_path, "echo", "7", cwd=tmp_path)
    out, err = process.communicate("on stdin", timeout=60)
    assert process.returncode == 7
    assert json.loads(out) == {"argv": ["7"], "probe": "from the client", "cwd": str(tmp_path),
                               "stdin": "on stdin"}
    assert err == "to stderr\n"


def test_a_run_killed_by_a_signal_kills_its_client_with_the_same_signal(
    socket_path: Path
) -> None:
    process = client(socket_path, "die")
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL


def test_sigterm_to_the_client_reaches_the_run(socket_path: Path) -> None:
    process = client(socket_path, "wait")
    assert process.stdout is not None
    assert process.stdout.readline().startswith("ready ")
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=60)
    assert (process.returncode, out) == (3, "terminated\n")


def test_a_killed_client_takes_its_run_down(socket_path: Path) -> None:
    process = client(socket_path, "wait")
    assert process.stdout is not None
    run = int(process.stdout.readline().split()[1])
    process.kill()
    process.wait(timeout=30)
    wait_until("the run to be killed and reaped", lambda: gone(run))


def test_a_stopped_server_lets_its_runs_finish_and_takes_no_more(
    driver: subprocess.Popen[bytes], socket_path: Path
) -> None:
    running = client(socket_path, "wait")
    assert running.stdout is not None
    run = int(running.stdout.readline().split()[1])
    driver.terminate()
    wait_until("the server to stop listening", lambda: not socket_path.exists())
    assert driver.poll() is None and not gone(run)
    os.kill(run, signal.SIGTERM)
    out, _ = running.communicate(timeout=60)
    assert (running.returncode, out) == (3, "terminated\n")
    assert driver.wait(timeout=60) == 0


@pytest.mark.parametrize("where", ["no socket", "nobody listening"])
def test_without_a_server_the_client_is_the_plain_engine(where: str, tmp_path: Path) -> None:
    process = client(None if where == "no socket" else tmp_path / "none.sock", "not-a-run-id")
    _, err = process.communicate(timeout=120)
    assert process.returncode == 1
    assert "Invalid flow run id" in err
