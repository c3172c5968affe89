"""`sdb-agent serve`: every deployment with its schedule, plus the webhook and history API.

One process: Prefect's runner executes the deployments' runs; uvicorn serves the HTTP app in
a thread. SIGTERM and SIGINT both stop it cleanly (SIGINT is handled even when a script
started us in the background with SIGINT ignored). Schedules are not paused on shutdown, so a
restart resumes them as they were.
"""

from __future__ import annotations

import logging
import signal
import tempfile
import threading
from types import FrameType

import uvicorn
from prefect import serve
from prefect.deployments.runner import RunnerDeployment

from db.migrate import require_current_schema
from db.session import get_engine
from deployments.http.app import create_app
from deployments.maintenance_schedules import maintenance_deployments
from flows.process_issue import process_issue
from sdb_agent import redaction
from sdb_agent.runner import prefect_api_url
from sdb_agent.settings import Settings
from tasks.limits import ensure_limits

logger = logging.getLogger(__name__)


class _Stop(Exception):
    """Raised in the main thread by our signal handler to leave the runner's loop."""


def _stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop(signal.Signals(signum).name)


def process_issue_deployment(settings: Settings) -> RunnerDeployment:
    return process_issue.to_deployment(
        name="process-issue", concurrency_limit=settings.max_concurrent_runs,
        description="One Jira issue becomes one branch, one commit and one PR.")


def serve_forever(settings: Settings) -> None:
    """Run until SIGTERM or SIGINT; returns after a clean shutdown."""
    redaction.install(settings)
    # Prefect's runner keeps its files in <tmp>/runner_storage, shared by every user of the
    # machine; a directory another user created there would stop us, so use our own.
    private_tmp = (settings.data_dir / "tmp").resolve()
    private_tmp.mkdir(parents=True, exist_ok=True)
    tempfile.tempdir = str(private_tmp)
    api = prefect_api_url()
    require_current_schema(get_engine())
    ensure_limits(settings)
    deployments = [process_issue_deployment(settings), *maintenance_deployments(settings=settings)]
    for deployment in deployments:  # registered before the webhook can name one
        deployment.apply()
    http = uvicorn.Server(uvicorn.Config(create_app(), host=settings.http_host,
                                         port=settings.http_port, log_level="info"))
    web = threading.Thread(target=http.run, name="http", daemon=True)
    web.start()
    logger.warning("serving %d deployments on %s; webhook and API on http://%s:%d",
                   len(deployments), api, settings.http_host, settings.http_port)
    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        serve(*deployments, pause_on_shutdown=False, print_starting_message=False)
    except (_Stop, KeyboardInterrupt) as reason:
        logger.warning("stopping on %s", reason or "interrupt")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        http.should_exit = True
        web.join(timeout=15)
