"""Starting a flow run from a webhook (process-issue for Jira, revise-pull-request for
Bitbucket): one Prefect API call, a bounded wait.

`run_deployment` opens a new client and reads the deployment on every call, and Prefect's
client retries an unavailable server for up to a minute with backoff of whole seconds. Jira
waits for our answer meanwhile. The hand-off keeps one client (its connection pool) for the
app's life, looks the deployment up once, and retries briefly by its own budget: a short
hiccup costs milliseconds, an outage turns into a 503 that Jira retries later.

A busy Prefect server (SQLite locked) answers 503 without Retry-After, after which Prefect's
client sleeps two seconds even when told not to retry; the hand-off's client reads such an
answer as "retry after 50 ms" instead.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

import httpcore
import httpx
from prefect.client.orchestration import PrefectClient, get_client
from prefect.context import SettingsContext, get_settings_context
from prefect.exceptions import ObjectNotFound, PrefectHTTPStatusError
from prefect.settings import PREFECT_CLIENT_MAX_RETRIES

from base.jitter import jitter
from base.prefect_overrides import overridden

DEPLOYMENT = "process-issue/process-issue"
REVISE_DEPLOYMENT = "revise-pull-request/revise-pull-request"
RETRYABLE_STATUS = frozenset({408, 429, 502, 503, 504})
FIRST_PAUSE_SECONDS = 0.02
LONGEST_PAUSE_SECONDS = 0.5
PREPARE_SECONDS = 3.0
RETRY_SOON_SECONDS = "0.05"
logger = logging.getLogger(__name__)


class HandoffUnavailable(Exception):
    """Prefect did not take the run within the budget; the delivery should be retried."""


class FlowRunHandoff:
    """Creates flow runs of one deployment. The client opens on first use, so an app that never
    receives a webhook never talks to Prefect; `aclose` when the app stops."""

    def __init__(self, budget_seconds: float, deployment: str = DEPLOYMENT) -> None:
        self.budget_seconds = budget_seconds
        self.deployment = deployment
        self._client: PrefectClient | None = None
        self._deployment_id: uuid.UUID | None = None
        self._lock = asyncio.Lock()
        self._settings = get_settings_context()  # the app's, whichever context calls later

    async def start(self, parameters: dict[str, Any], *, idempotency_key: str,
                    tags: list[str]) -> uuid.UUID:
        """The id of the flow run for this key: created now, or the one Prefect already has
        (an attempt that timed out after Prefect committed is found again by its key)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.budget_seconds
        pause = FIRST_PAUSE_SECONDS
        while True:
            try:
                async with asyncio.timeout_at(deadline):
                    with self._attempt_settings():
                        return await self._start_once(parameters, idempotency_key, tags)
            except TimeoutError:
                raise HandoffUnavailable(
                    f"Prefect API did not take the run within {self.budget_seconds:g} s") from None
            except ObjectNotFound:
                raise HandoffUnavailable(
                    f"deployment {self.deployment} is not registered") from None
            except httpx.ConnectError:  # nothing listens: an outage, not a hiccup
                raise HandoffUnavailable("Prefect API unreachable") from None
            except PrefectHTTPStatusError as exc:  # Prefect's client paused after it
                if exc.response.status_code not in RETRYABLE_STATUS:
                    raise HandoffUnavailable(
                        f"Prefect API answered {exc.response.status_code}") from None
                logger.info("Prefect API answered %s to the hand-off; trying again",
                            exc.response.status_code)
            except httpx.TransportError as exc:
                if loop.time() + pause >= deadline:
                    raise HandoffUnavailable(
                        f"Prefect API unavailable ({type(exc).__name__})") from None
                logger.info("hand-off to Prefect failed (%s); trying again", type(exc).__name__)
                await asyncio.sleep(pause * jitter(0.5, 1.0))
                pause = min(pause * 2, LONGEST_PAUSE_SECONDS)

    async def prepare(self, timeout_seconds: float = PREPARE_SECONDS) -> None:
        """Open the client and look the deployment up now, so the first delivery after a start
        does not pay for it. Failing here is fine: the first delivery tries again."""
        try:
            async with asyncio.timeout(timeout_seconds):
                with self._attempt_settings():
                    await self._resolve(await self._open_client(), fresh=False)
        except (TimeoutError, httpx.HTTPError, PrefectHTTPStatusError, ObjectNotFound) as exc:
            logger.info("webhook hand-off not prepared (%s); the first delivery looks up %s",
                        type(exc).__name__, self.deployment)

    async def aclose(self) -> None:
        async with self._lock:
            if self._client is not None:
                await self._client.__aexit__(None, None, None)
                self._client = None

    def _attempt_settings(self) -> SettingsContext:
        """Prefect's own client retries are off inside: this loop decides and keeps time. A
        context is entered once, so each attempt gets its own."""
        return overridden(self._settings, PREFECT_CLIENT_MAX_RETRIES, 0)

    async def _start_once(self, parameters: dict[str, Any], idempotency_key: str,
                          tags: list[str]) -> uuid.UUID:
        client = await self._open_client()
        deployment_id = await self._resolve(client, fresh=False)
        try:
            run = await client.create_flow_run_from_deployment(
                deployment_id, parameters=parameters, tags=tags, idempotency_key=idempotency_key)
        except (ObjectNotFound, PrefectHTTPStatusError) as exc:
            if not _not_found(exc):
                raise
            # deleted and registered again: the deployment has a new id
            deployment_id = await self._resolve(client, fresh=True)
            run = await client.create_flow_run_from_deployment(
                deployment_id, parameters=parameters, tags=tags, idempotency_key=idempotency_key)
        return run.id

    async def _open_client(self) -> PrefectClient:
        async with self._lock:
            if self._client is None:
                client = get_client(
                    httpx_settings={"event_hooks": {"response": [_retry_soon]}})
                _no_connect_retries(client)
                await client.__aenter__()
                self._client = client
            return self._client

    async def _resolve(self, client: PrefectClient, *, fresh: bool) -> uuid.UUID:
        async with self._lock:
            if fresh or self._deployment_id is None:
                self._deployment_id = (await client.read_deployment_by_name(self.deployment)).id
            return self._deployment_id


def _no_connect_retries(client: PrefectClient) -> None:
    """Prefect sets its connection pool to retry a refused connection 3 times (about 1.5 s of
    backoff) before the hand-off sees it; nothing listening is an outage, answered 503 at once.
    The pool is reached the way Prefect's client reaches it to set those retries."""
    transport_for_url = getattr(client._client, "_transport_for_url", None)
    if not callable(transport_for_url):
        return
    pool = getattr(transport_for_url(client.api_url), "_pool", None)
    if isinstance(pool, httpcore.AsyncConnectionPool):
        pool._retries = 0


def _not_found(exc: Exception) -> bool:
    """Prefect's client reports a missing object either way, depending on the call."""
    return isinstance(exc, ObjectNotFound) or (
        isinstance(exc, PrefectHTTPStatusError) and exc.response.status_code == 404)


async def _retry_soon(response: httpx.Response) -> None:
    if response.status_code in RETRYABLE_STATUS and "retry-after" not in response.headers:
        response.headers["Retry-After"] = RETRY_SOON_SECONDS
