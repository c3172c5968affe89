"""The hand-off loop: queued webhook deliveries (outbox rows) become flow runs.

One per app process, started and stopped in the app's lifespan. A webhook wakes it after its
commit; it also polls every POLL_SECONDS for rows that another replica or an earlier process
left. A cycle claims a small batch of due rows (`db/webhook_outbox.py`), starts their runs
through the app's FlowRunHandoff objects (one per deployment, idempotent per key, each attempt
bounded by WEBHOOK_HANDOFF_SECONDS), and records on each row its flow run or its failure. A
failed row waits a capped exponential backoff that is kept on the row, so every replica
honours it and a restart does not reset it; no row is ever given up. A cycle that hands
nothing off ends the burst: the rest waits for the next poll or wake, so an outage costs at
most a batch of failed attempts a second per replica.

The loop shares the process, its event loop and CPU with the webhooks' acknowledgements,
which it must not slow down: a wake waits GATHER_SECONDS so that a burst's rows are claimed in
batches, and only CONCURRENT_HANDOFFS calls to Prefect are in flight at once (a Prefect on
SQLite also answers fewer "database is locked" errors that way).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from base.jitter import jitter
from db import webhook_outbox as outbox
from deployments.http.handoff import FlowRunHandoff, HandoffUnavailable

POLL_SECONDS = 1.0
GATHER_SECONDS = 0.05
BATCH = 10
CONCURRENT_HANDOFFS = 3
FIRST_RETRY_SECONDS = 1.0
LONGEST_RETRY_SECONDS = 30.0
LEASE_MARGIN_SECONDS = 10.0
MAX_ERROR_CHARS = 300
logger = logging.getLogger(__name__)


def retry_delay(attempts: int) -> timedelta:
    """After the `attempts`-th failure: about 1 s, 2 s, 4 s ... at most 30 s, jittered so
    that replicas do not retry in step."""
    seconds = min(LONGEST_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** min(attempts - 1, 16))
    return timedelta(seconds=seconds * jitter(0.5, 1.0))


def failure_text(exc: BaseException) -> str:
    """One line that is ours to record: HandoffUnavailable's text says what Prefect did; of
    anything else only its type (an SDK's message may quote a URL with credentials)."""
    if isinstance(exc, HandoffUnavailable) and str(exc).strip():
        return str(exc).strip().splitlines()[0][:MAX_ERROR_CHARS]
    return f"hand-off to Prefect failed ({type(exc).__name__})"


class HandoffLoop:
    """Hands queued deliveries to Prefect until stopped; `wake` after committing one."""

    def __init__(self, handoffs: Sequence[FlowRunHandoff], engine: Callable[[], Engine]) -> None:
        self._handoffs = {handoff.deployment: handoff for handoff in handoffs}
        self._engine = engine
        # a claimed row may wait for its turn behind the batch's others, each within budget
        rounds = -(-BATCH // CONCURRENT_HANDOFFS)
        longest = max(handoff.budget_seconds for handoff in handoffs)
        self._lease = timedelta(seconds=rounds * longest + LEASE_MARGIN_SECONDS)
        self._wake = asyncio.Event()
        self._calls = asyncio.Semaphore(CONCURRENT_HANDOFFS)
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="webhook hand-off loop")

    async def stop(self) -> None:
        """Cancel at once: rows in flight are released, and the next claim (here or in
        another replica) finds their runs again by key."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _hand_off_due(self) -> tuple[int, int]:
        """Claim one batch of due rows and hand each off; (rows tried, rows handed off). The
        engine is resolved in the worker threads: getting it may connect."""
        entries = await run_in_threadpool(
            lambda: outbox.claim_due(self._engine(), limit=BATCH, lease=self._lease))
        if not entries:
            return 0, 0
        try:
            results = await asyncio.gather(*(self._attempt(entry) for entry in entries))
            runs = {entry.id: run for entry, run in zip(entries, results, strict=True)
                    if isinstance(run, uuid.UUID)}
            failures = {entry.id: (failure, retry_delay(entry.attempts + 1))
                        for entry, failure in zip(entries, results, strict=True)
                        if isinstance(failure, str)}
            await run_in_threadpool(lambda: outbox.record_handed_off(self._engine(), runs))
            await run_in_threadpool(lambda: outbox.record_failed(self._engine(), failures))
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):  # else their lease frees them later
                await run_in_threadpool(
                    lambda: outbox.release(self._engine(), [entry.id for entry in entries]))
            raise
        if failures:
            first = next(iter(failures.values()))[0]
            logger.warning("%d of %d webhook deliveries not handed off (%s); retrying later",
                           len(failures), len(entries), first)
        return len(entries), len(runs)

    async def _attempt(self, entry: outbox.Entry) -> uuid.UUID | str:
        """The row's flow run, or why there is none yet."""
        handoff = self._handoffs.get(entry.deployment)
        if handoff is None:  # e.g. written by a newer release during a rolling update
            return f"no hand-off for deployment {entry.deployment[:100]} here"
        try:
            async with self._calls:
                run = await handoff.start(entry.parameters,
                                          idempotency_key=entry.idempotency_key, tags=entry.tags)
        except Exception as exc:  # any failure is recorded on the row and retried
            return failure_text(exc)
        logger.info("webhook delivery %s handed off as flow run %s", entry.delivery_id, run)
        return run

    async def _run(self) -> None:
        while True:
            busy = False
            try:
                tried, handed_off = await self._hand_off_due()
                busy = tried == BATCH and handed_off > 0
            except Exception as exc:  # the loop outlives a database outage; the rows wait
                text = str(exc).strip()
                logger.warning("webhook hand-off loop: %s", text.splitlines()[0][:MAX_ERROR_CHARS]
                               if text else type(exc).__name__)
            if not busy:
                await self._sleep()

    async def _sleep(self) -> None:
        """Until woken (then GATHER_SECONDS more) or the poll is due."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(POLL_SECONDS):
                await self._wake.wait()
                await asyncio.sleep(GATHER_SECONDS)
        self._wake.clear()
