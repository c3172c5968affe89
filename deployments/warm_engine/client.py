"""`python -m deployments.warm_engine.client`: what a process worker starts for a flow run.

It hands the run to the warm engine named by SDB_WARM_ENGINE_SOCKET and stands in for it:
signals sent to it reach the run, it exits with the run's exit code (or dies of the run's
signal), and the server kills the run when this process is killed. Without a warm engine (no
socket, or nobody listening) it becomes `python -m prefect.engine` with the same arguments."""

from __future__ import annotations

import os
import signal
import socket
import sys
from types import FrameType

from deployments.warm_engine.protocol import (
    SOCKET_ENV,
    ProtocolError,
    Request,
    read_reply,
    send_request,
)

FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def main() -> None:
    path = os.environ.get(SOCKET_ENV)
    sock = _connect(path) if path else None
    if sock is None:
        _cold_start()
    assert sock is not None
    run = _Run()
    for signum in FORWARDED:
        signal.signal(signum, run.forward)
    send_request(sock, Request(argv=sys.argv[1:], env=dict(os.environ), cwd=os.getcwd()),
                 [0, 1, 2])
    replies = sock.makefile("rb")
    started = read_reply(replies)
    if "pid" not in started:
        raise SystemExit(f"the warm engine at {path} did not start the run: {started}")
    run.started(int(started["pid"]))
    ended = read_reply(replies)
    if "exit" not in ended:
        raise SystemExit(f"the warm engine at {path} left before the run ended")
    _exit_as(int(ended["exit"]))


class _Run:
    """Signals that arrive before the run's pid is known are sent once it is."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self.pending: list[int] = []

    def forward(self, signum: int, _frame: FrameType | None) -> None:
        if self.pid is None:
            self.pending.append(signum)
        else:
            _signal(self.pid, signum)

    def started(self, pid: int) -> None:
        self.pid = pid
        for signum in self.pending:
            _signal(pid, signum)


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass  # it has just ended: its exit is on the way


def _connect(path: str) -> socket.socket | None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        return None
    return sock


def _cold_start() -> None:
    """Replace this process with the engine itself, as if the worker had started it."""
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable, "-m", "prefect.engine", *sys.argv[1:]])


def _exit_as(code: int) -> None:
    """The run's exit code, or death by the run's signal, as the worker would see from it."""
    if code >= 0:
        raise SystemExit(code)
    if -code in FORWARDED:
        signal.signal(-code, signal.SIG_DFL)
    os.kill(os.getpid(), -code)
    raise SystemExit(128 - code)  # a signal this process survives (it is not one we know)


if __name__ == "__main__":
    try:
        main()
    except ProtocolError as exc:
        raise SystemExit(f"warm engine: {exc}") from None
