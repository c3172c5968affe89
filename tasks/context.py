"""Per-task access to the run's clients, each recording into this run's history rows."""

from __future__ import annotations

import logging
import uuid

from prefect import get_run_logger
from prefect.exceptions import MissingContextError
from prefect.runtime import task_run

from base.settings import get_settings
from db.recorder import HistoryRecorder
from db.session import get_engine
from db.spool import Spool
from integrations.factory import build_git_host, build_llm_client
from integrations.git_host import GitHost
from integrations.llm.client import LlmClient


def current_task_run_id() -> uuid.UUID | None:
    value = task_run.id
    return uuid.UUID(str(value)) if value else None


def history_spool() -> Spool:
    """Where rows the database did not take wait (see db/spool.py)."""
    return Spool(get_settings().data_dir / "spool")


def recorder_for(history_id: int) -> HistoryRecorder:
    """This task's recorder; rows spooled during an outage are written first, once the
    database answers again."""
    spool = history_spool()
    if spool.path.exists():
        spool.replay(get_engine())
    return HistoryRecorder(get_engine(), history_id=history_id, task_run_id=current_task_run_id(),
                           spool=spool)


def git_host_for(history_id: int) -> GitHost:
    return build_git_host(get_settings(), recorder_for(history_id))


def llm_with(recorder: HistoryRecorder) -> LlmClient:
    return build_llm_client(get_settings(), recorder, get_engine())


def task_logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    """The Prefect run logger inside a run; a plain logger when a task's function is called
    directly (the benchmark's plain-Python baseline)."""
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("sdb_agent.tasks")
