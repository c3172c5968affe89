"""`sdb-agent worker`: Prefect's process worker, started only where the runs it takes can work.

A worker whose checkout expects another schema revision than the database would take runs
and fail each one; checked here first, it is refused with one line before it polls."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from base.errors import ConfigError
from cli.output import one_line_errors

POOL = "sdb-agent"  # prefect.yaml's process pool


@one_line_errors
def worker(
    pool: Annotated[str, typer.Option(help="The work pool to poll (prefect.yaml's).")] = POOL,
    name: Annotated[str | None, typer.Option(help="The worker's name in Prefect.")] = None,
    limit: Annotated[int | None, typer.Option(
        min=1, help="At most this many flow runs at once on this worker "
        "[default: MAX_CONCURRENT_RUNS].")] = None,
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
    # prefect.yaml's command (`python -m prefect.engine`) must find this environment's python
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    sys.stdout.flush()
    os.execve(command[0], command, {**os.environ, "PATH": path})
