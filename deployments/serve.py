"""`sdb-agent serve`: every deployment with its schedule, plus the webhook and history API.

One process: Prefect's runner executes the deployments' runs; uvicorn serves the HTTP app in
a thread. SIGTERM and SIGINT both stop it cleanly (SIGINT is handled even when a script
started us in the background with SIGINT ignored). Schedules are not paused on shutdown, so a
restart resumes them as they were.
"""

from __future__ import annotations

import logging
import signal
import socket
import tempfile
import threading
from ipaddress import ip_address
from types import FrameType

import uvicorn
from prefect import serve
from prefect.deployments.runner import RunnerDeployment

from base import redaction
from base.errors import ConfigError, SdbAgentError
from base.settings import Settings
from db.migrate import require_current_schema
from deployments.http.app import create_app
from deployments.local_prefect import prefect_api_url
from deployments.maintenance_schedules import maintenance_deployments, runner_deployment
from deployments.ownership import DEPLOYMENT_NAMES, refuse_pool_deployments, registered_pools
from flows.process_issue import process_issue
from flows.revise_pull_request import revise_pull_request
from tasks.limits import ensure_limits
from tasks.route_check import check_routes
from tasks.runtime import current_runtime

logger = logging.getLogger(__name__)


class _Stop(Exception):
    """Raised in the main thread by our signal handler to leave the runner's loop."""


def _stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop(signal.Signals(signum).name)


def process_issue_deployment(settings: Settings) -> RunnerDeployment:
    return runner_deployment(process_issue.to_deployment(
        name="process-issue", concurrency_limit=settings.max_concurrent_runs,
        description="One Jira issue becomes one branch, one commit and one PR."))


def revise_pull_request_deployment(settings: Settings) -> RunnerDeployment:
    return runner_deployment(revise_pull_request.to_deployment(
        name="revise-pull-request", concurrency_limit=settings.max_concurrent_runs,
        description="A review comment on the agent's PR becomes one follow-up commit and a "
                    "reply."))


def refuse_open_webhook(settings: Settings) -> None:
    """Unsigned deliveries are accepted only where no one else can send them (loopback), or
    when the operator says so on purpose."""
    if settings.jira_webhook_secret or settings.jira_webhook_token:
        return
    if settings.webhook_allow_unauthenticated or _is_loopback(settings.http_host):
        return
    raise ConfigError(
        f"the webhook on HTTP_HOST={settings.http_host} would accept unsigned deliveries; set "
        "JIRA_WEBHOOK_SECRET or JIRA_WEBHOOK_TOKEN, listen on 127.0.0.1, or set "
        "WEBHOOK_ALLOW_UNAUTHENTICATED=true")


def _is_loopback(host: str) -> bool:
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def bind_http(settings: Settings) -> socket.socket:
    """The HTTP socket, bound before anything is registered, so a taken port stops `serve`
    with one line instead of leaving it running without its webhook. uvicorn starts listening
    on it once the app is ready; until then connections are refused, not left hanging."""
    sock = socket.socket(socket.AF_INET6 if ":" in settings.http_host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.http_host, settings.http_port))
    except OSError as exc:
        sock.close()
        raise SdbAgentError(f"cannot listen on {settings.http_host}:{settings.http_port} "
                            f"(HTTP_HOST, HTTP_PORT): {exc.strerror or exc}") from None
    return sock


def serve_forever(settings: Settings) -> None:
    """Run until SIGTERM or SIGINT; returns after a clean shutdown."""
    redaction.install(settings.secret_values())
    refuse_open_webhook(settings)
    listener = bind_http(settings)
    with listener:
        # Prefect's runner keeps its files in <tmp>/runner_storage, shared by every user of the
        # machine; a directory another user created there would stop us, so use our own.
        private_tmp = (settings.data_dir / "tmp").resolve()
        private_tmp.mkdir(parents=True, exist_ok=True)
        tempfile.tempdir = str(private_tmp)
        api = prefect_api_url(settings)
        require_current_schema(current_runtime().engine)
        ensure_limits(settings)
        for line in check_routes(settings):  # a route the token cannot reach stops the start
            logger.warning("route %s", line)
        http = uvicorn.Server(uvicorn.Config(create_app(), host=settings.http_host,
                                             port=settings.http_port, log_level="info"))
        if settings.serve_runner:
            _serve_with_runner(settings, http, listener, api)
        else:
            _serve_http_only(settings, http, listener, api)


def _serve_with_runner(settings: Settings, http: uvicorn.Server, listener: socket.socket,
                       api: str) -> None:
    refuse_pool_deployments()
    deployments = [process_issue_deployment(settings), revise_pull_request_deployment(settings),
                   *maintenance_deployments(settings=settings)]
    for deployment in deployments:  # registered before the webhook can name one
        deployment.apply()
    web = threading.Thread(target=http.run, kwargs={"sockets": [listener]}, name="http",
                           daemon=True)
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


def _serve_http_only(settings: Settings, http: uvicorn.Server, listener: socket.socket,
                     api: str) -> None:
    """The webhook and API; a work pool's workers run what `prefect deploy` registered.
    uvicorn stops on SIGTERM and SIGINT (its handlers replace an ignored SIGINT)."""
    pools = registered_pools()
    handoff = f"{DEPLOYMENT_NAMES[0]}/{DEPLOYMENT_NAMES[0]}"
    if handoff not in pools:
        logger.warning("%s is not registered on %s: deliveries are answered 503 until "
                       "`prefect deploy --all` registers it", handoff, api)
    elif pools[handoff] is None:
        logger.warning("%s belongs to no work pool (a serve runner registered it): its runs "
                       "wait for that runner", handoff)
    logger.warning("webhook and API on http://%s:%d; runs are left to the work pool's "
                   "workers (SERVE_RUNNER=false)", settings.http_host, settings.http_port)
    http.run(sockets=[listener])
