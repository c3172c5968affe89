"""Prefect global concurrency limits held across runs and workers.

`sdb-agent-llm` caps the tasks talking to the LLM at once; `sdb-agent-bitbucket` is a rate
limit whose slots decay at the hourly budget's pace (Bitbucket allows about 1,000 requests per
hour per token). Both are taken per task: a slot per request would cost a Prefect API round
trip per request.
They are created idempotently at start-up (serve) and at every run's start, and used with
`strict=True`: a missing limit is an error, never a silent no-op. `CONCURRENCY_LIMITS=false`
turns them off for a single process on a SQLite-backed Prefect server, where every slot
operation queues behind the server's single writer (about 0.4 s each with 10 at once).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from weakref import WeakValueDictionary

from prefect.client.orchestration import get_client
from prefect.concurrency.sync import concurrency, rate_limit
from prefect.runtime import flow_run

from base.settings import Settings

LLM_LIMIT = "sdb-agent-llm"
BITBUCKET_LIMIT = "sdb-agent-bitbucket"


def ensure_limits(settings: Settings) -> None:
    if not settings.concurrency_limits:
        return
    with get_client(sync_client=True) as client:
        client.upsert_global_concurrency_limit_by_name(LLM_LIMIT, settings.llm_concurrency)
        client.upsert_global_concurrency_limit_by_name(
            BITBUCKET_LIMIT, settings.bitbucket_requests_per_hour,
            slot_decay_per_second=settings.bitbucket_requests_per_hour / 3600)


def llm_slot(settings: Settings) -> AbstractContextManager[None]:
    """Hold one LLM slot while a task talks to the model."""
    if not settings.concurrency_limits:
        return nullcontext()
    return concurrency(LLM_LIMIT, occupy=1, strict=True)


# One semaphore per flow run while any of its edits holds it (weak: nothing piles up).
_file_slots: WeakValueDictionary[str, threading.BoundedSemaphore] = WeakValueDictionary()
_file_slots_lock = threading.Lock()


@contextmanager
def file_slot(history_id: int, max_concurrency: int) -> Iterator[None]:
    """Hold one of the run's MAX_FILE_CONCURRENCY slots while a target file is edited (the
    flow's task runner has more threads, for the spec and the branch beside the edits)."""
    run = f"{flow_run.id}:{history_id}"
    with _file_slots_lock:
        slots = _file_slots.get(run)
        if slots is None:
            slots = threading.BoundedSemaphore(max_concurrency)
            _file_slots[run] = slots
    with slots:
        yield


def spend_bitbucket_budget(settings: Settings, requests: int) -> None:
    """Take `requests` from the hourly Bitbucket budget before a task makes them (waits while
    the budget is used up). Reserved per task, not per request: one API round trip per task.
    Local git has no budget."""
    if settings.concurrency_limits and settings.git_provider == "bitbucket" and requests > 0:
        rate_limit(BITBUCKET_LIMIT, occupy=requests, strict=True)
