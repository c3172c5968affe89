"""`sdb-agent worker`: Prefect's process worker, started only where the runs it takes can work.

A worker whose checkout expects another schema revision than the database would take runs
and fail each one; checked here first, it is refused with one line before it polls."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer

from base.errors import ConfigError
from cli.output import one_line_errors
from deployments.warm_engine.protocol import SOCKET_ENV

POOL = "sdb-agent"  # prefect.yaml's process pool
WARM_ENGINE_START_SECONDS = 120  # its imports take seconds; far longer means it is stuck


@one_line_errors
def worker(
    pool: Annotated[str, typer.Option(help="The work pool to poll (prefect.yaml's).")] = POOL,
    name: Annotated[str | None, typer.Option(help="The worker's name in Prefect.")] = None,
    limit: Annotated[int | None, typer.Option(
        min=1, help="At most this many flow runs at once on this worker "
        "[default: MAX_CONCURRENT_RUNS].")] = None,
    preload: Annotated[bool, typer.Option(
        help="Fork each flow run from a process that has imported Prefect and the flows "
        "(about 4 CPU-seconds less per run); restart the worker after changing the code. "
        "--no-preload starts a new interpreter for every run.")] = True,
) -> None:
    """Check the settings, the database's schema revision and the Prefect API, then run
    `prefect worker start` on the pool (it replaces this process)."""
    from db.migrate import require_current_schema
    from tasks.runtime import current_runtime

    runtime = current_runtime()  # settings first: a bad value stops here, with its name
    require_current_schema(runtime.engine)
    if not os.environ.get("PREFECT_API_URL"):
        raise ConfigError("PREFECT_API_URL is unset: a worker takes its runs from the Prefect "
                          "server the deployments are on")
    command = [str(Path(sys.executable).parent / "prefect"), "worker", "start", "--pool", pool,
               "--type", "process"]
    command += ["--name", name] if name else []
    command += ["--limit", str(limit or runtime.settings.max_concurrent_runs)]
    # prefect.yaml's command (`python -m ...`) must find this environment's python
    env = {**os.environ,
           "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    env.pop(SOCKET_ENV, None)
    warm = _start_warm_engine() if preload else None
    if warm is not None:
        env[SOCKET_ENV] = str(warm)
    sys.stdout.flush()
    os.execve(command[0], command, env)


def _start_warm_engine() -> Path | None:
    """The warm engine, a child of this process that stays one of the worker it becomes. The
    worker polls once it listens, so that its first runs are forked too; if it fails, runs
    start the engine the plain way (its error is on stderr)."""
    socket = Path(tempfile.mkdtemp(prefix="sdb-warm-engine-")) / "engine.sock"
    engine = subprocess.Popen(
        [sys.executable, "-m", "deployments.warm_engine.server", str(socket)],
        stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + WARM_ENGINE_START_SECONDS
    while not socket.exists():
        if engine.poll() is not None or time.monotonic() > deadline:
            sys.stderr.write("warning: the warm engine did not start; each run starts a new "
                             "interpreter\n")
            return None
        time.sleep(0.1)
    return socket
