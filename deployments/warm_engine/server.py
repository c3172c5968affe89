"""`python -m deployments.warm_engine.server SOCKET`: import Prefect and the flows once, then
fork a flow run for each client that connects to SOCKET.

A fork is only safe from a process with one thread, so this process starts none: one selector
waits on the socket, on each run's exit (a pidfd) and on each client leaving. A run whose
client is gone is killed, as the worker meant when it killed the client. Runs die with this
process (Linux's parent-death signal), as they would with their machine. Code changed after
start is not seen until the worker restarts, except each flow's own file, which Prefect loads
from disk for every run."""

from __future__ import annotations

import contextlib
import ctypes
import os
import runpy
import selectors
import signal
import socket
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from deployments.warm_engine.protocol import ProtocolError, Request, receive_request, send_reply

# What every run imports (prefect.yaml's entrypoints and the engine that loads them)
PRELOADED = ("prefect.engine", "prefect.flow_engine", "prefect.task_engine",
             "flows.process_issue", "flows.revise_pull_request", "flows.maintenance")
ACCEPT_SECONDS = 5  # a client that connected but does not send its request in time is dropped
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


@dataclass
class _Run:
    client: socket.socket | None  # None once the client has left
    pidfd: int


class WarmEngine:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(path))
        self.listener.listen(64)
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.listener, selectors.EVENT_READ, ("accept", 0))
        self.parent = os.getppid()
        self.runs: dict[int, _Run] = {}
        self.stopping = False

    def serve(self) -> Request | None:
        """Until stopped and every run has ended. Returns in a forked child, with its request
        (the child then runs the engine); returns None in this process when done."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._stop)
        while not self.stopping or self.runs:
            for key, _events in self.selector.select(timeout=1.0):
                kind, pid = key.data
                if kind == "accept":
                    request = self._accept()
                    if request is not None:
                        return request
                elif kind == "client":
                    self._client_left(pid)
                else:
                    self._ended(pid)
            if os.getppid() != self.parent:
                self._stop_accepting()  # the worker is gone: finish what runs, take no more
        self.selector.close()
        return None

    def _accept(self) -> Request | None:
        conn, _address = self.listener.accept()
        conn.settimeout(ACCEPT_SECONDS)
        try:
            request, streams = receive_request(conn)
        except (ProtocolError, OSError) as exc:
            sys.stderr.write(f"warm engine: dropped a client: {exc}\n")
            sys.stderr.flush()
            conn.close()
            return None
        sys.stdout.flush()
        sys.stderr.flush()
        server = os.getpid()
        pid = os.fork()
        if pid == 0:
            self._become_run(request, streams, conn, server)
            return request
        for fd in streams:
            os.close(fd)
        conn.settimeout(None)
        with contextlib.suppress(OSError):
            send_reply(conn, pid=pid)
        run = _Run(conn, os.pidfd_open(pid))
        self.runs[pid] = run
        self.selector.register(run.pidfd, selectors.EVENT_READ, ("exit", pid))
        self.selector.register(conn, selectors.EVENT_READ, ("client", pid))
        return None

    def _become_run(self, request: Request, streams: list[int], conn: socket.socket,
                    server: int) -> None:
        """In the child: nothing of the server's stays open, and the run has the client's
        streams, environment and directory, as a process the worker started would."""
        if sys.platform == "linux":
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
            if os.getppid() != server:
                os._exit(1)  # the server died before the signal was armed
        self.selector.close()
        self.listener.close()
        conn.close()
        for run in self.runs.values():
            os.close(run.pidfd)
            if run.client is not None:
                run.client.close()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, signal.SIG_DFL)
        for target, fd in enumerate(streams):
            os.dup2(fd, target)
            os.close(fd)
        os.environ.clear()
        os.environ.update(request.env)
        os.chdir(request.cwd)

    def _client_left(self, pid: int) -> None:
        run = self.runs[pid]
        if run.client is not None:
            self.selector.unregister(run.client)
            run.client.close()
            run.client = None
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)

    def _ended(self, pid: int) -> None:
        run = self.runs.pop(pid)
        _, status = os.waitpid(pid, 0)
        self.selector.unregister(run.pidfd)
        os.close(run.pidfd)
        if run.client is not None:
            self.selector.unregister(run.client)
            with contextlib.suppress(OSError):
                send_reply(run.client, exit=os.waitstatus_to_exitcode(status))
            run.client.close()

    def _stop(self, _signum: int, _frame: FrameType | None) -> None:
        self._stop_accepting()

    def _stop_accepting(self) -> None:
        if not self.stopping:
            self.stopping = True
            self.selector.unregister(self.listener)
            self.listener.close()
            with contextlib.suppress(OSError):
                self.path.unlink()
                self.path.parent.rmdir()


def run_engine(request: Request) -> None:
    """Prefect's engine, as `python -m prefect.engine` runs it, with this run's settings."""
    from prefect.context import refresh_global_settings_context
    from prefect.logging.configuration import setup_logging

    refresh_global_settings_context()
    setup_logging(incremental=False)
    sys.path[0] = request.cwd  # as `python -m` in that directory
    sys.argv = ["prefect.engine", *request.argv]
    runpy.run_module("prefect.engine", run_name="__main__", alter_sys=True)


def preload() -> None:
    import importlib

    for module in PRELOADED:
        importlib.import_module(module)
    if threading.active_count() != 1:
        raise SystemExit(f"warm engine: importing the flows started "
                         f"{threading.active_count() - 1} thread(s); forking is not safe")


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m deployments.warm_engine.server SOCKET")
    preload()
    request = WarmEngine(Path(sys.argv[1])).serve()
    if request is not None:
        run_engine(request)


if __name__ == "__main__":
    main()
